"""No rendition carries what the original's metadata says: no EXIF, XMP or IPTC, no
position, no serial number, whatever the original's format."""

import io

import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageSequence
from PIL.PngImagePlugin import PngInfo
from yarl import URL

from pixtag.metadata.reading import PhotoFacts, read_file
from tests.auth.test_drops import drop_form
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


# (An EXIF of the orientation alone stays: checked tag by tag below.)
MARKERS = (b"http://ns.adobe.com", b"Photoshop 3.0", b"8BIM", SERIAL.encode(),
           b"Canon", b"Paris", b"secret", b"GPS")  # fmt: skip


def metadata_rich(fmt: str) -> bytes:
    """A 64x48 photo in ``fmt`` with EXIF (camera, GPS, serial, orientation 6), XMP, and what
    else the format holds: IPTC and a comment (JPEG), text chunks (PNG), a comment and an
    XMP application extension (GIF); an animation for GIF and WebP."""
    exif = camera_exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = SERIAL
    frames = [Image.effect_noise((64, 48), 60 + n * 20).convert("RGB") for n in range(2)]
    buffer = io.BytesIO()
    if fmt == "JPEG":
        frames[0].save(buffer, "JPEG", exif=exif, xmp=XMP.encode(), comment=b"secret place")
        return iptc(buffer.getvalue(), [b"secret place"])
    if fmt == "PNG":
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP)
        info.add_text("Comment", "secret place")
        frames[0].save(buffer, "PNG", exif=exif, pnginfo=info)
        return buffer.getvalue()
    if fmt == "GIF":
        frames = [f.convert("P") for f in frames]
        frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], loop=0,
                       comment=b"secret place")  # fmt: skip
        data = buffer.getvalue()
        xmp = b"\x21\xff\x0bXMP DataXMP" + bytes([len(b"Paris")]) + b"Paris" + b"\x00"
        return data[:-1] + xmp + data[-1:]
    if fmt == "WEBP":
        frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:], lossless=True,
                       exif=exif, xmp=XMP.encode())  # fmt: skip
        return buffer.getvalue()
    pillow_heif.register_heif_opener()
    frames[0].save(buffer, fmt, exif=exif, **({"quality": -1} if fmt == "HEIF" else {}))
    return buffer.getvalue()


def decoded(data: bytes) -> list[tuple[str, tuple[int, int], bytes]]:
    """Every frame's mode, size and pixels, as stored (no orientation applied)."""
    with Image.open(io.BytesIO(data)) as image:
        return [
            (f.mode, f.size, f.convert("RGBA").tobytes()) for f in ImageSequence.Iterator(image)
        ]


@pytest.mark.parametrize(
    ("fmt", "sent_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("GIF", "image/gif"),
     ("WEBP", "image/webp"), ("TIFF", "image/png"), ("HEIF", "image/png")],
)  # fmt: skip
async def test_a_share_sends_the_same_pixels_without_the_metadata(client, fmt, sent_type):
    original = metadata_rich(fmt)
    facts = read_file(io.BytesIO(original))
    assert facts.make == "Canon" or fmt == "GIF", facts  # the original says it
    image = await upload(client, original, [])
    resp = await client.post(f"/images/{image['image_id']}/shares", json={})
    made = await resp.json()
    assert made["strip_metadata"] is True  # the default
    resp = await client.get(f"{made['url']}/download", allow_redirects=False)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == sent_type
    data = await resp.read()
    assert len(data) == int(resp.headers["Content-Length"])
    for marker in MARKERS:
        assert marker not in data, marker
    turned = facts.orientation if facts.orientation != 1 else None
    assert read_file(io.BytesIO(data)) == PhotoFacts(orientation=turned), fmt
    with Image.open(io.BytesIO(data)) as sent:
        assert dict(sent.getexif()) == ({0x0112: 6} if facts.orientation == 6 else {})
        assert "xmp" not in sent.info
        assert "comment" not in sent.info
    assert decoded(data) == decoded(original) or fmt == "HEIF"
    if fmt == "HEIF":  # a decoder's output, compared as such: lossless as PNG
        ((_, size, pixels),) = decoded(data)
        ((_, size_before, pixels_before),) = decoded(original)
        assert (size, pixels) == (size_before, pixels_before)
    if fmt == "JPEG":  # the compressed data itself is untouched
        assert original[original.index(b"\xff\xda") :] == data[data.index(b"\xff\xda") :]
    # The image page's JSON says what the stored file says; a share asked to keep it sends
    # the file as stored.
    resp = await client.post(f"/images/{image['image_id']}/shares", json={"strip_metadata": False})
    kept = await resp.json()
    assert kept["strip_metadata"] is False
    resp = await client.get(f"{kept['url']}/download", allow_redirects=False)
    assert await resp.read() == original


async def test_a_share_page_shows_no_position(client):
    original = metadata_rich("JPEG")
    image = await upload(client, original, [])
    made = await (await client.post(f"/images/{image['image_id']}/shares", json={})).json()
    page = await client.get(made["url"], headers={"Accept": "text/html"})
    assert page.status == 200
    text = await page.text()
    for leak in ("48.85", "2.35", "Canon", SERIAL):
        assert leak not in text, leak


async def test_drops_send_the_file_as_stored(client):
    """A file drop (seed 002) hands over the file it was given, metadata and all."""
    original = metadata_rich("JPEG")
    resp = await client.put("/file", data=drop_form(original))
    assert resp.status == 201, await resp.text()
    got = await client.get(URL((await resp.json())["url"]).path)
    assert await got.read() == original


def test_stripping_keeps_every_scan_and_refuses_broken_files(tmp_path):
    """A progressive JPEG (many scans, tables between them) keeps every scan and decodes to
    the same pixels; what follows the end of the image (MPF's second picture) goes; a
    truncated file is refused rather than cut."""
    from pixtag.metadata import stripping

    buffer = io.BytesIO()
    Image.effect_noise((64, 48), 60).convert("RGB").save(
        buffer, "JPEG", progressive=True, exif=camera_exif(), comment=b"secret place"
    )
    original = buffer.getvalue() + b"\xff\xd8 a second picture \xff\xd9"
    path = tmp_path / "p.jpg"
    path.write_bytes(original)
    stripped = stripping.strip(path, "image/jpeg")
    assert stripped.data.count(b"\xff\xda") == original.count(b"\xff\xda") >= 2
    assert stripped.data.endswith(b"\xff\xd9")
    assert b"second picture" not in stripped.data
    assert b"secret" not in stripped.data
    assert decoded(stripped.data) == decoded(original)
    for cut in (len(original) // 2, 20):
        path.write_bytes(original[:cut])
        with pytest.raises(stripping.Unstrippable):
            stripping.strip(path, "image/jpeg")
