"""Image records: create and read one, with the row version that is their ETag."""

from dataclasses import dataclass
from typing import Any

from pixtag.db import prepared
from pixtag.images.queries.missing import missing_image

INSERT_IMAGE = prepared.statement(
    "insert_image",
    """
    INSERT INTO images AS i (filename, tags, description)
    VALUES (%(filename)s, %(tags)s::text[], %(description)s)
    RETURNING i.image_id, image_json(i, %(media_url)s)::text, i.version
""",
)

SELECT_IMAGE = prepared.statement(
    "select_image",
    """
    SELECT image_json(i, %(media_url)s)::text, i.version
    FROM images AS i
    WHERE i.image_id = %(image_id)s
""",
)

# The version of a row just inserted (fixtures/006_edit_delete.sql): what a create that
# renders its row inside a larger transaction (the one-request upload) answers as its ETag.
FIRST_VERSION = 1


@dataclass(frozen=True)
class Versioned:
    """An image's JSON and the row version it shows."""

    document: str
    version: int


async def insert_image(
    cur: Any, *, filename: str, tags: list[str], description: str, media_url: str | None
) -> tuple[int, Versioned]:
    """Create an image record; return its id and JSON."""
    params = {"filename": filename, "tags": tags, "description": description}
    await prepared.execute(cur, INSERT_IMAGE, {**params, "media_url": media_url})
    image_id, document, version = await cur.fetchone()
    return int(image_id), Versioned(str(document), int(version))


async def image_json(cur: Any, image_id: int, *, media_url: str | None) -> Versioned:
    """One image as JSON; raise ImageNotFound (never existed) or ImageGone (deleted)."""
    await prepared.execute(cur, SELECT_IMAGE, {"image_id": image_id, "media_url": media_url})
    row = await cur.fetchone()
    if row is None:
        raise await missing_image(cur, image_id)
    return Versioned(str(row[0]), int(row[1]))
