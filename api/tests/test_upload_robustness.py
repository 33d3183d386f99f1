"""Uploads under stress: aborted by the client, concurrent replaces, a server killed mid-upload."""

import asyncio
import io
import signal
import subprocess
import sys
from pathlib import Path

import psycopg2
from PIL import Image as PILImage

from pixtag import media, storage
from pixtag.app import create_app
from tests.helpers import files_under, form, image_bytes, new_image, noisy_png, sha256


def temp_files(media_dir: Path) -> list[Path]:
    return list(media_dir.glob(f"*/{storage.TEMP_PREFIX}*"))


async def wait_for(condition) -> None:
    """Poll the file system (it has no event to wait on) for up to ten seconds."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting for the media directory")


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
    await wait_for(lambda: temp_files(settings.media_dir))
    writer.transport.abort()
    await wait_for(lambda: not files_under(settings.media_dir))
    assert not list(settings.media_dir.iterdir())
    record = await (await client.get(f"/images/{image['image_id']}")).json()
    assert record["attachment"] is None


async def test_an_aborted_replacement_keeps_the_previous_file(client, settings):
    image = await new_image(client)
    data = image_bytes()
    before = await (
        await client.post(f"/images/{image['image_id']}/attachment/example.jpg", data=form(data))
    ).json()
    _, writer = await start_upload(client, image["image_id"], "example.jpg", 800_000, 2_000_000)
    await wait_for(lambda: temp_files(settings.media_dir))
    writer.transport.abort()
    await wait_for(lambda: not temp_files(settings.media_dir))
    assert (settings.media_dir / str(image["image_id"]) / "example.jpg").read_bytes() == data
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
    stored = (settings.media_dir / str(image["image_id"]) / "race.img").read_bytes()
    assert stored in bodies
    assert record["sha256"] == sha256(stored)
    assert record["size"] == len(stored)
    with PILImage.open(io.BytesIO(stored)) as reference:
        assert record["content_type"] == PILImage.MIME[reference.format]
        assert (record["width"], record["height"]) == reference.size
    assert temp_files(settings.media_dir) == []
    served = await client.get(record["url"])
    assert await served.read() == stored


async def test_stale_temporary_files_are_swept_at_start(aiohttp_client, settings):
    directory = settings.media_dir / "3"
    directory.mkdir(parents=True)
    (directory / "example.jpg").write_bytes(b"kept")
    (directory / f"{storage.TEMP_PREFIX}dead").write_bytes(b"partial")
    await aiohttp_client(create_app(settings))
    assert files_under(settings.media_dir) == {Path("3/example.jpg")}


HOLD_A_TEMP_FILE = """
import sys, time
from pathlib import Path
from pixtag import storage
sink = storage._Sink(Path(sys.argv[1]))
sink.feed(b"half an upload")
print(sink.path, flush=True)
time.sleep(60)
"""


def test_a_killed_uploader_temp_file_is_swept_but_a_live_one_is_not(tmp_path):
    media_dir = tmp_path / "media"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_TEMP_FILE, str(media_dir / "5")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        temp = Path(proc.stdout.readline().strip())
        assert temp.exists()
        assert media.sweep_stale(media_dir) == []
        assert temp.exists()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert media.sweep_stale(media_dir) == [temp]
        assert not temp.exists()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


async def test_the_rename_waits_for_the_row_lock(client, settings, database_url):
    image = await new_image(client)
    url = f"/images/{image['image_id']}/attachment/example.jpg"
    old, new = image_bytes("PNG", (3, 3)), image_bytes("GIF", (4, 4))
    await client.post(url, data=form(old))
    target = settings.media_dir / str(image["image_id"]) / "example.jpg"
    locker = psycopg2.connect(database_url)
    try:
        with locker.cursor() as cur:
            cur.execute("SELECT 1 FROM images WHERE image_id = %s FOR UPDATE", (image["image_id"],))
        upload = asyncio.create_task(client.post(url, data=form(new)))
        await wait_for(lambda: temp_files(settings.media_dir))
        await asyncio.sleep(0.3)
        # Streamed and waiting: neither the file nor the row has changed yet.
        assert not upload.done()
        assert target.read_bytes() == old
        locker.rollback()
        resp = await upload
    finally:
        locker.close()
    assert resp.status == 200
    assert target.read_bytes() == new
    assert (await resp.json())["attachment"]["sha256"] == sha256(new)
    assert temp_files(settings.media_dir) == []


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
    await wait_for(lambda: temp_files(settings.media_dir))
    writer.transport.abort()
    await wait_for(lambda: not files_under(settings.media_dir))
    for image_id in range(1, 4):
        assert (await client.get(f"/images/{image_id}")).status == 404
