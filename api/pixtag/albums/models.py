"""Request bodies and answers of /albums."""

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, model_validator

from pixtag import validation
from pixtag.models import (
    BIGINT_MAX,
    DIGITS,
    Description,
    ImageId,
    Integer,
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


NULLABLE = ("cover_id",)  # null unsets the cover: the first image again


def _patch_schema(schema: dict[str, Any]) -> None:
    """Some field; none null but the cover (left out of the schema's other fields)."""
    for name, field in schema["properties"].items():
        if name in NULLABLE:
            continue
        field.pop("default", None)
        branches = [b for b in field.pop("anyOf", []) if b != {"type": "null"}]
        if branches:
            (branch,) = branches
            schema["properties"][name] = {**branch, **field}
    schema["minProperties"] = 1


class AlbumPatch(BaseModel):
    """What changes: any of the fields; ``query`` only on a smart album."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_patch_schema)

    name: AlbumName | None = None
    description: Description | None = None
    query: Query | None = None
    cover_id: ImageId | None = Field(
        default=None, description="The cover; null: the album's first image again."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if value is None and name in cls.model_fields and name not in NULLABLE:
                    raise ValueError(f"{name} must not be null: leave it out instead")
        return data


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


class AlbumTotals(BaseModel):
    """The last element of an album listing: how many albums came before it, in how many
    chunks."""

    totalAlbums: int = Field(ge=0, title="Total albums")
    totalChunks: int = Field(ge=0, title="Total chunks")


class AlbumListing(RootModel[list[list[Album] | AlbumTotals]]):
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
