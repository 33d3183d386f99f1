"""Processing tasks: create them for existing images, read, list and restart them, and what
a processing job reads and records.

A task's status is its job's, in the seed's words (``processing_status`` in
fixtures/014_processing.sql); rows are rendered by ``processing_task_json``.
Creating tasks locks the source rows (``FOR SHARE``) so that a delete cannot
slip between the check that each source has a file and the insert.
"""

import json
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from pixtag.db.chunks import Chunks, declared
from pixtag.db.database import Database
from pixtag.errors import Conflict, DomainError, NotFound
from pixtag.images.queries.missing import missing_image

QUEUE = "processing"
KIND = "process"

# The seed's statuses, as the job statuses they stand for.
JOB_STATUSES = {
    "pending": ["queued"],
    "processing": ["running"],
    "finished": ["done"],
    "error": ["failed", "cancelled"],
}

# In id order, as every locker of several image rows takes them: no deadlock.
LOCK_SOURCES = """
    SELECT image_id, content_type IS NOT NULL
    FROM images
    WHERE image_id = ANY(%(ids)s::bigint[])
    ORDER BY image_id
    FOR SHARE
"""

CREATE = """
    WITH input AS (
        SELECT id, n FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS s(id, n)
    ), new_jobs AS (
        INSERT INTO jobs AS j (queue, kind, payload, max_attempts)
        SELECT %(queue)s, %(kind)s, jsonb_build_object('source_id', i.id), %(max_attempts)s
        FROM input AS i
        ORDER BY i.n
        RETURNING j
    ), new_tasks AS (
        INSERT INTO processing_tasks AS t (source_id, algorithm, params, job_id)
        SELECT ((nj.j).payload ->> 'source_id')::bigint, %(algorithm)s, %(params)s::json,
               (nj.j).job_id
        FROM new_jobs AS nj
        ORDER BY (nj.j).job_id
        RETURNING t.task_id
    )
    SELECT task_id FROM new_tasks ORDER BY task_id
"""

SELECT_TASK = """
    SELECT processing_task_json(t, j)::text
    FROM processing_tasks AS t JOIN jobs AS j USING (job_id)
    WHERE t.task_id = %(task_id)s
"""

LIST_TASKS = """
    SELECT processing_task_json(t, j)::text
    FROM processing_tasks AS t JOIN jobs AS j USING (job_id)
    WHERE (%(statuses)s::text[] IS NULL OR j.status = ANY(%(statuses)s::text[]))
      AND (%(after_id)s::bigint IS NULL OR t.task_id > %(after_id)s::bigint)
    ORDER BY t.task_id
    LIMIT %(limit)s::bigint
"""

SEED_LIST = """
    SELECT coalesce(json_agg(page.doc ORDER BY page.task_id), '[]')::text
    FROM (
        SELECT t.task_id, processing_task_json(t, j) AS doc
        FROM processing_tasks AS t JOIN jobs AS j USING (job_id)
        ORDER BY t.task_id
        LIMIT %(limit)s
    ) AS page
"""

# Only a task that ended in error starts again, from its first attempt.
RESTART = """
    UPDATE jobs AS j
    SET status = 'queued', attempts = 0, run_after = now(), error_code = NULL,
        error_message = NULL, started_at = NULL, finished_at = NULL
    FROM processing_tasks AS t
    WHERE t.task_id = %(task_id)s AND j.job_id = t.job_id AND j.status IN ('failed', 'cancelled')
    RETURNING processing_task_json(t, j)::text
"""

STATUS = """
    SELECT processing_status(j.status)
    FROM processing_tasks AS t JOIN jobs AS j USING (job_id)
    WHERE t.task_id = %(task_id)s
"""

FOR_JOB = """
    SELECT t.task_id, t.source_id, t.algorithm, t.params, t.result_id
    FROM processing_tasks AS t
    WHERE t.job_id = %(job_id)s
"""

SOURCE = """
    SELECT filename, tags, content_type, file_key(i)
    FROM images AS i
    WHERE image_id = %(image_id)s
"""

# The source must still be there when its result commits.
HOLD_SOURCE = "SELECT 1 FROM images WHERE image_id = %(image_id)s FOR SHARE"

RECORD_RESULT = """
    UPDATE processing_tasks SET result_id = %(result_id)s WHERE task_id = %(task_id)s
"""


class TaskNotFound(NotFound):
    def __init__(self, task_id: int) -> None:
        super().__init__(f"Task <{task_id}> is not found")


class SourcesNotFound(NotFound):
    """Some of the requested images do not exist (or were deleted)."""

    def __init__(self, ids: list[int]) -> None:
        names = ", ".join(f"<{i}>" for i in ids)
        super().__init__(f"Image{'s' if len(ids) > 1 else ''} {names} not found")
        self.extensions = {"image_ids": ids}


class SourcesWithoutFile(Conflict):
    """Some of the requested images have no file to process yet."""

    def __init__(self, ids: list[int]) -> None:
        names = ", ".join(f"<{i}>" for i in ids)
        verb = "have" if len(ids) > 1 else "has"
        super().__init__(f"Image{'s' if len(ids) > 1 else ''} {names} {verb} no file to process")
        self.extensions = {"image_ids": ids}


class NotInError(DomainError):
    status = 409


@dataclass(frozen=True)
class Task:
    """What a processing job needs to know of its task."""

    task_id: int
    source_id: int
    algorithm: str
    params: dict[str, Any]
    # Recorded by an attempt whose job was not marked done (its process died meanwhile).
    result_id: int | None = None


@dataclass(frozen=True)
class Source:
    """The source image as a job finds it."""

    filename: str
    tags: list[str]
    content_type: str | None
    key: str | None


async def create(
    cur: Any, ids: list[int], *, algorithm: str, params: dict[str, Any], max_attempts: int
) -> list[int]:
    """One queued task per source (inside the caller's transaction); their ids, in order.

    Raise ``SourcesNotFound`` or ``SourcesWithoutFile`` naming every offending id.
    """
    await cur.execute(LOCK_SOURCES, {"ids": ids})
    has_file = {int(row[0]): bool(row[1]) for row in await cur.fetchall()}
    missing = [i for i in ids if i not in has_file]
    if missing:
        raise SourcesNotFound(missing)
    without_file = [i for i in ids if not has_file[i]]
    if without_file:
        raise SourcesWithoutFile(without_file)
    query = {
        "ids": ids,
        "queue": QUEUE,
        "kind": KIND,
        "algorithm": algorithm,
        "params": json.dumps(params, separators=(",", ":")),
        "max_attempts": max_attempts,
    }
    await cur.execute(CREATE, query)
    return [int(row[0]) for row in await cur.fetchall()]


async def task_json(cur: Any, task_id: int) -> str:
    await cur.execute(SELECT_TASK, {"task_id": task_id})
    row = await cur.fetchone()
    if row is None:
        raise TaskNotFound(task_id)
    return str(row[0])


def open_tasks(
    db: Database, *, status: str | None, after_id: int | None, limit: int | None, chunk_size: int
) -> AbstractAsyncContextManager[Chunks]:
    """The tasks in id order, streamed."""
    statuses = JOB_STATUSES[status] if status else None
    params = {"statuses": statuses, "after_id": after_id, "limit": limit}
    return declared(db, LIST_TASKS, params, chunk_size=chunk_size)


async def seed_list(cur: Any, *, limit: int) -> str:
    """The first ``limit`` tasks as one JSON array (seed 003's GET /api/image-processing/)."""
    await cur.execute(SEED_LIST, {"limit": limit})
    (document,) = await cur.fetchone()
    return str(document)


async def restart(cur: Any, task_id: int) -> str:
    """Queue a task that ended in error again, from its first attempt."""
    await cur.execute(RESTART, {"task_id": task_id})
    row = await cur.fetchone()
    if row is not None:
        return str(row[0])
    await cur.execute(STATUS, {"task_id": task_id})
    found = await cur.fetchone()
    if found is None:
        raise TaskNotFound(task_id)
    raise NotInError(f"Task <{task_id}> is {found[0]}: only a task in error can be restarted")


async def for_job(cur: Any, job_id: int) -> Task:
    await cur.execute(FOR_JOB, {"job_id": job_id})
    row = await cur.fetchone()
    if row is None:
        raise LookupError(f"job {job_id} has no processing task")
    params = row[3] if isinstance(row[3], dict) else json.loads(row[3])
    return Task(int(row[0]), int(row[1]), row[2], params, row[4])


async def source(cur: Any, image_id: int) -> Source:
    """The source image; ImageNotFound or ImageGone when it is no more."""
    await cur.execute(SOURCE, {"image_id": image_id})
    row = await cur.fetchone()
    if row is None:
        raise await missing_image(cur, image_id)
    return Source(row[0], list(row[1]), row[2], row[3])


async def hold_source(cur: Any, image_id: int) -> None:
    """Keep the source from being deleted until the transaction ends; the error if it was."""
    await cur.execute(HOLD_SOURCE, {"image_id": image_id})
    if await cur.fetchone() is None:
        raise await missing_image(cur, image_id)


async def record_result(cur: Any, task_id: int, result_id: int) -> None:
    await cur.execute(RECORD_RESULT, {"task_id": task_id, "result_id": result_id})
