"""Wiring renditions into the application: the builder, its thread pool, and the job handlers.

``setup`` registers the handlers of the ``renditions`` queue while the app is
built; ``renditions_ctx`` opens the thread pool renditions are rendered on
(``PIXTAG_RENDITION_WORKERS`` threads, so a batch of thumbnails never takes
more than that from the request path) and closes it after the job engine
stopped.
"""

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

from pixtag import keys
from pixtag.pacing import lower_priority
from pixtag.renditions import jobs
from pixtag.renditions.builder import Builder

RENDITIONS = web.AppKey("renditions", Builder)


def setup(app: web.Application) -> None:
    handlers = app[keys.JOB_HANDLERS]
    handlers[(jobs.QUEUE, jobs.STORED)] = lambda job: jobs.stored(app[RENDITIONS], job)
    handlers[(jobs.QUEUE, jobs.REBUILD)] = lambda job: jobs.rebuild(app[RENDITIONS], job)
    # No more jobs than rendering threads: the others' queues keep their slots.
    app[keys.JOB_LIMITS][jobs.QUEUE] = app[keys.SETTINGS].rendition_workers
    app.cleanup_ctx.append(renditions_ctx)


async def renditions_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    executor = ThreadPoolExecutor(
        settings.rendition_workers, thread_name_prefix="rendition", initializer=lower_priority
    )
    app[RENDITIONS] = Builder(
        ingest=app[keys.INGEST],
        presets={preset.name: preset for preset in settings.presets},
        eager=settings.rendition_eager,
        executor=executor,
        workers=settings.rendition_workers,
        pacer=app[keys.PACER],
        budget=app[keys.IMAGE_MEMORY],
    )
    try:
        yield
    finally:
        # Off the loop: a rendition being rendered is let finish.
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
