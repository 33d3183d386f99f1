"""The fold: pending tag count changes moved into ``tags``, in the background.

Writers append count changes instead of updating the count rows (fixture
016), so creates sharing a common tag never wait for each other's commit.
Readers add the pending changes to the folded counts, so the counts are
exact whether or not a fold has run; folding keeps the pending changes few,
so that adding them stays cheap.

Every server process folds every ``PIXTAG_TAG_COUNT_FOLD_INTERVAL`` seconds
(0: never), in batches of ``BATCH`` changes, each batch its own short
transaction. One process folds at a time: a batch is folded under a
transaction advisory lock that the others only try, and a process that finds
it taken leaves the round to the one holding it (the workers of ``pixtag
serve --workers N`` fold as often as one server, not N times as often). A
fold that fails changes nothing (its changes stay pending until a fold of
them commits): it is logged and tried again at the next interval.

The change table is a queue: every change is deleted a moment after it was
written. Autovacuum visits it once a minute at most, so the folder vacuums
it itself every ``VACUUM_EVERY`` changes it has folded; its dead rows would
otherwise slow the readers' scans of the pending changes.
"""

import asyncio
import logging
import random
from collections.abc import AsyncIterator

from aiohttp import web

from pixtag import background, keys
from pixtag.db.database import Database
from pixtag.errors import Unavailable, database_lost, first_line
from pixtag.tags.queries import counts as tag_counts

log = logging.getLogger(__name__)
FOLDS_FAILING = Unavailable(
    what="tag count fold failed, retrying at the next interval", counted="failures", logger=log
)

BATCH = 10_000
VACUUM_EVERY = 50_000


async def fold_pending(db: Database, *, batch: int = BATCH, timeout_ms: int = 5_000) -> int:
    """Fold the pending count changes, batch after batch, until a batch is short; how many
    (0 when another process is folding them)."""
    total = 0
    async with db.cursor(timeout_ms) as cur:
        while True:
            folded = await tag_counts.fold(cur, batch)  # autocommit: one transaction each
            if folded < 0:
                return total
            total += folded
            if folded < batch:
                return total


async def folding_ctx(app: web.Application) -> AsyncIterator[None]:
    """Fold in the background every ``tag_count_fold_interval`` seconds (0: never)."""
    interval = app[keys.SETTINGS].tag_count_fold_interval
    async with background.running(
        _fold_forever(app[keys.DATABASE], interval) if interval > 0 else None
    ):
        yield


async def _fold_forever(db: Database, interval: float) -> None:
    since_vacuum = 0
    while True:
        try:
            since_vacuum += await fold_pending(db)
            if since_vacuum >= VACUUM_EVERY:
                async with db.cursor(5_000) as cur:
                    await tag_counts.vacuum(cur)
                since_vacuum = 0
        except Exception as error:
            if database_lost(error):
                FOLDS_FAILING.count(error)
            else:
                log.warning(
                    "tag count fold failed; retrying at the next interval: %s",
                    first_line(error),
                    exc_info=True,
                )
        # Jittered, so that processes started together do not fold together.
        await asyncio.sleep(interval * random.uniform(0.9, 1.1))  # noqa: S311
