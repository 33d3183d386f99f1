"""Typed keys for everything the application keeps in its state."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import aiopg
from aiohttp import web

from pixtag.auth.signing import MediaSigner
from pixtag.captures.job import Capturer
from pixtag.db.stream import StreamSlots
from pixtag.inflight import InFlight
from pixtag.jobs.engine import Engine, Handler
from pixtag.pacing import Pacer
from pixtag.processing.job import Processor
from pixtag.renditions.builder import Builder
from pixtag.settings import Settings
from pixtag.storage.backend import Storage
from pixtag.storage.ingest import Ingest

if TYPE_CHECKING:  # it reads the pool through this module
    from pixtag.auth.authenticator import Authenticator

SETTINGS = web.AppKey("settings", Settings)
DATABASE_URL = web.AppKey("database_url", str)
POOL = web.AppKey("pool", aiopg.Pool)
STREAM_SLOTS = web.AppKey("stream_slots", StreamSlots)
IN_FLIGHT = web.AppKey("in_flight", InFlight)
# Background image work yields to requests through it.
PACER = web.AppKey("pacer", Pacer)
STORAGE = web.AppKey("storage", Storage)
INGEST = web.AppKey("ingest", Ingest)
# Job handlers by (queue, kind), registered while the app is built; the engine, once started.
JOB_HANDLERS: web.AppKey[dict[tuple[str, str], Handler]] = web.AppKey("job_handlers")
# At most this many running jobs of a queue in a process, registered with the handlers.
JOB_LIMITS: web.AppKey[dict[str, int]] = web.AppKey("job_limits")
JOBS = web.AppKey("jobs", Engine)
CAPTURER = web.AppKey("capturer", Capturer)
AUTH: web.AppKey["Authenticator"] = web.AppKey("auth")
# Signs media URLs (share links always; every media URL when media is behind auth).
MEDIA_SIGNER = web.AppKey("media_signer", MediaSigner)
RENDITIONS = web.AppKey("renditions", Builder)
PROCESSOR = web.AppKey("processor", Processor)
# The step that completes the OpenAPI document aiohttp-pydantic generates.
type OpenAPIFinish = Callable[[dict[str, Any]], dict[str, Any]]
OPENAPI_FINISH: web.AppKey[OpenAPIFinish] = web.AppKey("openapi_finish")
