"""gzip for JSON responses, when the client accepts it.

Every JSON answer (``application/json``, problem+json included) says
``Vary: Accept-Encoding``, and is gzipped when the request's
``Accept-Encoding`` takes gzip and the body has at least ``MIN_SIZE`` bytes:
below that, gzip's 18 bytes of framing and its set-up (about 20 us, a
tenth of a point read's CPU) buy a few dozen bytes at best
(``bench/RESULTS.md``, "Compression"). The streamed listing compresses
chunk by chunk itself (``GzipStream``, used by ``pixtag.views.stream``), each
chunk flushed so the client can decode it at once. Media files and
redirects are never compressed: their bodies are not JSON.

The level is 1: on the listing's JSON it gives 0.23 of the size against 0.20
at level 6, at a third of the CPU (``bench/RESULTS.md``).
"""

import zlib

from aiohttp import hdrs, web

LEVEL = 1
MIN_SIZE = 1024
GZIP_WBITS = 31  # zlib's wbits for a gzip header and trailer
JSON_TYPES = frozenset({"application/json", "application/problem+json"})


def accepts_gzip(request: web.BaseRequest) -> bool:
    """Whether ``Accept-Encoding`` takes gzip (by name, ``x-gzip`` or ``*``) with q > 0."""
    header = request.headers.get(hdrs.ACCEPT_ENCODING)
    if not header:
        return False
    quality: dict[str, float] = {}
    for item in header.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[coding.lower()] = q
    for name in ("gzip", "x-gzip", "*"):
        if name in quality:
            return quality[name] > 0
    return False


def vary(response: web.StreamResponse, name: str) -> None:
    """Add ``name`` to the response's ``Vary`` header, once."""
    current = response.headers.get(hdrs.VARY)
    if current is None:
        response.headers[hdrs.VARY] = name
    elif name.lower() not in (part.strip().lower() for part in current.split(",")):
        response.headers[hdrs.VARY] = f"{current}, {name}"


async def on_response_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Gzip a JSON ``web.Response`` for a client that accepts it (the streamed listing has
    already done its own)."""
    if not isinstance(response, web.Response) or response.content_type not in JSON_TYPES:
        return
    vary(response, hdrs.ACCEPT_ENCODING)
    body = response.body
    if (
        isinstance(body, bytes)
        and len(body) >= MIN_SIZE
        and hdrs.CONTENT_ENCODING not in response.headers
        and accepts_gzip(request)
    ):
        compressed = zlib.compress(body, LEVEL, wbits=GZIP_WBITS)
        response.body = compressed
        response.headers[hdrs.CONTENT_ENCODING] = "gzip"
        # The hook runs once aiohttp has set the length of the body as it was.
        if hdrs.CONTENT_LENGTH in response.headers:
            response.headers[hdrs.CONTENT_LENGTH] = str(len(compressed))


class GzipStream:
    """One gzip member written piece by piece; every piece comes out decodable at once."""

    def __init__(self) -> None:
        self._compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, GZIP_WBITS)

    def compress(self, data: bytes) -> bytes:
        """``data`` compressed and flushed (a sync flush: the stream goes on)."""
        return self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)

    def finish(self, data: bytes = b"") -> bytes:
        """``data`` and the end of the gzip member (its trailer)."""
        return self._compressor.compress(data) + self._compressor.flush(zlib.Z_FINISH)
