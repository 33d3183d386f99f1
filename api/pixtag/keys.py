"""Typed keys for everything the application keeps in its state."""

from collections.abc import Callable
from typing import Any

import aiopg
from aiohttp import web

from pixtag.captures.job import Capturer
from pixtag.db.stream import StreamSlots
from pixtag.inflight import InFlight
from pixtag.jobs.engine import Engine, Handler
from pixtag.processing.job import Processor
from pixtag.settings import Settings
from pixtag.storage.backend import Storage
from pixtag.storage.ingest import Ingest

SETTINGS = web.AppKey("settings", Settings)
DATABASE_URL = web.AppKey("database_url", str)
POOL = web.AppKey("pool", aiopg.Pool)
STREAM_SLOTS = web.AppKey("stream_slots", StreamSlots)
IN_FLIGHT = web.AppKey("in_flight", InFlight)
STORAGE = web.AppKey("storage", Storage)
INGEST = web.AppKey("ingest", Ingest)
# Job handlers by (queue, kind), registered while the app is built; the engine, once started.
JOB_HANDLERS: web.AppKey[dict[tuple[str, str], Handler]] = web.AppKey("job_handlers")
JOBS = web.AppKey("jobs", Engine)
CAPTURER = web.AppKey("capturer", Capturer)
PROCESSOR = web.AppKey("processor", Processor)
# The step that completes the OpenAPI document aiohttp-pydantic generates.
type OpenAPIFinish = Callable[[dict[str, Any]], dict[str, Any]]
OPENAPI_FINISH: web.AppKey[OpenAPIFinish] = web.AppKey("openapi_finish")
