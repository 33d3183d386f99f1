"""What the captures views ask: request captures, change them, pause or resume the queue."""

from typing import Any

from aiohttp import web

from pixtag import keys
from pixtag.db.pool import cursor
from pixtag.db.queries import captures as queries
from pixtag.db.queries import jobs
from pixtag.db.transaction import Transaction


async def request(
    app: web.Application,
    urls: list[str],
    *,
    tags: list[str],
    filename: str | None = None,
    force: bool = False,
) -> list[queries.Requested]:
    """The capture of each URL: an earlier one (unless ``force``) or a new, queued one."""
    settings = app[keys.SETTINGS]

    async def work(cur: Any) -> list[queries.Requested]:
        return await queries.request(
            cur,
            urls,
            tags=tags,
            filename=filename,
            force=force,
            max_attempts=settings.jobs_max_attempts,
        )

    transaction = Transaction(
        app[keys.POOL], timeout_ms=30_000, acquire_timeout_ms=settings.pool_timeout_ms
    )
    return await transaction.run(work)


async def switch(app: web.Application, enabled: bool | None = None) -> jobs.QueueState:
    """The queue's state, after turning it on or off when ``enabled`` is given."""
    async with cursor(app) as cur:
        if enabled is not None:
            await jobs.set_enabled(cur, queries.QUEUE, enabled)
        return await jobs.queue_state(cur, queries.QUEUE)
