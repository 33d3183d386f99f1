"""Image records: create and read one."""

from typing import Any

from pixtag.db import prepared
from pixtag.errors import ImageNotFound

INSERT_IMAGE = prepared.statement(
    "insert_image",
    """
    INSERT INTO images AS i (filename, tags)
    VALUES (%(filename)s, %(tags)s::text[])
    RETURNING i.image_id, image_json(i, %(media_url)s)::text
""",
)

SELECT_IMAGE = prepared.statement(
    "select_image",
    """
    SELECT image_json(i, %(media_url)s)::text
    FROM images AS i
    WHERE i.image_id = %(image_id)s
""",
)


async def insert_image(
    cur: Any, *, filename: str, tags: list[str], media_url: str | None
) -> tuple[int, str]:
    """Create an image record; return its id and JSON."""
    await prepared.execute(
        cur, INSERT_IMAGE, {"filename": filename, "tags": tags, "media_url": media_url}
    )
    image_id, document = await cur.fetchone()
    return int(image_id), str(document)


async def image_json(cur: Any, image_id: int, *, media_url: str | None) -> str:
    """One image as JSON; raise ImageNotFound when there is none."""
    await prepared.execute(cur, SELECT_IMAGE, {"image_id": image_id, "media_url": media_url})
    row = await cur.fetchone()
    if row is None:
        raise ImageNotFound(image_id)
    return str(row[0])
