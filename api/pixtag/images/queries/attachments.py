"""Stored files of image records: look up, lock, record, and what the sweeper asks.

A row names its file by ``storage_key``; rows from before keys are named by
``file_key(i)`` (``<image_id>/<filename>``) until they are migrated. Replacing
a file happens under the image's row lock (``image_file(..., lock=True)``
inside a transaction), so concurrent uploads to one image take turns and
each knows exactly which key it replaced.
"""

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pixtag.db import prepared
from pixtag.images.queries.missing import missing_image

SELECT_IMAGE_FILE = """
    SELECT filename, content_type, file_key(i), storage_key IS NULL
    FROM images AS i
    WHERE image_id = %(image_id)s
"""

LOCK_IMAGE_FILE = prepared.statement("lock_image_file", SELECT_IMAGE_FILE + " FOR UPDATE")
SELECT_IMAGE_FILE_PREPARED = prepared.statement("select_image_file", SELECT_IMAGE_FILE)

# The file's metadata replaces the previous file's; its keywords join the tags.
UPDATE_ATTACHMENT = """
    UPDATE images AS i
    SET content_type = %(content_type)s, size = %(size)s, sha256 = %(sha256)s,
        width = %(width)s, height = %(height)s, storage_key = %(key)s, uploaded_at = now(),
        taken_at = %(taken_at)s, taken_offset = %(taken_offset)s,
        metadata = %(metadata)s::json, metadata_read = %(metadata_read)s, taken_by_hand = false,
        tags = i.tags || ARRAY(
            SELECT k FROM unnest(%(keywords)s::text[]) AS k WHERE k <> ALL (i.tags)
        )
    WHERE i.image_id = %(image_id)s
    RETURNING image_json(i, %(media_url)s)::text
"""

# The one-request path stores the file before the record exists, so it takes
# the id first; a refused file only leaves a gap in the sequence.
RESERVE_IMAGE_ID = prepared.statement(
    "reserve_image_id", "SELECT nextval(pg_get_serial_sequence('images', 'image_id'))"
)

INSERT_IMAGE_WITH_ATTACHMENT = prepared.statement(
    "insert_image_with_attachment",
    """
    INSERT INTO images AS i (image_id, filename, tags, description, content_type, size, sha256,
                             width, height, storage_key, uploaded_at, taken_at, taken_offset,
                             metadata, metadata_read)
    OVERRIDING SYSTEM VALUE
    VALUES (%(image_id)s, %(filename)s,
            %(tags)s::text[] || ARRAY(
                SELECT k FROM unnest(%(keywords)s::text[]) AS k WHERE k <> ALL (%(tags)s::text[])
            ),
            %(description)s, %(content_type)s, %(size)s, %(sha256)s, %(width)s, %(height)s,
            %(key)s, now(), %(taken_at)s, %(taken_offset)s, %(metadata)s::json,
            %(metadata_read)s)
    RETURNING image_json(i, %(media_url)s)::text
""",
)

# After a COMMIT whose outcome was lost: did the row end up naming this key?
SELECT_BY_KEY = """
    SELECT image_json(i, %(media_url)s)::text
    FROM images AS i
    WHERE storage_key = %(key)s
"""

# Of these stored keys, the ones no row names (rows from before keys and
# renditions included). Every lookup goes through an index: the keys', and
# the primary key for the folder of a file stored before keys.
UNREFERENCED = """
    SELECT k.key
    FROM unnest(%(keys)s::text[]) AS k(key)
    WHERE NOT EXISTS (SELECT 1 FROM images AS i WHERE i.storage_key = k.key)
      AND NOT EXISTS (SELECT 1 FROM renditions AS r WHERE r.storage_key = k.key)
      AND NOT EXISTS (
          SELECT 1 FROM images AS i
          WHERE i.image_id = CASE WHEN k.key ~ '^[0-9]{1,18}/'
                                  THEN split_part(k.key, '/', 1)::bigint END
            AND i.storage_key IS NULL AND i.content_type IS NOT NULL
            AND i.filename = substr(k.key, strpos(k.key, '/') + 1)
      )
"""


@dataclass(frozen=True)
class ImageFile:
    """An image's filename and its stored file (type and key are None before the first upload)."""

    filename: str
    content_type: str | None
    key: str | None
    legacy: bool  # stored where the layout before keys put it


@dataclass(frozen=True)
class FileFacts:
    """What is recorded about a stored file."""

    key: str
    content_type: str
    size: int
    sha256: str
    width: int
    height: int
    # What the file says of the photo (pixtag.metadata): when it was taken (the wall clock,
    # the offset in minutes), the rest as the image JSON shows it, and tags to add.
    taken_at: datetime | None = None
    taken_offset: int | None = None
    metadata: str | None = None  # a JSON object
    keywords: tuple[str, ...] = ()
    metadata_read: int | None = None  # the version of the reader that read it (None: not read)


async def image_file(cur: Any, image_id: int, *, lock: bool = False) -> ImageFile:
    """An image's filename and file; with ``lock``, hold its row until the transaction ends."""
    stmt = LOCK_IMAGE_FILE if lock else SELECT_IMAGE_FILE_PREPARED
    await prepared.execute(cur, stmt, {"image_id": image_id})
    row = await cur.fetchone()
    if row is None:
        raise await missing_image(cur, image_id)
    return ImageFile(row[0], row[1], row[2], row[3] and row[1] is not None)


async def record_attachment(
    cur: Any, image_id: int, facts: FileFacts, *, media_url: str | None
) -> str:
    """Record the stored file of an image; return the image JSON."""
    params = {"image_id": image_id, "media_url": media_url, **_facts(facts)}
    await cur.execute(UPDATE_ATTACHMENT, params)
    row = await cur.fetchone()
    if row is None:
        raise await missing_image(cur, image_id)
    return str(row[0])


def _facts(facts: FileFacts) -> dict[str, Any]:
    return {**asdict(facts), "keywords": list(facts.keywords)}


async def reserve_image_id(cur: Any) -> int:
    """A fresh image id, for a record inserted once its file is stored."""
    await prepared.execute(cur, RESERVE_IMAGE_ID)
    (image_id,) = await cur.fetchone()
    return int(image_id)


async def insert_image_with_attachment(
    cur: Any,
    image_id: int,
    *,
    filename: str,
    tags: list[str],
    facts: FileFacts,
    media_url: str | None,
    description: str = "",
) -> str:
    """Create a record (under a reserved id) together with its stored file; return its JSON."""
    params = {
        "image_id": image_id,
        "filename": filename,
        "tags": tags,
        "description": description,
        "media_url": media_url,
        **_facts(facts),
    }
    await prepared.execute(cur, INSERT_IMAGE_WITH_ATTACHMENT, params)
    (document,) = await cur.fetchone()
    return str(document)


async def image_by_key(cur: Any, key: str, *, media_url: str | None) -> str | None:
    """The JSON of the image whose file is ``key``, if any."""
    await cur.execute(SELECT_BY_KEY, {"key": key, "media_url": media_url})
    row = await cur.fetchone()
    return None if row is None else str(row[0])


async def unreferenced(cur: Any, keys: list[str]) -> list[str]:
    """Those of ``keys`` that no image nor rendition names."""
    await cur.execute(UNREFERENCED, {"keys": keys})
    return [row[0] for row in await cur.fetchall()]


SELECT_FILES = """
    SELECT image_id, file_key(i), sha256, size
    FROM images AS i
    WHERE content_type IS NOT NULL AND image_id > %(after)s
    ORDER BY image_id
    LIMIT %(limit)s
"""


@dataclass(frozen=True)
class RecordedFile:
    """What a record says of its file."""

    image_id: int
    key: str
    sha256: str
    size: int


async def recorded_files(cur: Any, after: int, *, limit: int) -> list[RecordedFile]:
    """Images with a file, in id order, after the id ``after``."""
    await cur.execute(SELECT_FILES, {"after": after, "limit": limit})
    return [RecordedFile(int(r[0]), r[1], r[2], int(r[3])) for r in await cur.fetchall()]
