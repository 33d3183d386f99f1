"""Uploads under stress: aborted by the client, concurrent replaces, a server killed mid-upload."""

import asyncio
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image as PILImage

from pixtag.app import create_app
from pixtag.storage import spool
from pixtag.storage.local import INCOMING
from tests.support.helpers import (
    file_key,
    form,
    image_bytes,
    new_image,
    noisy_png,
    record_of,
    sha256,
    stored_files,
)
from tests.support.processes import async_wait_until, connection

pytestmark = pytest.mark.both_backends


def spool_dir(settings) -> Path:
    return (
        settings.media_dir / INCOMING
        if settings.storage == "local"
        else settings.data_dir / "incoming"
    )


def temp_files(settings) -> list[Path]:
    return list(spool_dir(settings).glob(f"{spool.TEMP_PREFIX}*"))


async def wait_for(condition) -> None:
    """Poll the file system (it has no event to wait on)."""
    await async_wait_until(condition, within=30, what="the media directory")


async def start_upload(client, image_id: int, filename: str, sent: int, declared: int):
    """Send the headers and ``sent`` bytes of a multipart upload declaring ``declared`` bytes."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    preamble = b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
    head = (
        f"POST /images/{image_id}/attachment/{filename} HTTP/1.1\r\n"
        f"Host: {client.host}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {len(preamble) + declared}\r\n\r\n"
    ).encode()
    writer.write(head + preamble + noisy_png((600, 600))[:sent])
    await writer.drain()
    return reader, writer


async def test_an_aborted_first_upload_leaves_nothing(client, settings):
    image = await new_image(client)
    _, writer = await start_upload(client, image["image_id"], "example.jpg", 800_000, 2_000_000)
    await wait_for(lambda: temp_files(settings))
    writer.transport.abort()
    await wait_for(lambda: not temp_files(settings))
    assert await stored_files(settings) == {}
    record = await (await client.get(f"/images/{image['image_id']}")).json()
    assert record["attachment"] is None


async def test_an_aborted_replacement_keeps_the_previous_file(client, settings):
    image = await new_image(client)
    data = image_bytes()
    before = record_of(
        await (
            await client.post(
                f"/images/{image['image_id']}/attachment/example.jpg", data=form(data)
            )
        ).json()
    )
    key = file_key(settings, image["image_id"])
    _, writer = await start_upload(client, image["image_id"], "example.jpg", 800_000, 2_000_000)
    await wait_for(lambda: temp_files(settings))
    writer.transport.abort()
    await wait_for(lambda: not temp_files(settings))
    assert await stored_files(settings) == {key: data}
    assert await (await client.get(f"/images/{image['image_id']}")).json() == before


async def test_concurrent_replaces_end_with_file_and_record_describing_the_same_bytes(
    client, settings
):
    image = await new_image(client, filename="race.img")
    url = f"/images/{image['image_id']}/attachment/race.img"
    bodies = [noisy_png((200 + i, 150), seed=i) for i in range(6)]
    bodies += [image_bytes(fmt, (30 + i, 20)) for i, fmt in enumerate(["JPEG", "GIF", "WEBP"])]
    responses = await asyncio.gather(*(client.post(url, data=form(b)) for b in bodies))
    statuses = sorted(r.status for r in responses)
    assert statuses == [200] * (len(bodies) - 1) + [201]
    record = (await (await client.get(f"/images/{image['image_id']}")).json())["attachment"]
    files = await stored_files(settings)
    key = file_key(settings, image["image_id"])
    # Every replaced file is gone: only the last one stays.
    assert list(files) == [key]
    stored = files[key]
    assert stored in bodies
    assert record["sha256"] == sha256(stored)
    assert record["size"] == len(stored)
    with PILImage.open(io.BytesIO(stored)) as reference:
        assert record["content_type"] == PILImage.MIME[reference.format]
        assert (record["width"], record["height"]) == reference.size
    assert temp_files(settings) == []
    served = await client.get(f"/images/{image['image_id']}/attachment/race.img")
    assert await served.read() == stored


def age(path: Path, seconds: float = 60) -> None:
    """Make a file look ``seconds`` old (a leftover rather than one being created)."""
    past = time.time() - seconds
    os.utime(path, (past, past))


async def test_stale_temporary_files_are_swept_at_start(aiohttp_client, settings):
    leftovers = [spool_dir(settings) / f"{spool.TEMP_PREFIX}dead"]
    if settings.storage == "local":
        # Where versions before storage keys kept theirs.
        leftovers.append(settings.media_dir / "3" / f"{spool.TEMP_PREFIX}dead")
    for leftover in leftovers:
        leftover.parent.mkdir(parents=True, exist_ok=True)
        leftover.write_bytes(b"partial")
        age(leftover)
    await aiohttp_client(create_app(settings))
    assert await stored_files(settings) == {}


HOLD_A_TEMP_FILE = """
import sys, time
from pathlib import Path
from pixtag.storage import spool
sink = spool._Sink(Path(sys.argv[1]))
sink.feed(b"half an upload")
print(sink.path, flush=True)
time.sleep(60)
"""


def test_a_killed_uploader_temp_file_is_swept_but_a_live_one_is_not(tmp_path):
    incoming = tmp_path / "media" / INCOMING
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_TEMP_FILE, str(incoming)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        temp = Path(proc.stdout.readline().strip())
        assert temp.exists()
        age(temp)
        assert spool.sweep(incoming) == []
        assert temp.exists()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert spool.sweep(incoming) == [temp]
        assert not temp.exists()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


async def test_the_record_waits_for_the_row_lock_and_the_old_file_goes_after(
    client, settings, database_url
):
    image = await new_image(client)
    url = f"/images/{image['image_id']}/attachment/example.jpg"
    old, new = image_bytes("PNG", (3, 3)), image_bytes("GIF", (4, 4))
    await client.post(url, data=form(old))
    old_key = file_key(settings, image["image_id"])
    with connection(database_url) as locker:
        with locker.cursor() as cur:
            cur.execute("SELECT 1 FROM images WHERE image_id = %s FOR UPDATE", (image["image_id"],))
        upload = asyncio.create_task(client.post(url, data=form(new)))
        # Stored under its new key, and waiting for the row: the record and the
        # old file are untouched.
        files: dict[str, bytes] = {}

        async def both_stored() -> bool:
            # The new bytes under their key, not merely a spool file on its way there.
            files.clear()
            files.update(await stored_files(settings))
            return any(data == new for key, data in files.items() if "incoming" not in key)

        await async_wait_until(both_stored, within=30, what="the new file beside the old one")
        assert not upload.done()
        assert files[old_key] == old
        assert file_key(settings, image["image_id"]) == old_key
        locker.rollback()
        resp = await upload
    assert resp.status == 200
    assert (await resp.json())["attachment"]["sha256"] == sha256(new)
    new_key = file_key(settings, image["image_id"])
    assert await stored_files(settings) == {new_key: new}


async def test_an_aborted_one_request_create_leaves_no_record(client, settings):
    _, writer = await asyncio.open_connection(client.host, client.port)
    meta = b'{"filename": "gone.png", "tags": []}'
    body = (
        b'--b\r\nContent-Disposition: form-data; name="meta"\r\n\r\n' + meta + b"\r\n"
        b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
    )
    head = (
        f"POST /images HTTP/1.1\r\nHost: {client.host}\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {len(body) + 2_000_000}"
        "\r\n\r\n"
    ).encode()
    writer.write(head + body + noisy_png((600, 600))[:800_000])
    await writer.drain()
    await wait_for(lambda: temp_files(settings))
    writer.transport.abort()
    await wait_for(lambda: not temp_files(settings))
    assert await stored_files(settings) == {}
    for image_id in range(1, 4):
        assert (await client.get(f"/images/{image_id}")).status == 404
