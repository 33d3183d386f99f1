"""aiopg's pool, with a cheap path for taking and giving back a connection when nobody waits.

aiopg's ``Pool.acquire`` takes the pool's condition lock under its own
timeout and walks every free connection on each call; ``release`` starts a
task that takes the lock again to wake waiters, whether anyone waits or not.
Under load that was about a tenth of a point read's server CPU
(``bench/RESULTS.md``). When the lock is free and no one waits on the
condition (no request queued for a connection, no ``wait_closed``), a free
connection is handed out or put back directly, with the same bookkeeping;
otherwise aiopg's own path runs, so a queued request is never overtaken and
the waits, timeouts and closing stay aiopg's.
"""

import asyncio

import aiopg
import psycopg2.extensions
from aiopg.connection import Connection
from aiopg.utils import create_completed_future


class LightPool(aiopg.Pool):
    """``aiopg.Pool`` whose uncontended acquire and release take no lock and start no task."""

    def _uncontended(self) -> bool:
        cond = self._cond
        return not cond.locked() and not getattr(cond, "_waiters", True)

    def ready(self) -> bool:
        """Whether ``acquire`` would hand out a free connection at once, with no lock."""
        return bool(self._free) and not self._closing and self._recycle < 0 and self._uncontended()

    async def _acquire(self) -> Connection:
        if self.ready():
            conn = self._free.pop()
            if not conn.closed:
                self._used.add(conn)
                return conn
        return await super()._acquire()

    def release(self, conn: Connection) -> "asyncio.Future[None]":
        if (
            conn in self._used
            and not conn.closed
            and not self._closing
            and self._uncontended()
            and conn.raw.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        ):
            self._used.remove(conn)
            self._free.append(conn)
            return create_completed_future(self._loop)
        return super().release(conn)


async def create_pool(dsn: str, *, minsize: int, maxsize: int) -> LightPool:
    """A filled ``LightPool``, as ``aiopg.create_pool(dsn, minsize=, maxsize=)`` makes an
    ``aiopg.Pool`` (the same defaults)."""
    pool = await LightPool.from_pool_fill(
        dsn,
        minsize,
        maxsize,
        aiopg.DEFAULT_TIMEOUT,
        enable_json=True,
        enable_hstore=True,
        enable_uuid=True,
        echo=False,
        on_connect=None,
        pool_recycle=-1.0,
    )
    assert isinstance(pool, LightPool)
    return pool
