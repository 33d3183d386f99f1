"""Write a listing to the client as a chunked JSON or NDJSON document.

The first chunk is fetched before the headers go out, so a bad query or an
unreachable database still answers a proper problem+json status. Once the
headers are out the status can no longer change: a failure then aborts the
connection without the terminating chunk, and the client sees an incomplete
transfer instead of a truncated document that parses as complete. Each write
waits for the socket to drain (back-pressure) but no longer than the stream's
idle bound, so a stalled reader cannot hold a pooled connection forever.
A reader that keeps taking a little now and then passes every idle bound, so
the stream also has a minimum rate: every byte the client has taken earns
``1 / min_rate`` seconds (after a short grace for the start), and a write
still waiting when the time earned runs out aborts the stream like any other
late failure. Taken, not written: bytes still in the socket's send queue
(``SIOCOUTQ``) or the transport's buffer do not count, so the megabytes a
kernel buffers for a stalled reader do not buy it minutes.
The listing's trailer (the ``after`` token of a full page) goes into the
closing totals object: headers are long gone by then, so a ``Link`` header
cannot carry it.

One client (its token, else its address: ``X-Forwarded-For`` as far back
as ``PIXTAG_TRUSTED_PROXIES`` vouch for it) streams at most
``PIXTAG_MAX_STREAMS_PER_CLIENT`` listings at once (``db.stream``), so one
client cannot take every slot: the next is a 429.

For a client that accepts gzip, each chunk is compressed and flushed on its
own (``pixtag.compression.GzipStream``) as it goes out, never the document
at once; a large chunk is compressed in a worker thread (zlib lets go of the
GIL), so the next FETCH is read meanwhile.
"""

import asyncio
import contextlib
import fcntl
import functools
import ipaddress
import json
import logging
import socket
import struct
import termios
from contextlib import AbstractAsyncContextManager

from aiohttp import HttpVersion11, web

from pixtag import keys
from pixtag.compression import GzipStream, accepts_gzip, vary
from pixtag.db.chunks import Chunks
from pixtag.db.stream import STREAM_CLIENT
from pixtag.errors import QUERY_CANCELED
from pixtag.logs import redacted

log = logging.getLogger(__name__)

type IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

JSON = "application/json"
NDJSON = "application/x-ndjson"
# Time every stream has before its minimum rate applies (TCP slow start, a slow first read).
RATE_GRACE = 5.0
# How often a write that waits for its client looks at how much the client has taken.
RATE_CHECK = 0.5
# Chunks at least this long are compressed in a worker thread, shorter ones in the loop.
THREAD_COMPRESS_SIZE = 64 * 1024


class _Stream(web.StreamResponse):
    """A streamed response whose headers go out with its first bytes, in one send: its first
    rows are in hand when it is prepared (aiohttp buffers a plain ``Response``'s alike)."""

    _send_headers_immediately = False


class TooSlow(Exception):
    """The client did not read the stream fast enough (or at all)."""


@functools.lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _trusted(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(remote: str, forwarded: str, trusted: tuple[str, ...]) -> str:
    """The client's address: the peer's, or, from a trusted proxy, the last address of
    ``X-Forwarded-For`` that no trusted proxy added."""
    networks = _networks(trusted)
    address = remote
    if networks and _trusted(address, networks):
        for hop in reversed([hop.strip() for hop in forwarded.split(",") if hop.strip()]):
            address = hop
            if not _trusted(hop, networks):
                break
    return address


def wants_ndjson(request: web.Request) -> bool:
    """Whether the client's Accept header prefers NDJSON to JSON."""
    quality = {JSON: -1.0, NDJSON: -1.0}
    for item in request.headers.get("Accept", "").split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        if media_type.lower() in quality:
            q = 1.0
            for param in params:
                key, _, value = param.partition("=")
                if key.strip() == "q":
                    try:
                        q = float(value)
                    except ValueError:
                        q = 0.0
            quality[media_type.lower()] = q
    return quality[NDJSON] > 0 and quality[NDJSON] >= quality[JSON]


def json_piece(rows: list[bytes], written: int, chunk_size: int) -> bytes:
    """The document's bytes for ``rows``, after ``written`` rows: an inner array opens every
    ``chunk_size`` rows and closes once full (the last one, if short, by ``json_end``)."""
    parts = []
    start = 0
    while start < len(rows):
        at = written + start
        room = chunk_size - at % chunk_size
        part = rows if start == 0 and room >= len(rows) else rows[start : start + room]
        opening = (b"[[" if at == 0 else b",[") if at % chunk_size == 0 else b","
        parts.append(opening + b",".join(part) + (b"]" if len(part) == room else b""))
        start += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def json_end(total: int, chunk_size: int, trailer: dict[str, str], totals_name: str) -> bytes:
    """The closing totals, after ``total`` rows (closing a chunk left short)."""
    chunks = -(-total // chunk_size)
    totals = json.dumps({totals_name: total, "totalChunks": chunks, **trailer}).encode()
    opening = b"[" if total == 0 else b"]," if total % chunk_size else b","
    return opening + totals + b"]"


def plain_piece(rows: list[bytes], written: int, chunk_size: int) -> bytes:
    """The bytes of ``rows`` in one flat array (the seeds' lists), after ``written`` rows."""
    return (b"[" if written == 0 else b",") + b",".join(rows)


def _ndjson_piece(rows: list[bytes], written: int, chunk_size: int) -> bytes:
    return b"\n".join(rows) + b"\n"


async def stream_document(
    request: web.Request,
    opened: AbstractAsyncContextManager[Chunks],
    *,
    totals_name: str = "totalImages",
    plain: bool = False,
) -> web.StreamResponse:
    """Stream every chunk of the cursor as one document; see the module docstring.

    JSON, or NDJSON when the request asks for it. A write may wait the stream's
    idle bound for the client, and with ``PIXTAG_STREAM_MIN_RATE`` no longer than
    the stream has earned. ``totals_name`` names the row count in the closing
    totals of the JSON document; ``plain`` makes it one flat array of the rows with no
    totals (the seeds' lists).
    """
    settings = request.app[keys.SETTINGS]
    if STREAM_CLIENT.get() is None:  # not a token's (auth_middleware): the address's
        forwarded = request.headers.get("X-Forwarded-For", "")
        address = client_address(request.remote or "", forwarded, settings.trusted_proxies)
        STREAM_CLIENT.set(f"address {address}")
    ndjson = wants_ndjson(request)
    write_timeout = settings.stream_idle_timeout_ms / 1000
    min_rate = settings.stream_min_rate
    resp = _Stream(headers={"Vary": "Accept"})
    resp.content_type = NDJSON if ndjson else JSON
    vary(resp, "Accept-Encoding")
    gzip = GzipStream() if accepts_gzip(request) else None
    if gzip is not None:
        resp.headers["Content-Encoding"] = "gzip"
    render = _ndjson_piece if ndjson else plain_piece if plain else json_piece
    loop = asyncio.get_running_loop()
    started = sent = 0.0

    async def write(data: bytes, *, last: bool = False) -> None:
        nonlocal sent
        if gzip is not None:
            compress = gzip.finish if last else gzip.compress
            if len(data) >= THREAD_COMPRESS_SIZE:
                data = await asyncio.to_thread(compress, data)
            else:
                data = compress(data)
        sent += len(data)
        idle_deadline = loop.time() + write_timeout
        # The last bytes go out with the chunked body's end, in one send.
        sending = asyncio.ensure_future(resp.write_eof(data) if last else resp.write(data))
        try:
            while not (await asyncio.wait({sending}, timeout=RATE_CHECK))[0]:
                now = loop.time()
                # What the client took, not what was handed to the kernel: megabytes of a
                # stalled reader's stream can sit in socket buffers.
                behind = min_rate and now > started + RATE_GRACE + taken(request, sent) / min_rate
                if behind or now > idle_deadline:
                    raise TooSlow(
                        f"{taken(request, sent):.0f} bytes taken in {now - started:.1f} s"
                    )
            sending.result()
        finally:
            sending.cancel()

    try:
        async with opened as listing:
            chunk_iter = aiter(listing)
            rows: list[bytes] = await anext(chunk_iter, [])
            if request.method == "HEAD":
                return resp  # the status and headers GET would send, and no body
            if request.version >= HttpVersion11:
                resp.enable_chunked_encoding()  # else the end of the body is the close
            await resp.prepare(request)
            started = loop.time()
            total = 0
            while rows:
                await write(render(rows, total, listing.chunk_size))
                total += len(rows)
                rows = await anext(chunk_iter, [])
            trailer = listing.trailer()
            if ndjson:
                end = b""
            elif plain:
                end = b"]" if total else b"[]"
            else:
                end = json_end(total, listing.chunk_size, trailer, totals_name)
            await write(end, last=True)
    except Exception as error:
        if not resp.prepared:
            raise
        # Headers are out: the only honest signal left is an incomplete transfer.
        if isinstance(error, ConnectionResetError):
            log.info("client left during %s", redacted(request.raw_path))
        elif getattr(error, "pgcode", None) == QUERY_CANCELED:
            log.info(
                "stream of %s aborted: a FETCH took longer than the statement bound",
                redacted(request.raw_path),
            )
        elif isinstance(error, TooSlow):
            log.info(
                "stream of %s aborted: too slow a reader (%s)", redacted(request.raw_path), error
            )
        else:
            log.warning("stream of %s aborted", redacted(request.raw_path), exc_info=True)
        if request.transport is not None:
            if isinstance(error, TooSlow):
                _reset_on_close(request.transport)
            request.transport.abort()
    return resp


def taken(request: web.Request, sent: float) -> float:
    """Of ``sent`` bytes written to the connection, those its client has taken: less what
    still waits in the transport's buffer and in the socket's send queue (SIOCOUTQ: not
    sent, or not acknowledged yet)."""
    transport = request.transport
    if transport is None:
        return sent
    queued = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError, ValueError):
            packed = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
            queued += struct.unpack("i", packed)[0]
    return max(0.0, sent - queued)


def _reset_on_close(transport: asyncio.BaseTransport) -> None:
    """Make closing the socket a reset: a plain close keeps the bytes already queued for a
    slow reader in the kernel (megabytes) until it reads them all, minutes later."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
