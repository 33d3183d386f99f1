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
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiopg
import psycopg2.extensions
from psycopg2.extensions import (
    TRANSACTION_STATUS_IDLE,
    TRANSACTION_STATUS_INERROR,
    TRANSACTION_STATUS_INTRANS,
)

log = logging.getLogger(__name__)

CURSOR_NAME = "pixtag_stream"

type Planner = Callable[[Any], Awaitable[Mapping[str, str]]]


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
    planner: Planner | None = None,
) -> AsyncIterator[CursorStream]:
    """Declare ``query`` as a NO SCROLL cursor in its own transaction and yield a reader.

    ``planner`` is called with the transaction's cursor before the DECLARE and
    returns settings (applied as ``SET LOCAL``) that shape the cursor's plan.
    """
    conn = await pool.acquire()
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
