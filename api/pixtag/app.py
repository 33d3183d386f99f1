"""The application factory.

``create_app`` is synchronous and does no I/O, so the OpenAPI generator can
call it with no arguments and tests can pass their own settings; the
database, pool and other resources open in ``cleanup_ctx`` when it starts.
"""

from aiohttp import web

from pixtag import compression, gallery, keys, openapi
from pixtag.auth import cors
from pixtag.auth.authenticator import AUTH, Authenticator
from pixtag.auth.context import auth_ctx
from pixtag.auth.middleware import auth_middleware
from pixtag.captures.context import setup as setup_captures
from pixtag.db.pool import database_ctx
from pixtag.errors import problem_middleware
from pixtag.events.context import setup as setup_events
from pixtag.imaging import MemoryBudget
from pixtag.inflight import InFlight
from pixtag.jobs.context import jobs_ctx
from pixtag.metadata.context import setup as setup_metadata
from pixtag.pacing import Pacer
from pixtag.processing.context import setup as setup_processing
from pixtag.renditions.context import setup as setup_renditions
from pixtag.routes import setup_routes
from pixtag.settings import Settings
from pixtag.similar.context import setup as setup_similar
from pixtag.storage.context import storage_ctx
from pixtag.storage.sweeper import sweeper_ctx
from pixtag.tags.folding import folding_ctx


def create_app(settings: Settings | None = None) -> web.Application:
    """Build the pixtag application; nothing is opened until it starts."""
    settings = settings or Settings()
    in_flight = InFlight()  # outermost: it sees every request, for a graceful shutdown
    app = web.Application(middlewares=[in_flight.middleware, problem_middleware])
    if settings.cors_origins:
        app.middlewares.insert(1, cors.setup(app, settings.cors_origins))
    # Only when on: a server with auth off pays nothing for it per request.
    if settings.auth_enabled:
        app.middlewares.append(auth_middleware)
    app[keys.SETTINGS] = settings
    app[AUTH] = Authenticator(
        enabled=settings.auth_enabled,
        anonymous_read=settings.anonymous_read,
        cache_ttl=settings.auth_cache_ttl,
    )
    app[keys.IN_FLIGHT] = in_flight
    app[keys.PACER] = Pacer(settings.background_share)
    app[keys.IMAGE_MEMORY] = MemoryBudget(settings.image_memory_mb * 1024 * 1024)
    app.on_response_prepare.append(compression.on_response_prepare)
    app[keys.JOB_HANDLERS] = {}
    app[keys.JOB_LIMITS] = {}
    app.cleanup_ctx.extend([database_ctx, auth_ctx, storage_ctx, sweeper_ctx, folding_ctx])
    setup_captures(app)
    setup_renditions(app)
    setup_processing(app)
    setup_similar(app)
    setup_metadata(app)
    setup_events(app)
    # Last: the engine starts once what its handlers use is open, and stops first.
    app.cleanup_ctx.append(jobs_ctx)
    setup_routes(app)
    openapi.setup(app)
    gallery.setup(app)
    return app
