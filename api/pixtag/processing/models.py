"""Request and response models of the processing API and of seed 003's aliases.

The body is a discriminated union on ``algorithm``, so each algorithm's
``params`` are checked by their own model and a mistake is a 400 naming the
field (``body.resize.params.width``). Seed 003 spells the ids ``file_ids``;
its members differ only in that field.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, StrictBool

from pixtag.models import BIGINT_MAX

MAX_BATCH = 100
# Sides a result may have (and a resize or thumbnail may ask for); pixels are bounded too,
# by PIXTAG_MAX_IMAGE_PIXELS, when the task runs.
MAX_SIDE = 10_000
# Crop offsets reach as far as any accepted format's side.
MAX_OFFSET = 65_535

Algorithm = Literal["resize", "thumbnail", "flip", "rotate", "grayscale", "crop"]
TaskStatus = Literal["pending", "processing", "finished", "error"]

Side = Annotated[int, Field(ge=1, le=MAX_SIDE, description="Pixels.")]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description="Pixels from the edge.")]


def _distinct(ids: list[int]) -> list[int]:
    return list(dict.fromkeys(ids))


SourceIds = Annotated[
    list[Annotated[int, Field(ge=1, le=BIGINT_MAX)]],
    Field(
        min_length=1,
        max_length=MAX_BATCH,
        description=f"The images to process (at most {MAX_BATCH}); one task per distinct id.",
    ),
    AfterValidator(_distinct),
]


# Strict: a JSON true is no 1, as the schema says (integers and numbers only).
class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ResizeParams(_Params):
    """Exactly this size (the aspect ratio may change)."""

    width: Side
    height: Side


class ThumbnailSize(_Params):
    """Fit in a square of ``size`` pixels, keeping the aspect ratio (never enlarged)."""

    size: Side


class ThumbnailBox(_Params):
    """Fit in ``width`` x ``height``, keeping the aspect ratio (never enlarged)."""

    width: Side
    height: Side


class FlipParams(_Params):
    """Mirror left-right (``horizontal``) or top-bottom (``vertical``)."""

    direction: Literal["horizontal", "vertical"] = "horizontal"


class RotateParams(_Params):
    """Turn counter-clockwise by ``degrees``; 90, 180 and 270 are lossless turns."""

    degrees: Annotated[float, Field(ge=-360, le=360, allow_inf_nan=False)]
    expand: StrictBool = Field(
        default=True,
        description="Grow the canvas to hold the whole turned image (other angles than right"
        " angles); false keeps the source's size and cuts the corners off.",
    )


class GrayscaleParams(_Params):
    """No parameters."""


class CropParams(_Params):
    """The box to keep; it must lie within the image (checked when the task runs, after the
    EXIF orientation is applied)."""

    left: Offset
    top: Offset
    width: Side
    height: Side


class _Resize(BaseModel):
    algorithm: Literal["resize"]
    params: ResizeParams


class _Thumbnail(BaseModel):
    algorithm: Literal["thumbnail"]
    params: ThumbnailSize | ThumbnailBox


class _Flip(BaseModel):
    algorithm: Literal["flip"]
    params: FlipParams | None = None


class _Rotate(BaseModel):
    algorithm: Literal["rotate"]
    params: RotateParams


class _Grayscale(BaseModel):
    algorithm: Literal["grayscale"]
    params: GrayscaleParams | None = None


class _Crop(BaseModel):
    algorithm: Literal["crop"]
    params: CropParams


class _ImageIds(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    image_ids: SourceIds


class _FileIds(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    file_ids: SourceIds


class ProcessResize(_ImageIds, _Resize):
    """Resize images."""


class ProcessThumbnail(_ImageIds, _Thumbnail):
    """Make thumbnails."""


class ProcessFlip(_ImageIds, _Flip):
    """Flip images."""


class ProcessRotate(_ImageIds, _Rotate):
    """Rotate images."""


class ProcessGrayscale(_ImageIds, _Grayscale):
    """Turn images to grayscale."""


class ProcessCrop(_ImageIds, _Crop):
    """Crop images."""


class ProcessingCreate(
    RootModel[
        Annotated[
            ProcessResize
            | ProcessThumbnail
            | ProcessFlip
            | ProcessRotate
            | ProcessGrayscale
            | ProcessCrop,
            Field(discriminator="algorithm"),
        ]
    ]
):
    """Process images: one task per image, all with the same algorithm and parameters."""


class SeedResize(_FileIds, _Resize):
    """Seed 003: resize files."""


class SeedThumbnail(_FileIds, _Thumbnail):
    """Seed 003: thumbnails of files."""


class SeedFlip(_FileIds, _Flip):
    """Seed 003: flip files."""


class SeedRotate(_FileIds, _Rotate):
    """Seed 003: rotate files."""


class SeedGrayscale(_FileIds, _Grayscale):
    """Seed 003: files to grayscale."""


class SeedCrop(_FileIds, _Crop):
    """Seed 003: crop files."""


class SeedProcessingCreate(
    RootModel[
        Annotated[
            SeedResize | SeedThumbnail | SeedFlip | SeedRotate | SeedGrayscale | SeedCrop,
            Field(discriminator="algorithm"),
        ]
    ]
):
    """Seed 003's request: as POST /processing, with the ids in ``file_ids``."""


def asked(body: ProcessingCreate | SeedProcessingCreate) -> tuple[list[int], str, dict[str, Any]]:
    """The ids, algorithm and parameters (defaults filled in) of either spelling."""
    member = body.root
    ids = member.image_ids if isinstance(member, _ImageIds) else member.file_ids
    params = member.params
    if params is None:
        params = FlipParams() if member.algorithm == "flip" else GrayscaleParams()
    return ids, member.algorithm, params.model_dump(mode="json")


class TaskIds(BaseModel):
    """The tasks created, one per distinct image id, in the order given."""

    task_ids: list[int]


class TaskError(BaseModel):
    """Why the task failed."""

    code: str = Field(examples=["crop_out_of_bounds"])
    message: str


class ProcessingTask(BaseModel):
    """A processing task: seed 003's fields, then its attempts, error and times."""

    id: int
    source_id: int = Field(description="The image processed (it may since have been deleted).")
    result_id: int | None = Field(description="The image made, once finished.")
    status: TaskStatus
    algorithm: Algorithm
    params: dict[str, Any]
    attempts: int
    error: TaskError | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class TaskListingTotals(BaseModel):
    """The last element of the listing: how many tasks came before it, in how many chunks."""

    totalTasks: int = Field(ge=0)
    totalChunks: int = Field(ge=0)


class ProcessingListing(RootModel[list[list[ProcessingTask] | TaskListingTotals]]):
    """GET /processing: the envelope of GET /images, one array per chunk, then the totals."""
