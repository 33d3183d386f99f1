"""Write a declared cursor to the client as a chunked JSON or NDJSON document.

The first chunk is fetched before the headers go out, so a bad query or an
unreachable database still answers a proper problem+json status. Once the
headers are out the status can no longer change: a failure then aborts the
connection without the terminating chunk, and the client sees an incomplete
transfer instead of a truncated document that parses as complete. Each write
waits for the socket to drain (back-pressure) but no longer than the stream's
idle bound, so a stalled reader cannot hold a pooled connection forever.
While a chunk is written the next one is already being fetched, so the
database and the socket work side by side.
"""

import asyncio
import json
import logging
from contextlib import AbstractAsyncContextManager

from aiohttp import HttpVersion11, web

from pixtag.db.stream import CursorStream

log = logging.getLogger(__name__)

JSON = "application/json"
NDJSON = "application/x-ndjson"


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


def _json_chunk(rows: list[bytes], index: int) -> bytes:
    return (b"[[" if index == 0 else b",[") + b",".join(rows) + b"]"


def _json_end(total: int, chunks: int) -> bytes:
    totals = json.dumps({"totalImages": total, "totalChunks": chunks}).encode()
    return (b"[" if chunks == 0 else b",") + totals + b"]"


def _ndjson_chunk(rows: list[bytes], index: int) -> bytes:
    return b"\n".join(rows) + b"\n"


async def _settle(fetch: "asyncio.Future[list[bytes]]") -> None:
    """Let a FETCH in flight finish, so the connection is idle before its transaction ends."""
    try:
        await asyncio.wait([fetch])
    finally:
        if not fetch.done():
            fetch.cancel()
        elif not fetch.cancelled():
            fetch.exception()  # seen: the error that stopped the stream is the one reported


async def stream_document(
    request: web.Request,
    opened: AbstractAsyncContextManager[CursorStream],
    *,
    ndjson: bool,
    write_timeout: float,
) -> web.StreamResponse:
    """Stream every chunk of the cursor as one document; see the module docstring."""
    resp = web.StreamResponse(headers={"Vary": "Accept"})
    resp.content_type = NDJSON if ndjson else JSON
    render = _ndjson_chunk if ndjson else _json_chunk

    async def write(data: bytes) -> None:
        async with asyncio.timeout(write_timeout):
            await resp.write(data)

    try:
        async with opened as cursor:
            rows = await cursor.fetch()
            if request.method == "HEAD":
                return resp  # the status and headers GET would send, and no body
            if request.version >= HttpVersion11:
                resp.enable_chunked_encoding()  # else the end of the body is the close
            await resp.prepare(request)
            total = chunks = 0
            while rows:
                # PostgreSQL renders the next chunk while this one goes out.
                ahead = asyncio.ensure_future(cursor.fetch())
                try:
                    await write(render(rows, chunks))
                except BaseException:
                    await _settle(ahead)
                    raise
                total += len(rows)
                chunks += 1
                rows = await ahead
            if not ndjson:
                await write(_json_end(total, chunks))
    except Exception as error:
        if not resp.prepared:
            raise
        # Headers are out: the only honest signal left is an incomplete transfer.
        if isinstance(error, ConnectionResetError):
            log.info("client left during %s", request.path_qs)
        else:
            log.warning("stream of %s aborted", request.path_qs, exc_info=True)
        if request.transport is not None:
            request.transport.abort()
    return resp
