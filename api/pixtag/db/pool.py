"""The database behind the application: resolved, migrated and pooled at start-up.

Two ``cleanup_ctx`` generators, in this order: ``database_ctx`` starts the
embedded server when no URL is configured (and stops it on shutdown), then
applies pending fixtures; ``pool_ctx`` opens the aiopg pool (and the stream
slots that share it out) and closes it once the in-flight requests are done.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import aiopg
from aiohttp import web

from pixtag import keys
from pixtag.db import fixtures, lightpool, url
from pixtag.db.acquire import connection
from pixtag.db.embedded import EmbeddedPostgres
from pixtag.db.stream import StreamSlots

log = logging.getLogger(__name__)


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    server = None
    if settings.database_url:
        app[keys.DATABASE_URL] = settings.database_url
        log.info("database: %s", url.masked(settings.database_url))
    else:
        server = await asyncio.to_thread(EmbeddedPostgres.start, settings.postgres_dir)
        app[keys.DATABASE_URL] = server.uri()
        log.info("database: embedded PostgreSQL at %s", settings.postgres_dir.resolve())
    try:
        applied = await asyncio.to_thread(fixtures.apply, app[keys.DATABASE_URL])
        log.info("fixtures: %s", f"applied {', '.join(applied)}" if applied else "none pending")
        yield
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
            # The server stops with its last holder; another pixtag process may hold it.
            pgdata = settings.postgres_dir.resolve()
            running = (pgdata / "postmaster.pid").exists()
            log.info(
                "embedded PostgreSQL at %s %s",
                pgdata,
                "left running for another pixtag process" if running else "stopped",
            )


async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    pool = await lightpool.create_pool(
        app[keys.DATABASE_URL], minsize=1, maxsize=settings.pool_max_size
    )
    app[keys.POOL] = pool
    app[keys.STREAM_SLOTS] = StreamSlots(settings.stream_limit)
    try:
        yield
    finally:
        pool.close()
        await pool.wait_closed()
        log.info("database pool closed")


@asynccontextmanager
async def cursor(app: web.Application) -> AsyncIterator[Any]:
    """A cursor on a pooled connection (autocommit: each statement is its own transaction);
    ``DatabaseBusy`` when none comes free within ``PIXTAG_POOL_TIMEOUT_MS``."""
    timeout_ms = app[keys.SETTINGS].pool_timeout_ms
    async with connection(app[keys.POOL], timeout_ms) as conn, conn.cursor() as cur:
        yield cur


class HasImageId(Protocol):
    @property
    def image_id(self) -> int: ...


async def by_image_id[R: HasImageId](
    pool: aiopg.Pool, fetch: Callable[[Any, int], Awaitable[list[R]]]
) -> AsyncIterator[R]:
    """Every row ``fetch(cur, after)`` returns, page after page in id order, each page read on
    a connection given back before the rows are used (so slow work holds no connection)."""
    after = 0
    while True:
        async with pool.acquire() as conn, conn.cursor() as cur:
            page = await fetch(cur, after)
        if not page:
            return
        for row in page:
            yield row
        after = page[-1].image_id
