"""What the server writes to its log about requests: the access log and parser refusals.

The access log is one short line per request, formatted by the logging
module only when a handler will write it. aiohttp's own ``AccessLogger``
renders an Apache-style line with a localised timestamp on every request,
which cost about a third of a point read's CPU; this one costs about half
as much (``bench/access_log.py``, ``bench/RESULTS.md``), and
``PIXTAG_ACCESS_LOG=false`` turns the log off.

aiohttp answers a request its HTTP parser refuses (an unknown method, an
unsupported ``Content-Encoding``, a smuggling attempt) with a 400 itself,
and logs it as an ERROR with a traceback: any client could fill the log.
``ServerLog`` logs such a refusal as one WARNING line instead; every other
error keeps its traceback.
"""

import asyncio
import logging
import re
import sys
import time
from typing import Any
from urllib.parse import unquote, unquote_plus

from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web import BaseRequest, StreamResponse

ACCESS_LOGGER = "pixtag.access"
ACCESS_FORMAT = '%s "%s %s" %d %d %.1fms'
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Secrets a request line may carry: a share's password, a signed URL's signature, a token
# sent as a parameter, a share link's token in its path, an API token anywhere. The log
# keeps the shape of the request without them, however they are percent-encoded.
SECRET_PARAMETERS = frozenset({"password", "md5", "access_token", "token"})
SHARE_PATH = re.compile(r"^/(s|shares)/[^/]+")
API_TOKEN = re.compile(r"pxt_[^&/?#\s]*", re.IGNORECASE)
# Cheap test: a target with none of these has nothing to redact (most point reads).
MAYBE_SECRET = re.compile(r"[=%]|^/s/|^/shares/|pxt_", re.IGNORECASE)
# The log's buffer, and how long a line may wait in it.
BUFFER_SIZE = 1 << 16
FLUSH_INTERVAL = 0.25
# Long enough for the parser's reason, short enough that a client cannot write much.
REASON_LIMIT = 160


def configure(level: int = logging.INFO) -> None:
    """Log to stderr, one line per event, in ``LOG_FORMAT``, through a ``BufferedHandler``."""
    stream = open(  # noqa: SIM115  # stderr's descriptor, kept open for the process
        sys.stderr.fileno(),
        "w",
        buffering=BUFFER_SIZE,
        encoding="utf-8",
        errors="backslashreplace",
        closefd=False,
    )
    handler = BufferedHandler(stream)
    handler.setFormatter(Formatter(LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    # The format shows no thread, process or task name: not looking them up for
    # every record makes an access log line about a quarter cheaper.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.logAsyncioTasks = False  # type: ignore[attr-defined]  # 3.12, not in typeshed yet


def label(name: str) -> None:
    """Put ``[name]`` in every line from now on (the process among several that wrote it)."""
    formatter = Formatter(LOG_FORMAT.replace("%(name)s", f"[{name}] %(name)s"))
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)


class BufferedHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes every line out at once but the access log's: those wait
    in the stream's buffer until it fills, another line comes, or ``FLUSH_INTERVAL`` passes
    (``flushing``, run by the server; ``logging.shutdown`` at exit). A write per request
    cost an access log line about as much as all the rest of it (bench/RESULTS.md,
    "Workers")."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + self.terminator)
            if record.name != ACCESS_LOGGER or record.levelno >= logging.WARNING:
                self.stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def flush() -> None:
    """Write out what the log handlers hold."""
    for handler in logging.getLogger().handlers:
        handler.flush()


async def flushing() -> None:
    """``flush`` every ``FLUSH_INTERVAL`` seconds, until cancelled (then once more)."""
    try:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            flush()
    finally:
        flush()


class Formatter(logging.Formatter):
    """``logging.Formatter`` with the date and time of a second formatted once."""

    _second = -1
    _text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = second
        return f"{self._text},{int(record.msecs):03d}"


class AccessLog(AbstractAccessLogger):
    """``<client> "<method> <path>" <status> <bytes sent, headers included> <milliseconds>ms``.

    Successful health probes are logged at DEBUG: they come every few
    seconds and say nothing.
    """

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        status = response.status
        level = logging.INFO
        if status < 400 and request.path.startswith("/health/"):
            level = logging.DEBUG
            if not self.logger.isEnabledFor(level):
                return
        args = (
            request.remote,
            request.method,
            redacted(request.raw_path),
            status,
            response.body_length,
            time * 1000,
        )
        # The record made directly: Logger.log would walk the stack to find its
        # caller (always this line), a quarter of the cost of a line.
        logger = self.logger
        logger.handle(logger.makeRecord(logger.name, level, __file__, 0, ACCESS_FORMAT, args, None))

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


class ServerLog(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server logger, with requests its parser refused logged as one warning line."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logger, {})

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        refused = kwargs.get("exc_info")
        if isinstance(refused, HttpProcessingError):
            self.warning("%s: %d %s", str(msg) % args, refused.code, reason(refused))
            return
        super().exception(msg, *args, **kwargs)


def redacted(raw_path: str) -> str:
    """The request target without secrets, judged on its decoded form (``%73`` is ``s``).

    A part with a secret is written decoded and redacted, the rest as it came.
    """
    if not MAYBE_SECRET.search(raw_path):
        return raw_path
    path, mark, query = raw_path.partition("?")
    plain = decoded(path)
    if SHARE_PATH.match(plain):
        path = printable(SHARE_PATH.sub(r"/\1/***", plain))
    elif API_TOKEN.search(plain):
        path = printable(API_TOKEN.sub("pxt_***", plain))
    pairs = []
    for pair in query.split("&") if mark else ():
        name, equals, _ = pair.partition("=")
        if decoded(name, plus=True).strip().lower() in SECRET_PARAMETERS:
            pair = f"{name}{equals}***"
        elif API_TOKEN.search(decoded(pair, plus=True)):
            pair = printable(API_TOKEN.sub("pxt_***", decoded(pair, plus=True)))
        pairs.append(pair)
    return path + mark + "&".join(pairs)


def decoded(text: str, *, plus: bool = False) -> str:
    """``text`` percent-decoded until nothing changes (``%2573`` is ``s`` too: a proxy or a
    client may decode once more than the server does)."""
    for _ in range(4):
        plain = unquote_plus(text) if plus else unquote(text)
        if plain == text:
            break
        text = plain
    return text


def printable(text: str) -> str:
    """``text`` with what is not printable escaped: a decoded line break stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def reason(error: HttpProcessingError) -> str:
    """The first line of the parser's message, printable and bounded (it quotes the request)."""
    lines = (error.message or type(error).__name__).strip().splitlines() or [""]
    text = lines[0].rstrip(":")
    text = printable(text)
    return text if len(text) <= REASON_LIMIT else text[:REASON_LIMIT] + "..."
