"""/media/{image_id}/{name}: the stored bytes (local storage), for setups without a proxy.

aiohttp's FileResponse sends the bytes, with its ETag and Last-Modified;
``pixtag.images.conditional`` decides, as RFC 9110 says, between 304, 412,
416, the whole file and one range. This view decides *which* file may be
served: only the key a record names, as a regular file inside the media
root (no symlinks, no temporary files), with the type identified at upload
rather than guessed from the name, and
``nosniff`` so that a browser never reads an image as a page. A key's bytes
never change, so it may be cached forever; the image's filename names the
download. The paths of a deleted image answer 410 here; where nginx serves
``/media`` itself, a removed file is its plain 404.
"""

import asyncio
from typing import Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import (
    r200,
    r206,
    r302,
    r304,
    r400,
    r401,
    r403,
    r404,
    r410,
    r412,
    r416,
)

from pixtag import keys
from pixtag.auth import media as media_access
from pixtag.errors import NotFound
from pixtag.images import media
from pixtag.images.conditional import DecidedFileResponse, Validators, decide
from pixtag.images.delivery import MEDIA_HEADERS
from pixtag.images.queries import attachments as queries
from pixtag.images.views.fragments import (
    CONDITIONS,
    FILE_BODY,
    FILE_HEADERS,
    NOT_MODIFIED_HEADERS,
    REDIRECT,
)
from pixtag.models import ImageId, Problem
from pixtag.openapi.fragments import BUSY, header, header_parameter
from pixtag.renditions import queries as renditions
from pixtag.storage import keys as keys_
from pixtag.storage.disposition import content_disposition
from pixtag.views.base import ProblemView

# A file that names itself an HTML page stays inert even if opened directly.
IMMUTABLE = "public, max-age=31536000, immutable"


class MediaView(ProblemView):
    """Stored files."""

    # Public: it checks signed URLs itself when media is behind auth (pixtag.auth.media),
    # and takes a Bearer token instead (the document says both).
    access: ClassVar[dict[str, str]] = {"GET": "public"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "getMedia",
            "parameters": [
                header_parameter(
                    "Range",
                    "One byte range: bytes=first-last, bytes=first- or bytes=-length (e.g."
                    " bytes=0-1023). Another unit, or several ranges: ignored, the whole file"
                    " (200).",
                ),
                header_parameter(
                    "If-Range",
                    "The file's strong ETag or exact Last-Modified date: the range only if it"
                    " names this file, else the whole file (200).",
                ),
                *CONDITIONS,
            ],
            "responses": {
                "200": {"content": FILE_BODY, "headers": FILE_HEADERS},
                **REDIRECT,
                "206": {
                    "content": FILE_BODY,
                    "headers": {"Content-Range": header("The range sent, e.g. bytes 0-1023/4096.")},
                },
                "416": {
                    "headers": {"Content-Range": header("The file's size, e.g. bytes */4096.")}
                },
                "304": {"headers": NOT_MODIFIED_HEADERS},
                **BUSY,
            },
        },
        "HEAD": {
            "operationId": "headMedia",
            "parameters": CONDITIONS,
            "responses": {
                "200": {"headers": FILE_HEADERS},
                **REDIRECT,
                "304": {"headers": NOT_MODIFIED_HEADERS},
                **BUSY,
            },
        },
    }
    bearer_accepted: ClassVar[bool] = True

    # The query string is ignored, as nginx and CDNs serving /media ignore it,
    # so that a link with a cache-busting query works wherever it is served.
    strict_query = False

    async def get(
        self, image_id: ImageId, name: str, /
    ) -> (
        r200[bytes]
        | r206[bytes]
        | r302[None]
        | r304[None]
        | r400[Problem]
        | r401[Problem]
        | r403[Problem]
        | r404[Problem]
        | r410[Problem]
        | r412[Problem]
        | r416[Problem]
    ):
        """
        The bytes of a stored file, by its key ``{image_id}/{name}``: an image's file or
        one of its renditions.

        Cached forever (``Cache-Control: immutable``): a key never changes;
        ``Content-Disposition`` carries the image's filename.

        Conditions and ranges follow RFC 9110: If-Match (strong ETag comparison,
        or ``*``), else If-Unmodified-Since, failing gives 412; If-None-Match,
        else If-Modified-Since, gives 304. ``Range`` is one byte range; the
        whole file (200) is sent instead when the unit is not ``bytes``, when
        several ranges are asked for, or when ``If-Range`` is not this file's
        strong ETag or exact Last-Modified date. The query string is ignored, but
        for ``md5`` and ``expires`` when media is behind auth (auth on, no anonymous
        reads): then only URLs the API signed are served, until they expire, or
        requests with a Bearer token.

        Tags: attachments
        Status Codes:
            200: The whole file, with ETag and Last-Modified.
            206: The requested byte range.
            302: ``{name}`` is the image's filename (a link from before storage keys): its key.
            304: Not modified (If-None-Match / If-Modified-Since).
            400: The id is not plain decimal digits between 1 and 2^63-1.
            401: Media is behind auth and a Bearer token was sent that is unknown,
                expired or revoked.
            403: Media is behind auth and the URL's signature (md5, expires) is missing or
                wrong, with no Bearer token instead.
            404: No such file.
            410: The image was deleted, or the signed URL has expired.
            412: If-Match or If-Unmodified-Since does not hold.
            416: The byte range is malformed or starts past the end (``bytes=-0`` too).
        """
        return await self.serve(image_id, name)

    async def head(
        self, image_id: ImageId, name: str, /
    ) -> (
        r200[None]
        | r302[None]
        | r304[None]
        | r400[Problem]
        | r401[Problem]
        | r403[Problem]
        | r404[Problem]
        | r410[Problem]
        | r412[Problem]
    ):
        """
        The headers of a stored file (``Range`` is ignored, as RFC 9110 asks of HEAD).

        Tags: attachments
        Status Codes:
            200: The headers the file would be served with.
            302: ``{name}`` is the image's filename (a link from before storage keys): its key.
            304: Not modified.
            400: The id is not plain decimal digits between 1 and 2^63-1.
            401: Media is behind auth and a Bearer token was sent that is unknown,
                expired or revoked.
            403: Media is behind auth and the URL's signature (md5, expires) is missing or
                wrong, with no Bearer token instead.
            404: No such file.
            410: The image was deleted, or the signed URL has expired.
            412: If-Match or If-Unmodified-Since does not hold.
        """
        return await self.serve(image_id, name)

    async def serve(self, image_id: int, name: str) -> web.StreamResponse:
        if self.settings.media_signed:
            await media_access.check(self.request)
        storage = self.request.app[keys.STORAGE]
        if storage.root is None:
            raise NotFound("Files are served from S3 storage: follow the attachment's redirect")
        async with self.db.cursor() as cur:
            current = await queries.image_file(cur, image_id)
        requested = f"{image_id}/{name}"
        if current.key is None or current.content_type is None:
            raise NotFound(f"No file {name!r} is stored for image <{image_id}>")
        content_type, download, legacy = current.content_type, current.filename, current.legacy
        if requested != current.key:
            if name == current.filename:
                # A link from before storage keys: the file now lives under its key.
                location = await storage.url(
                    current.key, filename=current.filename, content_type=current.content_type
                )
                return web.Response(status=302, headers={"Location": location})
            rendition = await self._rendition(requested)
            if rendition is None:
                raise NotFound(f"No file {name!r} is stored for image <{image_id}>")
            content_type, download, legacy = *rendition, False
        path = storage.local_path(requested)
        assert path is not None  # files live here: the storage has a root
        st = await asyncio.to_thread(media.served_file, storage.root, path)
        cache = {} if legacy else {"Cache-Control": IMMUTABLE}
        validators = Validators.of(st)
        decision = decide(self.request, validators)
        if decision.status == 304:
            return web.Response(status=304, headers={**validators.headers, **cache})
        headers = {
            "Content-Type": content_type,
            "Content-Disposition": content_disposition(download),
            **MEDIA_HEADERS,
            **cache,
        }
        return DecidedFileResponse(path, decision, headers=headers)

    async def _rendition(self, key: str) -> tuple[str, str] | None:
        """The type and download name of the rendition stored under ``key``, if one is."""
        if not keys_.is_key_name(key.partition("/")[2]):
            return None
        async with self.db.cursor() as cur:
            found = await renditions.by_key(cur, key)
        if found is None:
            return None
        content_type, preset, filename = found
        stem = filename.rsplit(".", 1)[0] or "image"
        return content_type, f"{stem}.{preset}.{keys_.EXTENSIONS[content_type]}"
