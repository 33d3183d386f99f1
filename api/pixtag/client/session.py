"""PixtagClient: the HTTP API as methods returning image documents.

Built on the standard library's ``http.client``, not aiohttp: a client
command spends most of its life starting up, and ``import aiohttp`` alone
costs about 0.3 s where ``http.client`` costs 0.05 s (bench/RESULTS.md).
Each thread keeps one keep-alive connection per origin, so ``import
--jobs N`` runs N uploads at once. Uploads stream the file (with its
Content-Length), downloads and NDJSON listings are read a piece at a time,
so memory stays flat whatever the size. Failures raise ``ClientError``.
"""

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self

from pixtag import __version__
from pixtag.client.documents import Image, parse_image
from pixtag.client.errors import ClientError, connection_error, server_error

NDJSON = "application/x-ndjson"
DOWNLOAD_CHUNK = 256 * 1024
LINE_BLOCK = 64 * 1024
UPLOAD_BLOCK = 256 * 1024
# A server that never accepts is an error soon; a silent one after a while.
CONNECT_TIMEOUT = 15.0
READ_TIMEOUT = 120.0
REDIRECTS = (301, 302, 303, 307, 308)
# A kept-alive connection the server has closed fails on its next use: once more, fresh.
STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)

type Body = Callable[[], Iterable[bytes]] | bytes | None


class PixtagClient:
    """HTTP sessions against one pixtag server; use as ``with``, from any number of threads."""

    def __init__(self, url: str, *, connections: int = 8, token: str | None = None) -> None:
        base = urllib.parse.urlsplit(str(url))
        self.url = urllib.parse.urlunsplit(base._replace(path=base.path.rstrip("/") + "/"))
        self.connections = connections
        self._headers = {"User-Agent": f"pixtag/{__version__}"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[http.client.HTTPConnection] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()

    def endpoint(self, *segments: str | int, params: Iterable[tuple[str, str]] = ()) -> str:
        """The URL of a path under the server's base URL, each segment quoted."""
        path = "/".join(urllib.parse.quote(str(segment), safe="") for segment in segments)
        query = urllib.parse.urlencode(list(params))
        return self.url + path + (f"?{query}" if query else "")

    def _connection(self, url: urllib.parse.SplitResult) -> http.client.HTTPConnection:
        """This thread's connection to the URL's origin, opened on first use."""
        pool: dict[str, http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        origin = f"{url.scheme}://{url.netloc}"
        conn = pool.get(origin)
        if conn is None:
            kind = (
                http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
            )
            conn = kind(url.hostname or "", url.port, timeout=CONNECT_TIMEOUT)
            pool[origin] = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def _exchange(
        self, method: str, url: str, body: Body, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        parts = urllib.parse.urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            conn = self._connection(parts)
            reused = conn.sock is not None
            if not reused:
                try:
                    conn.connect()
                except OSError as error:
                    conn.close()
                    raise connection_error(self.url, url, error, connecting=True) from None
                assert conn.sock is not None
                conn.sock.settimeout(READ_TIMEOUT)
            try:
                conn.request(method, target, body() if callable(body) else body, headers)
            except OSError as error:
                # The server may have answered early (a 413) and closed: that answer wins.
                early = _early_response(conn)
                if early is not None:
                    return early
                conn.close()
                if not (reused and isinstance(error, STALE)) or attempt == 2:
                    raise connection_error(self.url, url, error, connecting=False) from None
                continue
            except BaseException:
                conn.close()
                raise
            try:
                return conn.getresponse()
            except STALE as error:
                conn.close()
                if not reused or attempt == 2:
                    raise connection_error(self.url, url, error, connecting=False) from None
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                raise connection_error(self.url, url, error, connecting=False) from None
        raise AssertionError("unreachable")

    @contextmanager
    def request(
        self,
        method: str,
        *segments: str | int,
        params: Iterable[tuple[str, str]] | dict[str, str] = (),
        json: Any = None,
        body: Body = None,
        headers: dict[str, str] | None = None,
        follow: bool = False,
    ) -> Iterator[http.client.HTTPResponse]:
        """A successful response, or a ClientError saying why there is none.

        ``follow`` follows one redirect (which may lead to another origin: a CDN, S3).
        """
        items = params.items() if isinstance(params, dict) else params
        url = self.endpoint(*segments, params=items)
        sent = {**self._headers, **(headers or {})}
        if json is not None:
            body = _json_bytes(json)
            sent["Content-Type"] = "application/json"
        resp = self._exchange(method, url, body, sent)
        for _ in range(RETRIES):
            pause = _retry_after(resp) if method in ("GET", "HEAD") else None
            if pause is None:
                break
            # Busy (every stream slot taken, or this client's share): a read asks again
            # after the pause the server named, a few times.
            resp.read()
            time.sleep(pause)
            resp = self._exchange(method, url, body, sent)
        try:
            if follow and resp.status in REDIRECTS and resp.getheader("Location"):
                resp.read()
                url = urllib.parse.urljoin(url, resp.getheader("Location"))
                again = {**self._headers, **(headers or {})}
                if _origin(url) != _origin(self.url):
                    # A CDN or a presigned S3 URL: the server's credentials stay with it.
                    again.pop("Authorization", None)
                resp = self._exchange("GET", url, None, again)
            if resp.status >= 400:
                raise server_error(resp)
            yield resp
        except (OSError, http.client.HTTPException) as error:
            if isinstance(error, OSError) and error.filename:
                raise  # a local file's failure, in the caller's block: not the connection's
            raise connection_error(self.url, url, error, connecting=False) from None
        finally:
            if not resp.isclosed():
                # Not read to its end (an error, an early stop): the connection is spent.
                resp.close()
                self._connection(urllib.parse.urlsplit(url)).close()

    def image(self, image_id: int) -> Image:
        """One image (a ServerError with status 404 when there is none)."""
        with self.request("GET", "images", image_id) as resp:
            return parse_image(resp.read())

    def update(self, image_id: int, changes: dict[str, Any]) -> Image:
        """PATCH an image (``filename``, ``tags``, ``tags_add``, ``tags_remove``); the result."""
        with self.request("PATCH", "images", image_id, json=changes) as resp:
            return parse_image(resp.read())

    def delete(self, image_id: int) -> None:
        """Delete an image and its file."""
        with self.request("DELETE", "images", image_id) as resp:
            resp.read()

    def images(
        self,
        *,
        q: str | None = None,
        tag: str | None = None,
        tags_all: Sequence[str] = (),
        tags_any: Sequence[str] = (),
        sha256: str | None = None,
    ) -> Iterator[Image]:
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
        with self.request("GET", "images", params=params, headers={"Accept": NDJSON}) as resp:
            for line in lines(resp):
                yield parse_image(line)

    def find_by_sha256(self, digest: str) -> Image | None:
        """An image whose stored file has this sha256, if the server has one."""
        for image in self.images(sha256=digest):
            # Checked here too, so a server ignoring the filter cannot fake a match.
            if image.attachment is not None and image.attachment.sha256 == digest:
                return image
        return None

    def create(self, path: Path, tags: Iterable[str] = (), *, check_similar: bool = False) -> Image:
        """Create an image record and upload its file in one request, streamed from disk;
        with ``check_similar``, the answer lists the near duplicates on every rung."""
        meta = _json_bytes({"filename": path.name, "tags": list(tags)})
        boundary = f"pixtag-{threading.get_ident():x}-{id(path):x}"
        head = (
            _part_head(boundary, 'name="meta"', "application/json")
            + meta
            + b"\r\n"
            # The server names the file after the meta part; this name is only a courtesy.
            + _part_head(boundary, 'name="image"; filename="image"', "application/octet-stream")
        )
        tail = f"\r\n--{boundary}--\r\n".encode()
        with path.open("rb") as file:
            size = _size(file)
            headers = {
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(head) + size + len(tail)),
            }

            def body() -> Iterator[bytes]:
                file.seek(0)
                yield head
                left = size
                while left > 0 and (block := file.read(min(UPLOAD_BLOCK, left))):
                    left -= len(block)
                    yield block
                if left:
                    raise ClientError(f"{path} changed while it was being sent")
                yield tail

            params = {"check_similar": "true"} if check_similar else {}
            with self.request("POST", "images", body=body, headers=headers, params=params) as resp:
                return parse_image(resp.read())

    def download(self, image_id: int, filename: str) -> Iterator[bytes]:
        """The stored file's bytes, through the attachment redirect to its media URL."""
        with self.request("GET", "images", image_id, "attachment", filename, follow=True) as resp:
            while chunk := resp.read(DOWNLOAD_CHUNK):
                yield chunk


def lines(resp: http.client.HTTPResponse) -> Iterator[bytes]:
    """The non-empty lines of a streamed NDJSON body, as they arrive."""
    content_type = (resp.getheader("Content-Type") or "").split(";")[0].strip()
    if content_type != NDJSON:
        raise ClientError(f"the server sent {content_type or 'no content type'}, not {NDJSON}")
    # read1, not readline: readline ends quietly where a chunked body is cut short.
    pending = b""
    while block := resp.read1(LINE_BLOCK):
        *complete, pending = (pending + block).split(b"\n")
        yield from (line for line in complete if line.strip())
    if resp.length:  # a body with a Content-Length that ended early
        raise http.client.IncompleteRead(pending, resp.length)
    if pending.strip():
        yield pending


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc


def _early_response(conn: http.client.HTTPConnection) -> http.client.HTTPResponse | None:
    try:
        return conn.getresponse()
    except (OSError, http.client.HTTPException):
        return None


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _part_head(boundary: str, disposition: str, content_type: str) -> bytes:
    return (
        f"--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()


def _size(file: BinaryIO) -> int:
    size = file.seek(0, 2)
    file.seek(0)
    return size


# A read the server answers 429 or 503 with Retry-After is asked again this many times,
# waiting what the server said (at most MAX_PAUSE seconds each time).
RETRIES = 5
MAX_PAUSE = 5.0


def _retry_after(resp: http.client.HTTPResponse) -> float | None:
    """The pause a busy server asked for, if this answer is one to retry."""
    if resp.status not in (429, 503):
        return None
    value = resp.getheader("Retry-After") or ""
    if not value.isdigit():
        return None
    return min(float(value), MAX_PAUSE)
