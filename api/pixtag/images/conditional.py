"""Preconditions and byte ranges of a stored file, in the order RFC 9110 gives them.

aiohttp's FileResponse evaluates them as well, but not as the RFC says: it
reads If-Range only as a date (an ETag there is ignored, so a resumed download
gets a range of another file), answers a failed If-Match or
If-Unmodified-Since with an empty 412, an unknown range unit or several ranges
with 416, and ``bytes=-0`` with the whole file. So the view decides here,
against the very validators FileResponse emits, and hands FileResponse a
request with nothing left to decide (see ``DecidedFileResponse``).

The rules (RFC 9110 sections 13.2.2 and 14):

- If-Match (strong comparison; ``*`` matches), else If-Unmodified-Since:
  failed -> 412 problem+json;
- If-None-Match (weak comparison), else If-Modified-Since: failed -> 304;
- GET only, with a Range: an If-Range that is not this file's strong ETag or
  exact Last-Modified date -> the whole file (200); a unit other than
  ``bytes`` -> ignored (200); several ranges -> ignored (200); a malformed
  byte range, or one that starts past the end (``bytes=-0`` too) -> 416
  problem+json with ``Content-Range: bytes */size``; else one 206.
"""

import math
import os
import re
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any

from aiohttp import hdrs, web
from aiohttp.helpers import ETAG_ANY, ETag, parse_http_date

from pixtag.errors import PreconditionFailed, RangeNotSatisfiable

ENTITY_TAG = re.compile(r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"')
BYTE_RANGE = re.compile(r"([0-9]+)-([0-9]*)|-([0-9]+)")
# The request headers this module answers for; FileResponse never sees them.
DECIDED = (
    hdrs.IF_MATCH,
    hdrs.IF_UNMODIFIED_SINCE,
    hdrs.IF_NONE_MATCH,
    hdrs.IF_MODIFIED_SINCE,
    hdrs.IF_RANGE,
    hdrs.RANGE,
    # No precompressed sibling is ever served in place of a key.
    hdrs.ACCEPT_ENCODING,
)


@dataclass(frozen=True)
class Validators:
    """A file's ETag (without quotes), Last-Modified (whole seconds) and size."""

    etag: str
    last_modified: int
    size: int

    @classmethod
    def of(cls, st: os.stat_result) -> "Validators":
        # Exactly what FileResponse sends (aiohttp 3.x): an ETag of the mtime and
        # size, and a Last-Modified rounded up to the second.
        return cls(f"{st.st_mtime_ns:x}-{st.st_size:x}", math.ceil(st.st_mtime), st.st_size)

    @property
    def headers(self) -> dict[str, str]:
        """The validators as response headers, for a 304."""
        return {
            hdrs.ETAG: f'"{self.etag}"',
            hdrs.LAST_MODIFIED: formatdate(self.last_modified, usegmt=True),
        }


@dataclass(frozen=True)
class Decision:
    """What to answer: 304, 200 (the whole file) or 206 with bytes first..last."""

    status: int
    first: int = 0
    last: int = 0


def _matches(etags: tuple[ETag, ...], etag: str, *, weak: bool) -> bool:
    if any(tag.value == ETAG_ANY for tag in etags):
        return True
    return any(tag.value == etag for tag in etags if weak or not tag.is_weak)


def decide(request: web.BaseRequest, file: Validators) -> Decision:
    """Evaluate the request's conditions and range; raise the 412 and 416 problems."""
    if request.if_match is not None:
        if not _matches(request.if_match, file.etag, weak=False):
            raise PreconditionFailed("If-Match: the file's ETag is not one of those given")
    elif (
        since := request.if_unmodified_since
    ) is not None and file.last_modified > since.timestamp():
        raise PreconditionFailed("If-Unmodified-Since: the file was modified after that date")
    if request.if_none_match is not None:
        if _matches(request.if_none_match, file.etag, weak=True):
            return Decision(304)
    elif (
        since := request.if_modified_since
    ) is not None and file.last_modified <= since.timestamp():
        return Decision(304)
    value = request.headers.get(hdrs.RANGE)
    if request.method != hdrs.METH_GET or value is None:
        return Decision(200)
    if_range = request.headers.get(hdrs.IF_RANGE)
    if if_range is not None and not _if_range_holds(if_range, file):
        return Decision(200)
    return _byte_range(value, file.size)


def _if_range_holds(value: str, file: Validators) -> bool:
    """Whether If-Range names this very file: its strong ETag or its exact date."""
    value = value.strip(" \t")
    if tag := ENTITY_TAG.fullmatch(value):
        return not tag.group(1) and tag.group(2) == file.etag
    date = parse_http_date(value)
    return date is not None and date.timestamp() == file.last_modified


def _byte_range(value: str, size: int) -> Decision:
    unit, equals, ranges = value.partition("=")
    if not equals or unit.lower() != "bytes":
        return Decision(200)  # another unit: ignored
    # A list may hold empty elements, which a recipient must ignore.
    specs = [spec.strip(" \t") for spec in ranges.split(",")]
    specs = [spec for spec in specs if spec]
    parsed = [BYTE_RANGE.fullmatch(spec) for spec in specs]
    if not parsed or any(match is None for match in parsed):
        raise RangeNotSatisfiable(
            size,
            "The range is malformed: expected bytes=first-last, bytes=first- or bytes=-length",
        )
    if len(parsed) > 1:
        return Decision(200)  # several ranges: the whole file, never a multipart body
    (match,) = parsed
    assert match is not None
    first, last, suffix = match.groups()
    if suffix is not None:
        length = int(suffix)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return Decision(206, max(size - length, 0), size - 1)
    if last and int(last) < int(first):
        raise RangeNotSatisfiable(size, "The range is malformed: its last byte is before its first")
    if int(first) >= size:
        raise RangeNotSatisfiable(size)
    return Decision(206, int(first), min(int(last), size - 1) if last else size - 1)


class DecidedFileResponse(web.FileResponse):
    """A FileResponse that sends what ``decide`` chose: the whole file or its one range."""

    def __init__(self, path: Any, decision: Decision, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.decision = decision

    async def prepare(self, request: web.BaseRequest) -> Any:
        headers = request.headers.copy()
        for name in DECIDED:
            headers.popall(name, None)
        if self.decision.status == 206:
            headers[hdrs.RANGE] = f"bytes={self.decision.first}-{self.decision.last}"
        return await super().prepare(request.clone(headers=headers))
