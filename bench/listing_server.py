"""``pixtag serve`` as a separate process for the benchmark, so its memory is measured alone."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil


class Server:
    """``pixtag serve`` in its own process, so its memory is measured alone."""

    def __init__(self, dsn: str, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.env = None if env is None else {**os.environ, **env}
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [
            sys.executable,
            "-m",
            "pixtag",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--database-url",
            dsn,
            "--data-dir",
            str(data_dir),
        ]

    def __enter__(self) -> "Server":
        self.log = open(self.data_dir.parent / "serve.log", "wb")
        self.process = subprocess.Popen(
            self.args, stdout=self.log, stderr=subprocess.STDOUT, env=self.env
        )
        self.psutil = psutil.Process(self.process.pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.log.flush()
        tail = Path(self.log.name).read_text(errors="replace")[-3000:]
        raise RuntimeError(f"pixtag serve did not start within 60 s; its log ends:\n{tail}")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
