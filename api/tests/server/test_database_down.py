"""A database that goes away: every request answers 503 with Retry-After (uploads included),
the log says so once per interval instead of a traceback per request, nothing is left in
the spool, and the server answers again as soon as the database is back.

The database is taken away as an outage does it: every connection of the server ended,
and no new one accepted, until it is let back.
"""

import os
import signal
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import psutil
import pytest

from pixtag.db.embedded import EmbeddedPostgres
from tests.support.helpers import create_form, image_bytes
from tests.support.processes import (
    ServeProcess,
    async_wait_until,
    pixtag_env,
    run_pixtag,
    sql,
    wait_until,
)


def take_away(pg_server: EmbeddedPostgres, name: str) -> None:
    sql(pg_server.uri(), f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
    sql(
        pg_server.uri(),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
        (name,),
    )


async def test_a_lost_database_answers_503_and_the_server_recovers_when_it_is_back(
    tmp_path: Path, database_url: str, pg_server: EmbeddedPostgres
):
    name = urlsplit(database_url).path.lstrip("/")
    data_dir = tmp_path / "data"
    args = ("--data-dir", str(data_dir), "--database-url", database_url)
    env = pixtag_env(PIXTAG_JOBS_POLL_INTERVAL="0.5", PIXTAG_TAG_COUNT_FOLD_INTERVAL="0.5")
    with ServeProcess(*args, log=tmp_path / "serve.log", env=env) as server:
        server.start()
        async with aiohttp.ClientSession() as session:
            body = {"filename": "kept.png", "tags": ["kept"]}
            async with session.post(f"{server.url}/images", json=body) as resp:
                assert resp.status == 201, await resp.text()

            take_away(pg_server, name)
            answers = []
            for _ in range(20):
                async with session.post(f"{server.url}/images", json=body) as resp:
                    answers.append((resp.status, resp.headers.get("Retry-After")))
                async with session.get(f"{server.url}/images/1") as resp:
                    answers.append((resp.status, resp.headers.get("Retry-After")))
            for _ in range(3):
                form = create_form(body, image_bytes())
                async with session.post(f"{server.url}/images", data=form) as resp:
                    answers.append((resp.status, resp.headers.get("Retry-After")))
                    assert resp.content_type == "application/problem+json"
                    problem = await resp.json()
            assert set(answers) == {(503, "1")}
            assert problem["detail"] == "The database is unavailable; try again"

            sql(pg_server.uri(), f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")

            async def answers_again() -> bool:
                async with session.get(f"{server.url}/images/1") as resp:
                    return resp.status == 200

            await async_wait_until(answers_again, within=30, what="the server to recover")
            form = create_form(body, image_bytes())
            async with session.post(f"{server.url}/images", data=form) as resp:
                assert resp.status == 201, await resp.text()
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log
    assert " 500 " not in log
    reports = [line for line in log.splitlines() if "database unavailable" in line]
    assert 1 <= len(reports) <= 2, reports  # one per 10 s, however many requests
    assert list((data_dir / "media" / ".incoming").iterdir()) == []


@pytest.mark.heavy
@pytest.mark.parametrize("workers", ["1", "2"])
async def test_the_embedded_server_killed_is_brought_back(tmp_path: Path, workers: str):
    """kill -9 of the embedded postmaster under load: 503s meanwhile, ready again within
    30 s, no traceback storm, and the data as it was; with one process, and with workers
    (whose supervisor started the server and watches it)."""
    data_dir = tmp_path / "data"
    env = pixtag_env(PIXTAG_JOBS_POLL_INTERVAL="0.5", PIXTAG_TAG_COUNT_FOLD_INTERVAL="0.5")
    args = ("--data-dir", str(data_dir), "--workers", workers)
    with ServeProcess(*args, log=tmp_path / "serve.log", env=env) as server:
        server.start()
        # Every worker up before the crash, so that each one meets it serving (one still
        # booting would wait for the database: test_a_worker_replaced_during_an_outage...).
        wait_until(
            lambda: server.output().count("jobs: working") >= int(workers),
            within=60,
            what="every worker to be up",
        )
        async with aiohttp.ClientSession() as session:
            form = create_form({"filename": "kept.png", "tags": ["kept"]}, image_bytes())
            async with session.post(f"{server.url}/images", data=form) as resp:
                assert resp.status == 201, await resp.text()
            postmaster = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
            os.kill(postmaster, signal.SIGKILL)

            statuses: list[int] = []

            async def ready() -> bool:
                form = create_form({"filename": "new.png", "tags": []}, image_bytes())
                async with session.post(f"{server.url}/images", data=form) as resp:
                    statuses.append(resp.status)
                async with session.get(f"{server.url}/health/ready") as resp:
                    return resp.status == 200

            await async_wait_until(ready, within=30, what="the embedded server to be back")
            # Each upload either landed (before the crash was seen, or after the restart) or
            # was refused as the database being away; never a 500.
            assert set(statuses) <= {201, 503}, statuses
            async with session.get(f"{server.url}/images/1") as resp:
                assert resp.status == 200
                assert (await resp.json())["tags"] == ["kept"]
            form = create_form({"filename": "after.png", "tags": []}, image_bytes())
            async with session.post(f"{server.url}/images", data=form) as resp:
                assert resp.status == 201, await resp.text()
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log
    assert " 500 " not in log
    assert "embedded PostgreSQL is running again" in log
    # Not a line per request or per retry: the access log aside, a line per interval for
    # each thing that failed, with a count, and the watchdog's word.
    reports = [line for line in log.splitlines() if " WARNING " in line or " ERROR " in line]
    assert len(reports) <= 15 * int(workers), "\n".join(reports)
    assert len([line for line in reports if "health" in line]) <= 2


async def test_a_start_waits_for_a_database_not_reachable_yet(
    tmp_path: Path, database_url: str, pg_server: EmbeddedPostgres
):
    """PIXTAG_DATABASE_WAIT: a server started before its database (a compose file's order)
    waits for it, says so once per interval, and serves once it is there."""
    name = urlsplit(database_url).path.lstrip("/")
    take_away(pg_server, name)
    args = ("--data-dir", str(tmp_path / "data"), "--database-url", database_url)
    env = pixtag_env(PIXTAG_DATABASE_WAIT="120")
    with ServeProcess(*args, log=tmp_path / "serve.log", env=env) as server:
        server.spawn()
        wait_until(
            lambda: "database not reachable yet" in server.output(),
            within=60,
            what="the start to wait for the database",
        )
        assert server.running  # still waiting, not exited
        sql(pg_server.uri(), f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        server.wait_answering(60)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{server.url}/health/ready") as resp,
        ):
            assert resp.status == 200
        assert server.stop() == 0
    log = server.log.read_text()
    assert "Traceback" not in log
    assert len([line for line in log.splitlines() if "not reachable yet" in line]) <= 3


def test_a_start_refused_by_the_database_does_not_wait(tmp_path: Path, database_url: str):
    """A wrong password or database name is no outage: the start fails at once, in one line."""
    wrong = urlsplit(database_url)._replace(path="/no_such_database").geturl()
    args = ("serve", "--data-dir", str(tmp_path / "data"), "--database-url", wrong)
    result = run_pixtag(*args, env=pixtag_env(PIXTAG_DATABASE_WAIT="600"), timeout=60)
    assert result.returncode == 1
    assert 'database "no_such_database" does not exist' in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.heavy
async def test_a_worker_replaced_during_an_outage_waits_for_the_database(
    tmp_path: Path, database_url: str, pg_server: EmbeddedPostgres
):
    """Under --workers, a worker that dies while the database is away is replaced by one that
    waits for the database; the server does not stop, and serves from both once it is back."""
    name = urlsplit(database_url).path.lstrip("/")
    args = ("--data-dir", str(tmp_path / "data"), "--database-url", database_url)
    env = pixtag_env(PIXTAG_JOBS_POLL_INTERVAL="0.5")
    with ServeProcess(*args, "--workers", "2", log=tmp_path / "serve.log", env=env) as server:
        server.start()
        wait_until(
            lambda: server.output().count("jobs: working") >= 2,
            within=60,
            what="both workers up",
        )
        assert server.proc is not None
        take_away(pg_server, name)
        victim = min(child.pid for child in psutil.Process(server.proc.pid).children())
        os.kill(victim, signal.SIGKILL)
        wait_until(
            lambda: "database not reachable yet" in server.output(),
            within=60,
            what="the new worker to wait for the database",
        )
        assert server.running
        sql(pg_server.uri(), f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        wait_until(
            lambda: server.output().count("jobs: working") >= 3,
            within=60,
            what="the new worker up",
        )
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{server.url}/health/ready") as resp,
        ):
            assert resp.status == 200
        assert server.stop() == 0
    assert "cannot start" not in server.log.read_text()
