"""The application factory.

``create_app`` is synchronous and does no I/O, so the OpenAPI generator can
call it with no arguments and tests can pass their own settings; the
database, pool and other resources open in ``cleanup_ctx`` when it starts.
"""

from aiohttp import web

from pixtag import compression, gallery, keys, openapi
from pixtag.captures.context import setup as setup_captures
from pixtag.db.pool import database_ctx, pool_ctx
from pixtag.errors import problem_middleware
from pixtag.inflight import InFlight
from pixtag.jobs.context import jobs_ctx
from pixtag.routes import setup_routes
from pixtag.settings import Settings
from pixtag.storage.context import storage_ctx
from pixtag.storage.sweeper import sweeper_ctx


def create_app(settings: Settings | None = None) -> web.Application:
    """Build the pixtag application; nothing is opened until it starts."""
    settings = settings or Settings()
    in_flight = InFlight()  # outermost: it sees every request, for a graceful shutdown
    app = web.Application(middlewares=[in_flight.middleware, problem_middleware])
    app[keys.SETTINGS] = settings
    app[keys.IN_FLIGHT] = in_flight
    app.on_response_prepare.append(compression.on_response_prepare)
    app[keys.JOB_HANDLERS] = {}
    app.cleanup_ctx.extend([database_ctx, pool_ctx, storage_ctx, sweeper_ctx])
    setup_captures(app)
    # Last: the engine starts once what its handlers use is open, and stops first.
    app.cleanup_ctx.append(jobs_ctx)
    setup_routes(app)
    openapi.setup(app)
    gallery.setup(app)
    return app
