"""Request bodies and answers of /albums."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel

from pixtag import validation
from pixtag.models import (
    BIGINT_MAX,
    DIGITS,
    Description,
    ImageId,
    Integer,
    ListingTotals,
    Query,
)

AlbumId = Annotated[
    int, Field(ge=1, le=BIGINT_MAX, description="The album's id." + DIGITS), Integer
]
AlbumName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="One line, unique among albums whatever its case.",
        json_schema_extra={"pattern": validation.LABEL_PATTERN},
    ),
    AfterValidator(validation.check_label),
]
MAX_IDS = 10_000
ImageIds = Annotated[
    list[ImageId],
    Field(min_length=1, max_length=MAX_IDS, description="Image ids, in the order they go."),
]


class AlbumCreate(BaseModel):
    """A new album: manual (its images added and ordered by hand), or smart with ``query``."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: AlbumName
    description: Description = ""
    query: Query | None = Field(
        default=None,
        description="Makes it a smart album: the images this search (the q language of GET"
        " /images) finds when it is read, in its order.",
    )
    cover_id: ImageId | None = Field(
        default=None, description="The image shown for the album (default: its first)."
    )


class AlbumPatch(BaseModel):
    """What changes: any of the fields; ``query`` only on a smart album."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: AlbumName | None = None
    description: Description | None = None
    query: Query | None = None
    cover_id: ImageId | None = None


class Album(BaseModel):
    """An album. ``ETag`` is its version."""

    album_id: int
    name: str
    description: str
    kind: str = Field(description="manual or smart.", examples=["manual"])
    query: str | None = Field(description="A smart album's search.")
    image_count: int | None = Field(
        description="A manual album's images (a smart album's are its search's: null)."
    )
    cover_id: int | None = Field(
        description="The cover: the image chosen while it is in the album, else the first."
    )
    created_at: str
    updated_at: str
    query_error: str | None = Field(
        default=None,
        description="Why a smart album's query no longer reads as a search (its images"
        " answer 422 until it is corrected); absent when it reads.",
    )


class AlbumListing(RootModel[list[list[Album] | ListingTotals]]):
    """GET /albums: the envelope of GET /images, one array per chunk, then the totals."""


class AlbumImagesAdd(BaseModel):
    """Images to add to a manual album; those already in it stay where they are."""

    model_config = ConfigDict(extra="forbid", strict=True)

    ids: ImageIds
    position: Annotated[int, Field(ge=0, le=BIGINT_MAX)] | None = Field(
        default=None,
        description="Where they go: before the image at this index (0: first); default the end.",
    )


class AlbumImagesRemove(BaseModel):
    """Images to take out of a manual album (those not in it are no error)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    ids: ImageIds


class AlbumOrder(BaseModel):
    """A move: ``ids`` (images of the album, in this order) placed together before the
    image ``before``, or at the end."""

    model_config = ConfigDict(extra="forbid", strict=True)

    ids: ImageIds
    before: ImageId | None = Field(
        default=None, description="The image they go before (not one of them); null: the end."
    )


class AlbumRef(BaseModel):
    """An album an image is in."""

    album_id: int
    name: str


class ImageAlbums(BaseModel):
    """The manual albums holding an image (smart albums find it by their search)."""

    albums: list[AlbumRef]
