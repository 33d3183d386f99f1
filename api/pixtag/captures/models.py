"""Request and response models of the captures API and of seed 000's aliases."""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, StrictBool
from yarl import URL

from pixtag import validation
from pixtag.models import Filename, ListingTotals, Tag
from pixtag.similar.models import SimilarImage

_PORT = r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}))?"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"(?:{_LABEL}\.)*{_LABEL}"
URL_PATTERN = rf"^https?://{_HOST}{_PORT}(?:[/?#][!-~]*)?$"
MAX_URL_LENGTH = 2048
MAX_BATCH = 1000


def check_url(value: str) -> str:
    """An http(s) URL with a host name or IPv4 address, printable ASCII only (kept as given)."""
    if not re.fullmatch(URL_PATTERN, value):
        raise ValueError("must be an http or https URL with a host, in printable ASCII")
    try:
        URL(value)
    except ValueError:
        raise ValueError("must be a valid URL") from None
    return value


CaptureUrl = Annotated[
    str,
    Field(
        min_length=8,
        max_length=MAX_URL_LENGTH,
        pattern=URL_PATTERN,
        description="An http or https URL (host name or IPv4 address; printable ASCII).",
        examples=["https://example.com/cat.jpg"],
    ),
    AfterValidator(check_url),
]
CaptureTags = Annotated[
    list[Tag],
    Field(max_length=validation.MAX_TAGS, description="Tags of the image; repeats are dropped."),
    AfterValidator(validation.unique_tags),
]
Force = Annotated[
    StrictBool, Field(description="Download again even when the URL was captured before.")
]
CaptureStatus = Literal["queued", "running", "done", "failed", "cancelled"]


class CaptureCreate(BaseModel):
    """Capture one URL."""

    model_config = ConfigDict(extra="forbid")

    url: CaptureUrl
    tags: CaptureTags = []
    filename: Filename | None = Field(
        default=None, description="Default: the URL's last path segment."
    )
    force: Force = False


class CaptureBatch(BaseModel):
    """Capture several URLs with the same tags."""

    model_config = ConfigDict(extra="forbid")

    urls: Annotated[list[CaptureUrl], Field(min_length=1, max_length=MAX_BATCH)]
    tags: CaptureTags = []
    force: Force = False


class CaptureError(BaseModel):
    """Why the last attempt failed."""

    code: str = Field(examples=["http_404"])
    message: str


class Capture(BaseModel):
    """A URL being captured, and once done, the image it gave."""

    capture_id: int
    url: str
    tags: list[str]
    filename: str | None
    status: CaptureStatus
    attempts: int
    error: CaptureError | None
    image_id: int | None
    duplicate: bool = Field(description="The bytes were already stored: image_id holds them.")
    size: int | None
    content_type: str | None
    sha256: str | None
    created_at: datetime
    finished_at: datetime | None
    near_duplicates: list[SimilarImage] | None = Field(
        description="Once the capture stored a file: the images (up to 10, nearest first)"
        " whose file has the same pixels or the same picture. null before, for a"
        " ``duplicate``, and when files are not fingerprinted (PIXTAG_SIMILAR_INDEX=false)."
    )


class CaptureListing(RootModel[list[list[Capture] | ListingTotals]]):
    """GET /captures: the envelope of GET /images, one array per chunk, then the totals."""


class Switch(BaseModel):
    """Whether captures are dispatched."""

    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool


class SwitchState(BaseModel):
    """The captures queue: dispatched or paused, and its work."""

    enabled: bool
    queued: int
    running: int


class SeedCapture(BaseModel):
    """Seed 000: capture one URL."""

    model_config = ConfigDict(extra="forbid")

    url: CaptureUrl


class SeedBatch(BaseModel):
    """Seed 000: capture several URLs."""

    model_config = ConfigDict(extra="forbid")

    urls: Annotated[list[CaptureUrl], Field(min_length=1, max_length=MAX_BATCH)]


class Resource(BaseModel):
    """Seed 000's Resource: a capture in the seed's words (times in Unix seconds)."""

    url: str
    size: int | None
    status: Literal["init", "done", "failed"]
    mimetype: str | None
    created: float
    task_id: str
    downloaded: int
    downloaded_time: float | None
    content_hash: str | None


SeedQueueStatus = Literal["READY", "TASKED", "DONE"]


class SeedQueueUrl(BaseModel):
    """Seed 001: a URL to queue."""

    model_config = ConfigDict(extra="forbid")

    url: CaptureUrl


class SeedQueueAdd(
    RootModel[Annotated[list[SeedQueueUrl], Field(min_length=1, max_length=MAX_BATCH)]]
):
    """Seed 001: URLs to queue, as a list of ``{url}``."""


class SeedQueueEntry(BaseModel):
    """Seed 001: a URL in the queue (its latest capture): ``READY`` waits while the queue is
    paused, ``TASKED`` is due or running, ``DONE`` is finished (captured, failed or
    cancelled)."""

    id: int = Field(description="The capture's id (GET /captures/{id} has the details).")
    url: str
    status: SeedQueueStatus


class SeedHandBack(BaseModel):
    """Seed 001: a worker hands a URL back: ``READY`` to run it again, ``DONE`` to finish it."""

    model_config = ConfigDict(extra="forbid")

    origin: CaptureUrl
    status: Literal["READY", "DONE"]


class SeedStatus(BaseModel):
    """Seed 001: whether the queue runs."""

    model_config = ConfigDict(extra="forbid", strict=True)

    enabled: bool


class SeedStatusChanged(SeedStatus):
    """Seed 001: the queue's state after a change; enabling dispatches what waited."""

    dispatched: int = Field(ge=0, description="URLs that were waiting and now run.")
