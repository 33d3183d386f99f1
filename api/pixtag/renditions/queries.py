"""Renditions' SQL: find the source and the ready rendition, take turns building, record.

Building is single-flight across processes: the builder holds a session
advisory lock named by image, preset and source sha256 while it builds, and
looks again once it has it, so a rendition wanted by two servers at once is
built by the first and found by the second. Recording holds the image's row
``FOR SHARE``: a replacement committed meanwhile makes the new rendition
stale, and it is not recorded.
"""

import json
from dataclasses import dataclass
from typing import Any

from pixtag.images.queries.missing import missing_image

SELECT_SOURCE = """
    SELECT i.filename, i.content_type, file_key(i), i.sha256,
           r.storage_key, r.content_type, r.size
    FROM images AS i
    LEFT JOIN renditions AS r
      ON r.image_id = i.image_id AND r.preset = %(preset)s AND r.source_sha256 = i.sha256
    WHERE i.image_id = %(image_id)s
"""

LOCK = "SELECT pg_advisory_lock(hashtextextended(%(name)s, 0))"
UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%(name)s, 0))"

SOURCE_FOR_SHARE = "SELECT sha256 FROM images WHERE image_id = %(image_id)s FOR SHARE"

PREVIOUS = """
    SELECT storage_key FROM renditions
    WHERE image_id = %(image_id)s AND preset = %(preset)s
    FOR UPDATE
"""

UPSERT = """
    INSERT INTO renditions (image_id, preset, source_sha256, storage_key, content_type, size,
                            sha256, width, height)
    VALUES (%(image_id)s, %(preset)s, %(source_sha256)s, %(key)s, %(content_type)s, %(size)s,
            %(sha256)s, %(width)s, %(height)s)
    ON CONFLICT (image_id, preset) DO UPDATE
    SET source_sha256 = excluded.source_sha256, storage_key = excluded.storage_key,
        content_type = excluded.content_type, size = excluded.size, sha256 = excluded.sha256,
        width = excluded.width, height = excluded.height, built_at = now()
"""

# The image's file changed or went: its renditions (of other bytes) go with the change.
FORGET = """
    DELETE FROM renditions
    WHERE image_id = %(image_id)s AND source_sha256 IS DISTINCT FROM %(keep)s
    RETURNING storage_key
"""

# A stored or replaced file's eager renditions (the thumbnail): one job, which reads the
# presets from the settings and builds for the file the image has when it runs.
QUEUE_STORED = """
    INSERT INTO jobs (queue, kind, payload)
    VALUES ('renditions', 'stored',
            jsonb_build_object('image_id', %(image_id)s::bigint, 'sha256', %(sha256)s::text))
"""

SELECT_BY_KEY = """
    SELECT r.content_type, r.preset, i.filename
    FROM renditions AS r JOIN images AS i USING (image_id)
    WHERE r.storage_key = %(key)s
"""


@dataclass(frozen=True)
class Source:
    """An image's file, and its rendition for a preset if one is ready."""

    filename: str
    content_type: str | None
    key: str | None
    sha256: str | None
    rendition_key: str | None
    rendition_type: str | None
    rendition_size: int | None


@dataclass(frozen=True)
class Built:
    """A stored rendition, to record."""

    key: str
    content_type: str
    size: int
    sha256: str
    width: int
    height: int


def lock_name(image_id: int, preset: str, sha256: str) -> str:
    return f"rendition:{image_id}:{preset}:{sha256}"


async def source(cur: Any, image_id: int, preset: str) -> Source:
    """The image's file and its ready rendition; ImageNotFound or ImageGone if no row."""
    await cur.execute(SELECT_SOURCE, {"image_id": image_id, "preset": preset})
    row = await cur.fetchone()
    if row is None:
        raise await missing_image(cur, image_id)
    return Source(*row)


async def lock(cur: Any, name: str) -> None:
    """Wait for, then hold, the build lock ``name`` (until ``unlock`` or the session ends)."""
    await cur.execute(LOCK, {"name": name})


async def unlock(cur: Any, name: str) -> None:
    await cur.execute(UNLOCK, {"name": name})


async def record(
    cur: Any, image_id: int, preset: str, source_sha256: str, built: Built
) -> tuple[bool, str | None]:
    """In a transaction: record ``built`` if the image still has that file; return whether it
    was recorded and the key it replaced."""
    await cur.execute(SOURCE_FOR_SHARE, {"image_id": image_id})
    row = await cur.fetchone()
    if row is None or row[0] != source_sha256:
        return False, None
    params = {"image_id": image_id, "preset": preset}
    await cur.execute(PREVIOUS, params)
    previous = await cur.fetchone()
    await cur.execute(
        UPSERT,
        {
            **params,
            "source_sha256": source_sha256,
            "key": built.key,
            "content_type": built.content_type,
            "size": built.size,
            "sha256": built.sha256,
            "width": built.width,
            "height": built.height,
        },
    )
    return True, None if previous is None else previous[0]


async def forget(cur: Any, image_id: int, *, keep: str | None = None) -> list[str]:
    """Delete the image's renditions but those of the file whose sha256 is ``keep`` (its file
    changed or went); return their keys."""
    await cur.execute(FORGET, {"image_id": image_id, "keep": keep})
    return [row[0] for row in await cur.fetchall()]


async def queue_stored(cur: Any, image_id: int, sha256: str) -> None:
    """In the transaction that records a file: queue its eager renditions."""
    await cur.execute(QUEUE_STORED, {"image_id": image_id, "sha256": sha256})


async def by_key(cur: Any, key: str) -> tuple[str, str, str] | None:
    """The type, preset and image filename of the rendition stored under ``key``, if any."""
    await cur.execute(SELECT_BY_KEY, {"key": key})
    row = await cur.fetchone()
    return None if row is None else (row[0], row[1], row[2])


# One statement: the rebuild's id first, its jobs, then its row with their count.
START_REBUILD = """
    WITH rebuild AS (
        SELECT nextval(pg_get_serial_sequence('rendition_rebuilds', 'rebuild_id')) AS rebuild_id
    ), queued AS (
        INSERT INTO jobs (queue, kind, payload)
        SELECT 'renditions', 'rebuild',
               jsonb_build_object('rebuild_id', b.rebuild_id, 'image_id', i.image_id,
                                  'presets', to_jsonb(%(presets)s::text[]), 'all', %(all)s)
        FROM images AS i, rebuild AS b
        WHERE i.sha256 IS NOT NULL
          AND (%(all)s OR (
              SELECT count(*) FROM renditions AS r
              WHERE r.image_id = i.image_id AND r.source_sha256 = i.sha256
                AND r.preset = ANY(%(presets)s::text[])
          ) < cardinality(%(presets)s::text[]))
        ORDER BY i.image_id
        RETURNING 1
    )
    INSERT INTO rendition_rebuilds (rebuild_id, presets, rebuild_all, total)
    OVERRIDING SYSTEM VALUE
    SELECT b.rebuild_id, %(presets)s::text[], %(all)s, (SELECT count(*) FROM queued)
    FROM rebuild AS b
    RETURNING rebuild_id
"""

SELECT_REBUILD = """
    SELECT json_build_object(
        'rebuild_id', b.rebuild_id,
        'presets', b.presets,
        'all', b.rebuild_all,
        'total', b.total,
        'queued', count(j.job_id) FILTER (WHERE j.status = 'queued'),
        'running', count(j.job_id) FILTER (WHERE j.status = 'running'),
        'done', count(j.job_id) FILTER (WHERE j.status = 'done'),
        'failed', count(j.job_id) FILTER (WHERE j.status IN ('failed', 'cancelled')),
        'finished', count(j.job_id) FILTER (WHERE j.status IN ('queued', 'running')) = 0,
        'created_at', utc_iso(b.created_at)
    )::text
    FROM rendition_rebuilds AS b
    LEFT JOIN jobs AS j
      ON j.queue = 'renditions' AND j.kind = 'rebuild'
     AND (j.payload ->> 'rebuild_id')::bigint = b.rebuild_id
    WHERE b.rebuild_id = %(rebuild_id)s
    GROUP BY b.rebuild_id
"""


async def start_rebuild(cur: Any, presets: list[str], rebuild_all: bool) -> int:
    """Queue one job per image missing any of ``presets`` (every image with ``rebuild_all``)."""
    await cur.execute(START_REBUILD, {"presets": presets, "all": rebuild_all})
    (rebuild_id,) = await cur.fetchone()
    return int(rebuild_id)


async def rebuild_json(cur: Any, rebuild_id: int) -> str | None:
    """A rebuild's progress as JSON text, or None."""
    await cur.execute(SELECT_REBUILD, {"rebuild_id": rebuild_id})
    row = await cur.fetchone()
    return None if row is None else str(row[0])


def payload_presets(payload: dict[str, Any]) -> list[str]:
    presets = payload.get("presets", [])
    return [str(p) for p in (json.loads(presets) if isinstance(presets, str) else presets)]
