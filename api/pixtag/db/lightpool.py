"""aiopg's pool, with a cheap path when nobody waits and a first-come, first-served line
when everybody does.

aiopg's ``Pool.acquire`` takes the pool's condition lock under its own
timeout and walks every free connection on each call; ``release`` starts a
task that takes the lock again to wake waiters, whether anyone waits or not.
Under load that was about a tenth of a point read's server CPU
(``bench/RESULTS.md``). When the lock is free and no one waits, a free
connection is handed out or put back directly, with the same bookkeeping.

When every connection is taken, aiopg's waiters are not served in order: a
released connection goes back to the free list and the woken waiter must
take the lock again, behind requests that arrived after it, which find the
connection first. Under a steady overload a few unlucky requests wait
through many rounds (the point reads' p99 grew eightfold). Here a request
that finds no connection and no room for a new one joins a line, and a
released connection is handed straight to the oldest request in it.
"""

import asyncio
from collections import deque

import aiopg
import psycopg2.extensions
from aiopg.connection import Connection
from aiopg.utils import create_completed_future


class LightPool(aiopg.Pool):
    """``aiopg.Pool`` whose uncontended acquire and release take no lock and start no task,
    and whose contended acquires are served in arrival order."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Requests waiting for a connection, oldest first. A future's result is the
        # connection handed over, or None: "a connection closed, try again".
        self._line: deque[asyncio.Future[Connection | None]] = deque()

    def _uncontended(self) -> bool:
        cond = self._cond
        return not self._line and not cond.locked() and not getattr(cond, "_waiters", True)

    def ready(self) -> bool:
        """Whether ``acquire`` would hand out a free connection at once, with no lock."""
        return bool(self._free) and not self._closing and self._recycle < 0 and self._uncontended()

    async def _acquire(self) -> Connection:
        if self.ready():
            conn = self._free.pop()
            if not conn.closed:
                self._used.add(conn)
                return conn
        async with asyncio.timeout(self._timeout):
            while True:
                if self._closing:
                    raise RuntimeError("Cannot acquire connection after closing pool")
                room = not self.maxsize or self.size < self.maxsize
                if not self._line and (self._free or room):
                    async with self._cond:
                        await self._fill_free_pool(True)
                        if self._free:
                            conn = self._free.popleft()
                            self._used.add(conn)
                            return conn
                handed = await self._wait_in_line()
                if handed is not None:
                    return handed

    async def _wait_in_line(self) -> Connection | None:
        turn: asyncio.Future[Connection | None] = self._loop.create_future()
        self._line.append(turn)
        try:
            return await turn
        except BaseException:
            if turn.done() and not turn.cancelled() and turn.exception() is None:
                # Handed a connection in the same instant as cancelled: pass it on.
                conn = turn.result()
                if conn is not None:
                    self.release(conn)
                else:
                    self._next_in_line(None)
            elif turn in self._line:
                self._line.remove(turn)
            raise

    def _next_in_line(self, conn: Connection | None) -> bool:
        """Hand ``conn`` (or a retry) to the oldest waiting request; False if none waits."""
        while self._line:
            turn = self._line.popleft()
            if not turn.done():
                turn.set_result(conn)
                return True
        return False

    def release(self, conn: Connection) -> "asyncio.Future[None]":
        reusable = (
            conn in self._used
            and not conn.closed
            and not self._closing
            and conn.raw.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_IDLE
        )
        if reusable and self._line and self._next_in_line(conn):
            return create_completed_future(self._loop)  # stays in use, by its next owner
        if reusable and self._uncontended():
            self._used.remove(conn)
            self._free.append(conn)
            return create_completed_future(self._loop)
        done = super().release(conn)
        if self._line:
            # The connection was closed (or the pool is closing): the oldest waiter
            # tries again, opening a new connection if there is room.
            self._next_in_line(None)
        return done

    def close(self) -> None:
        super().close()
        while self._line:
            turn = self._line.popleft()
            if not turn.done():
                turn.set_exception(RuntimeError("Cannot acquire connection after closing pool"))


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
