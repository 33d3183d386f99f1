"""Pydantic models of every request body and response; the OpenAPI schema comes from them."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    model_validator,
)

from pixtag import validation
from pixtag.metadata.models import PhotoMetadata
from pixtag.validation import BIGINT_MAX as BIGINT_MAX

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
Description = Annotated[
    str,
    Field(
        max_length=validation.MAX_DESCRIPTION_LENGTH,
        description="Free text about the image, searched with `text:` in `q`: at most 4000"
        " characters as sent; no control characters but tab and line breaks (CR LF and CR"
        " are stored as LF), no format characters (U+200C and U+200D only between two"
        " visible characters) or Hangul fillers. Stored trimmed and NFC-normalised; an empty"
        " description is none.",
        examples=["Harbour at dawn, from the north pier"],
        json_schema_extra={"pattern": validation.DESCRIPTION_PATTERN},
    ),
    AfterValidator(validation.normalise_description),
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
Query = Annotated[
    str,
    Field(
        max_length=4000,
        description="A search: `cat dog` (both), `-cat` (not), `cat or dog` (either; `or`"
        " binds looser than juxtaposition: `a b or c` is `(a b) or c`), parentheses to group"
        " (at most 8 deep), `ca*` (any of the 100 most used tags starting with `ca`; none:"
        ' nothing matches), `"sci fi"` (a quoted tag: spaces, a leading `-`, `(`, `*`,'
        ' `or`; `\\"` and `\\\\` escape inside quotes), `"ca"*` (a quoted prefix),'
        " `text:harbour` (a word of the filename or description; `text:harb*`,"
        ' `text:"north pier"`), `taken:2024-05` (taken in that year, month or day; a range'
        " `taken:2024-05-01..2024-07-31`), what the photo's file says: `camera:fuji`,"
        ' `camera:"canon eos r5"`, `lens:"ef 35mm"` (a name\'s start, any case),'
        " `iso:>3200`, `focal:24..70`, `width:>=4000`, `height:<1000` (a number, `>N`, `>=N`,"
        " `<N`, `<=N` or a range `N..M`), `orientation:portrait` (or `landscape`, `square`),"
        " `has:location`, `near:48.8566,2.3522,5km` (km, m or mi),"
        " `similar:42` (images similar to image 42;"
        " `similar:42~6`"
        " within 6 bits, at most 5 such terms),"
        " `sort:id`, `sort:-id`, `sort:created`, `sort:-created`, `sort:taken`, `sort:-taken`"
        " (when the photo was taken; undated last) (once, at the top level). At"
        " most 50 tags and prefixes, of them at most 10 prefixes, each at most 100 characters,"
        " as tags are. Tags are"
        " normalised as on create and aliases resolved. A syntax error is a 400 whose"
        " `position` is the 1-based index of the fault.",
        examples=["cat (dog or fox) -blurry sort:-created"],
    ),
]
AfterToken = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Continue a listing after the last page: the `after` token of its totals"
        " (same `q` sort).",
    ),
]


Tags = Annotated[
    list[Tag],
    Field(max_length=validation.MAX_TAGS, description="Repeated tags are dropped."),
    AfterValidator(validation.unique_tags),
]


class ImageCreate(BaseModel):
    """A new image record."""

    model_config = ConfigDict(extra="forbid")

    filename: Filename
    tags: Tags = []
    description: Description = ""


def some_field(schema: dict[str, Any]) -> None:
    """The rules of a patch a schema can state: some field, none of them null."""
    for name, field in schema["properties"].items():
        # Left out, never null: the schema offers only the non-null branch.
        field.pop("default", None)
        branches = [b for b in field.pop("anyOf", []) if b != {"type": "null"}]
        if branches:
            (branch,) = branches
            schema["properties"][name] = {**branch, **field}
    schema["minProperties"] = 1


def _patch_schema(schema: dict[str, Any]) -> None:
    """The rules of ImagePatch a schema can state: some field, and tags alone."""
    some_field(schema)
    schema["not"] = {
        "anyOf": [{"required": ["tags", "tags_add"]}, {"required": ["tags", "tags_remove"]}]
    }


def _taken_at(value: str) -> tuple[datetime, int | None]:
    """``2024-05-01T10:30:15`` (no offset known) or with one (``+02:00``, ``Z``): the wall
    clock and the offset in minutes."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not an ISO 8601 date and time (2024-05-01T10:30:15+02:00)") from None
    if not 1 <= parsed.year <= 9999 or "T" not in value:
        raise ValueError("a date and a time are needed (2024-05-01T10:30:15)")
    offset = parsed.utcoffset()
    minutes = None if offset is None else int(offset.total_seconds() // 60)
    if minutes is not None and not -1080 <= minutes <= 1080:
        raise ValueError("the UTC offset is at most 18 hours")
    return parsed.replace(tzinfo=None), minutes


TakenAt = Annotated[
    str,
    Field(
        max_length=40,
        # A year but 0000 (which no calendar has), a month, a day, a time.
        pattern=r"^([0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
        r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3])"
        r":[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]((0[0-9]|1[0-7]):[0-5][0-9]|18:00))?$",
        description="When the photo was taken, correcting what its file says (a camera's"
        " clock is often wrong): the wall-clock time where it was taken, with that place's"
        " UTC offset if known (2024-05-01T10:30:15+02:00) or without (2024-05-01T10:30:15).",
        examples=["2024-05-01T10:30:15+02:00"],
    ),
    AfterValidator(lambda value: _taken_at(value) and value),
]


class Patch(BaseModel):
    """A change of some fields: each optional, none of them null (left out instead)."""

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if value is None and name in cls.model_fields:
                    raise ValueError(f"{name} must not be null: leave it out instead")
        return data


class ImagePatch(Patch):
    """Changes to an image record: a new filename or description, and its tags replaced or
    added and removed.

    At least one field; ``tags`` excludes ``tags_add`` and ``tags_remove``. Tags are
    normalised as on create; ``tags_remove`` applies after ``tags_add``.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_patch_schema)

    # Optional, but never null (refused below, and left out of the schema).
    filename: Filename | None = None
    description: Description | None = None
    tags: Annotated[Tags | None, Field(description="The new tags, replacing all others.")] = None
    tags_add: Annotated[
        Tags | None, Field(description="Tags to add (kept in order, after the others).")
    ] = None
    tags_remove: Annotated[Tags | None, Field(description="Tags to remove.")] = None
    taken_at: TakenAt | None = None

    def taken(self) -> tuple[datetime, int | None] | None:
        """``taken_at`` as the wall clock and the offset in minutes, if given."""
        return None if self.taken_at is None else _taken_at(self.taken_at)

    @model_validator(mode="after")
    def _one_meaning(self) -> "ImagePatch":
        if not self.model_fields_set:
            raise ValueError(
                "nothing to change: give filename, description, tags, tags_add and tags_remove,"
                " or taken_at"
            )
        if self.tags is not None and (self.tags_add is not None or self.tags_remove is not None):
            raise ValueError("tags replaces every tag: give it alone, or tags_add and tags_remove")
        return self


TagList = Annotated[
    list[Tag],
    Field(max_length=validation.MAX_TAGS, description="Repeated tags are dropped."),
    AfterValidator(validation.unique_tags),
]


class BulkTags(BaseModel):
    """A change of tags on many images: those ``query`` matches, or those ``ids`` name."""

    # The example of the whole body: one built from its fields' examples would add and
    # remove the same tag, which is refused.
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"query": "cat -reviewed", "add": ["reviewed"]}]},
    )

    query: Query | None = Field(
        default=None,
        description="A search in the `q` language of GET /images (its sort is ignored).",
    )
    ids: list[Annotated[int, Field(ge=1, le=BIGINT_MAX)]] | None = Field(
        default=None,
        max_length=100_000,
        description="The images, by id (missing ones are skipped).",
    )
    add: TagList = []
    remove: TagList = []
    batch_size: int = Field(
        default=2000,
        ge=1,
        le=5000,
        description="Images per batch (each batch its own transaction).",
    )

    @model_validator(mode="after")
    def _one_selection_and_a_change(self) -> "BulkTags":
        if (self.query is None) == (self.ids is None):
            raise ValueError("give exactly one of query and ids")
        if not (self.add or self.remove):
            raise ValueError("give tags to add or to remove")
        if both := set(self.add) & set(self.remove):
            raise ValueError(f"tags both added and removed: {', '.join(sorted(both))}")
        return self


class BulkTagsResult(BaseModel):
    """What a bulk change did: every batch committed."""

    changed: int = Field(ge=0, description="Images whose tags changed.")
    batches: int = Field(ge=0, description="Batches committed.")


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
    renditions: dict[str, str] = Field(
        default_factory=dict,
        description="URLs of the renditions ready for the current file, by preset"
        " (``thumb``, ``preview``); ``{}`` when none is ready yet.",
    )
    description: str = Field(default="", description="Free text about the image; '' if none.")
    metadata: PhotoMetadata | None = Field(
        default=None,
        description="What the file's EXIF, XMP and IPTC say of the photo (null: nothing,"
        " or no file).",
    )


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
    after: str | None = Field(
        default=None,
        description="Only when a page (`limit`) came out full: pass it as `after` for the next.",
    )


class Listing(RootModel[list[list[Image] | ListingTotals]]):
    """GET /images as JSON (the seed's shape): one array of images per chunk, then the totals."""


class Liveness(BaseModel):
    """The process is up and serving HTTP."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """The process can serve requests: its database answers."""

    status: Literal["ok"] = "ok"
    database: Literal["ok"] = "ok"


class SeedFile(BaseModel):
    """A file of seed 003's file server: an image with a file, in the seed's fields."""

    id: int = Field(description="The image's id.")
    name: str = Field(description="The filename without its extension.")
    extension: str = Field(description="The filename's extension with its dot ('' if none).")
    comment: str = Field(description="The image's description.")
    size: int = Field(description="The file's size in bytes.")
    created_at: str = Field(
        description="When the image was created, RFC 1123 in GMT.",
        examples=["Tue, 04 Jul 2023 07:43:06 GMT"],
    )
    updated_at: str = Field(
        description="When the record or its file last changed, RFC 1123 in GMT.",
        examples=["Tue, 04 Jul 2023 07:56:43 GMT"],
    )


class SeedFilePatch(Patch):
    """Seed 003's change of a file: its name (the extension stays) and its comment."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=some_field,
    )

    name: Annotated[
        Filename | None,
        Field(description="The new name, without the extension (the file's stays)."),
    ] = None
    comment: Annotated[Description | None, Field(description="The new description.")] = None

    @model_validator(mode="after")
    def _something(self) -> "SeedFilePatch":
        if not self.model_fields_set:
            raise ValueError("nothing to change: give name or comment")
        return self
