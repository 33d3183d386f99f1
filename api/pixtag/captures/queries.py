"""Captures: request them (with URL dedup), read and list them, retry or cancel them, and
record what a capture job found.

A capture's status is its job's; rows are rendered by PostgreSQL's
``capture_json`` (and ``capture_resource_json`` for seed 000's shape).
Requesting the same URL twice at once must not queue two downloads, so
requests lock their URLs (transaction advisory locks, in URL order: no
deadlock) before looking for an earlier capture.
"""

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from pixtag.db.chunks import Chunks, declared
from pixtag.db.database import Database
from pixtag.errors import DomainError, NotFound

QUEUE = "captures"
KIND = "capture"

LOCK_URLS = """
    SELECT pg_advisory_xact_lock(hashtextextended('capture ' || url, 0))
    FROM (SELECT DISTINCT url FROM unnest(%(urls)s::text[]) AS u(url) ORDER BY url) AS u
"""

# One row per distinct URL, in the order first given: the earlier capture of
# the URL (unless it failed, was cancelled, or ``force``), else a new one.
REQUEST = """
    WITH input AS (
        SELECT url, min(n) AS n FROM unnest(%(urls)s::text[]) WITH ORDINALITY AS u(url, n)
        GROUP BY url
    ), earlier AS (
        SELECT DISTINCT ON (c.url) c.url, capture_json(c, j) AS doc
        FROM captures AS c JOIN jobs AS j USING (job_id)
        WHERE NOT %(force)s AND c.url IN (SELECT url FROM input)
          AND j.status NOT IN ('failed', 'cancelled')
        ORDER BY c.url, c.capture_id DESC
    ), new_jobs AS (
        INSERT INTO jobs AS j (queue, kind, payload, max_attempts)
        SELECT %(queue)s, %(kind)s, jsonb_build_object('url', i.url), %(max_attempts)s
        FROM input AS i
        WHERE i.url NOT IN (SELECT url FROM earlier)
        ORDER BY i.n
        RETURNING j
    ), new_captures AS (
        INSERT INTO captures AS c (url, tags, filename, job_id)
        SELECT (nj.j).payload ->> 'url', %(tags)s::text[], %(filename)s, (nj.j).job_id
        FROM new_jobs AS nj
        RETURNING c
    )
    SELECT i.url,
           (CASE WHEN e.doc IS NULL THEN capture_json(nc.c, nj.j) ELSE e.doc END)::text,
           e.doc IS NULL
    FROM input AS i
    LEFT JOIN new_captures AS nc ON (nc.c).url = i.url
    LEFT JOIN new_jobs AS nj ON (nj.j).job_id = (nc.c).job_id
    LEFT JOIN earlier AS e ON e.url = i.url
    ORDER BY i.n
"""

SELECT_CAPTURE = """
    SELECT capture_json(c, j)::text, j.status
    FROM captures AS c JOIN jobs AS j USING (job_id)
    WHERE c.capture_id = %(capture_id)s
"""

LIST_CAPTURES = """
    SELECT capture_json(c, j)::text
    FROM captures AS c JOIN jobs AS j USING (job_id)
    WHERE (%(status)s::text IS NULL OR j.status = %(status)s::text)
      AND (%(after_id)s::bigint IS NULL OR c.capture_id > %(after_id)s::bigint)
    ORDER BY c.capture_id
    LIMIT %(limit)s::bigint
"""

# Seed 000: "ongoing" is queued or running, "failed" includes cancelled.
SEED_STATUSES = {
    "done": ["done"],
    "ongoing": ["queued", "running"],
    "failed": ["failed", "cancelled"],
}

LIST_RESOURCES = """
    SELECT coalesce(json_agg(page.doc ORDER BY page.capture_id), '[]')::text
    FROM (
        SELECT c.capture_id, capture_resource_json(c, j) AS doc
        FROM captures AS c JOIN jobs AS j USING (job_id)
        WHERE %(statuses)s::text[] IS NULL OR j.status = ANY(%(statuses)s::text[])
        ORDER BY c.capture_id
        LIMIT %(limit)s
    ) AS page
"""

RESOURCE_BY_URL = """
    SELECT capture_resource_json(c, j)::text
    FROM captures AS c JOIN jobs AS j USING (job_id)
    WHERE c.url = %(url)s
    ORDER BY c.capture_id DESC
    LIMIT 1
"""

# A queued capture is left as it is: retrying it asks for what is already so.
RETRY = """
    UPDATE jobs AS j
    SET status = 'queued',
        attempts = CASE WHEN j.status = 'failed' THEN 0 ELSE j.attempts END,
        run_after = CASE WHEN j.status = 'failed' THEN now() ELSE j.run_after END,
        -- Queued anew: PIXTAG_CAPTURE_MAX_TIME counts from here (FOR_JOB).
        created_at = CASE WHEN j.status = 'failed' THEN now() ELSE j.created_at END,
        error_code = CASE WHEN j.status = 'failed' THEN NULL ELSE j.error_code END,
        error_message = CASE WHEN j.status = 'failed' THEN NULL ELSE j.error_message END,
        finished_at = NULL
    FROM captures AS c
    WHERE c.capture_id = %(capture_id)s AND j.job_id = c.job_id
      AND j.status IN ('failed', 'queued')
    RETURNING capture_json(c, j)::text
"""

CANCEL = """
    UPDATE jobs AS j
    SET status = 'cancelled', finished_at = now()
    FROM captures AS c
    WHERE c.capture_id = %(capture_id)s AND j.job_id = c.job_id AND j.status = 'queued'
    RETURNING capture_json(c, j)::text
"""

STATUS = """
    SELECT j.status FROM captures AS c JOIN jobs AS j USING (job_id)
    WHERE c.capture_id = %(capture_id)s
"""

# The age counts from the capture's request, or from its job's last queueing (a retry).
FOR_JOB = """
    SELECT c.capture_id, c.url, c.tags, c.filename, c.image_id, c.duplicate,
           extract(epoch FROM clock_timestamp() - greatest(c.created_at, j.created_at))::float8
    FROM captures AS c JOIN jobs AS j USING (job_id)
    WHERE c.job_id = %(job_id)s
"""

RECORD_RESULT = """
    UPDATE captures
    SET image_id = %(image_id)s, duplicate = %(duplicate)s, size = %(size)s,
        content_type = %(content_type)s, sha256 = %(sha256)s,
        near_duplicates = %(near_duplicates)s::jsonb
    WHERE capture_id = %(capture_id)s
"""

IMAGE_WITH_FILE = """
    SELECT image_id FROM images
    WHERE sha256 = %(sha256)s AND (%(other_than)s::bigint IS NULL OR image_id <> %(other_than)s)
    ORDER BY image_id
    LIMIT 1
"""

LOCK_SHA256 = "SELECT pg_advisory_xact_lock(hashtextextended('sha256 ' || %(sha256)s, 0))"

# Tags the image lacks, appended in the capture's order.
ADD_TAGS = """
    UPDATE images
    SET tags = tags || ARRAY(SELECT t FROM unnest(%(tags)s::text[]) AS t WHERE t <> ALL(tags))
    WHERE image_id = %(image_id)s AND NOT tags @> %(tags)s::text[]
"""


class CaptureNotFound(NotFound):
    def __init__(self, capture_id: int) -> None:
        super().__init__(f"Capture <{capture_id}> is not found")


class CaptureConflict(DomainError):
    status = 409


class CaptureGone(DomainError):
    status = 410

    def __init__(self, capture_id: int) -> None:
        super().__init__(f"Capture <{capture_id}> was cancelled")


@dataclass(frozen=True)
class Requested:
    url: str
    document: str
    created: bool


@dataclass(frozen=True)
class Capture:
    """What a capture job needs to know of its capture."""

    capture_id: int
    url: str
    tags: list[str]
    filename: str | None
    # Recorded by an attempt whose job was not marked done (its process died meanwhile).
    image_id: int | None = None
    duplicate: bool = False
    # Seconds since the capture was asked for.
    age: float = 0.0


async def request(
    cur: Any,
    urls: list[str],
    *,
    tags: list[str],
    filename: str | None,
    force: bool,
    max_attempts: int,
) -> list[Requested]:
    """Capture each URL (inside the caller's transaction): the earlier capture or a new one."""
    await cur.execute(LOCK_URLS, {"urls": urls})
    params = {
        "urls": urls,
        "tags": tags,
        "filename": filename,
        "force": force,
        "queue": QUEUE,
        "kind": KIND,
        "max_attempts": max_attempts,
    }
    await cur.execute(REQUEST, params)
    return [Requested(row[0], row[1], bool(row[2])) for row in await cur.fetchall()]


async def capture_json(cur: Any, capture_id: int) -> str:
    await cur.execute(SELECT_CAPTURE, {"capture_id": capture_id})
    row = await cur.fetchone()
    if row is None:
        raise CaptureNotFound(capture_id)
    if row[1] == "cancelled":
        raise CaptureGone(capture_id)
    return str(row[0])


def open_captures(
    db: Database, *, status: str | None, after_id: int | None, limit: int | None, chunk_size: int
) -> AbstractAsyncContextManager[Chunks]:
    """The captures in id order, streamed."""
    params = {"status": status, "after_id": after_id, "limit": limit}
    return declared(db, LIST_CAPTURES, params, chunk_size=chunk_size)


async def resources(cur: Any, status: str | None, *, limit: int) -> str:
    """Seed 000's ``[Resource, ...]``, as a JSON array."""
    statuses = SEED_STATUSES[status] if status else None
    await cur.execute(LIST_RESOURCES, {"statuses": statuses, "limit": limit})
    (document,) = await cur.fetchone()
    return str(document)


async def resource_by_url(cur: Any, url: str) -> str:
    await cur.execute(RESOURCE_BY_URL, {"url": url})
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"No resource has the URL {url}")
    return str(row[0])


async def _change(cur: Any, statement: str, capture_id: int, wanted: str, verb: str) -> str:
    await cur.execute(statement, {"capture_id": capture_id})
    row = await cur.fetchone()
    if row is not None:
        return str(row[0])
    await cur.execute(STATUS, {"capture_id": capture_id})
    found = await cur.fetchone()
    if found is None:
        raise CaptureNotFound(capture_id)
    if found[0] == "cancelled":
        raise CaptureGone(capture_id)
    raise CaptureConflict(
        f"Capture <{capture_id}> is {found[0]}: only a {wanted} capture can be {verb}"
    )


async def retry(cur: Any, capture_id: int) -> str:
    """Queue a failed capture again, its attempts reset (a queued one stays as it is)."""
    return await _change(cur, RETRY, capture_id, "failed or queued", "retried")


async def cancel(cur: Any, capture_id: int) -> str:
    """Cancel a capture still waiting in the queue."""
    return await _change(cur, CANCEL, capture_id, "queued", "cancelled")


async def for_job(cur: Any, job_id: int) -> Capture:
    await cur.execute(FOR_JOB, {"job_id": job_id})
    row = await cur.fetchone()
    if row is None:
        raise LookupError(f"job {job_id} has no capture")
    return Capture(int(row[0]), row[1], list(row[2]), row[3], row[4], bool(row[5]), float(row[6]))


async def image_with_file(cur: Any, sha256: str, *, other_than: int | None = None) -> int | None:
    """The image already holding these bytes, if any."""
    await cur.execute(IMAGE_WITH_FILE, {"sha256": sha256, "other_than": other_than})
    row = await cur.fetchone()
    return None if row is None else int(row[0])


async def lock_sha256(cur: Any, sha256: str) -> None:
    """Take turns with other captures of the same bytes until the transaction ends."""
    await cur.execute(LOCK_SHA256, {"sha256": sha256})


async def add_tags(cur: Any, image_id: int, tags: list[str]) -> None:
    if tags:
        await cur.execute(ADD_TAGS, {"image_id": image_id, "tags": tags})


async def record_result(
    cur: Any,
    capture_id: int,
    *,
    image_id: int,
    duplicate: bool,
    size: int,
    content_type: str,
    sha256: str,
    near_duplicates: str | None = None,
) -> None:
    """The capture's outcome; ``near_duplicates``: the JSON list of the images its file
    copies, if it was fingerprinted."""
    params = {
        "capture_id": capture_id,
        "image_id": image_id,
        "duplicate": duplicate,
        "size": size,
        "content_type": content_type,
        "sha256": sha256,
        "near_duplicates": near_duplicates,
    }
    await cur.execute(RECORD_RESULT, params)


# Seed 001's URL queue, on captures. A URL's entry is its latest capture:
# READY waits to run while the queue is paused, TASKED is due or running while
# it is on, DONE is finished (captured, failed or cancelled: visited, and so
# never queued again by POST /queue).
SEED_QUEUE_STATUS = """
    CASE WHEN j.status IN ('done', 'failed', 'cancelled') THEN 'DONE'
         WHEN j.status = 'running' THEN 'TASKED'
         WHEN coalesce(q.enabled, true) THEN 'TASKED'
         ELSE 'READY' END
"""
SEED_QUEUE_ENTRY = f"""
    json_build_object('id', c.capture_id, 'url', c.url, 'status', {SEED_QUEUE_STATUS})::text
"""
LATEST = f"""
    SELECT DISTINCT ON (c.url) c.capture_id, c.url, j.status AS job_status,
           {SEED_QUEUE_STATUS} AS seed_status, {SEED_QUEUE_ENTRY} AS doc
    FROM captures AS c
    JOIN jobs AS j USING (job_id)
    LEFT JOIN job_queues AS q ON q.queue = j.queue
"""  # noqa: S608 - constant fragments
SEED_QUEUE = f"""
    SELECT e.doc FROM ({LATEST} ORDER BY c.url, c.capture_id DESC) AS e
    WHERE e.seed_status = ANY(%(statuses)s::text[])
    ORDER BY e.capture_id
    LIMIT %(limit)s
"""  # noqa: S608 - constant fragments; values bound
SEEN_URLS = """
    SELECT DISTINCT url FROM captures WHERE url = ANY(%(urls)s::text[])
"""
SEED_ENTRIES = f"""
    SELECT {SEED_QUEUE_ENTRY}
    FROM captures AS c
    JOIN jobs AS j USING (job_id)
    LEFT JOIN job_queues AS q ON q.queue = j.queue
    WHERE c.capture_id = ANY(%(ids)s::bigint[])
    ORDER BY c.capture_id
"""  # noqa: S608 - constant fragments; values bound
SEED_ENTRY = f"""
    SELECT e.capture_id, e.job_status, e.doc
    FROM ({LATEST} WHERE c.url = %(url)s ORDER BY c.url, c.capture_id DESC) AS e
"""  # noqa: S608 - constant fragments; values bound
CANCEL_QUEUED = """
    UPDATE jobs AS j SET status = 'cancelled', finished_at = now()
    FROM captures AS c
    WHERE c.capture_id = %(capture_id)s AND j.job_id = c.job_id AND j.status = 'queued'
"""
READY_COUNT = """
    SELECT count(*) FROM jobs WHERE queue = %(queue)s AND status = 'queued'
"""


@dataclass(frozen=True)
class SeedEntry:
    """A URL's latest capture, as seed 001's queue sees it."""

    capture_id: int
    job_status: str
    document: str


async def seed_queue(cur: Any, statuses: list[str], *, limit: int) -> list[str]:
    """The queue's entries in these seed statuses, oldest first."""
    await cur.execute(SEED_QUEUE, {"statuses": statuses, "limit": limit})
    return [row[0] for row in await cur.fetchall()]


async def seen_urls(cur: Any, urls: list[str]) -> set[str]:
    """Which of ``urls`` were ever captured (whatever became of it); lock them first."""
    await cur.execute(LOCK_URLS, {"urls": urls})
    await cur.execute(SEEN_URLS, {"urls": urls})
    return {row[0] for row in await cur.fetchall()}


async def seed_entries(cur: Any, capture_ids: list[int]) -> list[str]:
    await cur.execute(SEED_ENTRIES, {"ids": capture_ids})
    return [row[0] for row in await cur.fetchall()]


async def seed_entry(cur: Any, url: str) -> SeedEntry:
    """The latest capture of ``url``; NotFound if it was never queued."""
    await cur.execute(SEED_ENTRY, {"url": url})
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"No URL {url!r} in the queue")
    return SeedEntry(int(row[0]), row[1], row[2])


async def cancel_queued(cur: Any, capture_id: int) -> None:
    await cur.execute(CANCEL_QUEUED, {"capture_id": capture_id})


async def waiting(cur: Any) -> int:
    """How many captures wait in the queue."""
    await cur.execute(READY_COUNT, {"queue": QUEUE})
    (count,) = await cur.fetchone()
    return int(count)
