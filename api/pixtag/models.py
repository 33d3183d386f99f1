"""Pydantic models of every request body and response; the OpenAPI schema comes from them."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, RootModel

from pixtag import validation

BIGINT_MAX = 2**63 - 1

# Numbers in paths and queries have one spelling: plain decimal digits.
DIGITS = " Plain decimal digits: no sign, spaces, separators or leading zeros."
Integer = BeforeValidator(validation.check_integer)

# The check wraps the bounds (it runs first) and leaves their schema as it is.
ImageId = Annotated[
    int, Field(ge=1, le=BIGINT_MAX, description="The image's id." + DIGITS), Integer
]
Filename = Annotated[
    str,
    Field(
        min_length=1,
        max_length=validation.MAX_FILENAME_BYTES,
        description="One path segment: no '/', '\\', control or format characters (U+200C"
        " and U+200D only between two visible characters) or Hangul fillers (U+115F, U+1160,"
        " U+3164, U+FFA0), not only white space, no"
        " leading '.', at most 255 bytes in UTF-8.",
        examples=["example.jpg"],
        # Documents the rule check_filename enforces, with readable errors.
        json_schema_extra={"pattern": validation.FILENAME_PATTERN},
    ),
    AfterValidator(validation.check_filename),
]
Tag = Annotated[
    str,
    Field(
        min_length=1,
        max_length=validation.MAX_TAG_LENGTH,
        description="At most 100 characters as sent, not only white space; no control or"
        " format characters (U+200C and U+200D only between two visible characters), Hangul"
        " fillers (U+115F, U+1160, U+3164, U+FFA0) or ','."
        " Stored trimmed, NFC-normalised and lower-cased.",
        examples=["canon"],
        # Documents the rule normalise_tag enforces, with readable errors.
        json_schema_extra={"pattern": validation.TAG_PATTERN},
    ),
    AfterValidator(validation.normalise_tag),
]

Sha256 = Annotated[
    str,
    BeforeValidator(validation.normalise_sha256),
    Field(
        pattern=r"^[0-9a-f]{64}$",
        description="The SHA-256 of a stored file, 64 hex digits (any case).",
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
        # The pattern above applies after normalise_sha256, and pydantic leaves
        # it out of the schema; this is the one a client must meet.
        json_schema_extra={"pattern": validation.SHA256_PATTERN},
    ),
]
ChunkSize = Annotated[
    int, Field(ge=1, le=10_000, description="Images per chunk." + DIGITS), Integer
]
AfterId = Annotated[
    int,
    Field(ge=0, le=BIGINT_MAX, description="List only images with a larger id (keyset)." + DIGITS),
    Integer,
]
Limit = Annotated[
    int, Field(ge=1, le=BIGINT_MAX, description="At most this many images." + DIGITS), Integer
]


class ImageCreate(BaseModel):
    """A new image record."""

    model_config = ConfigDict(extra="forbid")

    filename: Filename
    tags: Annotated[
        list[Tag],
        Field(max_length=validation.MAX_TAGS, description="Repeated tags are dropped."),
        AfterValidator(validation.unique_tags),
    ] = []


class Attachment(BaseModel):
    """The stored file of an image."""

    url: str = Field(description="Where the bytes are served (under PIXTAG_MEDIA_URL).")
    content_type: str
    size: int
    sha256: str
    width: int
    height: int
    uploaded_at: datetime


class Image(BaseModel):
    """An image record with its tags and, once uploaded, its file."""

    image_id: int
    filename: str
    tags: list[str]
    created_at: datetime
    attachment: Attachment | None


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    error: str = Field(description="Same text as detail.")
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="The invalid fields, for validation errors."
    )


class ListingTotals(BaseModel):
    """The last element of a listing: how many images came before it, in how many chunks."""

    totalImages: int = Field(ge=0, title="Total images")
    totalChunks: int = Field(ge=0, title="Total chunks")


class Listing(RootModel[list[list[Image] | ListingTotals]]):
    """GET /images as JSON (the seed's shape): one array of images per chunk, then the totals."""


class Liveness(BaseModel):
    """The process is up and serving HTTP."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """The process can serve requests: its database answers."""

    status: Literal["ok"] = "ok"
    database: Literal["ok"] = "ok"
