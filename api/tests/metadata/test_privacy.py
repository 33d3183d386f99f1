"""No rendition carries what the original's metadata says: no EXIF, XMP or IPTC, no
position, no serial number, whatever the original's format."""

import io

import pytest
from PIL import ExifTags, Image

from pixtag.metadata.reading import PhotoFacts, read_file
from tests.metadata.test_ingest import upload
from tests.metadata.test_reading import XMP, camera_exif, iptc
from tests.renditions.test_renditions import fetch_rendition

SERIAL = "SN-4815162342"


def photo(fmt: str) -> bytes:
    exif = camera_exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = SERIAL
    buffer = io.BytesIO()
    Image.effect_noise((640, 480), 60).convert("RGB").save(
        buffer, format=fmt, exif=exif, xmp=XMP.encode()
    )
    data = buffer.getvalue()
    return iptc(data, [b"secret place"]) if fmt == "JPEG" else data


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
async def test_renditions_carry_no_metadata(client, fmt: str) -> None:
    original = photo(fmt)
    assert read_file(io.BytesIO(original)).latitude is not None  # the original has it
    image = await upload(client, original, [])
    for preset in ("thumb", "preview"):
        _, data, _ = await fetch_rendition(client, image["image_id"], preset)
        assert read_file(io.BytesIO(data)) == PhotoFacts(), preset
        for marker in (b"Exif\x00\x00", b"http://ns.adobe.com", b"Photoshop 3.0", b"8BIM",
                       SERIAL.encode(), b"Canon", b"Paris"):  # fmt: skip
            assert marker not in data, (preset, marker)
        with Image.open(io.BytesIO(data)) as rendered:
            assert not rendered.getexif()
            assert "xmp" not in rendered.info
