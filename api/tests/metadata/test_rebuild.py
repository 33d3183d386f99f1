"""``pixtag metadata rebuild``: the files stored before metadata was read get it read, on the
job engine, resumably; a date set by hand stays; a process killed with ``kill -9`` mid-way
loses nothing and reads nothing twice into the tags."""

import io
import random
import signal
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from tests.metadata.test_ingest import EXPECTED, PHOTO, upload
from tests.metadata.test_reading import XMP, camera_exif, iptc
from tests.support.helpers import create_form
from tests.support.processes import (
    ServeProcess,
    async_wait_until,
    pixtag_env,
    run_pixtag,
    sql,
)

# As if stored before metadata was read: the columns as fixture 025 left them, the pixels
# as the file stores them (40x30), the keywords not among the tags.
FORGET = """
    UPDATE images SET metadata = NULL, taken_at = NULL, taken_offset = NULL,
                      metadata_read = NULL, width = 40, height = 30, tags = ARRAY['mine']
"""


async def progress(client) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.get("/metadata/rebuild")
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_a_rebuild_reads_what_was_stored_before_and_keeps_a_date_set_by_hand(
    client, database_url
):
    first = await upload(client, PHOTO, ["mine"])
    second = await upload(client, PHOTO[:-2] + b"\x00\xff\xd9", ["mine"])  # other bytes
    sql(database_url, FORGET)
    resp = await client.patch(
        f"/images/{second['image_id']}", json={"taken_at": "2020-01-02T03:04:05"}
    )
    assert resp.status == 200, await resp.text()
    assert await progress(client) == {"with_file": 2, "read": 0, "pending": 0, "queued": None}
    resp = await client.post("/metadata/rebuild")
    assert resp.status == 202, await resp.text()
    assert (await resp.json())["queued"] == 2
    assert (await (await client.post("/metadata/rebuild")).json())["queued"] == 0  # queued

    async def done() -> bool:
        now = await progress(client)
        return now["read"] == 2 and now["pending"] == 0

    await async_wait_until(done, within=60, what="the rebuild to finish")
    image = await (await client.get(f"/images/{first['image_id']}")).json()
    assert image["metadata"] == EXPECTED
    assert image["tags"] == ["mine", "paris", "eiffel tower", "alice", "harbour"]
    assert (image["attachment"]["width"], image["attachment"]["height"]) == (30, 40)
    kept = await (await client.get(f"/images/{second['image_id']}")).json()
    assert kept["metadata"] == {**EXPECTED, "taken_at": "2020-01-02T03:04:05"}
    # Read already: nothing to queue; all=true reads every file again, changing nothing.
    assert (await (await client.post("/metadata/rebuild")).json())["queued"] == 0
    resp = await client.post("/metadata/rebuild", params={"all": "true"})
    assert (await resp.json())["queued"] == 2
    await async_wait_until(done, within=60, what="the second rebuild to finish")
    assert await (await client.get(f"/images/{first['image_id']}")).json() == image
    resp = await client.post("/metadata/rebuild", params={"all": "maybe"})
    assert resp.status == 400


def photo_file(n: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (n, 255 - n, 90)).save(
        buffer, "JPEG", exif=camera_exif(), xmp=XMP.encode()
    )
    return iptc(buffer.getvalue(), [f"place {n}".encode()])


@pytest.mark.heavy
async def test_a_rebuild_killed_mid_way_resumes_and_reads_each_file_once(
    tmp_path: Path, database_url: str
):
    rng = random.Random(20261205)
    images = 40
    data_dir = tmp_path / "data"
    args = ("--data-dir", str(data_dir), "--database-url", database_url)
    env = pixtag_env(PIXTAG_JOBS_LEASE="1")
    with ServeProcess(*args, log=tmp_path / "serve.log", env=env) as server:
        server.start()
        async with aiohttp.ClientSession(server.url) as session:
            for n in range(images):
                form = create_form({"filename": f"{n}.jpg", "tags": ["mine"]}, photo_file(n))
                async with session.post("/images", data=form) as resp:
                    assert resp.status == 201, await resp.text()
        sql(database_url, FORGET)

        def read() -> int:
            return int(
                sql(database_url, "SELECT count(*) FROM images WHERE metadata_read = 1")[0][0]
            )

        # Killed as soon as the jobs are queued, then once a seeded share of them is read.
        for share in (0.0, rng.uniform(0.1, 0.4), rng.uniform(0.5, 0.8)):
            if not server.running:
                server.start()
            async with (
                aiohttp.ClientSession(server.url) as session,
                session.post("/metadata/rebuild") as resp,
            ):
                assert resp.status == 202, await resp.text()
            await async_wait_until(
                lambda share=share: read() >= share * images, within=60, what="reads to start"
            )
            server.kill(signal.SIGKILL)
            server.wait()
        read_before = sql(database_url, "SELECT count(*) FROM images WHERE metadata_read = 1")
        server.start()
        async with aiohttp.ClientSession(server.url) as session:

            async def done() -> bool:
                async with session.get("/metadata/rebuild") as resp:
                    now = await resp.json()
                return now["read"] == images and now["pending"] == 0

            await async_wait_until(done, within=120, what="the rebuild to finish")
        assert read_before[0][0] < images  # killed before the end, at least once
    rows = sql(database_url, "SELECT filename, tags, metadata::text, width FROM images")
    assert len(rows) == images
    for filename, tags, metadata, width in rows:
        n = int(filename.split(".")[0])
        assert tags == ["mine", "paris", "eiffel tower", "alice", f"place {n}"], tags
        assert '"model":"Canon EOS R5"' in metadata
        assert width == 30
    failed = sql(database_url, "SELECT count(*) FROM jobs WHERE queue = 'metadata'"
                 " AND status NOT IN ('done')")  # fmt: skip
    assert failed == [(0,)]
    verified = run_pixtag("storage", "verify", *args)
    assert verified.returncode == 0, verified.stdout + verified.stderr
