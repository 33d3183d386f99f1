"""`pixtag serve` as a real process: embedded database, restarts, external database."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

PIXTAG = [sys.executable, "-m", "pixtag"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PIXTAG_")}


def request(url: str, data: dict | None = None) -> tuple[int, dict]:
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Server:
    """A `pixtag serve` subprocess on a free port."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [*PIXTAG, "serve", "--host", "127.0.0.1", "--port", str(self.port), *args],
            env=server_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited early:\n{self.proc.stdout.read()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("serve did not start listening within 60 s")

    def stop(self, sig: int = signal.SIGTERM) -> str:
        self.proc.send_signal(sig)
        output, _ = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, output
        return output


def postmaster_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_serve_on_an_empty_data_dir_keeps_records_across_restarts(tmp_path, stop_signal):
    data_dir = tmp_path / "fresh" / "data"  # does not exist yet
    server = Server("--data-dir", str(data_dir))
    status, created = request(f"{server.url}/images", {"filename": "a.jpg", "tags": ["Keep"]})
    assert status == 201
    assert postmaster_running(data_dir / "postgres")
    server.stop(stop_signal)
    assert not postmaster_running(data_dir / "postgres")

    server = Server("--data-dir", str(data_dir))
    try:
        status, image = request(f"{server.url}/images/{created['image_id']}")
        assert status == 200
        assert image == created
    finally:
        server.stop()


def test_fixtures_cli_shares_the_running_embedded_server(tmp_path):
    data_dir = tmp_path / "data"
    server = Server("--data-dir", str(data_dir))
    try:
        listed = subprocess.run(
            [*PIXTAG, "fixtures", "list", "--data-dir", str(data_dir)],
            env=server_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert listed.stdout.startswith("applied  001_images.sql")
        # The CLI released its hold without stopping the server under the API.
        assert postmaster_running(data_dir / "postgres")
        assert request(f"{server.url}/images", {"filename": "b.jpg"})[0] == 201
    finally:
        server.stop()
    assert not postmaster_running(data_dir / "postgres")


def test_serve_with_a_database_url_starts_no_embedded_server(tmp_path, database_url):
    data_dir = tmp_path / "data"
    server = Server("--data-dir", str(data_dir), "--database-url", database_url)
    try:
        status, created = request(f"{server.url}/images", {"filename": "c.jpg"})
        assert status == 201
        assert request(f"{server.url}/images/{created['image_id']}") == (200, created)
    finally:
        server.stop()
    assert not (data_dir / "postgres").exists()


def test_serve_with_an_unreachable_database_fails_clearly(tmp_path):
    proc = subprocess.run(
        [
            *PIXTAG,
            "serve",
            "--port",
            str(free_port()),
            "--database-url",
            f"postgresql://postgres:@/postgres?host={tmp_path}",
        ],
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    # After the start-up log lines, one line says why.
    assert proc.stderr.splitlines()[-1].startswith("Error: cannot start: connection to server")
    assert "Traceback" not in proc.stderr
