"""Attachment columns of image records: look up, lock, record a stored file.

Replacing a file and recording it happen under the image's row lock
(``image_file(..., lock=True)`` inside a transaction), so concurrent uploads
to one image are serialised and the last file in place is the one the row
describes.
"""

from dataclasses import asdict, dataclass
from typing import Any

from pixtag.errors import ImageNotFound

SELECT_IMAGE_FILE = """
    SELECT filename, content_type
    FROM images
    WHERE image_id = %(image_id)s
"""

LOCK_IMAGE_FILE = SELECT_IMAGE_FILE + " FOR UPDATE"

UPDATE_ATTACHMENT = """
    UPDATE images AS i
    SET content_type = %(content_type)s, size = %(size)s, sha256 = %(sha256)s,
        width = %(width)s, height = %(height)s, uploaded_at = now()
    WHERE i.image_id = %(image_id)s
    RETURNING image_json(i, %(media_url)s)::text
"""

# The one-request path stores the file before the record exists, so it takes
# the id first; a refused file only leaves a gap in the sequence.
RESERVE_IMAGE_ID = "SELECT nextval(pg_get_serial_sequence('images', 'image_id'))"

INSERT_IMAGE_WITH_ATTACHMENT = """
    INSERT INTO images AS i
        (image_id, filename, tags, content_type, size, sha256, width, height, uploaded_at)
    OVERRIDING SYSTEM VALUE
    VALUES (%(image_id)s, %(filename)s, %(tags)s::text[], %(content_type)s, %(size)s,
            %(sha256)s, %(width)s, %(height)s, now())
    RETURNING image_json(i, %(media_url)s)::text
"""


@dataclass(frozen=True)
class ImageFile:
    """An image's filename and the type of its stored file (None before the first upload)."""

    filename: str
    content_type: str | None


@dataclass(frozen=True)
class FileFacts:
    """What is recorded about a stored file."""

    content_type: str
    size: int
    sha256: str
    width: int
    height: int


async def image_file(cur: Any, image_id: int, *, lock: bool = False) -> ImageFile:
    """An image's filename and file type; with ``lock``, hold its row until the transaction ends."""
    await cur.execute(LOCK_IMAGE_FILE if lock else SELECT_IMAGE_FILE, {"image_id": image_id})
    row = await cur.fetchone()
    if row is None:
        raise ImageNotFound(image_id)
    return ImageFile(row[0], row[1])


async def record_attachment(cur: Any, image_id: int, facts: FileFacts, *, media_url: str) -> str:
    """Record the stored file of an image; return the image JSON."""
    params = {"image_id": image_id, "media_url": media_url, **asdict(facts)}
    await cur.execute(UPDATE_ATTACHMENT, params)
    row = await cur.fetchone()
    if row is None:
        raise ImageNotFound(image_id)
    return str(row[0])


async def reserve_image_id(cur: Any) -> int:
    """A fresh image id, for a record inserted once its file is stored."""
    await cur.execute(RESERVE_IMAGE_ID)
    (image_id,) = await cur.fetchone()
    return int(image_id)


async def insert_image_with_attachment(
    cur: Any, image_id: int, *, filename: str, tags: list[str], facts: FileFacts, media_url: str
) -> str:
    """Create a record (under a reserved id) together with its stored file; return its JSON."""
    params = {
        "image_id": image_id,
        "filename": filename,
        "tags": tags,
        "media_url": media_url,
        **asdict(facts),
    }
    await cur.execute(INSERT_IMAGE_WITH_ATTACHMENT, params)
    (document,) = await cur.fetchone()
    return str(document)
