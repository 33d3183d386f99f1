"""The SQL of similar images: fingerprints written and found, the rungs of the ladder."""

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pixtag.images.queries.missing import missing_image

if TYPE_CHECKING:  # the ingest imports these queries; the hashing's libraries only a job
    from pixtag.similar.hashing import Fingerprint

QUEUE = "similar"
KIND = "fingerprint"
# The most pairs one fingerprint queues for review (the nearest).
PAIRS_LIMIT = 1000
# The perceptual hash searched has 64 bits; within 14 (and the 256-bit hash confirming) the
# measured recall of re-encoded, resized and edited copies was 0.965 at a precision of 0.995
# (bench/RESULTS.md, "Similar images"). Beyond 15 the index would have to look at too many
# candidates to stay fast.
DEFAULT_DISTANCE = 14
MAX_DISTANCE = 15

# A perceptual match within max_distance of the 64-bit hash is one when the 256-bit hashes
# differ in at most this many bits (bench/RESULTS.md, "Similar images"): the number fixture
# 023's similar_images holds.
DETAIL_MAX = 95

# A stored or replaced file's fingerprint: one job, for the bytes the image has when it runs.
QUEUE_STORED = """
    INSERT INTO jobs (queue, kind, payload)
    VALUES ('similar', 'fingerprint',
            jsonb_build_object('image_id', %(image_id)s::bigint, 'sha256', %(sha256)s::text))
"""

SELECT_FILE = """
    SELECT i.storage_key, i.sha256, f.image_id IS NOT NULL
    FROM images AS i
    LEFT JOIN image_fingerprints AS f ON f.image_id = i.image_id AND f.sha256 = i.sha256
    WHERE i.image_id = %(image_id)s
"""

# Written only while the image still has the fingerprinted bytes: the image's row is
# locked (FOR SHARE), so a replacement committing meanwhile is waited for, and then its new
# sha256 fails the condition (its own job fingerprints the new file).
RECORD = """
    INSERT INTO image_fingerprints AS f (image_id, sha256, pixels, phash, detail)
    SELECT image_id, sha256, %(pixels)s, %(phash)s, %(detail)s::bit(256)
    FROM images WHERE image_id = %(image_id)s AND sha256 = %(sha256)s
    FOR SHARE
    ON CONFLICT (image_id) DO UPDATE
        SET sha256 = excluded.sha256, pixels = excluded.pixels, phash = excluded.phash,
            detail = excluded.detail, indexed_at = now()
"""

# In the transaction that replaces or removes an image's file: its fingerprint and pairs go
# with the old bytes, so a fingerprint always describes the file its image has.
FORGET = """
    WITH pairs AS (
        DELETE FROM duplicate_pairs WHERE low = %(image_id)s OR high = %(image_id)s
    )
    DELETE FROM image_fingerprints WHERE image_id = %(image_id)s
"""

# The pairs a fingerprint found, but those dismissed.
RECORD_PAIRS = """
    INSERT INTO duplicate_pairs (low, high, match, distance)
    SELECT least(%(image_id)s::bigint, other), greatest(%(image_id)s::bigint, other), m, d
    FROM unnest(%(others)s::bigint[], %(matches)s::text[], %(distances)s::smallint[])
        AS found(other, m, d)
    WHERE NOT EXISTS (
        SELECT FROM duplicate_dismissals
        WHERE low = least(%(image_id)s::bigint, other)
          AND high = greatest(%(image_id)s::bigint, other)
    )
    ON CONFLICT (low, high) DO UPDATE SET match = excluded.match, distance = excluded.distance
"""

# The review queue: each image with the duplicates found after it (higher ids), most first,
# through the group sizes' index. A page ends before ``after`` (size, image id) of the
# previous page's last group.
GROUPS = """
    SELECT g.low, g.size, p.ids, p.matches, p.distances
    FROM duplicate_groups AS g
    CROSS JOIN LATERAL (
        SELECT array_agg(high ORDER BY distance, high) AS ids,
               array_agg(match ORDER BY distance, high) AS matches,
               array_agg(distance ORDER BY distance, high) AS distances
        FROM duplicate_pairs WHERE low = g.low
    ) AS p
    WHERE %(after_size)s::integer IS NULL
       OR g.size < %(after_size)s::integer
       OR (g.size = %(after_size)s::integer AND g.low > %(after_id)s::bigint)
    ORDER BY g.size DESC, g.low
    LIMIT %(limit)s
"""

# "Not duplicates": every pair among the ids, remembered, and out of the queue.
DISMISS = """
    WITH pairs AS (
        SELECT a AS low, b AS high
        FROM unnest(%(ids)s::bigint[]) AS a, unnest(%(ids)s::bigint[]) AS b
        WHERE a < b
    ), unqueued AS (
        DELETE FROM duplicate_pairs AS d USING pairs AS p
        WHERE d.low = p.low AND d.high = p.high
    )
    INSERT INTO duplicate_dismissals (low, high)
    SELECT low, high FROM pairs
    ON CONFLICT DO NOTHING
"""

SELECT_MERGED = """
    SELECT image_id, tags, description FROM images
    WHERE image_id = ANY(%(ids)s::bigint[])
"""

# Uploads of the same bytes wait for each other (PIXTAG_DUPLICATES=refuse): the first one's
# commit is what the second one's check sees. So do uploads of the same pixels.
LOCK_BYTES = "SELECT pg_advisory_xact_lock(hashtextextended(%(sha256)s, 26))"
LOCK_PIXELS = "SELECT pg_advisory_xact_lock(hashtextextended(encode(%(pixels)s, 'hex'), 27))"

# The first image whose file decodes to these pixels, but ``image_id``.
HOLDING_PIXELS = """
    SELECT image_id FROM image_fingerprints
    WHERE pixels = %(pixels)s AND image_id <> %(image_id)s
    ORDER BY image_id LIMIT 1
"""

# The images holding these bytes (the first few), for an upload's answer.
HOLDING = """
    SELECT image_id FROM images
    WHERE sha256 = %(sha256)s AND image_id <> %(image_id)s
    ORDER BY image_id LIMIT 10
"""

# The image, whether its file is fingerprinted, and the images on each rung of its ladder,
# nearest first (fixture 023's similar_images: one function for every caller).
SIMILAR = """
    SELECT i.sha256 IS NOT NULL, f.image_id IS NOT NULL, m.image_id, m.match, m.distance
    FROM images AS i
    LEFT JOIN image_fingerprints AS f ON f.image_id = i.image_id
    LEFT JOIN LATERAL similar_images(i.image_id, %(max_distance)s, %(limit)s)
        WITH ORDINALITY AS m (image_id, match, distance, n) ON true
    WHERE i.image_id = %(image_id)s
    ORDER BY m.n
"""

PROGRESS = """
    SELECT count(*) FILTER (WHERE i.sha256 IS NOT NULL),
           count(f.image_id),
           (SELECT count(*) FROM jobs
            WHERE queue = 'similar' AND status IN ('queued', 'running'))
    FROM images AS i
    LEFT JOIN image_fingerprints AS f ON f.image_id = i.image_id AND f.sha256 = i.sha256
"""

# Every image with a file and no fingerprint of it, and no job for it queued already: one
# job each (a second run resumes: what is indexed or queued is not queued again).
QUEUE_MISSING = """
    INSERT INTO jobs (queue, kind, payload)
    SELECT 'similar', 'fingerprint',
           jsonb_build_object('image_id', i.image_id, 'sha256', i.sha256)
    FROM images AS i
    LEFT JOIN image_fingerprints AS f ON f.image_id = i.image_id AND f.sha256 = i.sha256
    WHERE i.sha256 IS NOT NULL AND f.image_id IS NULL
      AND NOT EXISTS (
          SELECT FROM jobs AS j
          WHERE j.queue = 'similar' AND j.status IN ('queued', 'running')
            AND j.payload = jsonb_build_object('image_id', i.image_id, 'sha256', i.sha256)
      )
"""


@dataclass(frozen=True)
class Match:
    image_id: int
    match: str
    distance: int


@dataclass(frozen=True)
class Progress:
    with_file: int
    indexed: int
    pending: int


async def queue_stored(cur: Any, image_id: int, sha256: str) -> None:
    """In the transaction that records a file: queue its fingerprint."""
    await cur.execute(QUEUE_STORED, {"image_id": image_id, "sha256": sha256})


async def holding(cur: Any, sha256: str, *, besides: int, lock: bool = False) -> list[int]:
    """The first images (up to 10) whose file has these bytes, other than ``besides``; with
    ``lock``, after waiting for any other upload of them to end."""
    params = {"sha256": sha256, "image_id": besides}
    if lock:
        await cur.execute(LOCK_BYTES, params)
    await cur.execute(HOLDING, params)
    return [int(row[0]) for row in await cur.fetchall()]


async def holding_pixels(cur: Any, pixels: bytes, *, besides: int) -> int | None:
    """After waiting for any other upload of these pixels to end: the first image whose
    fingerprinted file has them, other than ``besides``."""
    params = {"pixels": pixels, "image_id": besides}
    await cur.execute(LOCK_PIXELS, params)
    await cur.execute(HOLDING_PIXELS, params)
    row = await cur.fetchone()
    return None if row is None else int(row[0])


async def record_found(
    cur: Any, image_id: int, sha256: str, found: "Fingerprint", max_distance: int
) -> list[Match] | None:
    """Store the fingerprint of the file ``sha256`` and queue the pairs it makes for review
    (the nearest ``PAIRS_LIMIT`` within ``max_distance``); None if the image has other bytes
    now (or is gone)."""
    if not await record(cur, image_id, sha256, found):
        return None
    _, pairs = await similar(cur, image_id, max_distance, PAIRS_LIMIT)
    await record_pairs(cur, image_id, pairs)
    return pairs


# The most near duplicates an answer lists (an upload's, a capture's): the nearest.
ANSWER_LIMIT = 10


async def near_duplicates(cur: Any, image_id: int) -> list[Match]:
    """The images on each rung of ``image_id``'s ladder within the default distance, the
    first ``ANSWER_LIMIT``: what an upload's or a capture's answer lists."""
    _, matches = await similar(cur, image_id, DEFAULT_DISTANCE, ANSWER_LIMIT)
    return matches


def listed(matches: list[Match]) -> str:
    """``matches`` as the compact JSON list an answer shows."""
    return json.dumps(
        [{"image_id": m.image_id, "match": m.match, "distance": m.distance} for m in matches],
        separators=(",", ":"),
    )


async def forget(cur: Any, image_id: int) -> None:
    """In the transaction that replaces the image's file: drop the old file's fingerprint."""
    await cur.execute(FORGET, {"image_id": image_id})


async def record_pairs(cur: Any, image_id: int, found: "list[Match]") -> None:
    """Queue the pairs a fingerprint found for review (but those dismissed)."""
    params = {
        "image_id": image_id,
        "others": [m.image_id for m in found],
        "matches": [m.match for m in found],
        "distances": [m.distance for m in found],
    }
    await cur.execute(RECORD_PAIRS, params)


async def groups(
    cur: Any, after: tuple[int, int] | None, limit: int
) -> list[tuple[int, list[Match]]]:
    """A page of the review queue: each group's image id and its duplicates, nearest first."""
    size, image_id = after if after is not None else (None, None)
    await cur.execute(GROUPS, {"after_size": size, "after_id": image_id, "limit": limit})
    return [
        (int(low), [Match(int(i), m, int(d)) for i, m, d in zip(ids, matches, dists, strict=True)])
        for low, _, ids, matches, dists in await cur.fetchall()
    ]


async def dismiss(cur: Any, ids: list[int]) -> None:
    await cur.execute(DISMISS, {"ids": ids})


async def merged(cur: Any, ids: list[int]) -> dict[int, tuple[list[str], str]]:
    """The tags and description of each of ``ids`` (locked by the caller)."""
    await cur.execute(SELECT_MERGED, {"ids": ids})
    return {int(r[0]): (list(r[1]), r[2]) for r in await cur.fetchall()}


@dataclass(frozen=True)
class File:
    key: str | None  # None: no file
    sha256: str | None
    indexed: bool  # this file is fingerprinted


async def file_of(cur: Any, image_id: int) -> File | None:
    """The image's file, and whether it is fingerprinted; None: no such image."""
    await cur.execute(SELECT_FILE, {"image_id": image_id})
    row = await cur.fetchone()
    return None if row is None else File(row[0], row[1], bool(row[2]))


async def record(cur: Any, image_id: int, sha256: str, found: "Fingerprint") -> bool:
    """Store the fingerprint of the file ``sha256``; False if the image has other bytes now
    (or is gone)."""
    params = {
        "image_id": image_id,
        "sha256": sha256,
        "pixels": found.pixels,
        "phash": found.phash,
        "detail": found.detail,
    }
    await cur.execute(RECORD, params)
    return bool(cur.rowcount)


async def similar(
    cur: Any, image_id: int, max_distance: int, limit: int
) -> tuple[bool, list[Match]]:
    """Whether the image's file is fingerprinted, and the images on each rung within
    ``max_distance``, nearest first; ImageNotFound or ImageGone if there is no such image."""
    await cur.execute(SIMILAR, {"image_id": image_id, "max_distance": max_distance, "limit": limit})
    rows = await cur.fetchall()
    if not rows:
        raise await missing_image(cur, image_id)
    indexed = bool(rows[0][1])
    return indexed, [Match(int(r[2]), r[3], int(r[4])) for r in rows if r[2] is not None]


async def progress(cur: Any) -> Progress:
    await cur.execute(PROGRESS)
    with_file, indexed, pending = await cur.fetchone()
    return Progress(int(with_file), int(indexed), int(pending))


async def queue_missing(cur: Any) -> int:
    """Queue a fingerprint job for each image with a file not fingerprinted; how many."""
    await cur.execute(QUEUE_MISSING)
    return int(cur.rowcount)
