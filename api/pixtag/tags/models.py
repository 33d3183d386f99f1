"""Pydantic models of the tags API's parameters, bodies and responses."""

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel

from pixtag import validation
from pixtag.models import DIGITS, Integer, Tag


def normalise_prefix(value: str) -> str:
    """A prefix as tags are stored: NFC, lower-case, leading blanks and one leading '-' dropped
    (autocomplete keeps working while a negation is being typed)."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError("prefix must not contain control characters")
    prefix = value.lstrip()
    prefix = prefix.removeprefix("-").lstrip()
    return unicodedata.normalize("NFC", prefix).lower()


Prefix = Annotated[
    str,
    Field(
        max_length=validation.MAX_TAG_LENGTH,
        description="Only tags starting with this (normalised like a tag; leading blanks and"
        " one leading '-' are ignored).",
        examples=["ca"],
        json_schema_extra={"pattern": r"^[^\x00-\x1f\x7f-\x9f]*$"},
    ),
    AfterValidator(normalise_prefix),
]
TagLimit = Annotated[
    int, Field(ge=1, le=10_000, description="At most this many tags." + DIGITS), Integer
]


class TagCount(BaseModel):
    """A tag and the number of images holding it."""

    tag: str
    image_count: int = Field(ge=1)


class TagTotals(BaseModel):
    """The last element of a tag listing: how many tags came before it, in how many chunks."""

    totalTags: int = Field(ge=0, title="Total tags")
    totalChunks: int = Field(ge=0, title="Total chunks")


class TagListing(RootModel[list[list[TagCount] | TagTotals]]):
    """GET /tags as JSON: one array of tags per chunk, then the totals."""


class TagInfo(BaseModel):
    """One tag: its count and the rules that name it."""

    tag: str
    image_count: int = Field(ge=0)
    alias_of: str | None = Field(description="The tag this one stands for, if it is an alias.")
    aliases: list[str] = Field(description="The aliases standing for this tag.")
    implies: list[str] = Field(description="The tags this one adds directly.")
    implied_by: list[str] = Field(description="The tags that add this one directly.")


class AliasSet(BaseModel):
    """Make the tag in the path an alias of ``target``."""

    model_config = ConfigDict(extra="forbid")

    target: Tag


class AliasApplied(BaseModel):
    """An alias in force, and how many stored images it rewrote."""

    alias: str
    target: str = Field(description="The tag the alias stands for (an alias given resolved).")
    images_updated: int = Field(ge=0)


class ImplicationApplied(BaseModel):
    """An implication in force, and how many stored images it rewrote."""

    tag: str
    implies: str
    images_updated: int = Field(ge=0)


class RenameRequest(BaseModel):
    """Rename the tag in the path to ``to``; an existing ``to`` means a merge."""

    model_config = ConfigDict(extra="forbid")

    to: Tag
    keep_alias: bool = Field(
        default=False, description="Keep the old name as an alias of the new one."
    )


class TagRenamed(BaseModel):
    """A finished rename."""

    tag: str = Field(description="The old name.")
    to: str = Field(description="The new name (an alias given resolved).")
    images_updated: int = Field(ge=0)
    alias_kept: bool


class RelatedTag(BaseModel):
    tag: str
    images: int = Field(ge=1, description="Images of the sample holding both tags.")


class RelatedTags(BaseModel):
    """The tags most often found with a tag, in a bounded sample of its images."""

    tag: str = Field(description="The tag (the one it stands for, when an alias was asked).")
    image_count: int = Field(ge=1, description="Images holding the tag.")
    sampled: int = Field(
        ge=1, description="Images read for the counts: all of them, or the sample's bound."
    )
    related: list[RelatedTag] = Field(description="Most images first, then by name.")
