"""What a photo already says about itself: EXIF, XMP and IPTC, read with Pillow's readers.

``read(image)`` takes an open Pillow image (its header read, nothing decoded)
and returns ``PhotoFacts``: when it was taken (``DateTimeOriginal`` with
``OffsetTimeOriginal`` and ``SubSecTimeOriginal``, else ``DateTimeDigitized``,
else XMP ``photoshop:DateCreated``/``xmp:CreateDate``), the camera, lens and
exposure, orientation, GPS position, software, and the keywords: XMP
``dc:subject``, the leaf of each ``lr:hierarchicalSubject`` path
(``Places|France|Paris`` gives ``Paris``: the levels above are categories,
usually written to ``dc:subject`` as well when they are meant as keywords),
and IPTC Keywords.

Files are untrusted: every value is checked for its type and range and
dropped (with a warning) when it does not fit; XMP larger than ``MAX_XMP``
is not parsed, and is parsed only through defusedxml (Pillow's ``getxmp``),
which refuses entity expansion; at most ``MAX_KEYWORDS`` keywords of at
most ``MAX_KEYWORD`` characters. Nothing here raises on a bad file: what
cannot be read is a warning, and the upload goes on.
"""

import math
import re
import warnings
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from PIL import ExifTags, Image, ImageFile, IptcImagePlugin

# What this reader knows how to read; a rebuild (``pixtag metadata rebuild --all``) reads
# again the files an older one read. Raised when a change here reads files differently.
READER_VERSION = 1
MAX_XMP = 1 << 20
MAX_KEYWORDS = 100
MAX_KEYWORD = 100
MAX_TEXT = 200

_EXIF_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$")
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_XMP_DATE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"(Z|[+-]\d{2}:\d{2})?$"
)


@dataclass(frozen=True)
class PhotoFacts:
    """What a file says about the photo; None where it says nothing (or nothing valid)."""

    taken_at: datetime | None = None  # the wall-clock time where it was taken (naive)
    taken_offset: int | None = None  # minutes east of UTC, when the file says
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    focal_length: float | None = None  # mm
    focal_length_35mm: int | None = None  # mm
    aperture: float | None = None  # f-number
    exposure_time: float | None = None  # seconds
    iso: int | None = None
    flash: bool | None = None  # fired
    orientation: int | None = None  # EXIF 1..8
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None  # metres above sea level
    software: str | None = None
    keywords: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def without_location(self) -> "PhotoFacts":
        return replace(self, latitude=None, longitude=None, altitude=None)

    def document(self) -> dict[str, Any] | None:
        """The image JSON's ``metadata`` (but ``taken_at``, a column of its own): the
        groups with something in them; None when the file said nothing."""
        camera = _present(make=self.make, model=self.model)
        exposure = _present(
            focal_length=self.focal_length,
            focal_length_35mm=self.focal_length_35mm,
            aperture=self.aperture,
            exposure_time=self.exposure_time,
            iso=self.iso,
            flash=self.flash,
        )
        location = _present(
            latitude=self.latitude, longitude=self.longitude, altitude=self.altitude
        )
        if self.latitude is None or self.longitude is None:
            location = None
        found = _present(
            camera=camera,
            lens=self.lens,
            exposure=exposure,
            location=location,
            orientation=self.orientation,
            software=self.software,
            keywords=list(self.keywords) or None,
        )
        return found


def _present(**values: Any) -> dict[str, Any] | None:
    found = {name: value for name, value in values.items() if value is not None}
    return found or None


class _Reader:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, text: str) -> None:
        if len(self.warnings) < 20:
            self.warnings.append(text)

    def text(self, value: Any, name: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            self.warn(f"{name}: not text")
            return None
        cleaned = "".join(ch for ch in value if ch.isprintable()).strip().strip("\x00").strip()
        return cleaned[:MAX_TEXT] or None

    def number(
        self, value: Any, name: str, low: float, high: float, *, positive: bool = False
    ) -> float | None:
        if value is None:
            return None
        if isinstance(value, tuple) and len(value) == 2:  # a rational as a pair
            value = value[0] / value[1] if value[1] else None
        try:
            number = float(value)
        except (TypeError, ValueError, ZeroDivisionError):
            self.warn(f"{name}: not a number")
            return None
        if not math.isfinite(number) or not low <= number <= high or (positive and number <= 0):
            self.warn(f"{name}: {number} is out of range")
            return None
        return number

    def integer(self, value: Any, name: str, low: int, high: int) -> int | None:
        if isinstance(value, tuple | list) and value:
            value = value[0]
        number = self.number(value, name, low, high)
        return None if number is None else int(number)


def read_file(source: Path | IO[bytes]) -> PhotoFacts:
    """The facts the image file ``source`` holds (opening it warns too: a JPEG's EXIF is
    read at once); an unreadable file says nothing, with a warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image.open(source) as image:
                facts = _read(image)
        except Exception as error:  # not an image Pillow opens: nothing to say
            facts = PhotoFacts(warnings=(f"unreadable: {type(error).__name__}",))
    return _noted(facts, caught)


def read(image: Image.Image) -> PhotoFacts:
    """The facts ``image``'s metadata holds (see the module docstring); never raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        facts = _read(image)
    return _noted(facts, caught)


def _noted(facts: PhotoFacts, caught: list[warnings.WarningMessage]) -> PhotoFacts:
    if caught:
        noted = tuple(f"Pillow: {warning.message}" for warning in caught[:5])
        return replace(facts, warnings=facts.warnings + noted)
    return facts


def _read(image: Image.Image) -> PhotoFacts:
    reader = _Reader()
    facts: dict[str, Any] = {}
    try:
        exif = image.getexif()
    except Exception as error:  # a hostile file: any failure is a warning
        reader.warn(f"EXIF unreadable: {type(error).__name__}")
        exif = Image.Exif()
    for step in (_camera, _exposure, _gps):
        try:
            facts.update(step(reader, exif))
        except Exception as error:
            reader.warn(f"EXIF {step.__name__[1:]} unreadable: {type(error).__name__}")
    xmp = _xmp(reader, image)
    try:
        facts.update(_taken(reader, exif, xmp))
    except Exception as error:
        reader.warn(f"date taken unreadable: {type(error).__name__}")
    keywords = [*_xmp_keywords(reader, xmp), *_iptc_keywords(reader, image)]
    cleaned = []
    for keyword in keywords:
        text = reader.text(keyword, "keyword")
        if text and len(text) <= MAX_KEYWORD and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_KEYWORDS:
        reader.warn(f"{len(cleaned)} keywords: the first {MAX_KEYWORDS} kept")
    return PhotoFacts(
        **facts, keywords=tuple(cleaned[:MAX_KEYWORDS]), warnings=tuple(reader.warnings)
    )


def _camera(reader: _Reader, exif: Image.Exif) -> dict[str, Any]:
    base = ExifTags.Base
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    orientation = reader.integer(exif.get(base.Orientation), "Orientation", 1, 8)
    return {
        "make": reader.text(exif.get(base.Make), "Make"),
        "model": reader.text(exif.get(base.Model), "Model"),
        "software": reader.text(exif.get(base.Software), "Software"),
        "orientation": orientation,
        "lens": reader.text(ifd.get(base.LensModel), "LensModel"),
    }


def _exposure(reader: _Reader, exif: Image.Exif) -> dict[str, Any]:
    base = ExifTags.Base
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    flash = reader.integer(ifd.get(base.Flash), "Flash", 0, 0xFFFF)
    focal_35 = reader.integer(ifd.get(base.FocalLengthIn35mmFilm), "FocalLengthIn35mm", 1, 10_000)
    return {
        "focal_length": reader.number(
            ifd.get(base.FocalLength), "FocalLength", 0, 10_000, positive=True
        ),
        "focal_length_35mm": focal_35,
        "aperture": reader.number(ifd.get(base.FNumber), "FNumber", 0, 1_000, positive=True),
        "exposure_time": reader.number(
            ifd.get(base.ExposureTime), "ExposureTime", 0, 100_000, positive=True
        ),
        "iso": reader.integer(ifd.get(base.ISOSpeedRatings), "ISO", 1, 10_000_000),
        "flash": None if flash is None else bool(flash & 1),
    }


def _gps(reader: _Reader, exif: Image.Exif) -> dict[str, Any]:
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    if not gps:
        return {}
    tags = ExifTags.GPS
    latitude = _degrees(reader, gps.get(tags.GPSLatitude), gps.get(tags.GPSLatitudeRef), "NS", 90)
    longitude = _degrees(
        reader, gps.get(tags.GPSLongitude), gps.get(tags.GPSLongitudeRef), "EW", 180
    )
    altitude = reader.number(gps.get(tags.GPSAltitude), "GPSAltitude", 0, 100_000)
    if altitude is not None and gps.get(tags.GPSAltitudeRef) in (1, b"\x01"):
        altitude = -altitude
    if latitude is None or longitude is None:
        return {}
    return {
        "latitude": round(latitude, 7),
        "longitude": round(longitude, 7),
        "altitude": None if altitude is None else round(altitude, 2),
    }


def _degrees(reader: _Reader, value: Any, ref: Any, sides: str, limit: int) -> float | None:
    if value is None:
        return None
    if not isinstance(value, tuple) or len(value) != 3:
        reader.warn("GPS position: not degrees, minutes and seconds")
        return None
    parts = [reader.number(part, "GPS position", 0, 360) for part in value]
    if any(part is None for part in parts):
        return None
    degrees, minutes, seconds = (float(part) for part in parts if part is not None)
    total = degrees + minutes / 60 + seconds / 3600
    ref = ref.decode("ascii", "replace") if isinstance(ref, bytes) else ref
    if ref not in (sides[0], sides[1]):
        reader.warn("GPS position: no hemisphere")
        return None
    if total > limit:
        reader.warn("GPS position: out of range")
        return None
    return -total if ref == sides[1] else total


def _taken(reader: _Reader, exif: Image.Exif, xmp: dict[str, Any]) -> dict[str, Any]:
    base = ExifTags.Base
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    for stamp, offset, subsec in (
        (base.DateTimeOriginal, base.OffsetTimeOriginal, base.SubsecTimeOriginal),
        (base.DateTimeDigitized, base.OffsetTimeDigitized, base.SubsecTimeDigitized),
    ):
        value = reader.text(ifd.get(stamp), "date taken")
        if value is None:
            continue
        match = _EXIF_DATE.match(value)
        if match is None:
            reader.warn(f"date taken: {value!r} is not a date")
            continue
        try:
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            taken = datetime(year, month, day, hour, minute, second)
        except ValueError:
            reader.warn(f"date taken: {value!r} is not a date")
            continue
        fraction = reader.text(ifd.get(subsec), "sub-seconds")
        if fraction and fraction.isdigit():
            taken = taken.replace(microsecond=int(fraction[:6].ljust(6, "0")))
        return {"taken_at": taken, "taken_offset": _minutes(reader.text(ifd.get(offset), "offset"))}
    for name in ("DateCreated", "CreateDate", "DateTimeOriginal"):
        value = _xmp_value(xmp, name)
        if isinstance(value, str):
            found = _xmp_date(value)
            if found is not None:
                return found
            reader.warn(f"XMP {name}: {value[:40]!r} is not a date")
    return {}


def _minutes(offset: str | None) -> int | None:
    match = _OFFSET.match(offset or "")
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    total = int(hours) * 60 + int(minutes)
    return -total if sign == "-" else total if total <= 18 * 60 else None


def _xmp_date(value: str) -> dict[str, Any] | None:
    match = _XMP_DATE.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        taken = datetime(  # the wall-clock time, its offset apart
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError:
        return None
    offset = 0 if zone == "Z" else _minutes(zone)
    return {"taken_at": taken, "taken_offset": offset}


def _xmp(reader: _Reader, image: Image.Image) -> dict[str, Any]:
    raw = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if raw and len(raw) > MAX_XMP:
        reader.warn(f"XMP of {len(raw)} bytes not read (at most {MAX_XMP})")
        return {}
    if not raw:
        return {}
    try:
        found = image.getxmp()
    except Exception as error:  # hostile XML (entities, depth): a warning
        reader.warn(f"XMP unreadable: {type(error).__name__}")
        return {}
    return found if isinstance(found, dict) else {}


def _descriptions(xmp: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        description = xmp["xmpmeta"]["RDF"]["Description"]
    except (KeyError, TypeError):
        return []
    items = description if isinstance(description, list) else [description]
    return [item for item in items if isinstance(item, dict)]


def _xmp_value(xmp: dict[str, Any], name: str) -> Any:
    for description in _descriptions(xmp):
        if name in description:
            return description[name]
    return None


def _listed(value: Any) -> list[Any]:
    """The items of an RDF Bag or Seq (or a lone value)."""
    if isinstance(value, dict):
        for container in ("Bag", "Seq", "Alt"):
            if container in value:
                inner = value[container]
                items = inner.get("li") if isinstance(inner, dict) else None
                if items is None:
                    return []
                return items if isinstance(items, list) else [items]
        return []
    return value if isinstance(value, list) else [value]


def _xmp_keywords(reader: _Reader, xmp: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for item in _listed(_xmp_value(xmp, "subject")):
        if isinstance(item, str):
            found.append(item)
    for item in _listed(_xmp_value(xmp, "hierarchicalSubject")):
        if isinstance(item, str) and item.strip("|"):
            found.append(item.strip("|").rsplit("|", 1)[-1])
    return found


def _iptc_keywords(reader: _Reader, image: Image.Image) -> list[str]:
    if not isinstance(image, ImageFile.ImageFile):
        return []
    try:
        info = IptcImagePlugin.getiptcinfo(image)
    except Exception as error:
        reader.warn(f"IPTC unreadable: {type(error).__name__}")
        return []
    if not info:
        return []
    value = info.get((2, 25))
    items = value if isinstance(value, list) else [value] if value is not None else []
    found = []
    for item in items:
        if isinstance(item, bytes):
            try:
                found.append(item.decode("utf-8"))
            except UnicodeDecodeError:
                found.append(item.decode("latin-1"))
    return found
