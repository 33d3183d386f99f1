"""Shared test helpers: real image bytes made by Pillow, multipart bodies, media scans."""

import hashlib
import io
import json
import os
from pathlib import Path

from aiobotocore.config import AioConfig
from aiohttp import FormData
from PIL import Image

from pixtag import imaging
from pixtag.storage.s3 import session as s3_session
from tests.support.processes import sql

imaging.register()  # Pillow writes HEIF through pillow-heif, as the server reads it

SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (7, 5), color: str = "red") -> bytes:
    """A real image file in ``fmt``."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def seeded_image(fmt: str, seed: int, size: tuple[int, int] = (8, 6)) -> bytes:
    """A small real image in ``fmt``, distinct per seed."""
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    image.putpixel((0, 0), (seed % 256, seed // 256 % 256, 7))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def picture(name: str) -> bytes:
    """Distinct PNG bytes for each name: its hash is the pixels."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (4, 4), hashlib.shake_256(name.encode()).digest(48)).save(buffer, "PNG")
    return buffer.getvalue()


def photo(name: str, fmt: str = "PNG", scale: float = 0.5, **options: object) -> bytes:
    """A scikit-image sample photograph (``astronaut.png``, ``coffee.png``, ...), scaled."""
    import skimage.data  # only the tests that use photographs pay for the import

    with Image.open(Path(skimage.data.__file__).parent / name) as image:
        image = image.convert("RGB")
        image = image.resize((int(image.width * scale), int(image.height * scale)))
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **options)
        return buffer.getvalue()


def halves(size: tuple[int, int] = (40, 20), fmt: str = "PNG", **save: object) -> bytes:
    """Left half red, right half blue: a flip or a turn shows where each half went."""
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def heif_bytes(size: tuple[int, int] = (20, 10), *, brand: bytes = b"heic") -> bytes:
    """A real HEIF file (HEVC inside) written by pillow-heif, under ``brand``: b"heic" is what
    phones write, b"mif1" a generic HEIF."""
    data = image_bytes("HEIF", size)
    assert data[8:12] == b"heic"
    return data[:8] + brand + data[12:]


def noisy_png(size: tuple[int, int], seed: int = 0) -> bytes:
    """A PNG that does not compress (random pixels), for large uploads."""
    buffer = io.BytesIO()
    data = hashlib.shake_256(str(seed).encode()).digest(size[0] * size[1] * 3)
    Image.frombytes("RGB", size, data).save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def form(
    data: bytes, *, field: str = "image", filename: str = "upload.bin", content_type: str = ""
) -> FormData:
    """A multipart body with one file field (the part's filename and type are the client's)."""
    body = FormData()
    body.add_field(
        field, data, filename=filename, content_type=content_type or "application/octet-stream"
    )
    return body


def create_form(meta: dict[str, object], data: bytes, *, filename: str = "x.bin") -> FormData:
    """A one-request creation body: ``meta`` then ``image``."""
    body = FormData()
    body.add_field("meta", json.dumps(meta), content_type="application/json")
    body.add_field("image", data, filename=filename, content_type="application/octet-stream")
    return body


def files_under(root: Path) -> set[Path]:
    """Every file (and symlink) below ``root``, relative to it."""
    found = set()
    for directory, _dirs, names in os.walk(root):
        for name in names:
            found.add((Path(directory) / name).relative_to(root))
    return found


async def new_image(client, filename: str = "example.jpg", tags=("a",)) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.post("/images", json={"filename": filename, "tags": list(tags)})
    assert resp.status == 201
    return await resp.json()


def raw_form(name: str, filename: bytes, data: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart body written byte for byte (no client-side checks of the part's headers)."""
    boundary = b"raw-boundary-4b1d"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="'
        + name.encode()
        + b'"; filename="'
        + filename
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + data
        + b"\r\n"
        b"--" + boundary + b"--\r\n"
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"}


def file_key(settings, image_id: int) -> str | None:  # type: ignore[no-untyped-def]
    """The storage key the database records for an image's file."""
    found = sql(
        settings.database_url, "SELECT storage_key FROM images WHERE image_id = %s", (image_id,)
    )
    return found[0][0] if found else None


async def stored_files(settings) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """Everything in the test's storage, read independently of pixtag's backends.

    Local: every file below the media root, temporary ones included, by its
    path there. S3: every object under the test's prefix by its key, plus
    ``incomplete:<key>`` for each unfinished multipart upload and
    ``incoming/<name>`` for each file in the local spool.
    """
    if settings.storage == "local":
        root = settings.media_dir
        return {str(path): (root / path).read_bytes() for path in files_under(root)}
    found = {
        f"incoming/{path}": (settings.data_dir / "incoming" / path).read_bytes()
        for path in files_under(settings.data_dir / "incoming")
    }
    secret = settings.s3_secret_access_key.get_secret_value()
    async with s3_session().create_client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret,
        verify=False,  # SeaweedFS over plain HTTP
        config=AioConfig(s3={"addressing_style": "path"}),
    ) as s3:
        bucket, prefix = settings.s3_bucket, settings.s3_prefix
        listed = await s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
        for item in listed.get("Contents", []):
            obj = await s3.get_object(Bucket=bucket, Key=item["Key"])
            async with obj["Body"] as body:
                found[item["Key"].removeprefix(prefix)] = await body.read()
        uploads = await s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
        for upload in uploads.get("Uploads", []):
            found[f"incomplete:{upload['Key'].removeprefix(prefix)}"] = b""
    return found


async def problem(resp, status: int) -> dict:  # type: ignore[no-untyped-def]
    """The problem+json body of an error answer with ``status``; detail and error agree."""
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["status"] == status
    assert body["detail"] == body["error"]
    return body


def record_of(answer: dict) -> dict:  # type: ignore[type-arg]
    """An upload's answer without its ``near_duplicates`` (a list): the document GET reads."""
    assert isinstance(answer["near_duplicates"], list), answer
    return {name: value for name, value in answer.items() if name != "near_duplicates"}
