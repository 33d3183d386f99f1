"""Stream a large result from a server-side cursor, one chunk at a time.

aiopg runs psycopg2 in async mode, which refuses named cursors, and a plain
cursor pulls the whole result into client memory. So the cursor is declared
in SQL inside an explicit transaction and read with ``FETCH n``: memory stays
bounded by one chunk whatever the size of the result.

Round trips are few: ``BEGIN`` and the transaction's settings travel with
the first statement, the ``DECLARE`` with its first ``FETCH`` (one
multi-statement query each), and ``COMMIT`` closes the cursor. A caller
that needs an answer before it can write the cursor's query (the listing
resolves tags and chooses a plan) sends it with ``query`` first.

While the caller works on one chunk (writes it to a socket), the next one is
already being fetched (``read_ahead``): PostgreSQL renders it meanwhile.

The first ``FETCH`` asks for a few rows only (``LEAD_ROWS``), the next one
for the rest of the first chunk: PostgreSQL renders rows as they are
fetched (the JSON is computed above the sort), so the client has its first
rows without waiting for a whole chunk to be rendered (bench/RESULTS.md,
"Per-request"). A chunk may so come in pieces; whoever writes the rows
groups them into chunks of ``chunk_size`` again. A ``FETCH`` that returns
fewer rows than it asked for was the last: no further round trip asks.

Rows arrive as ``bytes`` (the text typecaster is swapped for psycopg2's
bytes one on this cursor only), so JSON rendered by PostgreSQL goes to the
socket without a decode/encode round trip.

The transaction carries ``idle_in_transaction_session_timeout``: a reader that
stalls longer than that gets its backend ended by PostgreSQL itself; and
``statement_timeout`` (0: none): no statement of a stream, the first chunk
or any FETCH, runs longer than that. However
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
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

import aiopg
import psycopg2.extensions
from psycopg2.extensions import (
    TRANSACTION_STATUS_IDLE,
    TRANSACTION_STATUS_INERROR,
    TRANSACTION_STATUS_INTRANS,
)

from pixtag.db.acquire import acquire
from pixtag.errors import DomainError

log = logging.getLogger(__name__)

CURSOR_NAME = "pixtag_stream"
# Rows of the first FETCH: enough for the first bytes, few enough to come at once.
LEAD_ROWS = 16


class StreamsBusy(DomainError):
    """Every stream slot stayed taken for the whole wait."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "Too many listings are being streamed at once; try again", headers={"Retry-After": "1"}
        )


class ClientStreamsBusy(DomainError):
    """This client already streams as many listings as one client may."""

    status = 429

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This client is already streaming {limit} listings, as many as one client may"
            " (PIXTAG_STREAMS_PER_CLIENT); try again when one has ended",
            headers={"Retry-After": "1"},
        )


# Who the stream being opened is for (a token, else an address), set by the view that
# streams it: the slots count each client's streams against PIXTAG_STREAMS_PER_CLIENT.
STREAM_CLIENT: ContextVar[str | None] = ContextVar("stream_client", default=None)


class StreamSlots:
    """How many streams may hold a pooled connection at once, and one client at most
    ``per_client`` of them (so one client cannot take every slot)."""

    def __init__(self, limit: int, per_client: int | None = None) -> None:
        self._free = asyncio.Semaphore(limit)
        # A share as large as all the slots is no share: such a client waits like any other.
        self.per_client = per_client if per_client is not None and per_client < limit else None
        self._clients: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, timeout_ms: int) -> AsyncIterator[None]:
        """One slot for the block; ``ClientStreamsBusy`` at once when the client holds its
        share, ``StreamsBusy`` when none comes free within ``timeout_ms``."""
        client = STREAM_CLIENT.get() if self.per_client is not None else None
        if client is not None and self.per_client is not None:
            if self._clients.get(client, 0) >= self.per_client:
                raise ClientStreamsBusy(self.per_client)
            self._clients[client] = self._clients.get(client, 0) + 1
        try:
            try:
                async with asyncio.timeout(timeout_ms / 1000):
                    await self._free.acquire()
            except TimeoutError:
                raise StreamsBusy() from None
            try:
                yield
            finally:
                self._free.release()
        finally:
            if client is not None:
                left = self._clients[client] - 1
                if left:
                    self._clients[client] = left
                else:
                    del self._clients[client]


class ChunkCursor:
    """A declared cursor as an async iterator of pieces of chunks of rows (tuples of
    ``bytes``): the lead, the rest of the first chunk, then whole chunks."""

    def __init__(
        self,
        cur: Any,
        first: list[tuple[Any, ...]],
        *,
        asked: int,
        chunk_size: int,
        read_ahead: bool,
    ):
        self._cur = cur
        self.chunk_size = chunk_size
        self._pending: list[tuple[Any, ...]] | None = first
        self._last = len(first) < asked  # the first FETCH ended the result
        self._next = chunk_size - asked or chunk_size  # the rest of the first chunk
        self._read_ahead = read_ahead
        self._ahead: asyncio.Future[list[tuple[Any, ...]]] | None = None
        self._done = False

    async def _fetch_chunk(self) -> list[tuple[Any, ...]]:
        asked, self._next = self._next, self.chunk_size
        await self._cur.execute(f"FETCH {int(asked)} FROM {CURSOR_NAME}")
        rows: list[tuple[Any, ...]] = await self._cur.fetchall()
        self._last = len(rows) < asked
        return rows

    def __aiter__(self) -> "ChunkCursor":
        return self

    async def __anext__(self) -> list[tuple[Any, ...]]:
        if self._done:
            raise StopAsyncIteration
        if self._pending is not None:
            rows, self._pending = self._pending, None
        elif self._ahead is not None:
            ahead, self._ahead = self._ahead, None
            rows = await ahead
        else:
            rows = await self._fetch_chunk()
        if not rows:
            self._done = True
            raise StopAsyncIteration
        if self._last:
            self._done = True  # fewer rows than asked for: nothing is left to fetch
        elif self._read_ahead:
            self._ahead = asyncio.ensure_future(self._fetch_chunk())
        return rows

    async def settle(self) -> None:
        """Let a FETCH in flight finish, so the connection is idle before the transaction ends."""
        ahead, self._ahead = self._ahead, None
        if ahead is None:
            return
        try:
            await asyncio.wait([ahead])
        finally:
            if not ahead.done():
                ahead.cancel()
            elif not ahead.cancelled():
                ahead.exception()  # seen: the error that stopped the stream is the one reported


class StreamTransaction:
    """One transaction on one connection: a few queries, then a declared cursor."""

    def __init__(self, cur: Any, idle_timeout_ms: int, statement_timeout_ms: int = 0) -> None:
        self._cur = cur
        self._idle_timeout_ms = idle_timeout_ms
        self._statement_timeout_ms = statement_timeout_ms
        self._begun = False
        self.cursor: ChunkCursor | None = None

    def _opening(self, params: dict[str, Any]) -> str:
        """``BEGIN`` and the transaction's idle bound, the first time only."""
        if self._begun:
            return ""
        self._begun = True
        params["_idle_timeout_ms"] = str(self._idle_timeout_ms)
        params["_statement_timeout_ms"] = str(self._statement_timeout_ms)
        return (
            "BEGIN; SELECT set_config('idle_in_transaction_session_timeout',"
            " %(_idle_timeout_ms)s, true),"
            " set_config('statement_timeout', %(_statement_timeout_ms)s, true); "
        )

    async def query(self, sql: str, params: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
        """The rows of one statement run inside the transaction (opened with it)."""
        bound = dict(params)
        await self._cur.execute(self._opening(bound) + sql, bound)
        rows: Sequence[tuple[Any, ...]] = await self._cur.fetchall()
        return rows

    async def declare(
        self,
        sql: str,
        params: Mapping[str, Any],
        *,
        chunk_size: int,
        settings: Mapping[str, str] | None = None,
        read_ahead: bool = True,
        lead: int = LEAD_ROWS,
    ) -> ChunkCursor:
        """Declare ``sql`` as a NO SCROLL cursor under ``settings`` (``SET LOCAL``), in the
        same round trip as its first FETCH (of ``lead`` rows)."""
        bound = dict(params)
        statement = self._opening(bound)
        for index, (name, value) in enumerate((settings or {}).items()):
            bound[f"_setting_{index}"], bound[f"_value_{index}"] = name, value
            statement += f"SELECT set_config(%(_setting_{index})s, %(_value_{index})s, true); "
        statement += f"DECLARE {CURSOR_NAME} NO SCROLL CURSOR FOR {sql}; "
        asked = max(1, min(lead, chunk_size))
        statement += f"FETCH {int(asked)} FROM {CURSOR_NAME}"
        await self._cur.execute(statement, bound)
        first = await self._cur.fetchall()
        self.cursor = ChunkCursor(
            self._cur, first, asked=asked, chunk_size=chunk_size, read_ahead=read_ahead
        )
        return self.cursor

    async def commit(self) -> None:
        """End the transaction (and the cursor with it)."""
        if self._begun:
            await self._cur.execute("COMMIT")


@asynccontextmanager
async def stream_transaction(
    pool: aiopg.Pool,
    *,
    idle_timeout_ms: int,
    acquire_timeout_ms: int,
    slots: StreamSlots | None = None,
    statement_timeout_ms: int = 0,
) -> AsyncIterator[StreamTransaction]:
    """A transaction for one stream, on a connection of its own; see the module docstring.

    With ``slots``, the stream takes one of them first. Each wait (a slot, a
    connection) is bounded by ``acquire_timeout_ms``. However the block is
    left, the transaction ends and the connection goes back to the pool.
    """
    async with slots.hold(acquire_timeout_ms) if slots else nullcontext():
        conn = await acquire(pool, acquire_timeout_ms)
        clean = False
        try:
            async with conn.cursor() as cur:
                psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cur.raw)
                transaction = StreamTransaction(cur, idle_timeout_ms, statement_timeout_ms)
                try:
                    yield transaction
                finally:
                    if transaction.cursor is not None:
                        await transaction.cursor.settle()
                await transaction.commit()
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
