"""The documents the client reads back, as plain dataclasses checked field by field.

The server's pydantic models describe what it accepts and answers; the
client only reads answers, and importing pydantic with the models costs a
client command more than its request does (bench/RESULTS.md). So ``read``
checks a JSON document against a dataclass's annotations (str, int, bool,
datetime, lists, ``X | None``, nested dataclasses), ignores fields it does
not know, and says in one line what does not fit.
"""

import dataclasses
import json
import types
from datetime import datetime
from functools import cache
from typing import Any, get_args, get_origin, get_type_hints

from pixtag.client.errors import ClientError


@dataclasses.dataclass(frozen=True)
class Attachment:
    url: str
    content_type: str
    size: int
    sha256: str
    width: int
    height: int
    uploaded_at: datetime


@dataclasses.dataclass(frozen=True)
class Camera:
    make: str | None = None
    model: str | None = None


@dataclasses.dataclass(frozen=True)
class Exposure:
    focal_length: float | None = None
    focal_length_35mm: int | None = None
    aperture: float | None = None
    exposure_time: float | None = None
    iso: int | None = None
    flash: bool | None = None


@dataclasses.dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    altitude: float | None = None


@dataclasses.dataclass(frozen=True)
class Metadata:
    """What the photo's file says (the image JSON's ``metadata``)."""

    taken_at: str | None = None
    camera: Camera | None = None
    lens: str | None = None
    exposure: Exposure | None = None
    location: Location | None = None
    orientation: int | None = None
    software: str | None = None
    keywords: list[str] | None = None


@dataclasses.dataclass(frozen=True)
class NearDuplicate:
    image_id: int
    match: str  # bytes, pixels, perceptual
    distance: int

    def __str__(self) -> str:
        how = "same bytes" if self.match == "bytes" else "same pixels"
        if self.match == "perceptual":
            how = f"same picture, {self.distance} bits apart"
        return f"{self.image_id}: {how}"


@dataclasses.dataclass(frozen=True)
class Image:
    image_id: int
    filename: str
    tags: list[str]
    created_at: datetime
    attachment: Attachment | None
    # What the file says of the photo (None: nothing).
    metadata: Metadata | None = None
    # In an upload's answer: the images its file duplicates.
    near_duplicates: list[NearDuplicate] | None = None
    # The document as the server sent it, for --json.
    raw: str = dataclasses.field(default="{}", compare=False)


@cache
def _hints(kind: type) -> dict[str, Any]:
    return get_type_hints(kind)


def _convert(kind: Any, value: Any, name: str) -> Any:
    if get_origin(kind) is types.UnionType:
        if value is None and types.NoneType in get_args(kind):
            return None
        (inner,) = (arg for arg in get_args(kind) if arg is not types.NoneType)
        return _convert(inner, value, name)
    if get_origin(kind) is list:
        if not isinstance(value, list):
            raise TypeError(f"{name} is not a list")
        return [_convert(get_args(kind)[0], item, name) for item in value]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise TypeError(f"{name} is not an object")
        hints = _hints(kind)
        return kind(
            **{
                field.name: _convert(hints[field.name], value[field.name], field.name)
                for field in dataclasses.fields(kind)
                if field.name in value or field.default is dataclasses.MISSING
            }
        )
    if kind is datetime:
        return datetime.fromisoformat(_convert(str, value, name))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # JSON writes 35.0 as 35 too
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{name} is not {kind.__name__}")
    return value


def read[T](kind: type[T], document: str | bytes | Any) -> T:
    """``document`` (JSON text, or already decoded) as ``kind``, or a ClientError."""
    try:
        value = json.loads(document) if isinstance(document, str | bytes) else document
        return _convert(kind, value, kind.__name__)  # type: ignore[no-any-return]
    except (ValueError, TypeError, KeyError) as error:
        raise ClientError(f"unexpected answer from the server: {error}") from None


def parse_image(text: str | bytes) -> Image:
    """An image document, keeping its text."""
    raw = (text.decode() if isinstance(text, bytes) else text).strip()
    return dataclasses.replace(read(Image, raw), raw=raw)


def compact(document: Any) -> str:
    """A dataclass as one line of JSON, the way the server writes it."""
    fields = dataclasses.asdict(document)
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"), default=str)
