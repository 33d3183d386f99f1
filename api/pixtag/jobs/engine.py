"""The worker: claims due jobs, runs them, and records how each ended.

Each process runs one ``Engine`` with up to ``concurrency`` jobs at a time,
and at most ``limits[queue]`` of a queue's (image work holds its jobs while
it yields to requests, ``pixtag.pacing``: it must not take every slot from
the other queues).
It wakes when PostgreSQL notifies ``pixtag_jobs`` (a job was queued, a queue
resumed) and also every ``poll_interval`` seconds, so a notification lost
with a connection, or a retry that became due, is picked up anyway. A
heartbeat extends the lease of every job it runs; a process that dies stops
extending them, and another worker takes its jobs over once they expire.

Only the engine records how a job ended; a handler that commits work of its
own does it fenced by ``queries.hold`` (the claim still its), and finds that
work already done when a job whose process died is taken over. How a job
ends decides what happens next: done (the handler returned),
failed for good (``Permanent``, or out of attempts), queued again after an
exponential backoff with jitter (``Transient`` or an unexpected error), or
given back as if never started (the process is shutting down).
"""

import asyncio
import collections
import contextlib
import logging
import os
import random
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pixtag.db.database import Database
from pixtag.errors import Unavailable, database_lost, first_line
from pixtag.jobs import queries
from pixtag.jobs.errors import ClaimLost, Permanent, Transient

log = logging.getLogger(__name__)
# While the database is away every poll fails alike: a line per interval, with a count.
CLAIMS_FAILING = Unavailable(
    what="jobs: claiming failed, trying again shortly", counted="failures", logger=log
)
LISTEN_FAILING = Unavailable(
    what="jobs: listening failed, polling until it is back", counted="failures", logger=log
)

CHANNEL = "pixtag_jobs"

type Handler = Callable[[queries.Claimed], Awaitable[Any]]


@dataclass(frozen=True)
class Tuning:
    """How a process works its queues."""

    concurrency: int
    poll_interval: float
    lease: float
    backoff_base: float
    backoff_max: float
    shutdown_grace: float

    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds before the next attempt: doubling per attempt, jittered, capped; at least a
        server's ``Retry-After``, within the cap."""
        delay = min(self.backoff_max, self.backoff_base * 2.0 ** max(attempts - 1, 0))
        delay *= random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not secrecy
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.backoff_max))
        return float(delay)


class Engine:
    """One process's worker over ``queues``; ``start`` and ``stop`` it from a cleanup_ctx."""

    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        queues: list[str],
        tuning: Tuning,
        limits: Mapping[str, int] | None = None,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.queues = queues
        self.tuning = tuning
        self.limits = dict(limits or {})
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()
        self._running: dict[asyncio.Task[None], queries.Claimed] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._heartbeat: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._loops = [
            asyncio.create_task(self._dispatch(), name="jobs-dispatch"),
            asyncio.create_task(self._listen(), name="jobs-listen"),
        ]
        self._heartbeat = asyncio.create_task(self._beat(), name="jobs-heartbeat")
        log.info(
            "jobs: working %s, %d at a time, as %s",
            ", ".join(self.queues),
            self.tuning.concurrency,
            self.worker,
        )

    async def stop(self) -> None:
        """Claim nothing more; let running jobs finish within the grace, then give the rest
        back to the queue."""
        # The dispatcher is let finish its claim (cancelled in the middle, a job claimed in
        # PostgreSQL would wait for its lease to expire); the listener has nothing to lose.
        self._stopping = True
        self._wake.set()
        for task in self._loops[1:]:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        running = list(self._running)
        if running:
            _, pending = await asyncio.wait(running, timeout=self.tuning.shutdown_grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
        log.info("jobs: stopped (%d were running)", len(running))

    def wake(self) -> None:
        """Look for due jobs now (this process queued one, say)."""
        self._wake.set()

    async def _dispatch(self) -> None:
        while not self._stopping:
            self._wake.clear()
            while len(self._running) < self.tuning.concurrency and not self._stopping:
                try:
                    job = await self._claim()
                except Exception as error:
                    if database_lost(error):  # once per interval, counted, while it lasts
                        CLAIMS_FAILING.count(error)
                    else:
                        log.warning(
                            "jobs: claiming failed; trying again shortly: %s",
                            first_line(error),
                            exc_info=True,
                        )
                    break
                if job is None:
                    break
                task = asyncio.create_task(self._run(job), name=f"job-{job.job_id}")
                self._running[task] = job
                task.add_done_callback(self._finished)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tuning.poll_interval):
                    await self._wake.wait()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._wake.set()  # a slot came free

    def _open_queues(self) -> list[str]:
        """The queues with a free slot: below their limit."""
        running = collections.Counter(job.queue for job in self._running.values())
        return [
            queue
            for queue in self.queues
            if running[queue] < self.limits.get(queue, self.tuning.concurrency)
        ]

    async def _claim(self) -> queries.Claimed | None:
        queues = self._open_queues()
        if not queues:
            return None
        async with self.db.cursor() as cur:
            return await queries.claim(
                cur,
                queues,
                token=secrets.token_hex(16),
                worker=self.worker,
                lease=self.tuning.lease,
            )

    async def _listen(self) -> None:
        """Wake the dispatcher on every notification; reconnect when the connection is lost."""
        while True:
            try:
                async with self.db.listen(CHANNEL) as notifications:
                    self._wake.set()  # catch up with anything sent while not listening
                    while True:
                        message = await notifications.get()
                        if message.payload in self.queues:
                            self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if database_lost(error):
                    LISTEN_FAILING.count(error)
                else:
                    log.warning(
                        "jobs: listening failed; polling until it is back: %s",
                        first_line(error),
                        exc_info=True,
                    )
                await asyncio.sleep(self.tuning.poll_interval)

    async def _beat(self) -> None:
        """Extend the leases of the running jobs, a few times per lease."""
        while True:
            await asyncio.sleep(self.tuning.lease / 3)
            tokens = [job.token for job in self._running.values()]
            if not tokens:
                continue
            try:
                async with self.db.cursor() as cur:
                    held = await queries.heartbeat(cur, tokens, lease=self.tuning.lease)
            except Exception:
                log.warning("jobs: heartbeat failed", exc_info=True)
                continue
            for job in list(self._running.values()):
                if job.token in tokens and job.token not in held:
                    log.info("jobs: job %d is no longer held by this worker", job.job_id)

    async def _run(self, job: queries.Claimed) -> None:
        try:
            if job.attempts > job.max_attempts:
                # Taken over after its workers died, again and again: it may be what kills them.
                message = f"no attempt finished in {job.max_attempts}"
                await self._settle(queries.fail, job, "attempts_exhausted", message)
                return
            handler = self.handlers.get(job.kind)
            if handler is None:
                raise Permanent("unknown_kind", f"no handler for jobs of kind {job.kind!r}")
            result = await handler(job)
        except asyncio.CancelledError:
            await asyncio.shield(self._settle(queries.release, job))
            raise
        except ClaimLost:
            log.info("jobs: job %d was taken over; its result is dropped", job.job_id)
        except Permanent as error:
            await self._settle(queries.fail, job, error.code, error.message)
        except Transient as error:
            await self._again(job, error.code, error.message, error.retry_after)
        except Exception as error:
            log.exception("jobs: job %d (%s) failed unexpectedly", job.job_id, job.kind)
            await self._again(job, "internal", f"unexpected error: {type(error).__name__}")
        else:
            await self._settle(queries.finish, job, result)

    async def _again(
        self, job: queries.Claimed, code: str, message: str, retry_after: float | None = None
    ) -> None:
        if job.attempts >= job.max_attempts:
            await self._settle(queries.fail, job, code, message)
            return
        delay = self.tuning.backoff(job.attempts, retry_after)
        await self._settle(queries.retry_later, job, code, message, delay)

    async def _settle(self, change: Callable[..., Awaitable[bool]], job: Any, *args: Any) -> None:
        """Record how a job ended; if that fails its lease runs out and another worker retries."""
        try:
            async with self.db.cursor() as cur:
                await change(cur, job, *args)
        except Exception:
            log.warning("jobs: could not record the end of job %d", job.job_id, exc_info=True)
