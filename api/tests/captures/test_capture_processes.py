"""Captures on real ``pixtag serve`` processes sharing one database: every capture runs
exactly once across processes, and a worker killed with SIGKILL is taken over."""

import json
import urllib.request
from pathlib import Path

from tests.images.test_crash import assert_nothing_left_over, assert_records_match_files, rows
from tests.support.origin import Origin, run_origin
from tests.support.processes import ServeProcess, pixtag_env, sql, wait_until


def env(**extra: str) -> dict[str, str]:
    return pixtag_env(
        PIXTAG_CAPTURE_ALLOW="127.0.0.1/32",
        PIXTAG_JOBS_POLL_INTERVAL="0.3",
        PIXTAG_JOBS_LEASE="2",
        PIXTAG_JOBS_BACKOFF_BASE="0.1",
        PIXTAG_SWEEP_INTERVAL="0",
        PIXTAG_SWEEP_GRACE="0",
        **extra,
    )


def post(url: str, body: object) -> object:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


def statuses(database_url: str) -> dict[str, int]:
    found = sql(database_url, "SELECT status, count(*) FROM jobs GROUP BY status")
    return {status: int(count) for status, count in found}


def serve(tmp_path: Path, database_url: str, name: str, **extra: str) -> ServeProcess:
    args = ("--data-dir", str(tmp_path / "data"), "--database-url", database_url)
    return ServeProcess(*args, log=tmp_path / f"{name}.log", env=env(**extra))


def held_urls(origin: Origin, count: int) -> list[str]:
    return [f"{origin.url}/held/{n}.png" for n in range(count)]


def test_two_processes_share_the_captures_and_run_each_exactly_once(tmp_path, database_url):
    with (
        run_origin() as origin,
        serve(tmp_path, database_url, "a", PIXTAG_JOBS_CONCURRENCY="3") as a,
        serve(tmp_path, database_url, "b", PIXTAG_JOBS_CONCURRENCY="3") as b,
    ):
        a.start()
        b.start()
        urls = held_urls(origin, 30)
        captures = post(f"{a.url}/captures/batch", {"urls": urls, "tags": ["batch"]})
        assert [c["url"] for c in captures] == urls  # type: ignore[union-attr]
        # Both processes are at work before any download may finish.
        wait_until(
            lambda: (
                sql(
                    database_url,
                    "SELECT count(DISTINCT worker), count(*) FROM jobs WHERE status = 'running'",
                )[0]
                == (2, 6)
            ),
            within=30,
            what="both processes running three captures each",
        )
        origin.held.set()
        wait_until(
            lambda: statuses(database_url) == {"done": 30}, within=60, what="every capture done"
        )
        assert sorted(origin.hits.items()) == sorted((f"/held/{n}.png", 1) for n in range(30))
        workers = sql(database_url, "SELECT count(DISTINCT worker), max(attempts) FROM jobs")
        assert workers == [(2, 1)]
        found = rows(database_url)
        assert len(found) == 30
        assert len({row.sha256 for row in found.values()}) == 30
        assert all(row.filename.endswith(".png") for row in found.values())
        assert_records_match_files(tmp_path / "data" / "media", found)
        assert a.stop() == 0, a.output()
        assert b.stop() == 0, b.output()


def test_captures_of_a_killed_process_are_taken_over_none_lost_none_twice(tmp_path, database_url):
    media = tmp_path / "data" / "media"
    with (
        run_origin() as origin,
        serve(tmp_path, database_url, "victim", PIXTAG_JOBS_CONCURRENCY="4") as victim,
        serve(tmp_path, database_url, "heir", PIXTAG_JOBS_CONCURRENCY="4") as heir,
    ):
        victim.start()
        urls = held_urls(origin, 12)
        urls += [f"{origin.url}/img/free-{n}.png" for n in range(4)]
        urls += [f"{origin.url}/status/404"]
        post(f"{victim.url}/captures/batch", {"urls": urls})
        # The held downloads come first: four of them are under way, and stay so.
        wait_until(
            lambda: [origin.hits[f"/held/{n}.png"] for n in range(4)] == [1, 1, 1, 1],
            within=30,
            what="the first process downloading four captures",
        )
        assert sql(database_url, "SELECT count(*) FROM jobs WHERE status = 'running'") == [(4,)]
        victim.kill()
        victim.wait()
        held = sql(database_url, "SELECT job_id FROM jobs WHERE status = 'running'")
        heir.start()
        origin.held.set()
        wait_until(
            lambda: (
                set(statuses(database_url)) <= {"done", "failed"}
                and sum(statuses(database_url).values()) == 17
            ),
            within=60,
            what="every capture to end",
        )
        assert statuses(database_url) == {"done": 16, "failed": 1}
        failed = sql(database_url, "SELECT error_code, attempts FROM jobs WHERE status = 'failed'")
        assert failed == [("http_404", 1)]
        taken_over = sql(
            database_url,
            "SELECT attempts FROM jobs WHERE job_id = ANY(%s)",
            ([job_id for (job_id,) in held],),
        )
        assert taken_over == [(2,)] * 4
        found = rows(database_url)
        assert len(found) == 16
        assert len({row.sha256 for row in found.values()}) == 16
        captures = sql(database_url, "SELECT count(DISTINCT image_id) FROM captures")
        assert captures == [(16,)]
        assert_records_match_files(media, found)
        assert_nothing_left_over(media, found)
        assert heir.stop() == 0, heir.output()
