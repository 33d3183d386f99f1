"""Typed keys for what the whole application shares in its state.

A feature's own objects (the capturer, the rendition builder, the processor,
the authenticator) live under keys declared next to them; this module holds
the shared ones and imports no feature, so it closes no import cycle.
"""

from collections.abc import Callable
from typing import Any

from aiohttp import web

from pixtag.auth.signing import MediaSigner
from pixtag.db.database import Database
from pixtag.images.ingest import Ingest
from pixtag.imaging import MemoryBudget
from pixtag.inflight import InFlight
from pixtag.jobs.engine import Engine, Handler
from pixtag.pacing import Pacer
from pixtag.settings import Settings
from pixtag.storage.backend import Storage

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
IN_FLIGHT = web.AppKey("in_flight", InFlight)
# Background image work yields to requests through it.
PACER = web.AppKey("pacer", Pacer)
# The decoded pixels image work in this process holds at once (renditions and processing).
IMAGE_MEMORY = web.AppKey("image_memory", MemoryBudget)
STORAGE = web.AppKey("storage", Storage)
INGEST = web.AppKey("ingest", Ingest)
# Job handlers by (queue, kind), registered while the app is built; the engine, once started.
JOB_HANDLERS: web.AppKey[dict[tuple[str, str], Handler]] = web.AppKey("job_handlers")
# At most this many running jobs of a queue in a process, registered with the handlers.
JOB_LIMITS: web.AppKey[dict[str, int]] = web.AppKey("job_limits")
JOBS = web.AppKey("jobs", Engine)
# Signs media URLs (share links always; every media URL when media is behind auth).
MEDIA_SIGNER = web.AppKey("media_signer", MediaSigner)
# The step that completes the OpenAPI document aiohttp-pydantic generates.
type OpenAPIFinish = Callable[[dict[str, Any]], dict[str, Any]]
OPENAPI_FINISH: web.AppKey[OpenAPIFinish] = web.AppKey("openapi_finish")
