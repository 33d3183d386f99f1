"""The gallery's static files, under a version that is the hash of them all.

``/gallery/static/<version>/<name>``: the version changes whenever any file
changes, so a file under the current version can be cached forever, and the
ES modules' relative imports stay inside the same version. A stale version
(a page cached across an upgrade) still gets the current file, uncached.
"""

import hashlib
import mimetypes
from functools import cache
from pathlib import Path

from aiohttp import web

DIRECTORY = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


@cache
def files() -> dict[str, Path]:
    """The static files by name (one flat folder: a name is never a path)."""
    return {path.name: path for path in sorted(DIRECTORY.iterdir()) if path.is_file()}


@cache
def version() -> str:
    """A short hash of every static file's name and bytes."""
    digest = hashlib.sha256()
    for name, path in files().items():
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def url(request: web.Request, name: str) -> str:
    """The versioned URL of the static file ``name``."""
    router = request.app.router
    return str(router["static"].url_for(version=version(), name=name))


async def serve(request: web.Request) -> web.StreamResponse:
    """One static file; long-cached when asked for under the current version."""
    path = files().get(request.match_info["name"])
    if path is None:
        raise web.HTTPNotFound(text=f"There is no gallery file {request.match_info['name']!r}")
    current = request.match_info["version"] == version()
    content_type = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    return web.FileResponse(
        path,
        headers={
            "Cache-Control": IMMUTABLE if current else "no-cache",
            "Content-Type": content_type or "application/octet-stream",
        },
    )
