"""What the processing views ask: create tasks, in one transaction with their jobs."""

from typing import Any

from aiohttp import web

from pixtag import keys
from pixtag.db.queries import processing as queries
from pixtag.db.transaction import Transaction


async def create(
    app: web.Application, ids: list[int], *, algorithm: str, params: dict[str, Any]
) -> list[int]:
    """One queued task per image; their ids. Every image must exist and have a file."""
    settings = app[keys.SETTINGS]

    async def work(cur: Any) -> list[int]:
        return await queries.create(
            cur,
            ids,
            algorithm=algorithm,
            params=params,
            max_attempts=settings.jobs_max_attempts,
        )

    transaction = Transaction(
        app[keys.POOL], timeout_ms=30_000, acquire_timeout_ms=settings.pool_timeout_ms
    )
    return await transaction.run(work)
