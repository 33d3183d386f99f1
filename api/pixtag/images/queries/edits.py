"""Editing and deleting image records, under the row lock of the image.

Each function runs inside a transaction (``pixtag.db.transaction``) after
``lock_image``: the caller checks the row version it read (If-Match) and
acts on the very row it locked. A delete leaves a tombstone in
``deleted_images`` in the same transaction, so the id answers 410 from the
commit on; the stored file goes only after the commit (``pixtag.images.removal``).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg2.errors

from pixtag.errors import BadRequest
from pixtag.images.queries.missing import missing_image
from pixtag.validation import MAX_TAGS

LOCK_IMAGE = """
    SELECT version, filename, file_key(i), storage_key IS NULL AND content_type IS NOT NULL
    FROM images AS i
    WHERE image_id = %(image_id)s
    FOR UPDATE
"""

# tags replaces the list; else add appends the new ones (in their order) and
# remove drops its own, the rest keeping their places.
UPDATE_IMAGE = """
    UPDATE images AS i
    SET filename = coalesce(%(filename)s, i.filename),
        description = coalesce(%(description)s, i.description),
        taken_at = CASE WHEN %(taken)s THEN %(taken_at)s::timestamp ELSE i.taken_at END,
        taken_offset = CASE WHEN %(taken)s THEN %(taken_offset)s::smallint
                            ELSE i.taken_offset END,
        taken_by_hand = i.taken_by_hand OR %(taken)s,
        tags = CASE WHEN %(tags)s::text[] IS NOT NULL THEN %(tags)s::text[] ELSE ARRAY(
            SELECT t
            FROM unnest(i.tags || %(add)s::text[]) WITH ORDINALITY AS u(t, n)
            WHERE t <> ALL (%(remove)s::text[])
            GROUP BY t
            ORDER BY min(n)
        ) END
    WHERE i.image_id = %(image_id)s
    RETURNING image_json(i, %(media_url)s)::text, i.version
"""

DELETE_IMAGE = """
    WITH gone AS (
        DELETE FROM images WHERE image_id = %(image_id)s RETURNING image_id, sha256
    )
    INSERT INTO deleted_images (image_id, sha256)
    SELECT image_id, sha256 FROM gone
"""

FORGET_FILE = """
    UPDATE images
    SET content_type = NULL, size = NULL, sha256 = NULL, width = NULL, height = NULL,
        storage_key = NULL, uploaded_at = NULL, taken_at = NULL, taken_offset = NULL,
        metadata = NULL, metadata_read = NULL, taken_by_hand = false
    WHERE image_id = %(image_id)s
    RETURNING version
"""


@dataclass(frozen=True)
class LockedImage:
    """What a write needs of the row it holds: its version, filename and file."""

    version: int
    filename: str
    key: str | None  # None: no file
    legacy: bool  # a file stored before keys, found by its filename


@dataclass(frozen=True)
class Edit:
    """The changes of a PATCH, already validated and normalised."""

    filename: str | None
    tags: list[str] | None
    add: list[str]
    remove: list[str]
    description: str | None = None
    # A new filename keeping the current extension (seed 003's name): set under the lock.
    stem: str | None = None
    # When the photo was taken (the wall clock, the offset in minutes), if given.
    taken: tuple[datetime, int | None] | None = None


async def lock_image(cur: Any, image_id: int) -> LockedImage:
    """Hold the image's row until the transaction ends; ImageNotFound or ImageGone if none."""
    await cur.execute(LOCK_IMAGE, {"image_id": image_id})
    row = await cur.fetchone()
    if row is None:
        raise await missing_image(cur, image_id)
    return LockedImage(int(row[0]), row[1], row[2], bool(row[3]))


async def update_image(
    cur: Any, image_id: int, edit: Edit, *, media_url: str | None
) -> tuple[str, int]:
    """Apply ``edit`` to the locked row; return its JSON and new version."""
    params = {
        "image_id": image_id,
        "filename": edit.filename,
        "description": edit.description,
        "tags": edit.tags,
        "add": edit.add,
        "remove": edit.remove,
        "media_url": media_url,
        "taken": edit.taken is not None,
        "taken_at": edit.taken[0] if edit.taken else None,
        "taken_offset": edit.taken[1] if edit.taken else None,
    }
    try:
        await cur.execute(UPDATE_IMAGE, params)
    except psycopg2.errors.CheckViolation as error:
        if error.diag.constraint_name != "tags_count":
            raise
        raise BadRequest(f"An image has at most {MAX_TAGS} tags") from None
    document, version = await cur.fetchone()
    return str(document), int(version)


async def delete_image(cur: Any, image_id: int) -> None:
    """Delete the locked row and leave its tombstone."""
    await cur.execute(DELETE_IMAGE, {"image_id": image_id})


async def forget_file(cur: Any, image_id: int) -> int:
    """Clear the locked row's attachment; return its new version."""
    await cur.execute(FORGET_FILE, {"image_id": image_id})
    (version,) = await cur.fetchone()
    return int(version)
