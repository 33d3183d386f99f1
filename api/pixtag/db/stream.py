"""Stream a large result from a server-side cursor, one chunk at a time.

aiopg runs psycopg2 in async mode, which refuses named cursors, and a plain
cursor pulls the whole result into client memory. So the cursor is declared
in SQL inside an explicit transaction and read with ``FETCH n``: memory stays
bounded by one chunk whatever the size of the result.

Rows arrive as ``bytes`` (the text typecaster is swapped for psycopg2's
bytes one on this cursor only), so JSON rendered by PostgreSQL goes to the
socket without a decode/encode round trip.

The transaction carries ``idle_in_transaction_session_timeout``: a reader that
stalls longer than that gets its backend ended by PostgreSQL itself. However
the block is left (end of data, error, client gone, task cancelled), the
transaction ends and the connection returns to the pool; a connection whose
state is unknown is closed rather than handed to the next request.

A stream holds its connection for as long as its client reads, so streams
take a ``StreamSlots`` slot first: at most a few of them at once, leaving
the rest of the pool to everything else. A stream that cannot get a slot,
or then a connection, within the bound is refused with a 503.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, nullcontext
from typing import Any, Protocol

import aiopg
import psycopg2.extensions
from psycopg2.extensions import (
    TRANSACTION_STATUS_IDLE,
    TRANSACTION_STATUS_INERROR,
    TRANSACTION_STATUS_INTRANS,
)

from pixtag.db.acquire import acquire, connection
from pixtag.errors import DomainError

log = logging.getLogger(__name__)

CURSOR_NAME = "pixtag_stream"

type Planner = Callable[[Any], Awaitable[Mapping[str, str]]]


class StreamsBusy(DomainError):
    """Every stream slot stayed taken for the whole wait."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "Too many listings are being streamed at once; try again", headers={"Retry-After": "1"}
        )


class StreamSlots:
    """How many streams may hold a pooled connection at once."""

    def __init__(self, limit: int) -> None:
        self._free = asyncio.Semaphore(limit)

    @asynccontextmanager
    async def hold(self, timeout_ms: int) -> AsyncIterator[None]:
        """One slot for the block; ``StreamsBusy`` when none comes free within ``timeout_ms``."""
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                await self._free.acquire()
        except TimeoutError:
            raise StreamsBusy() from None
        try:
            yield
        finally:
            self._free.release()


class Chunks(Protocol):
    """What a document is written from: chunks of rendered rows, an empty one at the end."""

    async def fetch(self) -> list[bytes]: ...


class CursorStream:
    """An open, declared cursor; ``fetch`` returns the next chunk of first-column values."""

    def __init__(self, cur: Any, chunk_size: int) -> None:
        self._cur = cur
        self._fetch = f"FETCH {int(chunk_size)} FROM {CURSOR_NAME}"

    async def fetch(self) -> list[bytes]:
        """The next chunk (empty once the result is exhausted)."""
        await self._cur.execute(self._fetch)
        rows = await self._cur.fetchall()
        return [row[0] for row in rows]


@asynccontextmanager
async def declared_cursor(
    pool: aiopg.Pool,
    query: str,
    params: Mapping[str, Any],
    *,
    chunk_size: int,
    idle_timeout_ms: int,
    acquire_timeout_ms: int,
    slots: StreamSlots | None = None,
    planner: Planner | None = None,
) -> AsyncIterator[CursorStream]:
    """Declare ``query`` as a NO SCROLL cursor in its own transaction and yield a reader.

    With ``slots``, the stream takes one of them first. Each wait (a slot, a
    connection) is bounded by ``acquire_timeout_ms``. ``planner`` is called
    with the transaction's cursor before the DECLARE and returns settings
    (applied as ``SET LOCAL``) that shape the cursor's plan.
    """
    async with slots.hold(acquire_timeout_ms) if slots else nullcontext():
        conn = await acquire(pool, acquire_timeout_ms)
        clean = False
        try:
            async with conn.cursor() as cur:
                psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cur.raw)
                await cur.execute("BEGIN")
                settings = {"idle_in_transaction_session_timeout": str(idle_timeout_ms)}
                if planner is not None:
                    settings.update(await planner(cur))
                for name, value in settings.items():
                    await cur.execute("SELECT set_config(%s, %s, true)", (name, value))
                await cur.execute(f"DECLARE {CURSOR_NAME} NO SCROLL CURSOR FOR {query}", params)
                yield CursorStream(cur, chunk_size)
                await cur.execute(f"CLOSE {CURSOR_NAME}")
                await cur.execute("COMMIT")
                clean = True
        finally:
            if not clean:
                await abandon(conn)
            await pool.release(conn)


async def abandon(conn: Any) -> None:
    """End a transaction left early; close the connection if that fails.

    A connection still busy with a statement (the task was cancelled during a
    FETCH) or already broken (the backend was terminated) is closed outright:
    the pool then opens a fresh one instead of reusing an unknown state.
    """
    status = conn.raw.get_transaction_status() if not conn.closed else None
    if status in (TRANSACTION_STATUS_INTRANS, TRANSACTION_STATUS_INERROR):
        try:
            async with conn.cursor() as cur:
                await cur.execute("ROLLBACK")
            return
        except Exception:
            log.warning("could not roll back an abandoned stream", exc_info=True)
    if status != TRANSACTION_STATUS_IDLE:
        conn.close()


class OneChunk:
    """The rows of a small result, as one chunk and then none."""

    def __init__(self, rows: list[bytes]) -> None:
        self._rows = rows

    async def fetch(self) -> list[bytes]:
        """All the rows the first time, nothing after."""
        rows, self._rows = self._rows, []
        return rows


@asynccontextmanager
async def small_result(
    pool: aiopg.Pool, query: str, params: Mapping[str, Any], *, acquire_timeout_ms: int
) -> AsyncIterator[OneChunk]:
    """Run ``query``, whose LIMIT keeps it within one chunk, as one statement.

    A cursor's BEGIN, DECLARE, FETCH, CLOSE and COMMIT are five round trips
    more than one statement: for a handful of rows (an autocomplete) they
    cost more than the rows themselves. The connection is back in the pool
    before the rows are written.
    """
    async with connection(pool, acquire_timeout_ms) as conn, conn.cursor() as cur:
        psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cur.raw)
        await cur.execute(query, params)
        rows = [row[0] for row in await cur.fetchall()]
    yield OneChunk(rows)
