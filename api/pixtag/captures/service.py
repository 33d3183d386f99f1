"""What the captures views ask: request captures, change them, pause or resume the queue."""

from pixtag.captures import queries
from pixtag.db.database import Database
from pixtag.jobs import queries as jobs


async def request(
    db: Database,
    urls: list[str],
    *,
    tags: list[str],
    filename: str | None = None,
    force: bool = False,
    max_attempts: int,
) -> list[queries.Requested]:
    """The capture of each URL: an earlier one (unless ``force``) or a new, queued one."""
    async with db.transaction() as cur:
        return await queries.request(
            cur, urls, tags=tags, filename=filename, force=force, max_attempts=max_attempts
        )


async def switch(db: Database, enabled: bool | None = None) -> jobs.QueueState:
    """The queue's state, after turning it on or off when ``enabled`` is given."""
    async with db.cursor() as cur:
        if enabled is not None:
            await jobs.set_enabled(cur, queries.QUEUE, enabled)
        return await jobs.queue_state(cur, queries.QUEUE)


async def cancel(db: Database, capture_id: int) -> str:
    """Cancel a capture still waiting in the queue; its JSON."""
    async with db.cursor() as cur:
        return await queries.cancel(cur, capture_id)


async def retry(db: Database, capture_id: int) -> str:
    """Queue a failed capture again, its attempts reset; its JSON."""
    async with db.cursor() as cur:
        return await queries.retry(cur, capture_id)
