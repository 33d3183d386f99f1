"""The metadata backfill's SQL: progress, one job per file not read, and recording a read.

A job names the image and the sha256 of the file it is to read; recording
checks the image still has that file (a replacement read its own at ingest)
in the statement that writes, so a job that ran late changes nothing.
"""

from dataclasses import asdict, dataclass
from typing import Any

from pixtag.images.queries.attachments import FileFacts

QUEUE = "metadata"
KIND = "read"

PROGRESS = """
    SELECT count(*) FILTER (WHERE i.sha256 IS NOT NULL),
           count(*) FILTER (WHERE i.sha256 IS NOT NULL AND i.metadata_read >= %(version)s),
           (SELECT count(*) FROM jobs WHERE queue = 'metadata' AND status IN ('queued', 'running'))
    FROM images AS i
"""

# One job per image whose file is not read by this reader (every file, with "all"), and no
# job for it queued already: a second run resumes.
QUEUE_UNREAD = """
    INSERT INTO jobs (queue, kind, payload)
    SELECT 'metadata', 'read',
           jsonb_build_object('image_id', i.image_id, 'sha256', i.sha256, 'all', %(all)s)
    FROM images AS i
    WHERE i.sha256 IS NOT NULL
      AND (%(all)s OR i.metadata_read IS NULL OR i.metadata_read < %(version)s)
      AND NOT EXISTS (
          SELECT FROM jobs AS j
          WHERE j.queue = 'metadata' AND j.status IN ('queued', 'running')
            AND j.payload ->> 'image_id' = i.image_id::text
            AND j.payload ->> 'sha256' = i.sha256
      )
    ORDER BY i.image_id
"""

SELECT_FILE = """
    SELECT file_key(i), i.content_type, i.sha256, i.size, i.metadata_read
    FROM images AS i WHERE i.image_id = %(image_id)s
"""

# The file's facts, if the image still has that file; a date set by hand stays, and the
# keywords join the tags (through the tag rules' trigger, as on every write of tags).
RECORD = """
    UPDATE images AS i
    SET width = %(width)s, height = %(height)s,
        taken_at = CASE WHEN i.taken_by_hand THEN i.taken_at ELSE %(taken_at)s END,
        taken_offset = CASE WHEN i.taken_by_hand THEN i.taken_offset ELSE %(taken_offset)s END,
        metadata = %(metadata)s::json, metadata_read = %(metadata_read)s,
        tags = i.tags || ARRAY(
            SELECT k FROM unnest(%(keywords)s::text[]) AS k WHERE k <> ALL (i.tags)
        )
    WHERE i.image_id = %(image_id)s AND i.sha256 = %(sha256)s
"""


@dataclass(frozen=True)
class Progress:
    with_file: int
    read: int
    pending: int


@dataclass(frozen=True)
class StoredFile:
    key: str | None
    content_type: str | None
    sha256: str | None
    size: int | None
    read_by: int | None  # the reader version that read it, if any


async def progress(cur: Any, version: int) -> Progress:
    await cur.execute(PROGRESS, {"version": version})
    with_file, read, pending = await cur.fetchone()
    return Progress(int(with_file), int(read), int(pending))


async def queue_unread(cur: Any, version: int, *, every: bool) -> int:
    """Queue a job per file not read by ``version`` (``every``: per file); how many."""
    await cur.execute(QUEUE_UNREAD, {"version": version, "all": every})
    return int(cur.rowcount)


async def stored_file(cur: Any, image_id: int) -> StoredFile | None:
    await cur.execute(SELECT_FILE, {"image_id": image_id})
    row = await cur.fetchone()
    return None if row is None else StoredFile(*row)


async def record(cur: Any, image_id: int, facts: FileFacts) -> bool:
    """Record what the file ``facts.sha256`` says, if the image still has it; whether it
    did."""
    params = {**asdict(facts), "keywords": list(facts.keywords), "image_id": image_id}
    await cur.execute(RECORD, params)
    return bool(cur.rowcount == 1)


# The distinct names starting with a prefix, in order, each found by one step along the
# name's index (a loose index scan: as fast on a million photos of three cameras as on
# three photos), at most ``limit``.
_NAMES = """
    WITH RECURSIVE found(name, n) AS (
        (SELECT {name}, 1 FROM images AS i WHERE {name} LIKE %(pattern)s
         ORDER BY 1 LIMIT 1)
        UNION ALL
        SELECT (SELECT {name} FROM images AS i WHERE {name} > f.name AND {name} LIKE %(pattern)s
                ORDER BY 1 LIMIT 1),
               f.n + 1
        FROM found AS f WHERE f.name IS NOT NULL AND f.n < %(limit)s
    )
    SELECT name FROM found WHERE name IS NOT NULL
"""
NAMES = {
    "camera": _NAMES.replace("{name}", 'photo_camera(i.metadata) COLLATE "C"'),
    "lens": _NAMES.replace("{name}", 'photo_lens(i.metadata) COLLATE "C"'),
}


async def names(cur: Any, fact: str, pattern: str, limit: int) -> list[str]:
    """The camera (``fact`` "camera") or lens names matching the LIKE ``pattern``."""
    await cur.execute(NAMES[fact], {"pattern": pattern, "limit": limit})
    return [str(row[0]) for row in await cur.fetchall()]
