"""POST /images/{id}/attachment/{filename}: stored bytes, recorded facts, replace, refusals."""

import asyncio
import io
import struct
import zlib
from datetime import datetime

import pytest
from aiohttp import FormData
from PIL import Image as PILImage
from PIL import features

from pixtag.images.media import attachment_path
from pixtag.models import Image
from pixtag.storage.keys import is_key_name
from tests.support.helpers import (
    SVG,
    file_key,
    form,
    image_bytes,
    new_image,
    record_of,
    sha256,
    stored_files,
)

pytestmark = pytest.mark.both_backends


async def upload(client, image, data, **kwargs):
    url = f"/images/{image['image_id']}/attachment/{image['filename']}"
    return await client.post(url, data=form(data, **kwargs))


def file_url(settings, image, key):
    """The attachment URL image JSON gives: the key under /media, or the API's redirect (S3)."""
    if settings.storage == "local":
        return f"/media/{key}"
    return attachment_path(image["image_id"], image["filename"])


async def only_file(settings, image) -> bytes:
    """The bytes of the image's file, which must be the only thing in storage."""
    key = file_key(settings, image["image_id"])
    assert await stored_files(settings) == {key: await stored_bytes(settings, key)}
    return await stored_bytes(settings, key)


async def stored_bytes(settings, key) -> bytes:
    return (await stored_files(settings))[key]


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
        pytest.param(
            "AVIF",
            "image/avif",
            marks=pytest.mark.skipif(not features.check("avif"), reason="Pillow without AVIF"),
        ),
    ],
)
async def test_first_upload_is_201_and_records_what_pillow_and_hashlib_see(
    client, settings, fmt, content_type
):
    image = await new_image(client)
    data = image_bytes(fmt, size=(13, 9))
    resp = await upload(client, image, data, content_type="text/plain", filename="lie.txt")
    assert resp.status == 201
    assert resp.content_type == "application/json"
    body = await resp.json()
    Image.model_validate(body)
    assert resp.headers["Location"] == f"/images/{image['image_id']}/attachment/example.jpg"
    attachment = body["attachment"]
    with PILImage.open(io.BytesIO(data)) as reference:
        assert (attachment["width"], attachment["height"]) == reference.size
        assert PILImage.MIME[reference.format] == attachment["content_type"] == content_type
    assert attachment["size"] == len(data)
    assert attachment["sha256"] == sha256(data)
    key = file_key(settings, image["image_id"])
    folder, name = key.split("/")
    assert folder == str(image["image_id"])
    assert is_key_name(name)
    assert name.startswith(sha256(data)[:16] + "-")
    assert name.endswith("." + {"jpeg": "jpg", "tiff": "tif"}.get(fmt.lower(), fmt.lower()))
    assert attachment["url"] == file_url(settings, image, key)
    assert attachment["uploaded_at"].endswith("Z")
    assert await only_file(settings, image) == data
    if settings.storage == "local":
        assert (settings.media_dir / key).stat().st_mode & 0o777 == 0o644
    again = await client.get(f"/images/{image['image_id']}")
    assert await again.json() == record_of(body)


async def test_a_second_upload_stores_a_new_key_removes_the_old_and_answers_200(client, settings):
    image = await new_image(client)
    first = await (await upload(client, image, image_bytes("PNG", (4, 4)))).json()
    old_key = file_key(settings, image["image_id"])
    data = image_bytes("JPEG", (20, 10), "blue")
    resp = await upload(client, image, data)
    assert resp.status == 200
    assert "Location" not in resp.headers
    body = await resp.json()
    assert body["attachment"]["sha256"] == sha256(data)
    assert body["attachment"]["content_type"] == "image/jpeg"
    assert (body["attachment"]["width"], body["attachment"]["height"]) == (20, 10)
    assert datetime.fromisoformat(body["attachment"]["uploaded_at"]) >= datetime.fromisoformat(
        first["attachment"]["uploaded_at"]
    )
    new_key = file_key(settings, image["image_id"])
    assert new_key != old_key
    assert body["attachment"]["url"] == file_url(settings, image, new_key)
    assert await only_file(settings, image) == data


async def test_the_same_bytes_uploaded_again_get_a_new_key(client, settings):
    image = await new_image(client)
    data = image_bytes()
    await upload(client, image, data)
    old_key = file_key(settings, image["image_id"])
    resp = await upload(client, image, data)
    assert resp.status == 200
    assert file_key(settings, image["image_id"]) != old_key
    assert await only_file(settings, image) == data


async def test_a_unicode_filename_is_metadata_and_its_paths_are_quoted(client, settings):
    image = await new_image(client, filename="фото 1#?.png")
    data = image_bytes()
    resp = await client.post(
        f"/images/{image['image_id']}/attachment/%D1%84%D0%BE%D1%82%D0%BE%201%23%3F.png",
        data=form(data),
    )
    assert resp.status == 201
    body = await resp.json()
    quoted = "%D1%84%D0%BE%D1%82%D0%BE%201%23%3F.png"
    key = file_key(settings, image["image_id"])
    assert body["attachment"]["url"] == file_url(settings, image, key)
    if settings.storage == "s3":
        assert body["attachment"]["url"] == f"/images/{image['image_id']}/attachment/{quoted}"
    assert resp.headers["Location"] == f"/images/{image['image_id']}/attachment/{quoted}"
    assert await only_file(settings, image) == data


async def test_wrong_filename_is_404_naming_the_expected_one(client, settings):
    image = await new_image(client)
    resp = await client.post(f"/images/{image['image_id']}/attachment/other.jpg", data=form(b"x"))
    assert resp.status == 404
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["error"] == (
        f"Image <{image['image_id']}> has no file named 'other.jpg': its filename is 'example.jpg'"
    )
    assert await stored_files(settings) == {}


async def test_missing_image_is_404(client, settings):
    resp = await client.post("/images/22/attachment/example.jpg", data=form(image_bytes()))
    assert resp.status == 404
    assert (await resp.json())["error"] == "Image <22> is not found"
    assert await stored_files(settings) == {}


@pytest.mark.parametrize(
    "data",
    [SVG, b"GIF89a but not really", b"", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"],
    ids=["svg", "fake-gif", "empty", "eps"],
)
async def test_non_images_and_scriptable_formats_are_415_and_leave_nothing(client, settings, data):
    image = await new_image(client)
    resp = await upload(client, image, data, content_type="image/png", filename="x.png")
    assert resp.status == 415
    assert resp.content_type == "application/problem+json"
    assert "not an image of an accepted type" in (await resp.json())["error"]
    assert await stored_files(settings) == {}
    record = await (await client.get(f"/images/{image['image_id']}")).json()
    assert record["attachment"] is None


async def test_a_refused_replacement_keeps_the_previous_file(client, settings):
    image = await new_image(client)
    data = image_bytes()
    first = await (await upload(client, image, data)).json()
    assert (await upload(client, image, SVG)).status == 415
    assert await only_file(settings, image) == data
    assert await (await client.get(f"/images/{image['image_id']}")).json() == record_of(first)


async def test_file_over_the_limit_is_413_while_streaming(aiohttp_client, settings):
    from pixtag.app import create_app

    small = settings.model_copy(update={"max_upload_size": 1000})
    client = await aiohttp_client(create_app(small))
    image = await new_image(client)
    resp = await upload(client, image, image_bytes("BMP", (20, 20)))  # 1254 bytes
    assert resp.status == 413
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["error"] == "The file is larger than 1000 bytes"
    assert await stored_files(small) == {}
    data = image_bytes("PNG", (2, 2))
    assert (await upload(client, image, data)).status == 201


async def test_an_image_with_too_many_pixels_is_413_and_leaves_nothing(aiohttp_client, settings):
    from pixtag.app import create_app

    small = settings.model_copy(update={"max_image_pixels": 100})
    client = await aiohttp_client(create_app(small))
    image = await new_image(client)
    # 50 KB on disk could decode to gigabytes: the bound is on pixels, not bytes.
    resp = await upload(client, image, image_bytes("PNG", (20, 20)))
    assert resp.status == 413
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["error"] == "The image has more than 100 pixels"
    assert await stored_files(small) == {}
    assert (await upload(client, image, image_bytes("PNG", (10, 10)))).status == 201


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels (header only: no image data)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", 0)
        + b"IEND"
        + struct.pack(">I", zlib.crc32(b"IEND"))
    )


async def test_a_decompression_bomb_is_413_before_any_decoding(client, settings):
    image = await new_image(client)
    # 40000 x 40000 pixels: 4.8 GB once decoded, in 45 bytes.
    resp = await upload(client, image, png_header(40_000, 40_000))
    assert resp.status == 413
    assert (await resp.json())[
        "error"
    ] == f"The image has more than {settings.max_image_pixels} pixels"
    assert await stored_files(settings) == {}


async def test_content_length_over_the_limit_is_413_before_reading(aiohttp_client, settings):
    from pixtag.app import create_app

    small = settings.model_copy(update={"max_upload_size": 1000})
    client = await aiohttp_client(create_app(small))
    image = await new_image(client)
    resp = await upload(client, image, b"\0" * 300_000)
    assert resp.status == 413
    assert (await resp.json())["error"].startswith("The request body is larger than")
    assert await stored_files(small) == {}


async def test_a_body_that_is_not_multipart_is_400(client):
    image = await new_image(client)
    url = f"/images/{image['image_id']}/attachment/example.jpg"
    resp = await client.post(url, data=image_bytes(), headers={"Content-Type": "image/png"})
    assert resp.status == 400
    assert (await resp.json())["error"] == "Content-Type must be multipart/form-data, not image/png"


async def test_a_wrong_field_name_is_400(client, settings):
    image = await new_image(client)
    resp = await upload(client, image, image_bytes(), field="file")
    assert resp.status == 400
    assert (await resp.json())["error"] == "Expected a multipart field 'image', found 'file'"
    assert await stored_files(settings) == {}


async def test_a_missing_field_is_400(client):
    image = await new_image(client)
    url = f"/images/{image['image_id']}/attachment/example.jpg"
    body = FormData()
    body.add_field("note", "hello")
    body.add_field("image", image_bytes(), filename="a.png")
    resp = await client.post(url, data=body)
    assert resp.status == 400
    assert (await resp.json())["error"] == "Expected a multipart field 'image', found 'note'"
    empty = "--b--\r\n"
    resp = await client.post(
        url, data=empty, headers={"Content-Type": "multipart/form-data; boundary=b"}
    )
    assert resp.status == 400
    assert (await resp.json())["error"] == "Expected a multipart field 'image', found nothing"


async def test_an_extra_field_after_the_image_is_400_and_stores_nothing(client, settings):
    image = await new_image(client)
    body = FormData()
    body.add_field("image", image_bytes(), filename="a.png")
    body.add_field("image", image_bytes(), filename="b.png")
    resp = await client.post(f"/images/{image['image_id']}/attachment/example.jpg", data=body)
    assert resp.status == 400
    assert (await resp.json())["error"] == "Unexpected multipart field 'image' after the image"
    assert await stored_files(settings) == {}


async def test_a_multipart_without_boundary_is_400(client):
    image = await new_image(client)
    resp = await client.post(
        f"/images/{image['image_id']}/attachment/example.jpg",
        data=b"whatever",
        headers={"Content-Type": "multipart/form-data"},
    )
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"


async def expect_continue(client, path: str, length: int) -> bytes:
    """Send headers with ``Expect: 100-continue`` and no body; return what the server says."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {length}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(4096), 10)
    writer.close()
    await writer.wait_closed()
    return answer


async def test_expect_100_continue_is_refused_with_413_before_the_body(client):
    image = await new_image(client)
    path = f"/images/{image['image_id']}/attachment/example.jpg"
    answer = await expect_continue(client, path, 10**10)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"application/problem+json" in answer
    assert b'"The request body is larger than' in answer
    assert (await expect_continue(client, "/images", 10**10)).startswith(b"HTTP/1.1 413 ")
    assert (await expect_continue(client, path, 1000)).startswith(b"HTTP/1.1 100 Continue")
