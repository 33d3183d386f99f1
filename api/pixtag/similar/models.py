"""The bodies of the similar-images API."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from pixtag.models import DIGITS, Integer

# The perceptual hash searched has 64 bits; within 14 (and the 256-bit hash confirming) the
# measured recall of re-encoded, resized and edited copies was 0.965 at a precision of 0.995
# (bench/RESULTS.md, "Similar images"). Beyond 15 the index would have to look at too many
# candidates to stay fast.
DEFAULT_DISTANCE = 14
MAX_DISTANCE = 15

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
