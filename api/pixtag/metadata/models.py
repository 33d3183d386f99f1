"""The image JSON's ``metadata``: what the photo's file says of it (``pixtag.metadata``)."""

from typing import Annotated

from pydantic import BaseModel, Field


class Camera(BaseModel):
    make: str | None = Field(default=None, examples=["Canon"])
    model: str | None = Field(default=None, examples=["Canon EOS R5"])


class Exposure(BaseModel):
    focal_length: float | None = Field(default=None, description="Millimetres.")
    focal_length_35mm: int | None = Field(
        default=None, description="Millimetres, the 35 mm film equivalent."
    )
    aperture: float | None = Field(default=None, description="The f-number.", examples=[2.8])
    exposure_time: float | None = Field(default=None, description="Seconds.", examples=[0.004])
    iso: int | None = None
    flash: bool | None = Field(default=None, description="Whether the flash fired.")


class Location(BaseModel):
    latitude: float = Field(ge=-90, le=90, description="Degrees, north positive.")
    longitude: float = Field(ge=-180, le=180, description="Degrees, east positive.")
    altitude: float | None = Field(default=None, description="Metres above sea level.")


class PhotoMetadata(BaseModel):
    """What the file's EXIF, XMP and IPTC say; a field the file does not give is absent."""

    taken_at: str | None = Field(
        default=None,
        description="When it was taken: the wall-clock time where it was taken, ISO 8601,"
        " with that place's UTC offset when the file gives it (2024-05-01T10:30:15+02:00),"
        " else without (2024-05-01T10:30:15).",
    )
    camera: Camera | None = None
    lens: str | None = None
    exposure: Exposure | None = None
    location: Location | None = Field(
        default=None,
        description="The GPS position (never recorded under PIXTAG_METADATA_LOCATION=drop).",
    )
    orientation: int | None = Field(
        default=None, ge=1, le=8, description="EXIF orientation (1: as stored)."
    )
    software: str | None = None
    keywords: list[str] | None = Field(
        default=None,
        description="The file's keywords as written (XMP dc:subject, the leaf of each"
        " lr:hierarchicalSubject, IPTC Keywords); under PIXTAG_METADATA_TAGS=keywords they"
        " are tags of the image too.",
    )


class RebuildProgress(BaseModel):
    """How many stored files' metadata is read (``pixtag metadata rebuild``)."""

    with_file: int = Field(ge=0, description="Images with a file.")
    read: int = Field(ge=0, description="Of those, read by this server's metadata reader.")
    pending: int = Field(ge=0, description="Read jobs queued or running.")
    queued: int | None = Field(
        default=None, ge=0, description="Jobs this request queued (POST only)."
    )


ReadAll = Annotated[
    bool,
    Field(
        description="``true``: read every stored file again (after an upgrade that reads"
        " more, or to undo edits of the metadata), not only those this reader has not read."
        " A date set with PATCH is kept either way."
    ),
]


NamePrefix = Annotated[
    str,
    Field(
        max_length=200,
        description="Only names starting with this (any case; blanks collapsed).",
        examples=["canon"],
        pattern=r"^[^\x00-\x1f\x7f-\x9f]*$",
    ),
]
NameLimit = Annotated[int, Field(ge=1, le=50, description="At most this many names.")]


class Names(BaseModel):
    """Camera or lens names as the ``camera:`` and ``lens:`` search terms match them."""

    names: list[str] = Field(description="Lower-case, in order.", examples=[["canon eos r5"]])
