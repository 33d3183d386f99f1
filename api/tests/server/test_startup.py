"""`pixtag serve` as a real process: what it says at start and stop, and how it refuses to start."""

import re
import signal
import socket
from pathlib import Path

import pytest

from tests.support.processes import ServeProcess, free_port, pixtag_env, run_pixtag


def lines(text: str, logger: str) -> list[str]:
    """The messages ``logger`` wrote (the text after ``<logger>: ``)."""
    return re.findall(rf"^\S+ \S+ \w+ {re.escape(logger)}: (.*)$", text, re.MULTILINE)


def assert_one_line_error(result, expected: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == expected
    assert result.stderr.count("Error:") == 1


def test_serve_on_a_port_in_use_is_a_one_line_error(tmp_path, database_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_pixtag(
            "serve",
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--data-dir", str(tmp_path / "data"), "--database-url", database_url),
        )
    assert_one_line_error(
        result, f"Error: cannot listen on http://127.0.0.1:{port}: address already in use"
    )


def test_serve_on_an_impossible_port_is_a_one_line_error():
    result = run_pixtag("serve", "--port", "99999")
    assert result.returncode == 1
    assert result.stderr == (
        "Error: invalid settings: PIXTAG_PORT (--port):"
        " Input should be less than or equal to 65535\n"
    )


def test_an_invalid_setting_from_the_environment_is_a_one_line_error():
    result = run_pixtag("serve", env=pixtag_env(PIXTAG_CHUNK_SIZE="0"))
    assert result.returncode == 1
    assert result.stderr == (
        "Error: invalid settings: PIXTAG_CHUNK_SIZE: Input should be greater than or equal to 1\n"
    )


@pytest.mark.parametrize(
    "url", ["not a url", "postgresql://pixtag:s3cret%zz@db/pixtag", "postgres://u:s3cret@[::1/db"]
)
def test_an_unparsable_database_url_is_a_one_line_error_without_its_password(url):
    result = run_pixtag("serve", "--port", str(free_port()), "--database-url", url)
    assert result.returncode == 1
    assert result.stderr == (
        "Error: invalid settings: PIXTAG_DATABASE_URL (--database-url): not a PostgreSQL URL"
        " libpq can read (postgresql://user:password@host:port/dbname, or key=value pairs)\n"
    )
    assert "s3cret" not in result.stderr


def test_an_unreachable_database_is_one_line(tmp_path, socket_dir):
    result = run_pixtag(
        "serve",
        *("--port", str(free_port()), "--data-dir", str(tmp_path / "data")),
        *("--database-url", f"postgresql://postgres:@/postgres?host={socket_dir}"),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith("Error: cannot start: connection to server on socket")
    # libpq's hint, on the same line.
    assert "; Is the server running locally" in last


def test_serve_says_what_it_chose_at_start_and_what_it_stopped(tmp_path, database_url):
    # The test cluster trusts local connections: the password is there to be masked.
    with_password = database_url.replace("postgres:@", "postgres:s3cret@")
    assert with_password != database_url
    data_dir = tmp_path / "data"
    server = ServeProcess(
        *("--data-dir", str(data_dir), "--database-url", with_password),
        log=tmp_path / "serve.log",
        env=pixtag_env(PIXTAG_SWEEP_INTERVAL="60"),
    )
    with server:
        server.start()
        assert server.stop(signal.SIGTERM) == 0
    said = lines(server.output(), "pixtag") + lines(server.output(), "pixtag.db.pool")
    said += lines(server.output(), "pixtag.storage.context")
    said += lines(server.output(), "pixtag.storage.sweeper")
    output = server.output()
    assert "s3cret" not in output
    assert "Traceback" not in output
    masked = with_password.replace("s3cret", "***")
    for expected in [
        r"pixtag 0\.1\.0 starting \(Python 3\.\d+\.\d+, aiohttp \d+\.\d+\.\d+\)",
        f"database: {re.escape(masked)}",
        "fixtures: none pending",
        f"storing files in local directory {re.escape(str(data_dir.resolve() / 'media'))}",
        f"listening on http://127\\.0\\.0\\.1:{server.port}",
        f"SIGTERM received: closing http://127\\.0\\.0\\.1:{server.port} to new connections;"
        " in-flight requests have 30 s",
        "periodic storage sweeps stopped",
        "database pool closed",
        "pixtag stopped",
    ]:
        assert any(re.fullmatch(expected, line) for line in said), (expected, said)
    # In this order: start-up, then serving, then each step of the stop.
    order = [
        "starting",
        "database:",
        "fixtures:",
        "storing files",
        "listening",
        "SIGTERM",
        "pool closed",
        "pixtag stopped",
    ]
    positions = [output.index(word) for word in order]
    assert positions == sorted(positions)


def test_serve_with_the_embedded_database_names_it_and_the_fixtures_it_applied(tmp_path):
    data_dir = tmp_path / "data"
    server = ServeProcess("--data-dir", str(data_dir), log=tmp_path / "serve.log")
    with server:
        server.start()
        assert server.stop(signal.SIGINT) == 0
        first = server.output()
        server.start()
        assert server.stop() == 0
    second = server.output()[len(first) :]
    pgdata = (data_dir / "postgres").resolve()
    fixtures = sorted(path.name for path in (Path(__file__).parents[3] / "fixtures").glob("*.sql"))
    assert f"database: embedded PostgreSQL at {pgdata}" in lines(first, "pixtag.db.pool")
    assert f"fixtures: applied {', '.join(fixtures)}" in lines(first, "pixtag.db.pool")
    assert "SIGINT received" in first
    assert f"embedded PostgreSQL at {pgdata} stopped" in lines(first, "pixtag.db.pool")
    assert "fixtures: none pending" in lines(second, "pixtag.db.pool")
    assert f"embedded PostgreSQL at {pgdata} stopped" in lines(second, "pixtag.db.pool")
