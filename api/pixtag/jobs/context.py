"""Starting the job engine with the application, and stopping it before what it uses closes.

Handlers are registered in ``app[keys.JOB_HANDLERS]`` by each feature while
the app is built; this context, placed after the resources handlers use,
starts the engine once they are open and stops it (running jobs finish or
are given back) before they close. ``PIXTAG_JOBS_CONCURRENCY=0`` runs no
worker in this process: it only serves the API.
"""

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from pixtag import keys
from pixtag.jobs.engine import Engine, Tuning
from pixtag.settings import Settings

log = logging.getLogger(__name__)


def tuning(settings: Settings) -> Tuning:
    return Tuning(
        concurrency=settings.jobs_concurrency,
        poll_interval=settings.jobs_poll_interval,
        lease=settings.jobs_lease,
        backoff_base=settings.jobs_backoff_base,
        backoff_max=settings.jobs_backoff_max,
        shutdown_grace=settings.jobs_shutdown_grace,
    )


async def jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    handlers = app[keys.JOB_HANDLERS]
    if settings.jobs_concurrency == 0 or not handlers:
        log.info("jobs: no worker in this process")
        yield
        return
    queues = sorted({queue for queue, _ in handlers})
    engine = Engine(
        app[keys.DATABASE],
        {kind: handler for (_, kind), handler in handlers.items()},
        queues,
        tuning(settings),
        app[keys.JOB_LIMITS],
    )
    app[keys.JOBS] = engine
    engine.start()
    try:
        yield
    finally:
        await engine.stop()
