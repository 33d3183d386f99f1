"""Wiring the metadata backfill into the application: its job handler and its thread."""

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from pixtag import keys
from pixtag.jobs.queries import Claimed
from pixtag.metadata import queries
from pixtag.metadata.backfill import Backfill
from pixtag.pacing import lower_priority

BACKFILL = web.AppKey("metadata_backfill", Backfill)
# Files one process reads at once: background work, one thread at low priority.
THREADS = 1


def setup(app: web.Application) -> None:
    async def handler(job: Claimed) -> dict[str, object]:
        return await app[BACKFILL](job)

    app[keys.JOB_HANDLERS][(queries.QUEUE, queries.KIND)] = handler
    app[keys.JOB_LIMITS][queries.QUEUE] = THREADS
    app.cleanup_ctx.append(metadata_ctx)


async def metadata_ctx(app: web.Application) -> AsyncIterator[None]:
    executor = ThreadPoolExecutor(
        THREADS, thread_name_prefix="metadata", initializer=lower_priority
    )
    app[BACKFILL] = Backfill(ingest=app[keys.INGEST], executor=executor, pacer=app[keys.PACER])
    try:
        yield
    finally:
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
