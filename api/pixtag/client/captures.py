"""The captures API for the client commands: request, read, list, and switch."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from pixtag.client.documents import read as read_document
from pixtag.client.session import NDJSON, PixtagClient, lines

BATCH = 1000

# The answers, as pixtag.captures.models defines them for the server.


@dataclass(frozen=True)
class CaptureError:
    code: str
    message: str


@dataclass(frozen=True)
class Capture:
    capture_id: int
    url: str
    tags: list[str]
    filename: str | None
    status: str
    attempts: int
    error: CaptureError | None
    image_id: int | None
    duplicate: bool
    size: int | None
    content_type: str | None
    sha256: str | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class SwitchState:
    enabled: bool
    queued: int
    running: int


def request(client: PixtagClient, urls: Sequence[str], tags: Sequence[str] = ()) -> list[Capture]:
    """Capture every URL (in batches); the captures in the order of the URLs."""
    found: list[Capture] = []
    for start in range(0, len(urls), BATCH):
        body = {"urls": list(urls[start : start + BATCH]), "tags": list(tags)}
        with client.request("POST", "captures", "batch", json=body) as resp:
            found += read_document(list[Capture], resp.read())
    return found


def read(client: PixtagClient, capture_id: int) -> Capture:
    with client.request("GET", "captures", capture_id) as resp:
        return read_document(Capture, resp.read())


def listing(client: PixtagClient, status: str | None = None) -> Iterator[Capture]:
    """Every capture (with ``status``), streamed in id order."""
    params = {"status": status} if status else {}
    headers = {"Accept": NDJSON}
    with client.request("GET", "captures", params=params, headers=headers) as resp:
        for line in lines(resp):
            yield read_document(Capture, line)


def switch(client: PixtagClient, enabled: bool) -> SwitchState:
    with client.request("PUT", "captures", "switch", json={"enabled": enabled}) as resp:
        return read_document(SwitchState, resp.read())
