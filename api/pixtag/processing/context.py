"""Wiring processing into the application: the job handler and its worker threads.

``setup`` registers the handler while the app is built; ``processing_ctx``
opens the bounded thread pool Pillow works in (``PIXTAG_PROCESSING_THREADS``)
when the app starts, and shuts it down after the job engine stopped
(``jobs_ctx`` comes after it), so no task is left without its threads.
"""

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web

from pixtag import keys
from pixtag.jobs.queries import Claimed
from pixtag.processing import queries
from pixtag.processing.job import Processor

PROCESSOR = web.AppKey("processor", Processor)


def setup(app: web.Application) -> None:
    async def handler(job: Claimed) -> Any:
        return await app[PROCESSOR](job)

    app[keys.JOB_HANDLERS][(queries.QUEUE, queries.KIND)] = handler
    # No more tasks than processing threads: the others' queues keep their slots.
    app[keys.JOB_LIMITS][queries.QUEUE] = app[keys.SETTINGS].processing_threads
    app.cleanup_ctx.append(processing_ctx)


async def processing_ctx(app: web.Application) -> AsyncIterator[None]:
    threads = app[keys.SETTINGS].processing_threads
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pixtag-processing")
    app[PROCESSOR] = Processor(
        app[keys.DATABASE], app[keys.INGEST], executor, app[keys.PACER], app[keys.IMAGE_MEMORY]
    )
    try:
        yield
    finally:
        await asyncio.to_thread(executor.shutdown, wait=True)
