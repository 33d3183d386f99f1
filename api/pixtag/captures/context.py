"""Wiring captures into the application: the job handler, and the fetcher it downloads with.

``setup`` registers the handler while the app is built; ``captures_ctx``
opens the fetcher (an HTTP session with the address checks of
``pixtag.net.guard``) when the app starts and closes it after the job
engine stopped (``jobs_ctx`` comes after it).
"""

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from pixtag import keys
from pixtag.captures import queries
from pixtag.captures.job import Capturer
from pixtag.jobs.queries import Claimed
from pixtag.net.fetch import Fetcher, Timeouts
from pixtag.net.guard import Policy

CAPTURER = web.AppKey("capturer", Capturer)


def setup(app: web.Application) -> None:
    async def handler(job: Claimed) -> Any:
        return await app[CAPTURER](job)

    app[keys.JOB_HANDLERS][(queries.QUEUE, queries.KIND)] = handler
    app.cleanup_ctx.append(captures_ctx)


async def captures_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    fetcher = Fetcher(
        Policy.from_lists(settings.capture_allow, settings.capture_block_domains),
        Timeouts(
            settings.capture_connect_timeout,
            settings.capture_read_timeout,
            settings.capture_total_timeout,
        ),
        connections=max(8, settings.jobs_concurrency * 2),
    )
    await fetcher.open()
    app[CAPTURER] = Capturer(
        app[keys.DATABASE], app[keys.INGEST], fetcher, app[keys.SETTINGS].capture_max_time
    )
    try:
        yield
    finally:
        await fetcher.close()
