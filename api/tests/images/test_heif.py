"""HEIC/HEIF (phone photos) are stored, typed from their bytes and served with their own type."""

import pytest

from tests.support.helpers import (
    create_form,
    file_key,
    heif_bytes,
    image_bytes,
    sha256,
    stored_files,
)

pytestmark = pytest.mark.both_backends


@pytest.mark.parametrize(
    ("brand", "content_type", "extension"),
    [(b"heic", "image/heic", "heic"), (b"mif1", "image/heif", "heif")],
)
async def test_a_heif_photo_is_stored_with_its_type_and_dimensions(
    client, settings, brand: bytes, content_type: str, extension: str
):
    data = heif_bytes((36, 24), brand=brand)
    meta = {"filename": "IMG_0001.HEIC", "tags": ["phone"]}
    resp = await client.post("/images", data=create_form(meta, data, filename="x.jpg"))
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    attachment = body["attachment"]
    assert attachment["content_type"] == content_type
    assert (attachment["width"], attachment["height"]) == (36, 24)
    assert attachment["sha256"] == sha256(data)
    key = file_key(settings, body["image_id"])
    assert key.endswith(f".{extension}")
    assert await stored_files(settings) == {key: data}
    download = await client.get(f"/images/{body['image_id']}/attachment/IMG_0001.HEIC")
    assert download.status == 200
    assert download.headers["Content-Type"] == content_type
    assert await download.read() == data


async def test_avif_is_still_avif_not_heif(client):
    data = image_bytes("AVIF", (12, 8))
    resp = await client.post("/images", data=create_form({"filename": "a.avif"}, data))
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["attachment"]["content_type"] == "image/avif"


async def test_the_refusal_names_heic_and_heif_among_the_accepted_types(client):
    resp = await client.post("/images", data=create_form({"filename": "a.txt"}, b"plain text"))
    assert resp.status == 415
    assert (await resp.json())["detail"] == (
        "The file is not an image of an accepted type"
        " (JPEG, PNG, GIF, WebP, AVIF, HEIC, HEIF, BMP, TIFF, ICO)"
    )
