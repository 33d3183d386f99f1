"""The sweeper: removes what no record names, with the database as its only truth.

A crash, or a COMMIT whose outcome was unknown, can leave stored keys that
no row names, temporary files, interrupted multipart uploads and empty
folders; none of them is ever served, and they only take space. The sweeper
removes a key when no row names it and it is older than the grace period,
so a file stored by an upload still in flight (stored a moment before its
row is committed, see ``pixtag.images.ingest``) is never swept: recording
transactions are bounded to a small fraction of the grace period.

It runs at start-up and then every ``PIXTAG_SWEEP_INTERVAL`` seconds. One
process sweeps at a time (``Database.exclusive``): the workers of ``pixtag
serve --workers N`` and other servers on the same database skip a round
another is sweeping, rather than list the whole storage N times.
"""

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from pixtag import background
from pixtag import keys as app_keys
from pixtag.db.database import Database
from pixtag.images.queries import attachments as queries
from pixtag.storage import spool
from pixtag.storage.backend import Storage

log = logging.getLogger(__name__)

BATCH = 1000


@dataclass
class SweepReport:
    """What one pass removed."""

    orphans: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{len(self.orphans)} unreferenced files, {len(self.incomplete)} leftovers"


async def sweep(db: Database, storage: Storage, *, grace: float) -> SweepReport | None:
    """One pass: remove keys no row names and leftovers of interrupted writes, older than
    ``grace`` seconds; None when another process is sweeping."""
    async with db.exclusive("storage sweep") as mine:
        if not mine:
            return None
        return await _sweep(db, storage, grace)


async def _sweep(db: Database, storage: Storage, grace: float) -> SweepReport:
    cutoff = time.time() - grace
    report = SweepReport()
    batch: list[str] = []
    async for stored in storage.objects():
        if stored.modified <= cutoff:
            batch.append(stored.key)
        if len(batch) >= BATCH:
            report.orphans += await _remove_unreferenced(db, storage, batch)
            batch = []
    if batch:
        report.orphans += await _remove_unreferenced(db, storage, batch)
    temporary = await asyncio.to_thread(spool.sweep, storage.spool_dir)
    report.incomplete = [f"{path.parent.name}/{path.name}" for path in temporary]
    # After the files, so that folders they leave empty go in the same pass.
    report.incomplete += await storage.sweep_incomplete(cutoff)
    return report


async def _remove_unreferenced(db: Database, storage: Storage, batch: list[str]) -> list[str]:
    async with db.cursor() as cur:
        orphans = await queries.unreferenced(cur, batch)
    for key in orphans:
        await storage.delete(key)
    return orphans


async def sweeper_ctx(app: web.Application) -> AsyncIterator[None]:
    """Sweep once at start, then every ``sweep_interval`` seconds in the background."""
    settings = app[app_keys.SETTINGS]
    db, storage = app[app_keys.DATABASE], app[app_keys.STORAGE]
    report = await sweep(db, storage, grace=settings.sweep_grace)
    if report is None:
        log.info("storage sweep at start: another process is sweeping")
    else:
        log.info("storage swept at start: removed %s", report)
    interval = settings.sweep_interval
    async with background.running(
        _sweep_forever(db, storage, interval, settings.sweep_grace) if interval > 0 else None
    ):
        yield
    if interval > 0:
        log.info("periodic storage sweeps stopped")


async def _sweep_forever(db: Database, storage: Storage, interval: float, grace: float) -> None:
    while True:
        # Jittered, so that processes started together do not sweep together.
        await asyncio.sleep(interval * random.uniform(0.9, 1.1))  # noqa: S311
        try:
            report = await sweep(db, storage, grace=grace)
        except Exception:
            log.warning("storage sweep failed; retrying at the next interval", exc_info=True)
        else:
            if report is not None and (report.orphans or report.incomplete):
                log.info("storage swept: removed %s", report)
