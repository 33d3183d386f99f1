"""What the processing views ask: create tasks, in one transaction with their jobs."""

from typing import Any

from pixtag.db.database import Database
from pixtag.processing import queries


async def create(
    db: Database, ids: list[int], *, algorithm: str, params: dict[str, Any], max_attempts: int
) -> list[int]:
    """One queued task per image; their ids. Every image must exist and have a file."""
    async with db.transaction() as cur:
        return await queries.create(
            cur, ids, algorithm=algorithm, params=params, max_attempts=max_attempts
        )


async def restart(db: Database, task_id: int) -> str:
    """Queue a task that ended in error again, from its first attempt; its JSON."""
    async with db.cursor() as cur:
        return await queries.restart(cur, task_id)
