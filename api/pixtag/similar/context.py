"""Wiring similar images into the application: the fingerprint jobs and their thread."""

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from pixtag import keys
from pixtag.jobs.queries import Claimed
from pixtag.pacing import lower_priority
from pixtag.similar import queries
from pixtag.similar.service import Fingerprinter

FINGERPRINTER = web.AppKey("fingerprinter", Fingerprinter)
# Fingerprints one process computes at once: background work, one thread at low priority.
THREADS = 1


def setup(app: web.Application) -> None:
    async def handler(job: Claimed) -> dict[str, object]:
        return await app[FINGERPRINTER](job)

    app[keys.JOB_HANDLERS][(queries.QUEUE, queries.KIND)] = handler
    app[keys.JOB_LIMITS][queries.QUEUE] = THREADS
    app.cleanup_ctx.append(similar_ctx)


async def similar_ctx(app: web.Application) -> AsyncIterator[None]:
    executor = ThreadPoolExecutor(
        THREADS, thread_name_prefix="fingerprint", initializer=lower_priority
    )
    app[FINGERPRINTER] = Fingerprinter(
        db=app[keys.DATABASE],
        storage=app[keys.STORAGE],
        executor=executor,
        pacer=app[keys.PACER],
        budget=app[keys.IMAGE_MEMORY],
    )
    try:
        yield
    finally:
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
