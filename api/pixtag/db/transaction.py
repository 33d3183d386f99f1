"""A write transaction whose outcome is known, or known to be unknown.

Files are stored before the row that names them is committed, and what may
be removed afterwards depends on how the COMMIT ended: committed (the old
file may go), rolled back (the new file may go), or unknown (the connection
was lost, or the task cancelled, while COMMIT was in flight: PostgreSQL may
have committed or not, so nothing may be removed). ``Transaction`` records
which, for the caller to act on.
"""

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiopg
import psycopg2

from pixtag.db.acquire import acquire
from pixtag.db.stream import abandon

log = logging.getLogger(__name__)


BEGIN_BOUNDED = """
    BEGIN;
    SELECT set_config('lock_timeout', %(ms)s, true),
           set_config('statement_timeout', %(ms)s, true),
           set_config('idle_in_transaction_session_timeout', %(ms)s, true)
"""


class Outcome(enum.Enum):
    PENDING = "pending"
    COMMITTED = "committed"
    ROLLED_BACK = "rolled back"
    UNKNOWN = "unknown"


class Transaction:
    """One transaction on a pooled connection; ``outcome`` says how it ended.

    ``timeout_ms`` bounds the row locks; the wait for a connection has its own
    bound, ``acquire_timeout_ms`` (the same by default).
    """

    def __init__(
        self, pool: aiopg.Pool, *, timeout_ms: int, acquire_timeout_ms: int | None = None
    ) -> None:
        self.pool = pool
        self.timeout_ms = timeout_ms
        self.acquire_timeout_ms = timeout_ms if acquire_timeout_ms is None else acquire_timeout_ms
        self.outcome = Outcome.PENDING

    async def run[T](self, work: Callable[[Any], Awaitable[T]]) -> T:
        """``work(cur)`` between BEGIN and COMMIT; any exception means it did not commit,
        unless ``outcome`` is UNKNOWN."""
        self.outcome = Outcome.ROLLED_BACK
        conn = await acquire(self.pool, self.acquire_timeout_ms)
        try:
            async with conn.cursor() as cur:
                # Bounds on how long the row lock may be waited for and held:
                # the sweeper relies on a stored file being committed, if at
                # all, long before its grace period ends. One round trip with
                # the BEGIN.
                await cur.execute(BEGIN_BOUNDED, {"ms": str(self.timeout_ms)})
                result = await work(cur)
                self.outcome = Outcome.UNKNOWN
                try:
                    await cur.execute("COMMIT")
                except psycopg2.Error:
                    # An answer from the server (a deferred constraint, say) means
                    # it rolled back; a lost connection leaves the outcome open.
                    if not conn.closed:
                        self.outcome = Outcome.ROLLED_BACK
                    raise
                self.outcome = Outcome.COMMITTED
                return result
        finally:
            if self.outcome is not Outcome.COMMITTED:
                await asyncio.shield(abandon(conn))
            await self.pool.release(conn)
