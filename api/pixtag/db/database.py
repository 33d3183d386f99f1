"""The one handle on PostgreSQL that services, jobs and listings are given.

Everything reaches the database through a ``Database``: a cursor for one
statement or a few (``cursor``), a write whose outcome is known
(``transaction``), a stream read from a declared cursor (``stream``), a
connection of its own for what must not share the pool (``connect``: session
advisory locks; ``exclusive``: work one process does at a time; ``listen``:
notifications), and pages of rows read without
holding a connection (``pages``). The bounds (how long to wait for a connection, how long a
transaction may hold its locks, how many streams at once) are the handle's,
read once from the settings; callers never build pools or connections.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import aiopg

from pixtag.db import lightpool
from pixtag.db.acquire import connection
from pixtag.db.stream import StreamSlots, StreamTransaction, stream_transaction
from pixtag.db.transaction import Transaction
from pixtag.settings import Settings

# How long a write transaction may wait for and hold a row lock: the sweeper relies on a
# stored file being committed, if at all, long before its grace period ends.
TRANSACTION_TIMEOUT_MS = 30_000
TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended('pixtag ' || %(name)s, 0))"


class HasImageId(Protocol):
    @property
    def image_id(self) -> int: ...


@dataclass(frozen=True)
class Database:
    """A pool and its bounds: the way into PostgreSQL for everything that serves or works."""

    pool: aiopg.Pool
    dsn: str
    # How long a request waits for a pooled connection (then 503).
    acquire_timeout_ms: int
    # How long a stream's transaction may sit idle while its client reads.
    stream_idle_timeout_ms: int
    slots: StreamSlots
    # How long one statement of a stream may run.
    stream_statement_timeout_ms: int = 30_000
    transaction_timeout_ms: int = TRANSACTION_TIMEOUT_MS

    @asynccontextmanager
    async def cursor(self, timeout_ms: int | None = None) -> AsyncIterator[Any]:
        """A cursor on a pooled connection (autocommit: each statement is its own
        transaction); ``DatabaseBusy`` when none comes free within the bound."""
        wait = self.acquire_timeout_ms if timeout_ms is None else timeout_ms
        async with connection(self.pool, wait) as conn, conn.cursor() as cur:
            yield cur

    def transaction(self, timeout_ms: int | None = None) -> Transaction:
        """A write transaction (``async with ... as cur``) whose ``outcome`` says how it ended."""
        return Transaction(
            self.pool,
            timeout_ms=self.transaction_timeout_ms if timeout_ms is None else timeout_ms,
            acquire_timeout_ms=self.acquire_timeout_ms,
        )

    def stream(self) -> AbstractAsyncContextManager[StreamTransaction]:
        """A transaction for one streamed listing, holding one of the stream slots."""
        return stream_transaction(
            self.pool,
            idle_timeout_ms=self.stream_idle_timeout_ms,
            statement_timeout_ms=self.stream_statement_timeout_ms,
            acquire_timeout_ms=self.acquire_timeout_ms,
            slots=self.slots,
        )

    def connect(self) -> AbstractAsyncContextManager[Any]:
        """A connection of its own, outside the pool (locks that must end with it)."""
        return aiopg.connect(self.dsn)

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Whether this process alone holds the lock ``name`` for the block, across every
        process on this database (False at once when another holds it: the work is theirs).
        The lock is a session's, on a connection of its own: it ends with the block, or with
        the process however it dies."""
        async with aiopg.connect(self.dsn) as conn, conn.cursor() as cur:
            await cur.execute(TRY_LOCK, {"name": name})
            (held,) = await cur.fetchone()
            yield bool(held)

    @asynccontextmanager
    async def listen(self, channel: str) -> AsyncIterator[Any]:
        """The notifications of ``channel`` (a queue), on a connection of its own for the block."""
        if not channel.isidentifier():
            raise ValueError(f"not a channel name: {channel!r}")
        async with aiopg.connect(self.dsn) as conn:
            async with conn.cursor() as cur:
                await cur.execute(f"LISTEN {channel}")
            yield conn.notifies

    async def pages[R: HasImageId](
        self, fetch: Callable[[Any, int], Awaitable[list[R]]]
    ) -> AsyncIterator[R]:
        """Every row ``fetch(cur, after)`` returns, page after page in id order, each page read
        on a connection given back before the rows are used (so slow work holds none)."""
        after = 0
        while True:
            async with self.cursor() as cur:
                page = await fetch(cur, after)
            if not page:
                return
            for row in page:
                yield row
            after = page[-1].image_id


@asynccontextmanager
async def pooled(dsn: str, settings: Settings, *, max_size: int) -> AsyncIterator[Database]:
    """A ``Database`` on a new pool of at most ``max_size`` connections, closed at the end."""
    pool = await lightpool.create_pool(dsn, minsize=1, maxsize=max_size)
    try:
        yield Database(
            pool,
            dsn,
            acquire_timeout_ms=settings.pool_timeout_ms,
            stream_idle_timeout_ms=settings.stream_idle_timeout_ms,
            slots=StreamSlots(settings.stream_limit, settings.streams_per_client),
            stream_statement_timeout_ms=settings.stream_statement_timeout_ms,
        )
    finally:
        pool.close()
        await pool.wait_closed()
