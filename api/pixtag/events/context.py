"""Wiring events into the application: the bell, the webhooks' runs, the retention.

The ``Bell`` wakes this process's readers of the feed. Every ``POLL``
seconds each process queues a delivery run for each webhook with events
waiting (a queued run exists once per webhook, so processes doing the same
at once queue one). The oldest events go after ``PIXTAG_EVENT_RETENTION``,
by one process at a time.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from pixtag import background, keys
from pixtag.db.database import Database
from pixtag.errors import Unavailable, database_lost, first_line
from pixtag.events import queries, webhooks
from pixtag.events.feed import Bell
from pixtag.jobs.queries import Claimed
from pixtag.net.fetch import Fetcher, Timeouts
from pixtag.net.guard import Policy

log = logging.getLogger(__name__)
TICKS_FAILING = Unavailable(
    what="events: waking webhooks failed, trying again shortly", counted="failures", logger=log
)

POLL = 1.0
PRUNE_EVERY = 60.0
PRUNE_BATCH = 10_000

BELL = web.AppKey("events_bell", Bell)
DELIVERER = web.AppKey("webhook_deliverer", webhooks.Deliverer)


def setup(app: web.Application) -> None:
    async def deliver(job: Claimed) -> Any:
        return await app[DELIVERER].run(job)

    async def redeliver(job: Claimed) -> Any:
        return await app[DELIVERER].redeliver(job)

    app[keys.JOB_HANDLERS][(webhooks.QUEUE, webhooks.KIND)] = deliver
    app[keys.JOB_HANDLERS][(webhooks.QUEUE, webhooks.REDELIVERY)] = redeliver
    app.cleanup_ctx.append(events_ctx)


async def events_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    db = app[keys.DATABASE]
    bell = Bell(db)
    app[BELL] = bell
    timeout = settings.webhook_timeout
    fetcher = Fetcher(
        Policy.from_lists(settings.webhook_allow, ()),
        Timeouts(connect=timeout, read=timeout, total=timeout),
        connections=max(8, settings.jobs_concurrency * 2),
    )
    await fetcher.open()
    app[DELIVERER] = webhooks.Deliverer(db, webhooks.Sender(fetcher, settings), settings)
    try:
        async with (
            background.running(_wake_webhooks(db)),
            background.running(_prune(db, settings.event_retention)),
        ):
            yield
    finally:
        await bell.close()
        await fetcher.close()


async def _wake_webhooks(db: Database) -> None:
    while True:
        await asyncio.sleep(POLL)
        try:
            async with db.cursor() as cur:
                await queries.wake(cur)
        except Exception as error:
            if database_lost(error):
                TICKS_FAILING.count(error)
            else:
                log.warning("events: waking webhooks failed: %s", first_line(error))


async def _prune(db: Database, retention: float) -> None:
    every = min(PRUNE_EVERY, max(retention / 10, 0.5))
    while True:
        await asyncio.sleep(every)
        try:
            await prune(db, retention)
        except Exception as error:  # the next round tries again; nothing is half done
            log.warning("events: pruning failed: %s", first_line(error))


async def prune(db: Database, retention: float) -> int:
    """Remove the events older than ``retention`` seconds; how many (0: another process
    is at it)."""
    removed = 0
    async with db.exclusive("events-prune") as mine:
        if not mine:
            return 0
        while True:
            async with db.cursor(30_000) as cur:
                count = await queries.prune(cur, seconds=retention, batch=PRUNE_BATCH)
            removed += count
            if count < PRUNE_BATCH:
                return removed
