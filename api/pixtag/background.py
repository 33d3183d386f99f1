"""A task that lives as long as the application: started by a cleanup_ctx, cancelled when the
application closes (the sweeper's rounds, the tag count folds)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any


@contextlib.asynccontextmanager
async def running(work: Coroutine[Any, Any, None] | None) -> AsyncIterator[None]:
    """Run ``work`` (if any) as a task for the block; cancel it and wait for it at the end."""
    task = asyncio.create_task(work) if work is not None else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
