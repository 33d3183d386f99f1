"""Serving the application until SIGTERM or SIGINT, then shutting down gracefully.

aiohttp's ``run_app`` begins its shutdown by closing every connection, and a
closing connection reads nothing more: an upload in flight stalls until the
shutdown timeout and dies unanswered. So ``run`` stops in this order:

1. stop listening: new connections are refused;
2. let the requests in flight finish, bodies still being read, for up to
   ``PIXTAG_SHUTDOWN_TIMEOUT`` seconds; responses sent meanwhile close their
   connection, so kept-alive clients go elsewhere;
3. aiohttp's own shutdown: idle connections close, requests still running
   are cancelled, and ``cleanup_ctx`` closes the storage, the pool and the
   embedded server.
"""

import asyncio
import logging
import signal

from aiohttp import web

from pixtag import keys
from pixtag.inflight import InFlight

log = logging.getLogger(__name__)

# Once the requests are done (or out of time): how long their responses may take to go out.
WRITE_OUT_TIMEOUT = 5.0
# aiohttp's run_app default: how long an idle kept-alive connection stays open.
KEEPALIVE_TIMEOUT = 75.0


def run(app: web.Application, *, host: str, port: int, shutdown_timeout: float) -> None:
    """Serve ``app`` on ``host:port`` until SIGTERM or SIGINT; see the module docstring."""
    asyncio.run(serve(app, host=host, port=port, shutdown_timeout=shutdown_timeout))


async def serve(app: web.Application, *, host: str, port: int, shutdown_timeout: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(
        app,
        handle_signals=False,
        keepalive_timeout=KEEPALIVE_TIMEOUT,
        shutdown_timeout=min(shutdown_timeout, WRITE_OUT_TIMEOUT),
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("serving on %s", site.name)
        await stop.wait()
        await site.stop()
        await drain(app[keys.IN_FLIGHT], shutdown_timeout)
    finally:
        await runner.cleanup()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


async def drain(in_flight: InFlight, within: float) -> None:
    """Wait up to ``within`` seconds for the requests in flight to finish."""
    in_flight.draining = True
    if in_flight.count:
        log.info("shutting down: %d requests in flight, up to %g s", in_flight.count, within)
    try:
        async with asyncio.timeout(within):
            await in_flight.idle()
    except TimeoutError:
        log.warning("shutting down: %d requests still running are cancelled", in_flight.count)
