"""The S3 backend against a real S3 server (SeaweedFS, see ``tests.support.s3_server``).

Each test works under its own prefix of the session's bucket, so listings
and sweeps see only what the test made.
"""

import asyncio
import gc
import hashlib
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiobotocore.config import AioConfig
from types_aiobotocore_s3.client import S3Client

from pixtag.storage.disposition import content_disposition
from pixtag.storage.keys import new_key
from pixtag.storage.s3 import PART_SIZE, S3Storage, StorageUnavailable, session
from tests.support.s3_server import SeaweedS3

BUCKET = "pixtag-test"
MiB = 1024 * 1024


async def open_storage(
    seaweed: SeaweedS3,
    spool_dir: Path,
    *,
    prefix: str,
    presign_expires: int = 300,
    secret_access_key: str | None = None,
) -> S3Storage:
    return await S3Storage.open(
        bucket=BUCKET,
        prefix=prefix,
        endpoint_url=seaweed.endpoint_url,
        region=seaweed.region,
        access_key_id=seaweed.access_key_id,
        secret_access_key=secret_access_key or seaweed.secret_access_key,
        presign_expires=presign_expires,
        spool_dir=spool_dir,
    )


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex}/"


@pytest.fixture
async def storage(seaweed: SeaweedS3, tmp_path: Path, prefix: str) -> AsyncIterator[S3Storage]:
    storage = await open_storage(seaweed, tmp_path, prefix=prefix)
    yield storage
    await storage.close()


@pytest.fixture
async def raw(seaweed: SeaweedS3) -> AsyncIterator[S3Client]:
    """A plain client, to look at the bucket without the backend."""
    config = AioConfig(signature_version="s3v4", s3={"addressing_style": "path"})
    async with session().create_client(
        "s3",
        region_name=seaweed.region,
        endpoint_url=seaweed.endpoint_url,
        aws_access_key_id=seaweed.access_key_id,
        aws_secret_access_key=seaweed.secret_access_key,
        config=config,
        verify=False,  # SeaweedFS over plain HTTP
    ) as client:
        yield client


def random_file(path: Path, size: int) -> Path:
    """A file of ``size`` random bytes, written a MiB at a time."""
    with path.open("wb") as file:
        for offset in range(0, size, MiB):
            file.write(os.urandom(min(MiB, size - offset)))
    return path


def sha256_file(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def key_for(path: Path) -> str:
    return new_key(1, sha256_file(path), "image/png")


async def read_all(storage: S3Storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key)])


async def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` as a browser following the redirect would: status, headers, body."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, dict(response.headers), await response.read()


def reset_peak_rss() -> int:
    """Reset the peak RSS (VmHWM) to the current RSS, returned in KiB."""
    Path("/proc/self/clear_refs").write_text("5")
    return vm_kib("VmRSS")


def vm_kib(field: str) -> int:
    status = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB$", status, re.MULTILINE)
    assert match, status
    return int(match.group(1))


async def test_put_of_a_small_file_reads_back_the_same_bytes(
    storage: S3Storage, raw: S3Client, tmp_path: Path, prefix: str
) -> None:
    spooled = random_file(tmp_path / "small", 1000)
    key = key_for(spooled)
    await storage.put(spooled, key, "image/png")
    assert await read_all(storage, key) == spooled.read_bytes()
    head = await raw.head_object(Bucket=BUCKET, Key=prefix + key)
    assert head["ContentType"] == "image/png"
    assert spooled.exists()  # the spooled file is its owner's to remove


async def test_put_of_a_large_file_goes_up_in_parts_and_reads_back_the_same_bytes(
    storage: S3Storage, raw: S3Client, tmp_path: Path, prefix: str
) -> None:
    spooled = random_file(tmp_path / "large", 20 * MiB + 123)
    key = key_for(spooled)
    await storage.put(spooled, key, "image/png")
    digest = hashlib.sha256()
    size = 0
    async for chunk in storage.read(key):
        digest.update(chunk)
        size += len(chunk)
    assert (size, digest.hexdigest()) == (spooled.stat().st_size, sha256_file(spooled))
    head = await raw.head_object(Bucket=BUCKET, Key=prefix + key)
    assert head["ContentType"] == "image/png"
    assert head["ETag"].strip('"').endswith("-3")  # a multipart object of 3 parts
    uploads = await raw.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
    assert uploads.get("Uploads", []) == []


async def test_objects_lists_the_keys_under_the_prefix_with_their_sizes(
    storage: S3Storage, tmp_path: Path
) -> None:
    before = time.time()
    small = random_file(tmp_path / "small", 10)
    large = random_file(tmp_path / "large", PART_SIZE + 1)
    keys = {key_for(small): 10, key_for(large): PART_SIZE + 1}
    for (key, _), path in zip(keys.items(), (small, large), strict=True):
        await storage.put(path, key, "image/png")

    listed = [stored async for stored in storage.objects()]
    assert {stored.key: stored.size for stored in listed} == keys
    # S3 times have one-second resolution.
    assert all(before - 2 <= stored.modified <= time.time() + 2 for stored in listed)


async def test_delete_removes_the_object_and_deleting_a_missing_key_is_fine(
    storage: S3Storage, tmp_path: Path
) -> None:
    spooled = random_file(tmp_path / "small", 10)
    key = key_for(spooled)
    await storage.put(spooled, key, "image/png")
    await storage.delete(key)
    assert [stored async for stored in storage.objects()] == []
    with pytest.raises(FileNotFoundError):
        await read_all(storage, key)
    await storage.delete(key)
    await storage.delete("1/never-stored.png")


async def test_read_of_a_missing_key_raises_file_not_found(storage: S3Storage) -> None:
    with pytest.raises(FileNotFoundError):
        await read_all(storage, "1/0000000000000000-0000000000000000.png")


async def test_presigned_url_serves_the_bytes_with_the_signed_type_and_disposition(
    storage: S3Storage, tmp_path: Path
) -> None:
    spooled = random_file(tmp_path / "small", 1000)
    key = key_for(spooled)
    # Stored as PNG, served with the type and the uploader's name given to url().
    await storage.put(spooled, key, "application/octet-stream")
    filename = 'Fête "de" la\\musique.png'
    url = await storage.url(key, filename=filename, content_type="image/png")

    status, headers, body = await fetch(url)
    assert status == 200
    assert body == spooled.read_bytes()
    assert headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"] == content_disposition(filename)
    assert headers["Content-Disposition"] == (
        "inline; filename=\"F_te _de_ la_musique.png\"; filename*=UTF-8''"
        "F%C3%AAte%20%22de%22%20la%5Cmusique.png"
    )


@pytest.mark.parametrize("tampering", ["signature", "key"])
async def test_tampered_presigned_url_is_refused(
    storage: S3Storage, tmp_path: Path, tampering: str
) -> None:
    spooled = random_file(tmp_path / "small", 1000)
    key, other = key_for(spooled), key_for(spooled)
    for each in (key, other):
        await storage.put(spooled, each, "image/png")
    url = await storage.url(key, filename="a.png", content_type="image/png")
    assert (await fetch(url))[0] == 200

    if tampering == "signature":
        signature = re.search(r"X-Amz-Signature=([0-9a-f]+)", url)
        assert signature
        flipped = "0" if signature.group(1)[-1] != "0" else "1"
        tampered = url[: signature.end() - 1] + flipped + url[signature.end() :]
    else:  # the signature of one key presented for another
        tampered = url.replace(key.split("/")[1], other.split("/")[1], 1)
    assert tampered != url

    status, _, body = await fetch(tampered)
    assert status == 403
    assert spooled.read_bytes() not in body


async def test_expired_presigned_url_is_refused(
    seaweed: SeaweedS3, storage: S3Storage, tmp_path: Path, prefix: str
) -> None:
    spooled = random_file(tmp_path / "small", 1000)
    key = key_for(spooled)
    await storage.put(spooled, key, "image/png")
    long_lived = await storage.url(key, filename="a.png", content_type="image/png")
    assert (await fetch(long_lived))[0] == 200

    short_lived = await open_storage(seaweed, tmp_path, prefix=prefix, presign_expires=1)
    try:
        url = await short_lived.url(key, filename="a.png", content_type="image/png")
    finally:
        await short_lived.close()
    deadline = time.monotonic() + 30
    while True:
        status, _, _ = await fetch(url)
        if status != 200 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert status == 403


async def test_unsigned_get_of_an_object_is_refused(
    seaweed: SeaweedS3, storage: S3Storage, tmp_path: Path, prefix: str
) -> None:
    spooled = random_file(tmp_path / "small", 1000)
    key = key_for(spooled)
    await storage.put(spooled, key, "image/png")
    status, _, body = await fetch(f"{seaweed.endpoint_url}/{BUCKET}/{prefix}{key}")
    assert status == 403
    assert spooled.read_bytes() not in body


async def test_sweep_incomplete_aborts_stale_multipart_uploads(
    storage: S3Storage, raw: S3Client, prefix: str
) -> None:
    name = f"{prefix}1/0123456789abcdef-0123456789abcdef.png"
    await raw.create_multipart_upload(Bucket=BUCKET, Key=name)
    await raw.create_multipart_upload(Bucket=BUCKET, Key=f"elsewhere-{prefix}x.png")
    try:
        assert await storage.sweep_incomplete(cutoff=time.time() - 3600) == []
        uploads = await raw.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
        assert [upload["Key"] for upload in uploads.get("Uploads", [])] == [name]

        swept = await storage.sweep_incomplete(cutoff=time.time() + 1)
        assert swept == [name.removeprefix(prefix)]
        uploads = await raw.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
        assert uploads.get("Uploads", []) == []
        # Outside the prefix: not this storage's to sweep.
        others = await raw.list_multipart_uploads(Bucket=BUCKET, Prefix=f"elsewhere-{prefix}")
        assert len(others.get("Uploads", [])) == 1
    finally:
        others = await raw.list_multipart_uploads(Bucket=BUCKET, Prefix=f"elsewhere-{prefix}")
        for upload in others.get("Uploads", []):
            await raw.abort_multipart_upload(
                Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"]
            )


async def test_cancelled_put_aborts_its_multipart_upload(
    storage: S3Storage, raw: S3Client, tmp_path: Path, prefix: str
) -> None:
    spooled = random_file(tmp_path / "large", 40 * MiB)
    key = key_for(spooled)
    put = asyncio.create_task(storage.put(spooled, key, "image/png"))
    deadline = time.monotonic() + 30
    while not (await raw.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)).get("Uploads"):
        assert not put.done()
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    put.cancel()
    with pytest.raises(asyncio.CancelledError):
        await put
    uploads = await raw.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
    assert uploads.get("Uploads", []) == []
    assert [stored async for stored in storage.objects()] == []


async def test_open_with_a_wrong_secret_raises_storage_unavailable_without_the_secret(
    seaweed: SeaweedS3, tmp_path: Path
) -> None:
    secret = "wrong-" + uuid.uuid4().hex
    with pytest.raises(StorageUnavailable) as raised:
        await open_storage(seaweed, tmp_path, prefix="x", secret_access_key=secret)
    message = str(raised.value)
    where = seaweed.endpoint_url
    assert message == f"cannot reach S3 bucket 'pixtag-test' at {where}: 403 Forbidden"
    assert secret not in message
    assert seaweed.secret_access_key not in message


async def test_open_of_a_missing_bucket_raises_storage_unavailable(
    seaweed: SeaweedS3, tmp_path: Path
) -> None:
    with pytest.raises(StorageUnavailable, match=r"'no-such-bucket' .*404"):
        await S3Storage.open(
            bucket="no-such-bucket",
            prefix="",
            endpoint_url=seaweed.endpoint_url,
            region=seaweed.region,
            access_key_id=seaweed.access_key_id,
            secret_access_key=seaweed.secret_access_key,
            presign_expires=60,
            spool_dir=tmp_path,
        )


async def test_description_names_the_bucket_prefix_and_endpoint(
    seaweed: SeaweedS3, tmp_path: Path
) -> None:
    storage = await open_storage(seaweed, tmp_path, prefix="/photos/")
    try:
        assert storage.description == f"s3://pixtag-test/photos/ at {seaweed.endpoint_url}"
        assert seaweed.secret_access_key not in storage.description
    finally:
        await storage.close()


async def test_put_of_a_40_mib_file_keeps_memory_bounded(
    storage: S3Storage, tmp_path: Path
) -> None:
    spooled = random_file(tmp_path / "large", 40 * MiB)
    key = key_for(spooled)
    gc.collect()
    before = reset_peak_rss()
    await storage.put(spooled, key, "image/png")
    peak = vm_kib("VmHWM")
    assert (peak - before) * 1024 < 30 * MiB, f"RSS rose by {(peak - before) / 1024:.1f} MiB"
    assert [stored.size async for stored in storage.objects()] == [40 * MiB]
