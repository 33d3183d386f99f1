"""Why an image id names no row: deleted (410, its tombstone says when) or never existed (404)."""

from typing import Any

from pixtag.errors import DomainError, ImageGone, ImageNotFound

SELECT_TOMBSTONE = """
    SELECT utc_iso(deleted_at) FROM deleted_images WHERE image_id = %(image_id)s
"""


async def missing_image(cur: Any, image_id: int) -> DomainError:
    """The error for an id no row has: ImageGone if it was deleted, else ImageNotFound."""
    await cur.execute(SELECT_TOMBSTONE, {"image_id": image_id})
    row = await cur.fetchone()
    return ImageNotFound(image_id) if row is None else ImageGone(image_id, row[0])
