"""The job engine's SQL: enqueue, claim, heartbeat, finish, retry, release, pause.

A claim takes one due job (queued and past ``run_after``, or running with an
expired lease: its process died) with ``FOR UPDATE SKIP LOCKED``, so
concurrent workers never wait on each other nor take the same job. Every
later change to a running job is fenced by the claim's ``token``: a worker
whose lease was taken over changes nothing.
"""

import json
from dataclasses import dataclass
from typing import Any

CLAIM = """
    WITH next AS (
        SELECT j.job_id
        FROM jobs AS j
        JOIN job_queues AS q USING (queue)
        WHERE q.enabled AND j.queue = ANY(%(queues)s::text[])
          AND ((j.status = 'queued' AND j.run_after <= now())
               OR (j.status = 'running' AND j.lease_until < now()))
        ORDER BY j.run_after, j.job_id
        LIMIT 1
        FOR UPDATE OF j SKIP LOCKED
    )
    UPDATE jobs AS j
    SET status = 'running', attempts = j.attempts + 1, token = %(token)s, worker = %(worker)s,
        lease_until = now() + make_interval(secs => %(lease)s), heartbeat_at = now(),
        started_at = now()
    FROM next
    WHERE j.job_id = next.job_id
    RETURNING j.job_id, j.queue, j.kind, j.payload, j.attempts, j.max_attempts
"""

HEARTBEAT = """
    UPDATE jobs
    SET lease_until = now() + make_interval(secs => %(lease)s), heartbeat_at = now()
    WHERE status = 'running' AND token = ANY(%(tokens)s::text[])
    RETURNING token
"""

# The running job, locked, if this claim still holds it.
HOLD = "SELECT 1 FROM jobs WHERE job_id = %(job_id)s AND token = %(token)s FOR UPDATE"

FINISH = """
    UPDATE jobs
    SET status = 'done', result = %(result)s::jsonb, token = NULL, lease_until = NULL,
        error_code = NULL, error_message = NULL, finished_at = now()
    WHERE job_id = %(job_id)s AND token = %(token)s
"""

FAIL = """
    UPDATE jobs
    SET status = 'failed', token = NULL, lease_until = NULL, error_code = %(code)s,
        error_message = %(message)s, finished_at = now()
    WHERE job_id = %(job_id)s AND token = %(token)s
"""

RETRY_LATER = """
    UPDATE jobs
    SET status = 'queued', token = NULL, lease_until = NULL, error_code = %(code)s,
        error_message = %(message)s, run_after = now() + make_interval(secs => %(delay)s)
    WHERE job_id = %(job_id)s AND token = %(token)s
"""

# Given back unfinished (shutdown): the attempt did not happen.
RELEASE = """
    UPDATE jobs
    SET status = 'queued', token = NULL, lease_until = NULL, attempts = greatest(attempts - 1, 0)
    WHERE job_id = %(job_id)s AND token = %(token)s
"""

SET_ENABLED = """
    INSERT INTO job_queues (queue, enabled) VALUES (%(queue)s, %(enabled)s)
    ON CONFLICT (queue) DO UPDATE SET enabled = excluded.enabled, changed_at = now()
"""

QUEUE_STATE = """
    SELECT coalesce((SELECT enabled FROM job_queues WHERE queue = %(queue)s), true),
           count(*) FILTER (WHERE status = 'queued'),
           count(*) FILTER (WHERE status = 'running')
    FROM jobs
    WHERE queue = %(queue)s AND status IN ('queued', 'running')
"""


@dataclass(frozen=True)
class Claimed:
    """A job this worker now runs, under ``token``."""

    job_id: int
    queue: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    token: str


@dataclass(frozen=True)
class QueueState:
    enabled: bool
    queued: int
    running: int


async def claim(
    cur: Any, queues: list[str], *, token: str, worker: str, lease: float
) -> Claimed | None:
    """Take the next due job of ``queues``, or None."""
    params = {"queues": queues, "token": token, "worker": worker, "lease": lease}
    await cur.execute(CLAIM, params)
    row = await cur.fetchone()
    if row is None:
        return None
    payload = row[3] if isinstance(row[3], dict) else json.loads(row[3])
    return Claimed(int(row[0]), row[1], row[2], payload, int(row[4]), int(row[5]), token)


async def heartbeat(cur: Any, tokens: list[str], *, lease: float) -> set[str]:
    """Extend the leases of these claims; the tokens still held."""
    await cur.execute(HEARTBEAT, {"tokens": tokens, "lease": lease})
    return {row[0] for row in await cur.fetchall()}


async def hold(cur: Any, job: Claimed) -> bool:
    """Lock the job's row for this transaction; False when the claim was lost."""
    await cur.execute(HOLD, {"job_id": job.job_id, "token": job.token})
    return await cur.fetchone() is not None


async def finish(cur: Any, job: Claimed, result: Any = None) -> bool:
    """Mark the job done with ``result``; False when the claim was lost."""
    params = {"job_id": job.job_id, "token": job.token, "result": json.dumps(result)}
    await cur.execute(FINISH, params)
    return bool(cur.rowcount)


async def fail(cur: Any, job: Claimed, code: str, message: str) -> bool:
    """Mark the job failed for good, keeping the error."""
    params = {"job_id": job.job_id, "token": job.token, "code": code, "message": message}
    await cur.execute(FAIL, params)
    return bool(cur.rowcount)


async def retry_later(cur: Any, job: Claimed, code: str, message: str, delay: float) -> bool:
    """Queue the job again, due in ``delay`` seconds, keeping the last error."""
    params = {
        "job_id": job.job_id,
        "token": job.token,
        "code": code,
        "message": message,
        "delay": delay,
    }
    await cur.execute(RETRY_LATER, params)
    return bool(cur.rowcount)


async def release(cur: Any, job: Claimed) -> bool:
    """Give the job back unfinished, as if this attempt had not started."""
    await cur.execute(RELEASE, {"job_id": job.job_id, "token": job.token})
    return bool(cur.rowcount)


async def set_enabled(cur: Any, queue: str, enabled: bool) -> None:
    await cur.execute(SET_ENABLED, {"queue": queue, "enabled": enabled})


async def queue_state(cur: Any, queue: str) -> QueueState:
    await cur.execute(QUEUE_STATE, {"queue": queue})
    enabled, queued, running = await cur.fetchone()
    return QueueState(bool(enabled), int(queued), int(running))


ENQUEUE = """
    INSERT INTO jobs (queue, kind, payload, max_attempts)
    VALUES (%(queue)s, %(kind)s, %(payload)s::jsonb, %(max_attempts)s)
    RETURNING job_id
"""


async def enqueue(
    cur: Any, queue: str, kind: str, payload: dict[str, Any], *, max_attempts: int
) -> int:
    """Add a job; the workers are notified when the transaction commits."""
    params = {
        "queue": queue,
        "kind": kind,
        "payload": json.dumps(payload),
        "max_attempts": max_attempts,
    }
    await cur.execute(ENQUEUE, params)
    (job_id,) = await cur.fetchone()
    return int(job_id)
