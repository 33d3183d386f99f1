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
    """One transaction on a pooled connection, as a block that commits when it ends without
    an error; ``outcome`` then says how it ended.

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
        self._conn: Any = None
        self._cursor: Any = None

    async def __aenter__(self) -> Any:
        """BEGIN on a pooled connection; the cursor to write with."""
        self.outcome = Outcome.ROLLED_BACK
        self._conn = await acquire(self.pool, self.acquire_timeout_ms)
        try:
            self._cursor = await self._conn.cursor()
            # Bounds on how long the row lock may be waited for and held: the
            # sweeper relies on a stored file being committed, if at all, long
            # before its grace period ends. One round trip with the BEGIN.
            await self._cursor.execute(BEGIN_BOUNDED, {"ms": str(self.timeout_ms)})
        except BaseException:
            await self._end()
            raise
        return self._cursor

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        """COMMIT when the block ended without an error; any exception means it did not
        commit, unless ``outcome`` is UNKNOWN."""
        try:
            if kind is None:
                self.outcome = Outcome.UNKNOWN
                try:
                    await self._cursor.execute("COMMIT")
                except psycopg2.Error:
                    # An answer from the server (a deferred constraint, say) means
                    # it rolled back; a lost connection leaves the outcome open.
                    if not self._conn.closed:
                        self.outcome = Outcome.ROLLED_BACK
                    raise
                self.outcome = Outcome.COMMITTED
        finally:
            await self._end()

    async def _end(self) -> None:
        conn, self._conn = self._conn, None
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
        if self.outcome is not Outcome.COMMITTED:
            await asyncio.shield(abandon(conn))
        await self.pool.release(conn)
