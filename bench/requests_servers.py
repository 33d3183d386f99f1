"""The processes under test: ``pixtag serve`` from a given tree, and the bare aiohttp ceiling."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BARE_APP = Path(__file__).with_name("requests_bare.py")


@dataclass(frozen=True)
class Tree:
    """A checkout whose ``api/`` is imported by its own processes."""

    label: str
    path: Path

    @property
    def env(self) -> dict[str, str]:
        # No PIXTAG_* setting of the caller leaks into the server (storage, pool size...).
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTAG_")}
        return {**env, "PYTHONPATH": str(self.path / "api"), "PIXTAG_SWEEP_INTERVAL": "0"}

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True, text=True)
        return done.stdout.strip()

    @property
    def commit(self) -> str:
        """The short hash of the checked-out commit."""
        return self.git("rev-parse", "--short", "HEAD") or "unknown"

    @property
    def dirty(self) -> bool:
        """Whether tracked files differ from that commit (then the figures are not its own)."""
        return bool(self.git("status", "--porcelain", "--untracked-files=no"))

    def apply_fixtures(self, dsn: str) -> None:
        """Build the schema with this tree's own fixtures loader."""
        code = "import sys; from pixtag.db import fixtures; fixtures.apply(sys.argv[1])"
        subprocess.run([sys.executable, "-c", code, dsn], env=self.env, cwd=self.path, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A server process on a free port, ready once ``GET /images/1`` answers 200."""

    def __init__(self, label: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.label = label
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [arg.replace("{port}", str(self.port)) for arg in args]
        self.env = env
        self.log_path = log

    def __enter__(self) -> "Process":
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.args, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/images/1", timeout=5) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        self.__exit__()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"{self.label} did not start; {self.log_path}:\n{tail}")

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.log.close()


def pixtag_serve(tree: Tree, dsn: str, work: Path) -> Process:
    """``pixtag serve`` of ``tree`` on its own database and data directory."""
    data_dir = work / f"data-{tree.label.replace(' ', '-')}"
    args = [sys.executable, "-m", "pixtag", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    args += ["--data-dir", str(data_dir), "--database-url", dsn]
    return Process(tree.label, args, tree.env, work / f"{data_dir.name}.log")


def bare_app(work: Path) -> Process:
    """The trivial aiohttp app answering a fixed small JSON."""
    return Process(
        "bare aiohttp",
        [sys.executable, str(BARE_APP), "{port}"],
        dict(os.environ),
        work / "bare.log",
    )
