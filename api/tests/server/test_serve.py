"""`pixtag serve` as a real process: embedded database, restarts, external database."""

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import (
    PIXTAG,
    ServeProcess,
    free_port,
    pixtag_env,
    run_pixtag,
    wait_until,
)


def request(url: str, data: dict | None = None) -> tuple[int, dict]:
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def serve(tmp_path: Path, *args: str) -> ServeProcess:
    """A started `pixtag serve` whose output goes to a log under ``tmp_path``."""
    return ServeProcess(*args, log=tmp_path / "serve.log").start()


def stop(server: ServeProcess, sig: int = signal.SIGTERM) -> None:
    """Stop the server with ``sig``: it must exit cleanly."""
    assert server.stop(sig) == 0, server.output()


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
    with serve(tmp_path, "--data-dir", str(data_dir)) as server:
        status, created = request(f"{server.url}/images", {"filename": "a.jpg", "tags": ["Keep"]})
        assert status == 201
        assert postmaster_running(data_dir / "postgres")
        stop(server, stop_signal)
    assert not postmaster_running(data_dir / "postgres")

    with serve(tmp_path, "--data-dir", str(data_dir)) as server:
        status, image = request(f"{server.url}/images/{created['image_id']}")
        assert status == 200
        assert image == created
        stop(server)


def test_fixtures_cli_shares_the_running_embedded_server(tmp_path):
    data_dir = tmp_path / "data"
    with serve(tmp_path, "--data-dir", str(data_dir)) as server:
        listed = run_pixtag("fixtures", "list", "--data-dir", str(data_dir))
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.startswith("applied  001_images.sql")
        # The CLI released its hold without stopping the server under the API.
        assert postmaster_running(data_dir / "postgres")
        assert request(f"{server.url}/images", {"filename": "b.jpg"})[0] == 201
        stop(server)
    assert not postmaster_running(data_dir / "postgres")


def test_serve_with_a_database_url_starts_no_embedded_server(tmp_path, database_url):
    data_dir = tmp_path / "data"
    with serve(tmp_path, "--data-dir", str(data_dir), "--database-url", database_url) as server:
        status, created = request(f"{server.url}/images", {"filename": "c.jpg"})
        assert status == 201
        assert request(f"{server.url}/images/{created['image_id']}") == (200, created)
        stop(server)
    assert not (data_dir / "postgres").exists()


def test_serve_with_an_unreachable_database_fails_clearly(socket_dir):
    proc = run_pixtag(
        "serve",
        "--port",
        str(free_port()),
        "--database-url",
        f"postgresql://postgres:@/postgres?host={socket_dir}",
    )
    assert proc.returncode == 1
    # After the start-up log lines, one line says why.
    assert proc.stderr.splitlines()[-1].startswith("Error: cannot start: connection to server")
    assert "Traceback" not in proc.stderr


def test_a_first_start_killed_during_initdb_is_recovered_by_the_next(tmp_path):
    """kill -9 of a first start's whole process group while initdb runs leaves a half-made
    cluster and a standalone backend's postmaster.pid; the next start moves it aside (kept)
    and makes a new one, with one WARNING line and no traceback."""
    data_dir = tmp_path / "data"
    pgdata = data_dir / "postgres"
    with (tmp_path / "first.log").open("w") as log:
        first = subprocess.Popen(
            [*PIXTAG, "serve", "--port", str(free_port()), "--data-dir", str(data_dir)],
            env=pixtag_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: (pgdata / "PG_VERSION").exists(), within=60, what="initdb under way")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
    assert not (pgdata / "postmaster.opts").exists()  # no server ever ran on it

    server = serve(tmp_path, "--data-dir", str(data_dir))
    assert request(f"{server.url}/images", {"filename": "a.png", "tags": []})[0] == 201
    stop(server)
    output = server.output()
    assert "was left by a first start cut short" in output
    assert "Traceback" not in output
    [aside] = data_dir.glob("postgres.interrupted-*")
    assert (aside / "PG_VERSION").exists()  # kept, not deleted
