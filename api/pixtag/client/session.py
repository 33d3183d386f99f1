"""PixtagClient: the HTTP API as async methods returning validated models.

Listings are read as NDJSON, one image per line, so a large collection
streams through in constant memory. Failures raise ``ClientError``.
"""

import asyncio
import json
import mimetypes
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from contextlib import aclosing, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp
from pydantic import ValidationError
from yarl import URL

from pixtag.client.errors import ClientError, connection_error, server_error
from pixtag.models import Image

NDJSON = "application/x-ndjson"
DOWNLOAD_CHUNK = 256 * 1024


def parse_image(document: str | bytes) -> Image:
    try:
        return Image.model_validate_json(document)
    except ValidationError as error:
        raise ClientError(f"unexpected answer from the server: {error}") from None


class PixtagClient:
    """One HTTP session against one pixtag server; use as ``async with``."""

    def __init__(self, url: str | URL, *, connections: int = 8, token: str | None = None) -> None:
        self.url = URL(str(url))
        self._connections = connections
        # aiohttp drops it on a redirect to another origin (an S3 presigned URL).
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._connections),
            # No total limit: listings and downloads may be long, but a silent
            # server or one that never accepts is an error, not a hang.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=15, sock_read=120),
            raise_for_status=False,
            headers=self._headers,
        )
        return self

    async def __aexit__(
        self, *exc: type[BaseException] | BaseException | TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()

    def endpoint(self, *segments: str | int) -> URL:
        """The URL of a path under the server's base URL, each segment quoted."""
        url = self.url
        for segment in segments:
            url = url / str(segment)
        return url

    @asynccontextmanager
    async def request(
        self, method: str, *segments: str | int, **kwargs: Any
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """A successful response, or a ClientError saying why there is none."""
        assert self._session is not None, "use PixtagClient as an async context manager"
        url = self.endpoint(*segments)
        try:
            async with self._session.request(method, url, **kwargs) as resp:
                if resp.status >= 400:
                    raise await server_error(resp)
                yield resp
        except aiohttp.ClientError as error:
            raise connection_error(self.url, url, error) from None
        except TimeoutError:
            raise ClientError(f"request to {url} timed out") from None

    async def image(self, image_id: int) -> Image:
        """One image (a ServerError with status 404 when there is none)."""
        async with self.request("GET", "images", image_id) as resp:
            return parse_image(await resp.read())

    async def update(self, image_id: int, changes: dict[str, Any]) -> Image:
        """PATCH an image (``filename``, ``tags``, ``tags_add``, ``tags_remove``); the result."""
        async with self.request("PATCH", "images", image_id, json=changes) as resp:
            return parse_image(await resp.read())

    async def delete(self, image_id: int) -> None:
        """Delete an image and its file."""
        async with self.request("DELETE", "images", image_id):
            return None

    async def images(
        self,
        *,
        q: str | None = None,
        tag: str | None = None,
        tags_all: Sequence[str] = (),
        tags_any: Sequence[str] = (),
        sha256: str | None = None,
    ) -> AsyncGenerator[Image]:
        """Stream the images matching every given filter (``q``: the query language), in id
        order or as ``q`` sorts them."""
        params: list[tuple[str, str]] = []
        if q is not None:
            params.append(("q", q))
        if tag is not None:
            params.append(("tag", tag))
        params += [("tags_all", t) for t in tags_all]
        params += [("tags_any", t) for t in tags_any]
        if sha256 is not None:
            params.append(("sha256", sha256))
        headers = {"Accept": NDJSON}
        async with self.request("GET", "images", params=params, headers=headers) as resp:
            if resp.content_type != NDJSON:
                raise ClientError(f"the server sent {resp.content_type}, not {NDJSON}")
            async for line in resp.content:
                if line.strip():
                    yield parse_image(line)

    async def find_by_sha256(self, digest: str) -> Image | None:
        """An image whose stored file has this sha256, if the server has one."""
        async with aclosing(self.images(sha256=digest)) as images:
            async for image in images:
                # Checked here too, so a server ignoring the filter cannot fake a match.
                if image.attachment is not None and image.attachment.sha256 == digest:
                    return image
        return None

    async def create(self, path: Path, tags: Iterable[str] = ()) -> Image:
        """Create an image record and upload its file in one request."""
        meta = json.dumps({"filename": path.name, "tags": list(tags)})
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        file = await asyncio.to_thread(path.open, "rb")
        try:
            form = aiohttp.FormData()
            form.add_field("meta", meta, content_type="application/json")
            try:
                form.add_field("image", file, filename=path.name, content_type=content_type)
            except ValueError as error:
                raise ClientError(f"{path.name!r} cannot be sent: {error}") from None
            async with self.request("POST", "images", data=form) as resp:
                return parse_image(await resp.read())
        finally:
            await asyncio.to_thread(file.close)

    async def download(self, image_id: int, filename: str) -> AsyncGenerator[bytes]:
        """The stored file's bytes, through the attachment redirect to its media URL."""
        async with self.request("GET", "images", image_id, "attachment", filename) as resp:
            async for chunk in resp.content.iter_chunked(DOWNLOAD_CHUNK):
                yield chunk
