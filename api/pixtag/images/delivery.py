"""The bytes of a stored file in the response itself, from either backend.

``/media`` answers a local file with ``sendfile`` and an S3 one with a
redirect; the seeds' download URLs (the file server's ``download``, the file
drop, a share's download) answer 200 with the bytes, whatever the backend,
so a download can be counted only once it was sent.
"""

from aiohttp import web

from pixtag.storage.backend import Storage
from pixtag.storage.disposition import content_disposition

# Stored bytes are the uploader's: never sniffed into something else, never run.
MEDIA_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}
HEADERS = {**MEDIA_HEADERS, "Cache-Control": "private, no-store"}


async def send_file(
    request: web.Request,
    storage: Storage,
    key: str,
    *,
    content_type: str,
    filename: str,
    size: int,
    inline: bool = False,
) -> web.StreamResponse:
    """Answer the bytes of ``key`` as a download named ``filename`` (HEAD: the headers);
    ``inline``: to be shown, not saved.

    Returns once every byte is handed to the connection; a client that leaves before
    raises (``ConnectionResetError``), and the caller counts nothing."""
    resp = web.StreamResponse(
        headers={
            "Content-Type": content_type,
            "Content-Disposition": content_disposition(
                filename, kind="inline" if inline else "attachment"
            ),
            **HEADERS,
        }
    )
    resp.content_length = size
    if request.method == "HEAD":
        await resp.prepare(request)
        await resp.write_eof()
        return resp
    chunks = storage.read(key)
    first = await anext(aiter(chunks), b"")  # a missing file fails before the headers
    await resp.prepare(request)
    await resp.write(first)
    async for chunk in chunks:
        await resp.write(chunk)
    await resp.write_eof()
    return resp
