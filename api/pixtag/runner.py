"""Running the server: start, say what was chosen, serve until a signal, stop gracefully.

aiohttp's ``run_app`` would run the application too, but it prints a banner
instead of logging, a port already in use reaches the caller as one
``OSError`` among all those start-up can raise, and its shutdown begins by
closing every connection: a closing connection reads nothing more, so an
upload in flight stalls until the timeout and dies unanswered. Here the
steps are apart:

1. the application starts (database, fixtures, storage: their own errors
   name them), then the listening socket opens (``ListenError`` if it cannot);
2. on SIGTERM or SIGINT, listening stops: new connections are refused;
3. the requests in flight finish, bodies still being read, for up to
   ``PIXTAG_SHUTDOWN_TIMEOUT`` seconds; responses sent meanwhile close their
   connection, so kept-alive clients go elsewhere;
4. aiohttp's own shutdown: idle connections close, requests still running
   are cancelled, and ``cleanup_ctx`` closes the storage, the pool and the
   embedded server, each saying so.
"""

import asyncio
import logging
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor

import aiohttp
import uvloop
from aiohttp import web

import pixtag
from pixtag import keys, logs
from pixtag.app import create_app
from pixtag.inflight import InFlight
from pixtag.logs import ACCESS_LOGGER, AccessLog, ServerLog
from pixtag.protocol import ProblemAppRunner
from pixtag.settings import Settings

log = logging.getLogger("pixtag")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# Once the requests are done (or out of time): how long their responses may take to go out.
WRITE_OUT_TIMEOUT = 5.0
# aiohttp's run_app default: how long an idle kept-alive connection stays open.
KEEPALIVE_TIMEOUT = 75.0
# Worker threads for blocking file work (asyncio.to_thread). Uploads spend most of
# their time waiting in fsync: asyncio's default (CPUs + 4) lets 6 of them wait at
# once, and the file system commits concurrent fsyncs together (bench/RESULTS.md).
IO_THREADS = 32


class ListenError(Exception):
    """The address cannot be listened on; the message says why, in one line."""


def serve(settings: Settings) -> None:
    """Serve the application on ``settings.host:settings.port`` until SIGINT or SIGTERM."""
    loop_factory = uvloop.new_event_loop if settings.uvloop else None
    asyncio.run(_serve(settings), loop_factory=loop_factory)


def runner[R: ProblemAppRunner](
    settings: Settings,
    runner_class: type[R] = ProblemAppRunner,  # type: ignore[assignment]
) -> R:
    """The application's runner, with pixtag's access log (or none) and server log, and
    problem+json for the requests aiohttp's parser refuses (see pixtag.protocol)."""
    access: dict[str, object] = {"access_log": None}
    if settings.access_log:
        access = {"access_log": logging.getLogger(ACCESS_LOGGER), "access_log_class": AccessLog}
    return runner_class(
        create_app(settings),
        handle_signals=False,
        keepalive_timeout=KEEPALIVE_TIMEOUT,
        shutdown_timeout=min(settings.shutdown_timeout, WRITE_OUT_TIMEOUT),
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
    loop.set_default_executor(ThreadPoolExecutor(IO_THREADS, thread_name_prefix="pixtag-io"))
    stop: asyncio.Future[signal.Signals] = loop.create_future()

    def on_signal(signum: signal.Signals) -> None:
        if not stop.done():
            stop.set_result(signum)

    # Before start-up, so that a signal during a slow start still stops cleanly.
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    app_runner: ProblemAppRunner = runner(settings)
    flusher = asyncio.create_task(logs.flushing())
    try:
        try:
            # Inside: a start that fails part way closes what it had opened (the pool,
            # the embedded server) before the error is reported.
            await app_runner.setup()
            site = web.TCPSite(app_runner, settings.host, settings.port)
            try:
                await site.start()
            except OSError as error:
                raise ListenError(f"cannot listen on {site.name}: {os_reason(error)}") from None
            log.info("listening on %s", site.name)
            received = await stop
            log.info(
                "%s received: closing %s to new connections; in-flight requests have %g s",
                received.name,
                site.name,
                settings.shutdown_timeout,
            )
            await site.stop()
            await drain(app_runner.app[keys.IN_FLIGHT], settings.shutdown_timeout)
        finally:
            await app_runner.cleanup()
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
        flusher.cancel()
    log.info("pixtag stopped")


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


def os_reason(error: OSError) -> str:
    """``address already in use``, ``permission denied``: the system's words, in lower case."""
    if error.errno and error.errno > 0:
        return os.strerror(error.errno).lower()
    return (error.strerror or str(error)).lower()
