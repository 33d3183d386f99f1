"""The database behind the application: resolved, migrated and pooled at start-up.

One ``cleanup_ctx`` generator: it starts the embedded server when no URL is
configured, applies pending fixtures, opens the pool and offers it as
``app[keys.DATABASE]``; on shutdown it closes the pool (once the in-flight
requests are done) and then stops the embedded server it started.
"""

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator

import psycopg2
from aiohttp import web

from pixtag import keys
from pixtag.db import fixtures, url
from pixtag.db.database import pooled
from pixtag.db.embedded import EmbeddedPostgres, Watchdog
from pixtag.errors import one_line

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
        if settings.database_wait > 0:
            await reached(dsn, settings.database_wait)
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


# What libpq says of a server it cannot reach yet, as opposed to one that refuses us (a
# wrong password, role or database name: waiting would not help).
_NOT_YET = (
    "connection refused",
    "no such file or directory",
    "is not currently accepting connections",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "server closed the connection unexpectedly",
    "timeout expired",
    "could not translate host name",
    "too many connections",
)


def not_yet(error: psycopg2.OperationalError) -> bool:
    """Whether a failed connection says the server cannot be reached *yet*."""
    text = str(error).lower()
    return any(phrase in text for phrase in _NOT_YET)


async def reached(dsn: str, patience: float) -> None:
    """Return once a connection to ``dsn`` opens; wait up to ``patience`` seconds (backing
    off from 0.5 to 5 s, a log line per attempt at most every 10 s) while the server cannot
    be reached yet; raise the connection's error when it refuses us or patience runs out."""
    deadline = time.monotonic() + patience if math.isfinite(patience) else math.inf
    pause, attempts, said = 0.5, 0, -math.inf
    while True:
        try:
            connection = await asyncio.to_thread(psycopg2.connect, dsn, connect_timeout=5)
        except psycopg2.OperationalError as error:
            if not not_yet(error) or time.monotonic() + pause > deadline:
                raise
            attempts += 1
            if time.monotonic() - said >= 10:
                said = time.monotonic()
                log.warning(
                    "database not reachable yet (attempt %d, waiting): %s",
                    attempts,
                    one_line(str(error)),
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)
            continue
        connection.close()
        if attempts:
            log.info("database reachable after %d attempts", attempts + 1)
        return
