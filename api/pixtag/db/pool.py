"""The database behind the application: resolved, migrated and pooled at start-up.

One ``cleanup_ctx`` generator: it starts the embedded server when no URL is
configured, applies pending fixtures, opens the pool and offers it as
``app[keys.DATABASE]``; on shutdown it closes the pool (once the in-flight
requests are done) and then stops the embedded server it started.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from pixtag import keys
from pixtag.db import fixtures, url
from pixtag.db.database import pooled
from pixtag.db.embedded import EmbeddedPostgres, Watchdog

log = logging.getLogger(__name__)


async def database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    server = None
    if settings.database_url:
        dsn = settings.database_url
        log.info("database: %s", url.masked(dsn))
    else:
        server = await asyncio.to_thread(EmbeddedPostgres.start, settings.postgres_dir)
        dsn = server.uri()
        log.info("database: embedded PostgreSQL at %s", settings.postgres_dir.resolve())
    try:
        applied = await asyncio.to_thread(fixtures.apply, dsn)
        log.info("fixtures: %s", f"applied {', '.join(applied)}" if applied else "none pending")
        with contextlib.ExitStack() as watching:
            if server is not None:  # under --workers, the supervisor started it and watches
                watching.enter_context(Watchdog(server))
            async with pooled(dsn, settings, max_size=settings.pool_max_size) as db:
                app[keys.DATABASE] = db
                yield
        log.info("database pool closed")
    finally:
        if server is not None:
            log.info("%s", await asyncio.to_thread(server.stop))
