"""Taking a pooled connection for a request, with a short bound on the wait.

aiopg's own wait for a free connection ends only at its pool timeout (60 s)
and then as a generic 500: while the pool is exhausted, every request hangs
for a minute. Every request path takes its connection here instead: past
``PIXTAG_POOL_TIMEOUT_MS`` it answers 503 with ``Retry-After``, so a client
learns at once that the server is busy and when to come back.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiopg

from pixtag.db.lightpool import LightPool
from pixtag.errors import DomainError


class DatabaseBusy(DomainError):
    """No database connection came free in time."""

    status = 503

    def __init__(self) -> None:
        super().__init__("The server is busy; try again", headers={"Retry-After": "1"})


async def acquire(pool: aiopg.Pool, timeout_ms: int) -> Any:
    """A connection from ``pool``, or ``DatabaseBusy`` after ``timeout_ms``; the caller
    releases it."""
    if isinstance(pool, LightPool) and pool.ready():
        # A free connection and nobody waiting: it is handed out at once, and the
        # timer of the bound would cost more than the acquire itself.
        return await pool.acquire()
    try:
        async with asyncio.timeout(timeout_ms / 1000):
            return await pool.acquire()
    except TimeoutError:
        raise DatabaseBusy() from None


@asynccontextmanager
async def connection(pool: aiopg.Pool, timeout_ms: int) -> AsyncIterator[Any]:
    """``acquire`` as a block: the connection goes back to the pool when it ends."""
    conn = await acquire(pool, timeout_ms)
    try:
        yield conn
    finally:
        await pool.release(conn)
