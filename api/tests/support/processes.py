"""Real processes and real faults: `pixtag` subprocesses, and a proxy that loses a COMMIT.

Also the one place tests reach PostgreSQL behind the application's back:
``sql`` runs one statement on its own connection, ``connection`` opens one
a test keeps (a lock, a transaction, a session setting) and closes it.

``ServeProcess`` runs ``python -m pixtag serve`` on a free port and waits
until it answers HTTP; it can be killed with any signal and started again on
the same data. ``CommitFaultProxy`` sits between the application and
PostgreSQL, reads just enough of the wire protocol to see a ``COMMIT``, and,
when armed, loses the connection around it: before the server gets it (not
committed) or after the server answered (committed, but the client never
learns it).
"""

import asyncio
import contextlib
import enum
import http.client
import inspect
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO, Any, Self
from urllib.parse import parse_qs, urlsplit

import psutil
import psycopg2

PIXTAG = [sys.executable, "-m", "pixtag"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def connection(database_url: str, *, autocommit: bool = False) -> Iterator[Any]:
    """A psycopg2 connection of the test's own (outside any pool), closed on exit."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = autocommit
    try:
        yield conn
    finally:
        conn.close()


def sql(database_url: str, statement: str, params: tuple | dict = ()) -> list[tuple]:
    """Run one statement on its own connection (autocommit); the rows it returns, if any.
    The statement is always formatted with ``params``: a literal ``%`` is written ``%%``."""
    with connection(database_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchall() if cur.description else []


def pixtag_env(**settings: str) -> dict[str, str]:
    """This environment without any ``PIXTAG_*`` of the caller's, plus ``settings``.

    No thumbnail is queued by a store unless the test asks
    (``PIXTAG_RENDITION_EAGER``): its jobs and files stay the ones it made.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTAG_")}
    env["PIXTAG_RENDITION_EAGER"] = ""
    env["PIXTAG_SIMILAR_INDEX"] = "false"
    env.update(settings)
    return env


def run_pixtag(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run one ``pixtag`` command to its end; its output is captured as text."""
    return subprocess.run(
        [*PIXTAG, *args],
        env=env if env is not None else pixtag_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_until(condition: Callable[[], object], *, within: float, what: str) -> None:
    """Poll ``condition`` until it is true; fail after ``within`` seconds naming ``what``."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        time.sleep(0.02)


async def async_wait_until(condition: Callable[[], object], *, within: float, what: str) -> None:
    """``wait_until`` for coroutines: the event loop keeps running while it polls.
    ``condition`` may be a coroutine function: its result is awaited."""
    deadline = time.monotonic() + within
    while not await _value(condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)


async def _value(result: object) -> object:
    return await result if inspect.isawaitable(result) else result


def postmaster(pgdata: Path) -> psutil.Process | None:
    """The running postmaster whose data directory is ``pgdata``, whatever its pid file says."""
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "-D" in cmdline and str(pgdata) in cmdline and proc.is_running():
            return proc
    return None


class ServeProcess:
    """``pixtag serve`` as a real process on 127.0.0.1; its output is appended to ``log``.

    ``start`` picks a fresh port each time, so a process killed without a
    clean shutdown never stands in the way of the next one.
    """

    def __init__(
        self, *args: str, log: Path, env: dict[str, str] | None = None, host: str = "127.0.0.1"
    ) -> None:
        self.args = args
        self.host = host
        self.env = env if env is not None else pixtag_env()
        self.log = log
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self._log_file: IO[str] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 120) -> Self:
        """Start the server and return once it answers an HTTP request."""
        self.spawn()
        return self.wait_answering(timeout)

    def spawn(self) -> Self:
        """Start the server and return at once."""
        assert not self.running, "already running"
        self.port = free_port()
        self._log_file = self.log.open("a", encoding="utf-8")
        self._log_file.write(f"--- pixtag serve on port {self.port}\n")
        self._log_file.flush()
        self.proc = subprocess.Popen(
            [*PIXTAG, "serve", "--host", self.host, "--port", str(self.port), *self.args],
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self

    def wait_answering(self, timeout: float = 120) -> Self:
        """Return once the started server answers an HTTP request."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while not self.answers():
            if self.proc.poll() is not None:
                self._close_log()
                raise AssertionError(
                    f"serve exited with {self.proc.returncode} before answering:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                self.kill()
                self.wait()
                raise AssertionError(f"serve did not answer within {timeout} s:\n{self.output()}")
            time.sleep(0.05)
        return self

    def answers(self) -> bool:
        """Whether the server answers HTTP at all (any status will do)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
        try:
            conn.request("GET", "/images/0")
            return conn.getresponse().status > 0
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        """Wait for the process to end; its exit status (negative: the signal that ended it)."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is not None:
                self._close_log()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Ask the server to shut down (SIGTERM by default) and return its exit status."""
        self.kill(sig)
        return self.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # However the test ended, no server outlives it.
        if self.running:
            self.kill()
            self.wait()
        self._close_log()


class Fault(enum.Enum):
    """How the proxy loses the connection that sends the armed COMMIT."""

    # PostgreSQL gets the COMMIT and commits; its answer never reaches the client.
    LOSE_ANSWER = "lose-answer"
    # The connection drops before the COMMIT is sent on: PostgreSQL rolls back.
    LOSE_COMMIT = "lose-commit"
    # PostgreSQL commits; its answer is held back and the connection kept open, so the
    # client waits, not knowing yet (the test may kill it meanwhile).
    HOLD_ANSWER = "hold-answer"


# Untyped start-up packets (the first ones a client sends), by their request code.
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


class CommitFaultProxy:
    """A TCP proxy on 127.0.0.1 in front of PostgreSQL that can lose one COMMIT.

    It refuses SSL and GSS encryption itself (as a plain server would), so the
    protocol stays readable; then it forwards message by message, and the
    first ``COMMIT`` (a simple Query) after ``arm`` loses its connection as
    the fault says. Everything else passes unchanged.
    """

    def __init__(self, database_url: str) -> None:
        parts = urlsplit(database_url)
        host = parse_qs(parts.query).get("host", [parts.hostname or "localhost"])[0]
        self.user = parts.username or "postgres"
        self.database = parts.path.lstrip("/") or self.user
        self._upstream: Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]
        if host.startswith("/"):
            socket_path = Path(host) / f".s.PGSQL.{parts.port or _server_port(database_url)}"
            self._upstream = lambda: asyncio.open_unix_connection(socket_path)
        else:
            address = (host, parts.port or 5432)
            self._upstream = lambda: asyncio.open_connection(*address)
        self._server: asyncio.Server | None = None
        self._armed: tuple[Fault, asyncio.Future[str]] | None = None
        self._links: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """The database URL through the proxy."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    async def start(self) -> Self:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.cancel()
        await asyncio.gather(*self._links, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def arm(self, fault: Fault) -> asyncio.Future[str]:
        """Lose the next COMMIT any connection sends; the future says what PostgreSQL did
        with it ("committed", "error", or "not sent")."""
        assert self._armed is None, "already armed"
        fired: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._armed = (fault, fired)
        return fired

    def _take(self) -> tuple[Fault, asyncio.Future[str]] | None:
        armed, self._armed = self._armed, None
        return armed

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._links.add(task)
        try:
            upstream_reader, upstream_writer = await self._upstream()
        except OSError:
            writer.transport.abort()
            self._links.discard(task)
            return
        link = _Link(self, reader, writer, upstream_reader, upstream_writer)
        try:
            await link.run()
        finally:
            self._links.discard(task)


class _Link:
    """One client connection and its server connection."""

    def __init__(
        self,
        proxy: CommitFaultProxy,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        server_reader: asyncio.StreamReader,
        server_writer: asyncio.StreamWriter,
    ) -> None:
        self.proxy = proxy
        self.client_reader, self.client_writer = client_reader, client_writer
        self.server_reader, self.server_writer = server_reader, server_writer
        # Set once the armed COMMIT went to the server: its answer is kept back.
        self.losing_answer: asyncio.Future[str] | None = None
        self.holding = False

    async def run(self) -> None:
        pumps = [
            asyncio.create_task(self._client_to_server()),
            asyncio.create_task(self._server_to_client()),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            # Abrupt, like a network failure: no goodbye on either side.
            self.client_writer.transport.abort()
            self.server_writer.transport.abort()

    async def _client_to_server(self) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await self._startup()
            while True:
                head = await self.client_reader.readexactly(5)
                body = await self.client_reader.readexactly(int.from_bytes(head[1:]) - 4)
                if head[:1] == b"Q" and body.rstrip(b"\0").strip().upper() == b"COMMIT":
                    armed = self.proxy._take()
                    if armed is not None:
                        fault, fired = armed
                        if fault is Fault.LOSE_COMMIT:
                            fired.set_result("not sent")
                            return
                        self.losing_answer = fired
                        self.holding = fault is Fault.HOLD_ANSWER
                self.server_writer.write(head + body)
                await self.server_writer.drain()

    async def _startup(self) -> None:
        """Forward the untyped start-up packet, refusing encryption on the server's behalf."""
        while True:
            head = await self.client_reader.readexactly(4)
            body = await self.client_reader.readexactly(int.from_bytes(head) - 4)
            code = int.from_bytes(body[:4])
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                self.client_writer.write(b"N")
                await self.client_writer.drain()
                continue
            self.server_writer.write(head + body)
            await self.server_writer.drain()
            return

    async def _server_to_client(self) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await self.server_reader.readexactly(5)
                body = await self.server_reader.readexactly(int.from_bytes(head[1:]) - 4)
                if self.losing_answer is not None:
                    # The COMMIT's answer: CommandComplete, or an error.
                    if head[:1] in (b"C", b"E"):
                        fired = self.losing_answer
                        if not fired.done():
                            fired.set_result("committed" if head[:1] == b"C" else "error")
                        if self.holding:
                            await asyncio.Future()  # until the link is closed
                        return
                    continue
                self.client_writer.write(head + body)
                await self.client_writer.drain()


def _server_port(database_url: str) -> int:
    """The port PostgreSQL listens on (it names its Unix socket), as the server reports it."""
    return int(sql(database_url, "SELECT current_setting('port')::int")[0][0])
