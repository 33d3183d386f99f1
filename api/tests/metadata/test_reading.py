"""The metadata reader on files with real EXIF, XMP and IPTC written here, and on hostile
ones: every field as specified, and a bad file a warning, never a failure."""

import io
import time
from datetime import datetime

import pillow_heif
import pytest
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo
from PIL.TiffImagePlugin import IFDRational as Fraction

from pixtag.metadata.reading import MAX_XMP, PhotoFacts, read_file

XMP = """<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
     xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
     photoshop:DateCreated="2023-07-14T21:05:09.5-04:00">
   <dc:subject><rdf:Bag><rdf:li>Paris</rdf:li><rdf:li>Eiffel Tower</rdf:li></rdf:Bag></dc:subject>
   <lr:hierarchicalSubject><rdf:Bag>
     <rdf:li>Places|France|Paris</rdf:li><rdf:li>People|Alice</rdf:li>
   </rdf:Bag></lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end='w'?>"""


def camera_exif(*, with_date: bool = True) -> Image.Exif:
    exif = Image.Exif()
    base = ExifTags.Base
    exif[base.Make] = "Canon"
    exif[base.Model] = "Canon EOS R5"
    exif[base.Software] = "Firmware 1.8.1"
    exif[base.Orientation] = 6
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    if with_date:
        ifd[base.DateTimeOriginal] = "2024:05:01 10:30:15"
        ifd[base.OffsetTimeOriginal] = "+02:00"
        ifd[base.SubsecTimeOriginal] = "25"
    ifd[base.LensModel] = "RF35mm F1.8 MACRO IS STM"
    ifd[base.FocalLength] = Fraction(35, 1)
    ifd[base.FocalLengthIn35mmFilm] = 35
    ifd[base.FNumber] = Fraction(28, 10)
    ifd[base.ExposureTime] = Fraction(1, 250)
    ifd[base.ISOSpeedRatings] = 3200
    ifd[base.Flash] = 0x19
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (Fraction(48), Fraction(51), Fraction(2376, 100))
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (Fraction(2), Fraction(21), Fraction(792, 100))
    gps[ExifTags.GPS.GPSAltitudeRef] = b"\x00"
    gps[ExifTags.GPS.GPSAltitude] = Fraction(355, 10)
    return exif


def iptc(data: bytes, keywords: list[bytes]) -> bytes:
    """A JPEG with an APP13 Photoshop segment holding IPTC Keywords (2:25)."""
    records = b"".join(b"\x1c\x02\x19" + len(k).to_bytes(2, "big") + k for k in keywords)
    resource = b"8BIM\x04\x04\x00\x00" + len(records).to_bytes(4, "big") + records
    resource += b"\x00" * (len(records) % 2)
    payload = b"Photoshop 3.0\x00" + resource
    return data[:2] + b"\xff\xed" + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]


def saved(fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    if fmt == "PNG" and "xmp" in options:  # Pillow writes PNG's XMP as an iTXt chunk
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", options.pop("xmp").decode())  # type: ignore[attr-defined]
        options["pnginfo"] = info
    Image.new("RGB", (40, 30), "teal").save(buffer, format=fmt, **options)
    return buffer.getvalue()


def facts_of(data: bytes) -> PhotoFacts:
    return read_file(io.BytesIO(data))


EXPECTED = {
    "taken_at": datetime(2024, 5, 1, 10, 30, 15, 250_000),
    "taken_offset": 120,
    "make": "Canon",
    "model": "Canon EOS R5",
    "lens": "RF35mm F1.8 MACRO IS STM",
    "focal_length": 35.0,
    "focal_length_35mm": 35,
    "aperture": 2.8,
    "exposure_time": 0.004,
    "iso": 3200,
    "flash": True,
    "orientation": 6,
    "latitude": 48.8566,
    "longitude": -2.3522,
    "altitude": 35.5,
    "software": "Firmware 1.8.1",
}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_every_field_of_exif_and_xmp(fmt: str) -> None:
    data = saved(fmt, exif=camera_exif(), xmp=XMP.encode())
    facts = facts_of(data)
    for name, value in EXPECTED.items():
        assert (
            getattr(facts, name) == pytest.approx(value)
            if isinstance(value, float)
            else (getattr(facts, name) == value)
        ), (fmt, name, getattr(facts, name))
    # dc:subject, then the leaf of each hierarchical path (no repeats)
    assert facts.keywords == ("Paris", "Eiffel Tower", "Alice")
    assert facts.warnings == ()


def test_heic_exif() -> None:
    pillow_heif.register_heif_opener()
    data = saved("HEIF", exif=camera_exif())
    facts = facts_of(data)
    assert facts.make == "Canon"
    assert facts.taken_at == EXPECTED["taken_at"]
    assert facts.latitude == pytest.approx(48.8566)


def test_the_date_falls_back_to_xmp_and_iptc_keywords_are_read() -> None:
    data = iptc(saved("JPEG", exif=camera_exif(with_date=False), xmp=XMP.encode()),
                [b"harbour", "caf\u00e9".encode()])  # fmt: skip
    facts = facts_of(data)
    assert facts.taken_at == datetime(2023, 7, 14, 21, 5, 9, 500_000)
    assert facts.taken_offset == -240
    assert facts.keywords == ("Paris", "Eiffel Tower", "Alice", "harbour", "caf\u00e9")


def test_a_photo_without_metadata_says_nothing() -> None:
    facts = facts_of(saved("PNG"))
    assert facts == PhotoFacts()
    assert facts.document() is None


def test_the_document_groups_what_there_is_and_drops_the_location_on_request() -> None:
    facts = facts_of(saved("JPEG", exif=camera_exif(), xmp=XMP.encode()))
    document = facts.document()
    assert document == {
        "camera": {"make": "Canon", "model": "Canon EOS R5"},
        "lens": "RF35mm F1.8 MACRO IS STM",
        "exposure": {
            "focal_length": 35.0, "focal_length_35mm": 35, "aperture": 2.8,
            "exposure_time": 0.004, "iso": 3200, "flash": True,
        },
        "location": {"latitude": 48.8566, "longitude": -2.3522, "altitude": 35.5},
        "orientation": 6,
        "software": "Firmware 1.8.1",
        "keywords": ["Paris", "Eiffel Tower", "Alice"],
    }  # fmt: skip
    assert "location" not in (facts.without_location().document() or {})


def hostile_exif() -> bytes:
    """Raw EXIF: an IFD that points at itself, a string of 4 billion bytes, wrong types."""
    entries = [
        (0x010F, 2, 0xFFFFFFFF, 0),  # Make: ASCII, absurd count
        (0x0112, 3, 1, 99 << 16),  # Orientation 99
        (0x8769, 4, 1, 8),  # Exif IFD: this very IFD (a loop)
        (0x8825, 4, 1, 8),  # GPS IFD: the same
    ]
    ifd = len(entries).to_bytes(2, "big")
    for tag, kind, count, value in entries:
        ifd += tag.to_bytes(2, "big") + kind.to_bytes(2, "big") + count.to_bytes(4, "big")
        ifd += value.to_bytes(4, "big")
    ifd += (0).to_bytes(4, "big")
    return b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08" + ifd


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><lolz>&lol9;</lolz></x:xmpmeta>"""


@pytest.mark.parametrize(
    ("name", "fmt", "options"),
    [
        ("looping, oversized and mistyped EXIF", "JPEG", {"exif": hostile_exif()}),
        ("billion laughs in XMP", "JPEG", {"xmp": BILLION_LAUGHS.encode()}),
        ("XMP over 1 MB", "PNG", {"xmp": (XMP[:-20] + " " * MAX_XMP + XMP[-20:]).encode()}),
        ("XMP that is not XML", "JPEG", {"xmp": b"<x:xmpmeta><<<"}),
    ],
)
def test_hostile_metadata_is_a_warning_in_bounded_time(
    name: str, fmt: str, options: dict[str, object]
) -> None:
    data = saved(fmt, **options)
    started = time.perf_counter()
    facts = facts_of(data)
    assert time.perf_counter() - started < 5, name
    assert facts.orientation is None
    assert facts.make is None
    assert facts.keywords == ()
    assert facts.warnings, name


def test_mistyped_values_are_dropped_one_by_one() -> None:
    exif = camera_exif()
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    ifd[ExifTags.Base.FNumber] = "fast"
    ifd[ExifTags.Base.ISOSpeedRatings] = 0
    ifd[ExifTags.Base.DateTimeOriginal] = "2024:13:45 99:00:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitude] = (Fraction(200), Fraction(0), Fraction(0))
    facts = facts_of(saved("JPEG", exif=exif))
    assert (facts.aperture, facts.iso, facts.taken_at, facts.latitude) == (None, None, None, None)
    assert facts.make == "Canon"
    assert facts.focal_length == 35.0
    assert len(facts.warnings) >= 3
