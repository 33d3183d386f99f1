"""Moving rows stored before keys (a file at ``<image_id>/<filename>``) to keys."""

from dataclasses import asdict, dataclass
from typing import Any

from pixtag.images.queries.attachments import FileFacts

SELECT_LEGACY = """
    SELECT image_id, filename, sha256
    FROM images
    WHERE storage_key IS NULL AND content_type IS NOT NULL AND image_id > %(after)s
    ORDER BY image_id
    LIMIT %(limit)s
"""

COUNT_LEGACY = """
    SELECT count(*) FROM images WHERE storage_key IS NULL AND content_type IS NOT NULL
"""

# Only a row still in the old layout, with the same file name: a concurrent
# migration (another process starting) or a new upload wins, and this copy
# of the key is then removed by its caller.
MOVE_TO_KEY = """
    UPDATE images
    SET storage_key = %(key)s, content_type = %(content_type)s, size = %(size)s,
        sha256 = %(sha256)s, width = %(width)s, height = %(height)s
    WHERE image_id = %(image_id)s AND storage_key IS NULL AND content_type IS NOT NULL
      AND filename = %(filename)s
"""


@dataclass(frozen=True)
class LegacyFile:
    image_id: int
    filename: str
    sha256: str


async def legacy_files(cur: Any, after: int, *, limit: int) -> list[LegacyFile]:
    """Rows whose file is still where the layout before keys put it, in id order."""
    await cur.execute(SELECT_LEGACY, {"after": after, "limit": limit})
    return [LegacyFile(int(row[0]), row[1], row[2]) for row in await cur.fetchall()]


async def count_legacy(cur: Any) -> int:
    await cur.execute(COUNT_LEGACY)
    (count,) = await cur.fetchone()
    return int(count)


async def move_to_key(cur: Any, image_id: int, filename: str, facts: FileFacts) -> bool:
    """Point a legacy row at its key; False when the row had changed meanwhile."""
    await cur.execute(MOVE_TO_KEY, {"image_id": image_id, "filename": filename, **asdict(facts)})
    return bool(cur.rowcount == 1)
