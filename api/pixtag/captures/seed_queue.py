"""Seed 001's URL queue on captures: queue URLs never seen before, hand them back, pause.

Each URL's entry is its latest capture (``queries.seed_queue``). POST /queue
discards every URL captured before, whatever became of it, and queues the
rest; a worker's hand-back ``READY`` runs a finished URL again (a new
capture; bytes already stored make no second image), ``DONE`` cancels one
still waiting. The queue's switch is the captures' own (``PUT
/captures/switch``).
"""

import json

from pixtag.captures import queries
from pixtag.db.database import Database
from pixtag.errors import Conflict
from pixtag.jobs import queries as jobs

FINISHED = ("done", "failed", "cancelled")


async def add(db: Database, urls: list[str], *, max_attempts: int) -> list[str]:
    """Queue the URLs never captured before; their entries (the others are discarded)."""
    async with db.transaction() as cur:
        seen = await queries.seen_urls(cur, urls)
        new = [url for url in dict.fromkeys(urls) if url not in seen]
        if not new:
            return []
        requested = await queries.request(
            cur, new, tags=[], filename=None, force=True, max_attempts=max_attempts
        )
        ids = [int(json.loads(r.document)["capture_id"]) for r in requested]
        return await queries.seed_entries(cur, ids)


async def hand_back(db: Database, url: str, status: str, *, max_attempts: int) -> str:
    """A worker's word on ``url``: READY (run it again) or DONE (finish it); its entry."""
    async with db.transaction() as cur:
        await queries.seen_urls(cur, [url])  # holds the URL's lock until the commit
        entry = await queries.seed_entry(cur, url)
        if status == "READY" and entry.job_status in FINISHED:
            await queries.request(
                cur, [url], tags=[], filename=None, force=True, max_attempts=max_attempts
            )
        elif status == "DONE" and entry.job_status == "queued":
            await queries.cancel_queued(cur, entry.capture_id)
        elif status == "DONE" and entry.job_status == "running":
            raise Conflict(f"The capture of {url!r} is running: it is DONE when it finishes")
        return (await queries.seed_entry(cur, url)).document


async def enabled(db: Database) -> bool:
    async with db.cursor() as cur:
        return (await jobs.queue_state(cur, queries.QUEUE)).enabled


async def switch(db: Database, on: bool) -> int:
    """Pause or run the queue; how many waiting URLs now run (0 when pausing)."""
    async with db.transaction() as cur:
        was = (await jobs.queue_state(cur, queries.QUEUE)).enabled
        await jobs.set_enabled(cur, queries.QUEUE, on)
        return await queries.waiting(cur) if on and not was else 0
