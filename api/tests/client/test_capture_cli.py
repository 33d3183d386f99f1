"""``pixtag capture`` and ``pixtag captures`` against a real server and a real origin."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import ServeProcess, pixtag_env, run_pixtag


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[ServeProcess]:
    env = pixtag_env(
        PIXTAG_CAPTURE_ALLOW="127.0.0.1/32",
        PIXTAG_JOBS_POLL_INTERVAL="0.3",
        PIXTAG_JOBS_MAX_ATTEMPTS="1",
        PIXTAG_JOBS_CONCURRENCY="1",  # one at a time: image ids follow the captures
        PIXTAG_SWEEP_INTERVAL="0",
    )
    args = ("--data-dir", str(tmp_path / "data"), "--database-url", database_url)
    with ServeProcess(*args, log=tmp_path / "serve.log", env=env) as process:
        yield process.start()


def pixtag(server: ServeProcess, *args: str):  # type: ignore[no-untyped-def]
    return run_pixtag(*args, "--url", server.url)


def test_capture_waits_for_every_capture_and_reports_each(server, origin):
    urls = [f"{origin.url}/img/one.png", f"{origin.url}/img/two.png"]
    result = pixtag(server, "capture", *urls, "-t", "cli", "--wait")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"1  done  {urls[0]}  image 1",
        f"2  done  {urls[1]}  image 2",
    ]
    listed = pixtag(server, "captures", "--status", "done")
    assert listed.stdout.splitlines() == result.stdout.splitlines()


def test_capture_exits_1_when_a_capture_fails(server, origin):
    result = pixtag(server, "capture", f"{origin.url}/status/404", "--wait")
    assert result.returncode == 1
    assert (
        result.stdout
        == f"1  failed  {origin.url}/status/404  http_404: the server answered 404 Not Found\n"
    )


def test_captures_pause_and_resume(server, origin):
    paused = pixtag(server, "captures", "pause")
    assert paused.stdout == "captures paused: 0 queued, 0 running\n"
    queued = pixtag(server, "capture", f"{origin.url}/img/later.png")
    assert queued.stdout == f"1  queued  {origin.url}/img/later.png\n"
    assert pixtag(server, "captures", "--status", "queued").stdout == queued.stdout
    resumed = pixtag(server, "captures", "resume")
    assert resumed.stdout.startswith("captures running: ")
    done = pixtag(server, "capture", f"{origin.url}/img/later.png", "--wait")
    assert done.stdout == f"1  done  {origin.url}/img/later.png  image 1\n"
    assert pixtag(server, "captures", "--status", "failed").stdout == "no captures\n"
