"""The bodies of the similar-images API."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pixtag.models import BIGINT_MAX, DIGITS, Image, Integer
from pixtag.similar.queries import DEFAULT_DISTANCE as DEFAULT_DISTANCE
from pixtag.similar.queries import MAX_DISTANCE as MAX_DISTANCE

MaxDistance = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_DISTANCE,
        description=f"At most this many of the perceptual hash's 64 bits differ (default"
        f" {DEFAULT_DISTANCE})." + DIGITS,
    ),
    Integer,
]
SimilarLimit = Annotated[
    int,
    Field(ge=1, le=1000, description="At most this many images (default 100)." + DIGITS),
    Integer,
]


class SimilarImage(BaseModel):
    """An image on a rung of the duplicate ladder."""

    image_id: int
    match: Literal["bytes", "pixels", "perceptual"] = Field(
        description="``bytes``: the same file (sha256); ``pixels``: the same decoded pixels"
        " (other metadata or a lossless re-encode); ``perceptual``: the same picture by its"
        " perceptual hash (resized, re-compressed, retouched)."
    )
    distance: int = Field(
        ge=0,
        le=64,
        description="Bits of the 64-bit perceptual hash that differ (0 for bytes and pixels).",
    )


class UploadedImage(Image):
    """An image as an upload answers it: with the images its file duplicates."""

    near_duplicates: list[SimilarImage] | None = Field(
        default=None,
        description="In the answer of an upload with a file (not of a record created"
        " without one): the images (up to 10, nearest first) whose file has the same bytes"
        " as this one's and, with ``check_similar=true``, the same pixels or the same"
        " picture (within the default distance); their ids are in ``Pixtag-Duplicate-Of``"
        " too.",
    )


CheckSimilar = Annotated[
    bool,
    Field(
        description="``true``: fingerprint the file before answering, so that"
        " ``near_duplicates`` lists every rung of the ladder (the answer waits for the file"
        " to be decoded: about half a second for 24 megapixels). ``false`` (the default):"
        " the same bytes only; the fingerprint follows within seconds"
        " (``GET /images/{id}/similar``). Under PIXTAG_DUPLICATES=refuse every upload is"
        " fingerprinted before its answer."
    ),
]


class Similar(BaseModel):
    """The images similar to one, nearest first."""

    image_id: int
    indexed: bool = Field(
        description="Whether the image's file is fingerprinted yet: until then only images"
        " with the same bytes are found (a job fingerprints each stored file within seconds;"
        " ``pixtag similar index`` the files stored before)."
    )
    similar: list[SimilarImage]


class IndexProgress(BaseModel):
    """How many stored files are fingerprinted."""

    with_file: int = Field(ge=0, description="Images with a file.")
    indexed: int = Field(ge=0, description="Of those, fingerprinted (their current file).")
    pending: int = Field(ge=0, description="Fingerprint jobs queued or running.")
    queued: int | None = Field(
        default=None, ge=0, description="Jobs this request queued (POST only)."
    )


# More images in one request would hold too many row locks for one transaction.
MAX_RESOLVED = 100

GroupLimit = Annotated[
    int,
    Field(ge=1, le=500, description="At most this many groups (default 50)." + DIGITS),
    Integer,
]
GroupCursor = Annotated[
    str,
    Field(
        pattern=r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,17})$",
        max_length=40,
        description="The ``next`` of the previous page.",
    ),
]
DuplicateIds = Annotated[
    list[Annotated[int, Field(ge=1, le=BIGINT_MAX)]],
    Field(min_length=1, max_length=MAX_RESOLVED - 1, json_schema_extra={"uniqueItems": True}),
]


class DuplicateGroup(BaseModel):
    """An image and the duplicates found after it (higher ids), nearest first."""

    image_id: int
    size: int = Field(ge=1, description="How many duplicates.")
    duplicates: list[SimilarImage]


class DuplicateGroups(BaseModel):
    """A page of the review queue, largest groups first."""

    groups: list[DuplicateGroup]
    next: str | None = Field(description="The cursor of the next page (``?after=``), if any.")


class Merge(BaseModel):
    """What the kept image takes from the others."""

    model_config = ConfigDict(extra="forbid")

    tags: bool = Field(default=True, description="Add the others' tags to the kept image's.")
    description: bool = Field(
        default=True,
        description="Append the others' descriptions the kept one lacks, a blank line apart.",
    )


class ResolveRequest(BaseModel):
    """Keep one image of a group; the others are merged onto it and deleted."""

    model_config = ConfigDict(extra="forbid")

    keep: int = Field(ge=1, le=BIGINT_MAX)
    remove: DuplicateIds
    merge: Merge = Field(default_factory=Merge)

    @model_validator(mode="after")
    def _distinct(self) -> "ResolveRequest":
        if self.keep in self.remove:
            raise ValueError("keep must not be one of remove")
        if len(set(self.remove)) != len(self.remove):
            raise ValueError("remove must not repeat an id")
        return self


class DismissRequest(BaseModel):
    """Images that are not duplicates of each other: every pair among them."""

    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=BIGINT_MAX)]] = Field(
        min_length=2, max_length=MAX_RESOLVED, json_schema_extra={"uniqueItems": True}
    )

    @model_validator(mode="after")
    def _distinct(self) -> "DismissRequest":
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("ids must not repeat an id")
        return self
