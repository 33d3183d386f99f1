"""The one listing shape: every streamed collection is ``Chunks``, opened by an ``open_X``.

A listing's queries module offers ``open_X(db, ...)``: an async context
manager that yields ``Chunks`` (rows already rendered as JSON by
PostgreSQL, in pieces, then what the closing totals add). The view hands it
to ``pixtag.views.stream.stream_document`` and does nothing else with it; a
new listing is one such function. ``declared`` reads a statement's first
column from a cursor (``pixtag.db.stream``); ``small_result`` runs a
statement whose LIMIT keeps it within one chunk as a single round trip.
"""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

import psycopg2.extensions

from pixtag.db.database import Database
from pixtag.db.stream import ChunkCursor


class Chunks(Protocol):
    """Rendered rows in pieces, then what the closing totals add; the document groups them
    into chunks of ``chunk_size``."""

    chunk_size: int

    def __aiter__(self) -> AsyncIterator[list[bytes]]: ...

    def trailer(self) -> dict[str, str]: ...


class FirstColumn:
    """The chunks of a cursor as lists of their rows' first column; no trailer."""

    def __init__(self, cursor: ChunkCursor) -> None:
        self._cursor = cursor
        self.chunk_size = cursor.chunk_size

    def __aiter__(self) -> "FirstColumn":
        return self

    async def __anext__(self) -> list[bytes]:
        return [row[0] for row in await anext(self._cursor)]

    def trailer(self) -> dict[str, str]:
        return {}


@asynccontextmanager
async def declared(
    db: Database, query: str, params: Mapping[str, Any], *, chunk_size: int
) -> AsyncIterator[FirstColumn]:
    """``query``'s first column, chunk by chunk, from a cursor in a stream transaction."""
    async with db.stream() as tx:
        yield FirstColumn(await tx.declare(query, params, chunk_size=chunk_size))


class OneChunk:
    """The rows of a small result, as one chunk and then none."""

    def __init__(self, rows: list[bytes]) -> None:
        self._rows: list[bytes] | None = rows
        self.chunk_size = max(len(rows), 1)

    def __aiter__(self) -> "OneChunk":
        return self

    async def __anext__(self) -> list[bytes]:
        if not self._rows:
            raise StopAsyncIteration
        rows, self._rows = self._rows, None
        return rows

    def trailer(self) -> dict[str, str]:
        return {}


@asynccontextmanager
async def small_result(
    db: Database, query: str, params: Mapping[str, Any]
) -> AsyncIterator[OneChunk]:
    """Run ``query``, whose LIMIT keeps it within one chunk, as one statement.

    A cursor's transaction costs round trips more than one statement: for a
    handful of rows (an autocomplete) they cost more than the rows
    themselves. The connection is back in the pool before the rows are written.
    """
    async with db.cursor() as cur:
        psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cur.raw)
        await cur.execute(query, params)
        rows = [row[0] for row in await cur.fetchall()]
    yield OneChunk(rows)
