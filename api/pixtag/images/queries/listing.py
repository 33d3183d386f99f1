"""The listing: images matching a search, in one of four orders, streamed in chunks.

``open_listing`` owns the whole read: it resolves the search's tags (one
statement, sent with ``BEGIN``), writes the query, chooses its plan, and
declares the cursor with its first ``FETCH`` (one more round trip). A
listing with no tag to resolve is one round trip to its first chunk.

Choosing the plan. A filtered, ordered stream has two candidate plans: walk
the order's index (the primary key, or ``images_created``) and test each
row (first rows come quickly when matches are dense, but a sparse or
late-clustered filter reads most of the table first), or collect the
matches through the GIN index and sort them (cost grows with the number of
matches, whatever their place). Inside a cursor PostgreSQL plans for the
first 10% of rows (``cursor_tuple_fraction``) assuming matches are spread
evenly, and with ``LIMIT`` it leans further towards the walk: measured on
1M images (``bench/RESULTS.md``), a tag on 0.5% of them took 54-60 ms to
its first chunk along the key against 11 ms through the GIN index.

So the listing decides from the number of matches M among N images,
estimated from the exact counts in ``tags`` (``queries.search``). Filling
the first F rows costs about ``c_walk * F * N / M`` along the walk and
``c_sort * M`` through the index; they break even at ``M = sqrt(F * N *
c_walk / c_sort)``, with ``c_walk / c_sort`` measured at about 0.11 (0.33
us per row walked against 3 us per row collected and sorted). Combined terms
read their most selective index's rows, not only the matches: ``M * R >= F
* N * c_walk / c_sort`` with R those rows. A row test
dearer than a tag's (a photo fact parses the row's JSON metadata: up to 15
times a tag test) raises the break-even by its square root. Below that the
walk is switched off for this transaction only (``enable_indexscan``); a
walk chosen is taken (``enable_sort`` and ``enable_bitmapscan`` off), since
PostgreSQL's own estimate of some conditions is a fixed guess.

Above it the estimate says the walk fills a chunk quickly, but only if the
matches are spread out; a common tag on the newest ids only would make the
walk read most of the table first (230-250 ms for 2% of 1M images). So a
probe walks the first ``PROBE_ROWS`` rows of the order (a few ms) and keeps
the walk only if they hold matches at the density it needs: F matches within
``WALK_BUDGET_ROWS`` rows. A search the GIN index cannot serve (a negation
alone) always walks: the other plan would read and sort the whole table.
"""

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from pixtag.db.database import Database
from pixtag.db.stream import ChunkCursor, StreamTransaction
from pixtag.search import cursor_token
from pixtag.search import queries as search
from pixtag.search.terms import EVERYTHING, Sort, Term

WALK_TO_SORT_COST = 0.11
PROBE_ROWS = 20_000
WALK_BUDGET_ROWS = 100_000
NO_WALK = {"enable_indexscan": "off"}
# The walk, once chosen, taken: PostgreSQL's own estimate of a condition may say few rows
# match (it guesses a position's box at 0.1%) and have it collect and sort them.
WALK = {"enable_bitmapscan": "off", "enable_sort": "off"}
# Fetch the next chunk while the current one is written (bench/listing_read_ahead.py).
READ_AHEAD = True

# The date taken with the undated past the end of the order (fixture 026 indexes both).
TAKEN_LAST = "coalesce(i.taken_at, 'infinity'::timestamp)"
TAKEN_FIRST = "coalesce(i.taken_at, '-infinity'::timestamp)"

ORDER: dict[Sort, str] = {
    "id": "i.image_id",
    "-id": "i.image_id DESC",
    "created": "i.created_at, i.image_id",
    "-created": "i.created_at DESC, i.image_id DESC",
    # When the photo was taken (its wall clock), images without a date last either way.
    "taken": f"{TAKEN_LAST}, i.image_id",
    "-taken": f"{TAKEN_FIRST} DESC, i.image_id DESC",
}
# The sort key of a row, as the cursor token holds it.
KEY: dict[Sort, str] = {
    "id": "i.image_id",
    "-id": "i.image_id",
    "created": "(i.created_at AT TIME ZONE 'UTC')::text, i.image_id",
    "-created": "(i.created_at AT TIME ZONE 'UTC')::text, i.image_id",
    "taken": f"{TAKEN_LAST}::text, i.image_id",
    "-taken": f"{TAKEN_FIRST}::text, i.image_id",
}
_AT = "(%(key_at)s::timestamp AT TIME ZONE 'UTC', %(key_id)s::bigint)"
KEYSET: dict[Sort, str] = {
    "id": "i.image_id > %(key_id)s::bigint",
    "-id": "i.image_id < %(key_id)s::bigint",
    "created": f"(i.created_at, i.image_id) > {_AT}",
    "-created": f"(i.created_at, i.image_id) < {_AT}",
    "taken": f"({TAKEN_LAST}, i.image_id) > (%(key_at)s::timestamp, %(key_id)s::bigint)",
    "-taken": f"({TAKEN_FIRST}, i.image_id) < (%(key_at)s::timestamp, %(key_id)s::bigint)",
}
SHA256 = "i.sha256 = %(sha256)s::text"
AFTER_ID = "i.image_id > %(after_id)s::bigint"


@dataclass(frozen=True)
class ListingFilters:
    """What a listing asks for: a search, the file hash, the order and the page."""

    term: Term = EVERYTHING
    sha256: str | None = None
    after_id: int | None = None
    limit: int | None = None
    sort: Sort = "id"
    after: cursor_token.Key | None = None


@dataclass(frozen=True)
class Statement:
    """The listing's SELECT, its parameters, and what the plan choice needs to know."""

    sql: str
    params: dict[str, Any]
    position: str  # the conditions on the place in the order (keyset), for the probe
    condition: search.Condition


def build(
    filters: ListingFilters, resolution: search.Resolution, media_url: str | None
) -> Statement:
    """The SELECT of a listing whose tags are resolved."""
    params: dict[str, Any] = {"media_url": media_url, "limit": filters.limit}
    condition = search.condition(filters.term, resolution, params)
    if filters.sha256 is not None:
        params["sha256"] = filters.sha256
        condition = search.Condition(
            SHA256 if condition.sql == "true" else f"{SHA256} AND ({condition.sql})",
            condition.share / max(resolution.images, 1.0),
            True,
        )
    position = []
    if filters.after_id is not None:
        params["after_id"] = filters.after_id
        position.append(AFTER_ID)
    if filters.after is not None:
        params["key_id"] = filters.after[-1]
        if len(filters.after) == 2:
            params["key_at"] = filters.after[0]
        position.append(KEYSET[filters.sort])
    where = " AND ".join([f"({condition.sql})", *position])
    key = f", {KEY[filters.sort]}" if filters.limit is not None else ""
    sql = (
        f"SELECT image_json(i, %(media_url)s)::text{key} FROM images AS i"  # noqa: S608 - constant fragments; values bound
        f" WHERE {where} ORDER BY {ORDER[filters.sort]} LIMIT %(limit)s::bigint"
    )
    return Statement(sql, params, " AND ".join(position) or "true", condition)


def probe_statement(statement: Statement, sort: Sort) -> str:
    """Matches among the walk's first rows (stopping at enough), and the walk's length when
    there were not enough."""
    walk = (
        "SELECT i.image_id, i.tags, i.sha256, i.filename, i.description, i.taken_at,"  # noqa: S608 - constant fragments; values bound
        " i.metadata, i.width, i.height FROM images AS i"
        f" WHERE {statement.position} ORDER BY {ORDER[sort]} LIMIT %(probe_rows)s"
    )
    return (
        "SELECT f.found, CASE WHEN f.found < %(needed)s"  # noqa: S608 - constant fragments
        f" THEN (SELECT count(*) FROM ({walk}) AS w) END FROM (SELECT count(*) AS found"
        f" FROM (SELECT 1 FROM ({walk}) AS i WHERE {statement.condition.sql}"
        " LIMIT %(needed)s) AS m) AS f"
    )


def walk_pays(
    matches: float,
    images: float,
    first_rows: int,
    row_cost: float = 1.0,
    index_reads: float | None = None,
) -> bool:
    """Whether the estimate says walking the order beats sorting the matches, when testing
    a row costs ``row_cost`` tag tests and the index path reads ``index_reads`` rows (the
    matches themselves, unless terms are combined)."""
    reads = matches if index_reads is None else max(index_reads, matches)
    return matches * reads >= first_rows * images * WALK_TO_SORT_COST * row_cost


async def choose_plan(
    tx: StreamTransaction,
    statement: Statement,
    filters: ListingFilters,
    images: float,
    first_rows: int,
) -> dict[str, str]:
    """Settings for the listing's transaction: no walk along the order unless it pays off."""
    condition = statement.condition
    if condition.sql == "true" or not condition.indexed:
        return {}
    matches, reads = condition.share * images, condition.index_reads * images
    if not walk_pays(matches, images, first_rows, condition.row_cost, reads):
        return dict(NO_WALK)
    needed = math.ceil(first_rows * PROBE_ROWS / WALK_BUDGET_ROWS)
    params = {**statement.params, "probe_rows": PROBE_ROWS, "needed": needed}
    ((found, walked),) = await tx.query(probe_statement(statement, filters.sort), params)
    if int(found) >= needed or int(walked) < PROBE_ROWS:
        return dict(WALK)
    return dict(NO_WALK)


class Listing:
    """The chunks of a listing (image JSON, as bytes); then ``trailer`` for the totals."""

    def __init__(self, cursor: ChunkCursor, filters: ListingFilters) -> None:
        self._cursor = cursor
        self.chunk_size = cursor.chunk_size
        self._filters = filters
        self._count = 0
        self._last: tuple[Any, ...] | None = None

    def __aiter__(self) -> "Listing":
        return self

    async def __anext__(self) -> list[bytes]:
        rows = await anext(self._cursor)
        self._count += len(rows)
        self._last = rows[-1]
        return [row[0] for row in rows]

    def trailer(self) -> dict[str, str]:
        """``{"after": token}`` when a page (``limit``) came out full: more may follow."""
        limit = self._filters.limit
        if limit is None or self._last is None or self._count < limit:
            return {}
        key = self._last[1:]
        values = (int(key[0]),) if len(key) == 1 else (_text(key[0]), int(key[1]))
        return {"after": cursor_token.encode(self._filters.sort, values)}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def prepare(
    tx: StreamTransaction, filters: ListingFilters, media_url: str | None, first_rows: int
) -> tuple[Statement, dict[str, str]]:
    """The listing's statement and the settings its cursor is planned under."""
    term, resolution = await search.compile_term(tx.query, filters.term, with_size=True)
    filters = replace(filters, term=term)
    statement = build(filters, resolution, media_url)
    if filters.sha256 is not None:
        return statement, dict(NO_WALK)  # one image at most: the partial index finds it
    return statement, await choose_plan(tx, statement, filters, resolution.images, first_rows)


@asynccontextmanager
async def open_listing(
    db: Database,
    filters: ListingFilters,
    *,
    media_url: str | None,
    chunk_size: int,
    read_ahead: bool | None = None,
) -> AsyncIterator[Listing]:
    """The listing's chunks, read from a cursor planned for them; see the module docstring."""
    first_rows = min(chunk_size, filters.limit) if filters.limit else chunk_size
    async with db.stream() as tx:
        statement, settings = await prepare(tx, filters, media_url, first_rows)
        cursor = await tx.declare(
            statement.sql,
            statement.params,
            chunk_size=chunk_size,
            settings=settings,
            read_ahead=READ_AHEAD if read_ahead is None else read_ahead,
        )
        yield Listing(cursor, filters)


# Matches a count reads at most; past them it is the search's estimate, said to be one.
COUNT_BOUND = 10_000


@dataclass(frozen=True)
class Count:
    images: int
    exact: bool


async def count_matches(db: Database, filters: ListingFilters) -> Count:
    """How many images the listing's filters match: exact up to ``COUNT_BOUND``, else the
    estimate the listing plans with (never below the bound)."""
    async with db.stream() as tx:
        term, resolution = await search.compile_term(tx.query, filters.term, with_size=True)
        params: dict[str, Any] = {"bound": COUNT_BOUND + 1}
        condition = search.condition(term, resolution, params)
        sql = (
            "SELECT count(*) FROM (SELECT 1 FROM images AS i"  # noqa: S608 - constant fragments; values bound
            f" WHERE {condition.sql} LIMIT %(bound)s) AS m"
        )
        ((found,),) = await tx.query(sql, params)
    if int(found) <= COUNT_BOUND:
        return Count(int(found), True)
    estimate = round(condition.share * resolution.images)
    return Count(max(estimate, COUNT_BOUND + 1), False)
