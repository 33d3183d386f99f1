"""Albums' SQL: the rows, a manual album's ordered images, and the listings.

A manual album's order is ``album_images.position``, with gaps of ``GAP``:
images added or moved between two neighbours take positions between theirs
and no other row is written; when the gap between them is too small, the
album's positions are spread again (one statement), which a gap of 65,536
makes rare. A change of an album's images holds the album's row
(``FOR UPDATE``) so concurrent changes take turns, and bumps its version.
"""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pixtag.db.chunks import FirstColumn, declared
from pixtag.db.database import Database
from pixtag.db.stream import ChunkCursor
from pixtag.errors import Conflict, Gone, NotFound
from pixtag.images.queries.listing import ORDER
from pixtag.images.queries.missing import missing_image
from pixtag.search import cursor_token
from pixtag.search import queries as search
from pixtag.search.grammar import parse

GAP = 1 << 16

ALBUM_JSON = "album_json(a)::text"

INSERT = f"""
    INSERT INTO albums AS a (name, description, query, cover_id)
    VALUES (%(name)s, %(description)s, %(query)s, %(cover_id)s)
    ON CONFLICT ((lower(name))) DO NOTHING
    RETURNING {ALBUM_JSON}, a.version
"""  # noqa: S608 - constant fragments; values bound

SELECT = f"SELECT {ALBUM_JSON}, a.version, a.query FROM albums AS a WHERE a.album_id = %(album_id)s"  # noqa: S608

LOCK = "SELECT a.version, a.query FROM albums AS a WHERE a.album_id = %(album_id)s FOR UPDATE"

TOMBSTONE = "SELECT utc_iso(deleted_at) FROM deleted_albums WHERE album_id = %(album_id)s"

UPDATE = f"""
    UPDATE albums AS a
    SET name = coalesce(%(name)s, a.name),
        description = coalesce(%(description)s, a.description),
        query = coalesce(%(query)s, a.query),
        cover_id = CASE WHEN %(cover)s THEN %(cover_id)s ELSE a.cover_id END,
        version = a.version + 1, updated_at = now()
    WHERE a.album_id = %(album_id)s
    RETURNING {ALBUM_JSON}, a.version
"""  # noqa: S608 - constant fragments; values bound

NAME_TAKEN = """
    SELECT album_id FROM albums
    WHERE lower(name) = lower(%(name)s) AND album_id <> %(album_id)s
"""

DELETE = """
    WITH gone AS (DELETE FROM albums WHERE album_id = %(album_id)s RETURNING album_id)
    INSERT INTO deleted_albums (album_id) SELECT album_id FROM gone RETURNING album_id
"""

TOUCH = f"""
    UPDATE albums AS a SET version = a.version + 1, updated_at = now()
    WHERE a.album_id = %(album_id)s
    RETURNING {ALBUM_JSON}, a.version
"""  # noqa: S608 - constant fragments; values bound

# Of these ids, those no image has, and of them those deleted.
MISSING_IMAGES = """
    SELECT m.image_id, d.image_id IS NOT NULL
    FROM unnest(%(ids)s::bigint[]) AS m(image_id)
    LEFT JOIN deleted_images AS d ON d.image_id = m.image_id
    WHERE NOT EXISTS (SELECT 1 FROM images AS i WHERE i.image_id = m.image_id)
    ORDER BY m.image_id
"""

# The position of the image at an index of the album's order (the OFFSET walks the index).
POSITION_AT = """
    SELECT position FROM album_images WHERE album_id = %(album_id)s
    ORDER BY position OFFSET %(index)s LIMIT 1
"""
LAST_POSITION = "SELECT max(position) FROM album_images WHERE album_id = %(album_id)s"
BEFORE = """
    SELECT max(position) FROM album_images
    WHERE album_id = %(album_id)s AND position < %(position)s
      AND image_id <> ALL(%(moving)s::bigint[])
"""
POSITION_OF = """
    SELECT position FROM album_images WHERE album_id = %(album_id)s AND image_id = %(image_id)s
"""
NOT_IN_ALBUM = """
    SELECT m.image_id FROM unnest(%(ids)s::bigint[]) AS m(image_id)
    WHERE NOT EXISTS (SELECT 1 FROM album_images AS ai
                      WHERE ai.album_id = %(album_id)s AND ai.image_id = m.image_id)
    ORDER BY m.image_id
"""

# New images at the given positions; those already in the album keep theirs.
ADD = """
    INSERT INTO album_images (album_id, image_id, position)
    SELECT %(album_id)s, n.image_id, n.position
    FROM unnest(%(ids)s::bigint[], %(positions)s::bigint[]) AS n(image_id, position)
    ON CONFLICT (album_id, image_id) DO NOTHING
"""
NEW_IDS = """
    SELECT m.image_id FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS m(image_id, n)
    WHERE NOT EXISTS (SELECT 1 FROM album_images AS ai
                      WHERE ai.album_id = %(album_id)s AND ai.image_id = m.image_id)
    GROUP BY m.image_id ORDER BY min(m.n)
"""
MOVE = """
    UPDATE album_images AS ai SET position = n.position
    FROM unnest(%(ids)s::bigint[], %(positions)s::bigint[]) AS n(image_id, position)
    WHERE ai.album_id = %(album_id)s AND ai.image_id = n.image_id
"""
REMOVE = """
    DELETE FROM album_images WHERE album_id = %(album_id)s AND image_id = ANY(%(ids)s::bigint[])
"""
# Every position spread again by GAP, the order kept.
SPREAD = f"""
    UPDATE album_images AS ai SET position = r.n * {GAP}
    FROM (SELECT image_id, row_number() OVER (ORDER BY position) AS n
          FROM album_images WHERE album_id = %(album_id)s) AS r
    WHERE ai.album_id = %(album_id)s AND ai.image_id = r.image_id
"""  # noqa: S608 - a constant

SELECT_ALBUMS = f"""
    SELECT {ALBUM_JSON} FROM albums AS a
    WHERE a.album_id > %(after_id)s
    ORDER BY a.album_id
    LIMIT %(limit)s
"""  # noqa: S608 - constant fragments; values bound

# A manual album's images in its order, each with its position (the keyset).
SELECT_IMAGES = """
    SELECT image_json(i, %(media_url)s)::text, ai.position
    FROM album_images AS ai JOIN images AS i ON i.image_id = ai.image_id
    WHERE ai.album_id = %(album_id)s AND ai.position > %(after)s
    ORDER BY ai.position
    LIMIT %(limit)s
"""

IMAGE_ALBUMS = """
    SELECT EXISTS (SELECT 1 FROM images WHERE image_id = %(image_id)s),
           '{"albums":' || coalesce(json_agg(row_to_json(r) ORDER BY r.album_id), '[]') || '}'
    FROM (SELECT a.album_id, a.name
          FROM album_images AS ai JOIN albums AS a ON a.album_id = ai.album_id
          WHERE ai.image_id = %(image_id)s) AS r
"""


class AlbumNotFound(NotFound):
    def __init__(self, album_id: int) -> None:
        super().__init__(f"Album <{album_id}> is not found")


class AlbumGone(Gone):
    def __init__(self, album_id: int, deleted_at: str) -> None:
        super().__init__(f"Album <{album_id}> was deleted at {deleted_at}")


class NameTaken(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"An album named {name!r} exists already (names are unique in any case)")


@dataclass(frozen=True)
class Row:
    """An album as JSON, its version and its query (None: manual)."""

    document: str
    version: int
    query: str | None = None


async def missing_album(cur: Any, album_id: int) -> NotFound | Gone:
    await cur.execute(TOMBSTONE, {"album_id": album_id})
    row = await cur.fetchone()
    return AlbumNotFound(album_id) if row is None else AlbumGone(album_id, row[0])


async def insert(
    cur: Any, *, name: str, description: str, query: str | None, cover_id: int | None
) -> Row:
    params = {"name": name, "description": description, "query": query, "cover_id": cover_id}
    await cur.execute(INSERT, params)
    row = await cur.fetchone()
    if row is None:
        raise NameTaken(name)
    return Row(str(row[0]), int(row[1]), query)


async def read(cur: Any, album_id: int) -> Row:
    await cur.execute(SELECT, {"album_id": album_id})
    row = await cur.fetchone()
    if row is None:
        raise await missing_album(cur, album_id)
    return Row(str(row[0]), int(row[1]), row[2])


async def lock(cur: Any, album_id: int) -> tuple[int, str | None]:
    """In a transaction: hold the album's row; its version and query."""
    await cur.execute(LOCK, {"album_id": album_id})
    row = await cur.fetchone()
    if row is None:
        raise await missing_album(cur, album_id)
    return int(row[0]), row[1]


async def update(cur: Any, album_id: int, changes: dict[str, Any]) -> Row:
    if changes.get("name") is not None:
        await cur.execute(NAME_TAKEN, {"name": changes["name"], "album_id": album_id})
        if await cur.fetchone() is not None:
            raise NameTaken(changes["name"])
    params = {"album_id": album_id, "name": None, "description": None, "query": None}
    params |= {"cover": "cover_id" in changes, "cover_id": None} | changes
    await cur.execute(UPDATE, params)
    row = await cur.fetchone()
    return Row(str(row[0]), int(row[1]))


async def delete(cur: Any, album_id: int) -> None:
    await cur.execute(DELETE, {"album_id": album_id})
    if await cur.fetchone() is None:
        raise await missing_album(cur, album_id)


async def touch(cur: Any, album_id: int) -> Row:
    await cur.execute(TOUCH, {"album_id": album_id})
    row = await cur.fetchone()
    return Row(str(row[0]), int(row[1]))


async def missing_images(cur: Any, ids: list[int]) -> list[tuple[int, bool]]:
    """Of ``ids``, those no image has: (id, whether it was deleted)."""
    await cur.execute(MISSING_IMAGES, {"ids": ids})
    return [(int(image_id), bool(deleted)) for image_id, deleted in await cur.fetchall()]


async def not_in_album(cur: Any, album_id: int, ids: list[int]) -> list[int]:
    await cur.execute(NOT_IN_ALBUM, {"album_id": album_id, "ids": ids})
    return [int(row[0]) for row in await cur.fetchall()]


async def new_ids(cur: Any, album_id: int, ids: list[int]) -> list[int]:
    """Of ``ids``, those not in the album yet, once each, in their first order."""
    await cur.execute(NEW_IDS, {"album_id": album_id, "ids": ids})
    return [int(row[0]) for row in await cur.fetchall()]


async def _value(cur: Any, statement: str, params: dict[str, Any]) -> int | None:
    await cur.execute(statement, params)
    row = await cur.fetchone()
    return None if row is None or row[0] is None else int(row[0])


async def slots(cur: Any, album_id: int, count: int, index: int | None) -> list[int]:
    """``count`` free positions in order before the image at ``index`` of the album's order
    (None or past the end: at the end); the album's positions are spread again first when
    the gap there is too small."""
    return await _slots(cur, album_id, count, index, None, [], spread=True)


async def move_slots(cur: Any, album_id: int, moving: list[int], before: int | None) -> list[int]:
    """Positions for ``moving`` right before the image ``before`` (among the others), or at
    the end."""
    return await _slots(cur, album_id, len(moving), None, before, moving, spread=True)


async def _slots(
    cur: Any,
    album_id: int,
    count: int,
    index: int | None,
    before: int | None,
    moving: list[int],
    *,
    spread: bool,
) -> list[int]:
    params: dict[str, Any] = {"album_id": album_id, "moving": moving}
    right: int | None = None
    if before is not None:
        right = await _value(cur, POSITION_OF, {**params, "image_id": before})
    elif index is not None:
        right = await _value(cur, POSITION_AT, {**params, "index": index})
    if right is None:
        last = await _value(cur, LAST_POSITION, params) or 0
        return [last + GAP * (n + 1) for n in range(count)]
    left = await _value(cur, BEFORE, {**params, "position": right}) or 0
    if right - left > count:
        step = (right - left) / (count + 1)
        return [left + round(step * (n + 1)) for n in range(count)]
    if not spread:
        raise RuntimeError("the album's positions left no room after spreading")
    await cur.execute(SPREAD, params)
    return await _slots(cur, album_id, count, index, before, moving, spread=False)


async def add(cur: Any, album_id: int, ids: list[int], positions: list[int]) -> None:
    await cur.execute(ADD, {"album_id": album_id, "ids": ids, "positions": positions})


async def move(cur: Any, album_id: int, ids: list[int], positions: list[int]) -> None:
    await cur.execute(MOVE, {"album_id": album_id, "ids": ids, "positions": positions})


async def remove(cur: Any, album_id: int, ids: list[int]) -> None:
    await cur.execute(REMOVE, {"album_id": album_id, "ids": ids})


async def image_albums(cur: Any, image_id: int) -> str:
    """The albums holding the image, as JSON; ImageNotFound or ImageGone if no row."""
    await cur.execute(IMAGE_ALBUMS, {"image_id": image_id})
    ((exists, document),) = await cur.fetchall()
    if not exists:
        raise await missing_image(cur, image_id)
    return str(document)


def open_albums(
    db: Database, *, after_id: int | None, limit: int | None, chunk_size: int
) -> AbstractAsyncContextManager[FirstColumn]:
    """Every album in id order, streamed."""
    params = {"after_id": after_id or 0, "limit": limit}
    return declared(db, SELECT_ALBUMS, params, chunk_size=chunk_size)


class AlbumPage:
    """A manual album's images in its order; with a ``limit`` that came out full, the
    totals' ``after`` token continues it."""

    def __init__(self, cursor: ChunkCursor, limit: int | None) -> None:
        self._cursor = cursor
        self.chunk_size = cursor.chunk_size
        self._limit = limit
        self._count = 0
        self._last: int | None = None

    def __aiter__(self) -> "AlbumPage":
        return self

    async def __anext__(self) -> list[bytes]:
        rows = await anext(self._cursor)
        self._count += len(rows)
        self._last = int(rows[-1][1])
        return [row[0] for row in rows]

    def trailer(self) -> dict[str, str]:
        if self._limit is None or self._last is None or self._count < self._limit:
            return {}
        return {"after": cursor_token.encode("position", (self._last,))}


@asynccontextmanager
async def open_album_images(
    db: Database,
    album_id: int,
    *,
    media_url: str | None,
    after: int | None,
    limit: int | None,
    chunk_size: int,
) -> AsyncIterator[AlbumPage]:
    """A manual album's images in its order, from the position ``after`` on."""
    params = {"album_id": album_id, "media_url": media_url, "after": after or 0, "limit": limit}
    async with db.stream() as tx:
        cursor = await tx.declare(SELECT_IMAGES, params, chunk_size=chunk_size)
        yield AlbumPage(cursor, limit)


# The images of an album a share hands out: those with a file, in the album's order.
MANUAL_MEMBER_IDS = """
    SELECT ai.image_id FROM album_images AS ai JOIN images AS i ON i.image_id = ai.image_id
    WHERE ai.album_id = %(album_id)s AND i.content_type IS NOT NULL
    ORDER BY ai.position
    LIMIT %(limit)s
"""
MANUAL_MEMBER = """
    SELECT 1 FROM album_images AS ai JOIN images AS i ON i.image_id = ai.image_id
    WHERE ai.album_id = %(album_id)s AND ai.image_id = %(image_id)s
      AND i.content_type IS NOT NULL
"""
SMART_MEMBER_IDS = """
    SELECT i.image_id FROM images AS i
    WHERE ({condition}) AND i.content_type IS NOT NULL
    ORDER BY {order}
    LIMIT %(limit)s
"""
SMART_MEMBER = """
    SELECT 1 FROM images AS i
    WHERE i.image_id = %(image_id)s AND ({condition}) AND i.content_type IS NOT NULL
"""
MEMBER_FILES = """
    SELECT i.image_id, i.filename, file_key(i), i.content_type, i.size, i.sha256
    FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS m(image_id, n)
    JOIN images AS i ON i.image_id = m.image_id
    WHERE i.content_type IS NOT NULL
    ORDER BY m.n
"""


@dataclass(frozen=True)
class MemberFile:
    """An album image's stored file."""

    image_id: int
    filename: str
    key: str
    content_type: str
    size: int
    sha256: str


async def _smart_condition(cur: Any, query: str, params: dict[str, Any]) -> tuple[str, str]:
    """A smart album's search as a condition on ``images AS i`` and its ORDER BY."""
    parsed = parse(query)

    async def fetch(sql: str, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        await cur.execute(sql, values)
        return list(await cur.fetchall())

    term, resolution = await search.compile_term(fetch, parsed.term, with_size=True)
    condition = search.condition(term, resolution, params)
    return condition.sql, ORDER[parsed.sort or "id"]


async def member_ids(cur: Any, album_id: int, query: str | None, limit: int | None) -> list[int]:
    """The ids of the album's images that have a file, in its order (at most ``limit``)."""
    params: dict[str, Any] = {"album_id": album_id, "limit": limit}
    if query is None:
        await cur.execute(MANUAL_MEMBER_IDS, params)
    else:
        condition, order = await _smart_condition(cur, query, params)
        await cur.execute(SMART_MEMBER_IDS.format(condition=condition, order=order), params)
    return [int(row[0]) for row in await cur.fetchall()]


async def is_member(cur: Any, album_id: int, query: str | None, image_id: int) -> bool:
    """Whether the image is in the album, with a file."""
    params: dict[str, Any] = {"album_id": album_id, "image_id": image_id}
    if query is None:
        await cur.execute(MANUAL_MEMBER, params)
    else:
        condition, _ = await _smart_condition(cur, query, params)
        await cur.execute(SMART_MEMBER.format(condition=condition), params)
    return await cur.fetchone() is not None


async def member_files(cur: Any, ids: list[int]) -> list[MemberFile]:
    """The files of these images, in this order (those without one left out)."""
    await cur.execute(MEMBER_FILES, {"ids": ids})
    return [MemberFile(*row) for row in await cur.fetchall()]
