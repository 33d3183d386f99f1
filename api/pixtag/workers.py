"""``pixtag serve --workers N``: N processes answering on one address, under gunicorn.

gunicorn's arbiter is the supervisor: it listens, forks the workers that
share its socket, replaces a worker that dies (and logs how it died), and on
SIGTERM or SIGINT stops listening and gives the workers
``PIXTAG_SHUTDOWN_TIMEOUT`` (plus the time to write out and stop background
work) before it kills what is left. Each worker is aiohttp's own gunicorn
worker running pixtag's runner (``pixtag.runner.runner``: pixtag's access
log, problem+json for what aiohttp's parser refuses) whose cleanup first
stops listening and lets the requests in flight finish, bodies still being
read, as one process does (``pixtag.runner.drain``): an upload under way
when the server is told to stop completes.

What must happen once happens in the supervisor, before any worker starts:
the embedded PostgreSQL is started (and stopped when the supervisor exits),
the fixtures are applied, and the connection budget is checked
(``pixtag.db.budget``). The workers are handed the database's URL. Work in
the background that must not multiply with the workers takes a lock across
processes: the sweeper (``Database.exclusive``) and the tag count folds; the
job engine runs in every worker (jobs are claimed with ``SKIP LOCKED``).

Each line a worker logs carries ``[worker <pid>]``, the supervisor's
``[supervisor]``. The exit status is 0 when every worker stopped within its
time, 1 when one had to be killed, 3 when a worker could not start.
"""

import asyncio
import contextlib
import logging
import math
import os
import signal
import socket
import sys
from typing import Any

import psycopg2
from aiohttp.worker import GunicornUVLoopWebWorker, GunicornWebWorker
from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

import pixtag
from pixtag import keys, logs
from pixtag.db import budget, fixtures, url
from pixtag.db.embedded import EmbeddedPostgres, Watchdog
from pixtag.db.pool import reached
from pixtag.errors import one_line
from pixtag.protocol import ProblemAppRunner
from pixtag.runner import (
    KEEPALIVE_TIMEOUT,
    WRITE_OUT_TIMEOUT,
    ListenError,
    drain,
    os_reason,
    runner,
)
from pixtag.settings import Settings
from pixtag.storage.context import StorageError

log = logging.getLogger("pixtag")

# Seconds the supervisor waits without a sign of life from a worker's event loop before it
# replaces the worker (a loop blocked that long serves nobody).
HEARTBEAT_TIMEOUT = 60
# What a worker that cannot start exits with: gunicorn then stops the whole server.
WORKER_BOOT_ERROR = Arbiter.WORKER_BOOT_ERROR


def serve(settings: Settings) -> int:
    """Serve on ``settings.host:settings.port`` from ``settings.workers`` processes until
    SIGTERM or SIGINT; the exit status."""
    log.info(
        "pixtag %s starting %d workers (Python %s)",
        pixtag.__version__,
        settings.workers,
        sys.version.split()[0],
    )
    _check_address(settings)
    server = None
    if settings.database_url:
        dsn = settings.database_url
        log.info("database: %s", url.masked(dsn))
    else:
        server = EmbeddedPostgres.start(settings.postgres_dir)
        dsn = server.uri()
        log.info("database: embedded PostgreSQL at %s", settings.postgres_dir.resolve())
    try:
        if settings.database_wait > 0:
            asyncio.run(reached(dsn, settings.database_wait))
        applied = fixtures.apply(dsn)
        log.info("fixtures: %s", f"applied {', '.join(applied)}" if applied else "none pending")
        needed = budget.check(dsn, settings)
        log.info("connections: at most %d (%d per worker)", needed, needed // settings.workers)
        with contextlib.ExitStack() as watching:
            if server is not None:
                watching.enter_context(Watchdog(server))
            # A worker started while the database is away (one replaced during an outage)
            # waits for it to come back rather than stop the server.
            worker_settings = settings.model_copy(
                update={"database_url": dsn, "database_wait": math.inf}
            )
            return Supervisor(Server(worker_settings)).serve()
    finally:
        if server is not None:
            log.info("%s", server.stop())


def _check_address(settings: Settings) -> None:
    """``ListenError`` now, in one line, if the address cannot be listened on (gunicorn would
    retry for seconds, then log its own lines)."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    name = f"{settings.host}:{settings.port}"
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((settings.host.strip("[]"), settings.port))
    except OSError as error:
        raise ListenError(f"cannot listen on {name}: {os_reason(error)}") from None
    except UnicodeError:
        raise ListenError(f"cannot listen on {name}: not a host name") from None


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn's view of pixtag: its settings, and the runner each worker serves."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        settings = self.settings
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        for name, value in {
            "bind": [f"{host}:{settings.port}"],
            "workers": settings.workers,
            "worker_class": UVLoopWorker if settings.uvloop else Worker,
            "timeout": HEARTBEAT_TIMEOUT,
            "graceful_timeout": math.ceil(
                settings.shutdown_timeout + WRITE_OUT_TIMEOUT + settings.jobs_shutdown_grace + 10
            ),
            "keepalive": int(KEEPALIVE_TIMEOUT),
            "accesslog": None,  # pixtag's own, written by the runner
            "logger_class": SupervisorLog,
            "proc_name": "pixtag",
            "control_socket_disable": True,
            "pre_fork": _flush_log,  # or the worker would write the supervisor's lines again
            "post_fork": _label_worker,
        }.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        settings = self.settings

        async def worker_runner() -> ProblemAppRunner:
            return runner(settings, WorkerRunner)

        return worker_runner


def _flush_log(arbiter: Arbiter, worker: Any) -> None:
    logs.flush()


def _label_worker(arbiter: Arbiter, worker: Any) -> None:
    logs.label(f"worker {os.getpid()}")


class WorkerRunner(ProblemAppRunner):
    """A worker's runner: its cleanup lets the requests in flight finish first."""

    async def cleanup(self) -> None:
        app_settings = self.app[keys.SETTINGS]
        sites = list(self.sites)
        if sites:
            log.info(
                "shutting down: closed to new connections; in-flight requests have %g s",
                app_settings.shutdown_timeout,
            )
        for site in sites:
            await site.stop()
        await drain(self.app[keys.IN_FLIGHT], app_settings.shutdown_timeout)
        await super().cleanup()
        log.info("worker stopped")


class _Boot:
    """What both worker classes add to aiohttp's: a heartbeat as long as the event loop runs
    (start-up included: a first sweep may take longer than the heartbeat timeout), and a
    start-up failure in one line."""

    async def _run(self) -> None:
        beat = asyncio.create_task(self._beat())
        flusher = asyncio.create_task(logs.flushing())
        try:
            await super()._run()  # type: ignore[misc]
        except (psycopg2.OperationalError, fixtures.FixtureError, StorageError) as error:
            log.error("cannot start: %s", one_line(str(error)))
            raise SystemExit(WORKER_BOOT_ERROR) from None
        finally:
            beat.cancel()
            flusher.cancel()

    async def _beat(self) -> None:
        while True:
            self.notify()  # type: ignore[attr-defined]
            await asyncio.sleep(HEARTBEAT_TIMEOUT / 6)


class Worker(_Boot, GunicornWebWorker):
    """A worker on asyncio's event loop (``PIXTAG_UVLOOP=false``)."""


class UVLoopWorker(_Boot, GunicornUVLoopWebWorker):
    """A worker on uvloop's event loop."""


class SupervisorLog(glogging.Logger):  # type: ignore[misc]
    """gunicorn's messages through pixtag's logging (one format, one stream)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in list(self.error_log.handlers):
            self.error_log.removeHandler(handler)
        self.error_log.propagate = True

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        # uvloop closes the listening socket a worker stops serving; gunicorn closing it
        # again at exit finds it closed, which is no error.
        if msg.startswith("Error while closing socket") and "Bad file descriptor" in str(args):
            return
        super().info(msg, *args, **kwargs)


class Supervisor(Arbiter):  # type: ignore[misc]
    """gunicorn's arbiter, whose exit status says whether every worker stopped in time, and
    for which SIGINT (Ctrl-C) is as graceful as SIGTERM."""

    killed = False

    def serve(self) -> int:
        logs.label("supervisor")
        supervisor = os.getpid()
        try:
            self.run()
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        else:
            code = 0
        if os.getpid() != supervisor:
            # A worker, forked inside run(), ends here: what follows the call in the
            # supervisor (stopping the embedded server, exit handlers) is not its to run.
            logging.shutdown()
            os._exit(code)
        if code == 0 and self.killed:
            code = 1
        log.info("pixtag stopped (exit status %d)", code)
        return code

    def handle_int(self) -> None:
        raise StopIteration

    def kill_workers(self, sig: int) -> None:
        if sig == signal.SIGKILL and self.WORKERS:
            self.killed = True
            log.warning("workers still running after the graceful timeout are killed")
        super().kill_workers(sig)
