"""Running the server: start, say what was chosen, serve until a signal, say what stopped.

aiohttp's ``run_app`` would run the application too, but it prints a banner
instead of logging, and a port already in use reaches the caller as one
``OSError`` among all those start-up can raise. Here the steps are apart:
the application starts (database, fixtures, storage: their own errors name
them), then the listening socket opens (``ListenError`` if it cannot), then
SIGINT or SIGTERM stops accepting connections, lets in-flight requests
finish (up to ``SHUTDOWN_TIMEOUT`` seconds) and closes everything in turn.
"""

import asyncio
import logging
import os
import signal
import sys

import aiohttp
from aiohttp import web

import pixtag
from pixtag.app import create_app
from pixtag.logs import ACCESS_LOGGER, AccessLog, ServerLog
from pixtag.settings import Settings

log = logging.getLogger("pixtag")

SHUTDOWN_TIMEOUT = 30.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class ListenError(Exception):
    """The address cannot be listened on; the message says why, in one line."""


def serve(settings: Settings) -> None:
    """Serve the application on ``settings.host:settings.port`` until SIGINT or SIGTERM."""
    asyncio.run(_serve(settings))


def runner(settings: Settings) -> web.AppRunner:
    """The application's runner, with pixtag's access log (or none) and server log."""
    access: dict[str, object] = {"access_log": None}
    if settings.access_log:
        access = {"access_log": logging.getLogger(ACCESS_LOGGER), "access_log_class": AccessLog}
    return web.AppRunner(
        create_app(settings),
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        logger=ServerLog(logging.getLogger("aiohttp.server")),
        **access,  # type: ignore[arg-type]
    )


async def _serve(settings: Settings) -> None:
    log.info(
        "pixtag %s starting (Python %s, aiohttp %s)",
        pixtag.__version__,
        sys.version.split()[0],
        aiohttp.__version__,
    )
    loop = asyncio.get_running_loop()
    stop: asyncio.Future[signal.Signals] = loop.create_future()

    def on_signal(signum: signal.Signals) -> None:
        if not stop.done():
            stop.set_result(signum)

    # Before start-up, so that a signal during a slow start still stops cleanly.
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    app_runner = runner(settings)
    try:
        await app_runner.setup()
        try:
            site = web.TCPSite(app_runner, settings.host, settings.port)
            try:
                await site.start()
            except OSError as error:
                raise ListenError(f"cannot listen on {site.name}: {_reason(error)}") from None
            log.info("listening on %s", site.name)
            received = await stop
            log.info(
                "%s received: closing %s to new connections; in-flight requests have %d s",
                received.name,
                site.name,
                SHUTDOWN_TIMEOUT,
            )
        finally:
            await app_runner.cleanup()
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    log.info("pixtag stopped")


def _reason(error: OSError) -> str:
    """``address already in use``, ``permission denied``: the system's words, in lower case."""
    if error.errno and error.errno > 0:
        return os.strerror(error.errno).lower()
    return (error.strerror or str(error)).lower()
