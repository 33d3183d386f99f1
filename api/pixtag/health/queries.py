"""The readiness probe's statement."""

from typing import Any


async def ping(cur: Any) -> None:
    """One round trip to the database."""
    await cur.execute("SELECT 1")
    await cur.fetchone()
