"""The job engine on its own, in process, against the real PostgreSQL: claims, wake-ups,
leases, retries, the pause switch, shutdown."""

import asyncio
import collections
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pixtag.db.database import Database, pooled
from pixtag.jobs import queries
from pixtag.jobs.engine import Engine, Tuning
from pixtag.jobs.errors import Permanent, Transient
from pixtag.settings import Settings
from tests.support.processes import async_wait_until, sql

QUEUES = ["test", "other"]


def tuning(**changes: float) -> Tuning:
    values: dict[str, Any] = {
        "concurrency": 4,
        "poll_interval": 0.2,
        "lease": 30.0,
        "backoff_base": 0.05,
        "backoff_max": 1.0,
        "shutdown_grace": 5.0,
    }
    return Tuning(**{**values, **changes})


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    sql(database_url, "INSERT INTO job_queues (queue) VALUES ('test'), ('other')")
    async with pooled(database_url, Settings(database_url=database_url), max_size=20) as database:
        yield database


@pytest.fixture
async def engines(database, database_url) -> AsyncIterator[Callable[..., Engine]]:  # type: ignore[no-untyped-def]
    started: list[Engine] = []

    def start(handlers: dict[str, Any], **changes: float) -> Engine:
        engine = Engine(database, handlers, QUEUES, tuning(**changes))
        engine.start()
        started.append(engine)
        return engine

    yield start
    for engine in started:
        await engine.stop()


async def enqueue(
    database, kind: str, queue: str = "test", max_attempts: int = 3, **payload
) -> int:  # type: ignore[no-untyped-def]
    async with database.cursor() as cur:
        return await queries.enqueue(cur, queue, kind, payload, max_attempts=max_attempts)


def job(database_url: str, job_id: int) -> dict[str, Any]:
    columns = "status, attempts, error_code, error_message, result, token, lease_until"
    row = sql(database_url, f"SELECT {columns} FROM jobs WHERE job_id = %s", (job_id,))[0]
    return dict(zip(columns.split(", "), row, strict=True))


async def until_status(database_url: str, job_id: int, status: str, within: float = 15) -> None:
    await async_wait_until(
        lambda: job(database_url, job_id)["status"] == status,
        within=within,
        what=f"job {job_id} to be {status}",
    )


async def test_three_workers_run_every_job_exactly_once(database, engines, database_url):
    runs: collections.Counter[int] = collections.Counter()

    async def count(claimed: queries.Claimed) -> dict[str, int]:
        runs[claimed.payload["n"]] += 1
        await asyncio.sleep(0)
        return {"n": claimed.payload["n"]}

    ids = [await enqueue(database, "count", n=n) for n in range(120)]
    for _ in range(3):
        engines({"count": count})
    await async_wait_until(
        lambda: sql(database_url, "SELECT count(*) FROM jobs WHERE status = 'done'")[0][0] == 120,
        within=30,
        what="every job to be done",
    )
    assert runs == dict.fromkeys(range(120), 1)
    assert job(database_url, ids[7])["result"] == {"n": 7}
    assert sql(database_url, "SELECT max(attempts) FROM jobs")[0][0] == 1


async def test_a_notification_wakes_the_worker_long_before_it_would_poll(
    database, engines, database_url
):
    async def nothing(claimed: queries.Claimed) -> None:
        return None

    engine = engines({"nothing": nothing}, poll_interval=600)
    # Listening: the first wake-up after connecting has run its claim.
    await async_wait_until(lambda: not engine._wake.is_set(), within=10, what="the listener")
    job_id = await enqueue(database, "nothing")
    await until_status(database_url, job_id, "done", within=10)


async def test_transient_failures_are_retried_with_backoff_and_permanent_ones_kept(
    database, engines, database_url
):
    tries: collections.Counter[str] = collections.Counter()

    async def flaky(claimed: queries.Claimed) -> str:
        tries[claimed.payload["name"]] += 1
        if claimed.payload["name"] == "broken":
            raise Permanent("bad_input", "it will never work")
        if tries[claimed.payload["name"]] < claimed.payload["fails"] + 1:
            raise Transient("busy", "try later")
        return "ok"

    engines({"flaky": flaky})
    recovers = await enqueue(database, "flaky", name="recovers", fails=2)
    gives_up = await enqueue(database, "flaky", name="gives-up", fails=5)
    broken = await enqueue(database, "flaky", name="broken", fails=0)
    await until_status(database_url, recovers, "done")
    await until_status(database_url, gives_up, "failed")
    await until_status(database_url, broken, "failed")
    assert job(database_url, recovers)["attempts"] == 3
    assert job(database_url, recovers)["error_code"] is None
    assert job(database_url, gives_up)["attempts"] == 3
    assert job(database_url, gives_up)["error_code"] == "busy"
    assert job(database_url, broken)["attempts"] == 1
    assert job(database_url, broken)["error_message"] == "it will never work"
    assert tries == {"recovers": 3, "gives-up": 3, "broken": 1}


def test_backoff_doubles_with_jitter_within_its_cap_and_honours_retry_after():
    t = tuning(backoff_base=1.0, backoff_max=10.0)
    for attempts, (low, high) in {
        1: (0.5, 1.0),
        2: (1.0, 2.0),
        3: (2.0, 4.0),
        9: (5.0, 10.0),
    }.items():
        delays = [t.backoff(attempts) for _ in range(50)]
        assert all(low <= d <= high for d in delays), (attempts, delays)
        assert len(set(delays)) > 1  # jittered
    assert t.backoff(1, retry_after=7.0) == 7.0
    assert t.backoff(1, retry_after=3600.0) == 10.0


async def test_a_paused_queue_starts_nothing_until_resumed_while_others_run(
    database, engines, database_url
):
    async def nothing(claimed: queries.Claimed) -> None:
        return None

    sql(database_url, "UPDATE job_queues SET enabled = false WHERE queue = 'test'")
    engines({"nothing": nothing})
    waiting = await enqueue(database, "nothing", queue="test")
    # Queued after the paused one: once it is done, the paused one was passed over.
    passing = await enqueue(database, "nothing", queue="other")
    await until_status(database_url, passing, "done")
    assert job(database_url, waiting)["status"] == "queued"
    assert job(database_url, waiting)["attempts"] == 0
    sql(database_url, "UPDATE job_queues SET enabled = true WHERE queue = 'test'")
    await until_status(database_url, waiting, "done")


async def test_a_job_running_when_paused_finishes(database, engines, database_url):
    release = asyncio.Event()

    async def slow(claimed: queries.Claimed) -> None:
        await release.wait()

    engines({"slow": slow})
    job_id = await enqueue(database, "slow")
    await until_status(database_url, job_id, "running")
    sql(database_url, "UPDATE job_queues SET enabled = false WHERE queue = 'test'")
    release.set()
    await until_status(database_url, job_id, "done")


async def test_an_expired_lease_is_taken_over_and_the_old_claim_changes_nothing(
    database, engines, database_url
):
    job_id = await enqueue(database, "count")
    # A worker claimed it, then died: its lease ran out long ago.
    sql(
        database_url,
        "UPDATE jobs SET status = 'running', attempts = 1, token = 'dead', worker = 'gone:1',"
        " lease_until = now() - interval '1 second' WHERE job_id = %s",
        (job_id,),
    )
    ran = []

    async def count(claimed: queries.Claimed) -> None:
        ran.append(claimed.attempts)

    engines({"count": count})
    await until_status(database_url, job_id, "done")
    assert ran == [2]
    stale = queries.Claimed(job_id, "test", "count", {}, 1, 3, "dead")
    async with database.cursor() as cur:
        assert not await queries.fail(cur, stale, "late", "the dead worker woke up")
    assert job(database_url, job_id)["status"] == "done"


async def test_a_job_that_kills_every_worker_fails_once_out_of_attempts(
    database, engines, database_url
):
    job_id = await enqueue(database, "count", max_attempts=2)
    sql(
        database_url,
        "UPDATE jobs SET status = 'running', attempts = 2, token = 'dead',"
        " lease_until = now() - interval '1 second' WHERE job_id = %s",
        (job_id,),
    )

    async def count(claimed: queries.Claimed) -> None:
        raise AssertionError("not run again")

    engines({"count": count})
    await until_status(database_url, job_id, "failed")
    assert job(database_url, job_id)["error_code"] == "attempts_exhausted"


async def test_the_heartbeat_keeps_a_long_job_from_being_taken_over(
    database, engines, database_url
):
    release = asyncio.Event()
    ran = []

    async def slow(claimed: queries.Claimed) -> None:
        ran.append(claimed.job_id)
        await release.wait()

    engines({"slow": slow}, lease=0.6)
    engines({"slow": slow}, lease=0.6)
    job_id = await enqueue(database, "slow")
    await until_status(database_url, job_id, "running")
    first_lease = job(database_url, job_id)["lease_until"]
    await async_wait_until(
        lambda: job(database_url, job_id)["lease_until"] > first_lease,
        within=5,
        what="a heartbeat",
    )
    await async_wait_until(
        lambda: job(database_url, job_id)["lease_until"] > first_lease,
        within=5,
        what="another heartbeat",
    )
    release.set()
    await until_status(database_url, job_id, "done")
    assert ran == [job_id]


async def test_stopping_gives_unfinished_jobs_back_as_never_attempted(database, database_url):
    async def forever(claimed: queries.Claimed) -> None:
        await asyncio.Event().wait()

    engine = Engine(database, {"forever": forever}, QUEUES, tuning(shutdown_grace=0))
    engine.start()
    job_id = await enqueue(database, "forever")
    await until_status(database_url, job_id, "running")
    await engine.stop()
    found = job(database_url, job_id)
    assert (found["status"], found["attempts"], found["token"]) == ("queued", 0, None)


async def test_queue_limit_leaves_the_other_queues_their_slots(database, database_url):
    release = asyncio.Event()
    running: list[int] = []

    async def blocked(claimed: queries.Claimed) -> None:
        running.append(claimed.job_id)
        await release.wait()

    async def quick(claimed: queries.Claimed) -> dict[str, bool]:
        return {"ran": True}

    handlers = {"blocked": blocked, "quick": quick}
    engine = Engine(database, handlers, QUEUES, tuning(), {"test": 1})
    engine.start()
    try:
        held = [await enqueue(database, "blocked") for _ in range(3)]
        await until_status(database_url, held[0], "running")
        other = await enqueue(database, "quick", queue="other")
        # One job of the limited queue runs; the other queue's job gets a slot and finishes.
        await until_status(database_url, other, "done")
        assert job(database_url, other)["result"] == {"ran": True}
        assert running == [held[0]]
        assert [job(database_url, n)["status"] for n in held] == ["running", "queued", "queued"]
        release.set()
        for job_id in held:
            await until_status(database_url, job_id, "done")
        assert running == held  # one after another, in order
    finally:
        release.set()
        await engine.stop()
