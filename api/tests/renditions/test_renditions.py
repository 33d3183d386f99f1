"""Renditions: redirects on both backends, what a rendition is made of, the 404/410 cases,
replace and delete, the sweeper, and rebuilds."""

import asyncio
import io
import json

import aiohttp
import pytest
from PIL import Image as PILImage

from pixtag import keys as app_keys
from pixtag.app import create_app
from pixtag.settings import Settings
from pixtag.storage.sweeper import sweep
from tests.support.helpers import form, image_bytes, new_image, problem, stored_files
from tests.support.processes import async_wait_until, sql


async def create(client, data: bytes, filename: str = "photo.jpg") -> dict:
    body = aiohttp.FormData()
    body.add_field(
        "meta", json.dumps({"filename": filename, "tags": []}), content_type="application/json"
    )
    # A stream, not bytes: aiohttp warns of a large body sent from memory.
    body.add_field(
        "image", io.BytesIO(data), filename="x.bin", content_type="application/octet-stream"
    )
    resp = await client.post("/images", data=body)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def fetch_rendition(client, image_id: int, preset: str = "thumb") -> tuple[str, bytes, dict]:
    """Follow the redirect of a rendition: its URL, bytes and the bytes' headers."""
    resp = await client.get(f"/images/{image_id}/renditions/{preset}", allow_redirects=False)
    assert resp.status == 302, await resp.text()
    location = resp.headers["Location"]
    if location.startswith("/"):
        got = await client.get(location)
        assert got.status == 200
        return location, await got.read(), dict(got.headers)
    async with aiohttp.ClientSession() as session, session.get(location) as got:  # presigned
        assert got.status == 200
        return location, await got.read(), dict(got.headers)


def rendition_keys(settings, image_id: int) -> dict[str, str]:
    rows = sql(
        settings.database_url,
        "SELECT preset, storage_key FROM renditions WHERE image_id = %s",
        (image_id,),
    )
    return dict(rows)


@pytest.mark.both_backends
async def test_a_thumbnail_is_built_on_first_request_and_redirected_to_on_both_backends(
    client, settings
):
    image = await create(client, image_bytes("JPEG", (1200, 900), "navy"))
    assert image["renditions"] == {}
    location, data, headers = await fetch_rendition(client, image["image_id"])
    thumb = PILImage.open(io.BytesIO(data))
    assert (thumb.format, thumb.size) == ("WEBP", (320, 240))
    assert headers["Content-Type"] == "image/webp"
    key = rendition_keys(settings, image["image_id"])["thumb"]
    assert key.startswith(f"{image['image_id']}/")
    assert key.endswith(".webp")
    body = await (await client.get(f"/images/{image['image_id']}")).json()
    if settings.storage == "local":
        assert location == f"/media/{key}"
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert body["renditions"] == {"thumb": location}
    else:
        assert key in location
        assert "Signature=" in location
        assert body["renditions"] == {"thumb": f"/images/{image['image_id']}/renditions/thumb"}
    # A second request finds it: same key, nothing built again.
    again = await client.get(f"/images/{image['image_id']}/renditions/thumb", allow_redirects=False)
    assert rendition_keys(settings, image["image_id"])["thumb"] == key
    assert key in again.headers["Location"]
    stored = await stored_files(settings)
    assert stored[key] == data


async def test_a_built_rendition_shows_in_the_listing_and_keeps_the_image_version(client, settings):
    image = await create(client, image_bytes("PNG", (640, 480), "teal"), "kept.png")
    before = await client.get(f"/images/{image['image_id']}")
    etag = before.headers["ETag"]
    location, _, _ = await fetch_rendition(client, image["image_id"])
    await fetch_rendition(client, image["image_id"], "preview")
    after = await client.get(f"/images/{image['image_id']}")
    assert after.headers["ETag"] == etag  # a finished thumbnail fails no If-Match
    rendered = (await after.json())["renditions"]
    assert rendered["thumb"] == location
    assert sorted(rendered) == ["preview", "thumb"]
    listing = json.loads(await (await client.get("/images")).text())
    listed = [row for chunk in listing if isinstance(chunk, list) for row in chunk]
    assert [row["renditions"] for row in listed if row["image_id"] == image["image_id"]] == [
        rendered
    ]
    patched = await client.patch(
        f"/images/{image['image_id']}", json={"tags_add": ["x"]}, headers={"If-Match": etag}
    )
    assert patched.status == 200, await patched.text()
    assert (await patched.json())["renditions"] == rendered
    # A new file: no renditions of the old one are named.
    replaced = await client.post(
        f"/images/{image['image_id']}/attachment/kept.png",
        data=form(image_bytes("PNG", (320, 200), "olive")),
    )
    assert replaced.status in (200, 201), await replaced.text()
    assert (await replaced.json())["renditions"] == {}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"rendition_presets": ("thumb:320:webp", "preview:1600:webp", "small:64:jpeg")}
    )


async def test_exif_orientation_is_applied_and_gps_and_exif_are_stripped(client):
    source = PILImage.new("RGB", (400, 200), "white")
    source.paste((255, 0, 0), (0, 0, 200, 200))  # left half red
    exif = source.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 30.0)  # GPS latitude
    exif[0x010F] = "Camera maker"
    buffer = io.BytesIO()
    source.save(buffer, format="JPEG", exif=exif, quality=95)
    image = await create(client, buffer.getvalue())
    _, data, _ = await fetch_rendition(client, image["image_id"])
    thumb = PILImage.open(io.BytesIO(data))
    assert thumb.size == (160, 320)  # upright: taller than wide
    # Turned clockwise, the red left half is now on top.
    assert thumb.convert("RGB").getpixel((80, 40))[0] > 200
    assert thumb.convert("RGB").getpixel((80, 280))[1] > 200
    assert dict(thumb.getexif()) == {}
    assert "exif" not in thumb.info
    assert "xmp" not in thumb.info


@pytest.mark.parametrize(("fmt", "filename"), [("JPEG", "p.jpg"), ("BMP", "p.bmp")])
async def test_libvips_and_pillow_paths_both_apply_the_orientation(client, fmt, filename):
    # JPEG is rendered by libvips, BMP (which the bundled libvips cannot read) by Pillow.
    source = PILImage.new("RGB", (300, 100), "white")
    source.paste((255, 0, 0), (0, 0, 150, 100))
    exif = source.getexif()
    exif[0x0112] = 8  # rotate 90 degrees counter-clockwise to display
    buffer = io.BytesIO()
    source.save(buffer, format=fmt, exif=exif)
    image = await create(client, buffer.getvalue(), filename)
    _, data, _ = await fetch_rendition(client, image["image_id"], "small")
    small = PILImage.open(io.BytesIO(data)).convert("RGB")
    if fmt == "BMP":
        # BMP carries no EXIF: nothing to turn, the Pillow path still renders it.
        assert small.size == (64, 21)
        assert small.getpixel((5, 10))[1] < 60
    else:
        assert small.size == (21, 64)
        # Turned counter-clockwise, the red left half is now at the bottom.
        assert small.getpixel((10, 58))[1] < 60
        assert min(small.getpixel((10, 5))) > 200


async def test_an_animation_gives_its_first_frame(client):
    frames = [PILImage.new("RGB", (100, 100), color) for color in ("red", "blue", "green")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    image = await create(client, buffer.getvalue(), "anim.gif")
    _, data, _ = await fetch_rendition(client, image["image_id"])
    thumb = PILImage.open(io.BytesIO(data))
    assert getattr(thumb, "n_frames", 1) == 1
    assert thumb.size == (100, 100)  # never enlarged
    red, green, blue = thumb.convert("RGB").getpixel((50, 50))
    assert red > 200
    assert green < 60
    assert blue < 60


async def test_transparency_is_kept_in_webp_and_flattened_on_white_in_jpeg(client):
    source = PILImage.new("RGBA", (200, 100), (0, 0, 255, 0))
    source.paste((0, 0, 255, 255), (100, 0, 200, 100))  # right half opaque blue
    buffer = io.BytesIO()
    source.save(buffer, format="PNG")
    image = await create(client, buffer.getvalue(), "alpha.png")
    _, webp, _ = await fetch_rendition(client, image["image_id"])
    thumb = PILImage.open(io.BytesIO(webp))
    assert thumb.mode == "RGBA"
    assert thumb.getpixel((20, 50))[3] == 0
    assert thumb.getpixel((180, 50))[3] == 255
    _, jpeg, headers = await fetch_rendition(client, image["image_id"], "small")
    assert headers["Content-Type"] == "image/jpeg"
    small = PILImage.open(io.BytesIO(jpeg))
    assert (small.format, small.mode, small.size) == ("JPEG", "RGB", (64, 32))
    assert min(small.getpixel((5, 16))) > 240  # white where it was transparent
    assert small.getpixel((58, 16))[2] > 200


async def test_unknown_preset_missing_file_unknown_and_deleted_images_are_problems(client):
    image = await create(client, image_bytes("PNG", (50, 50)))
    body = await problem(await client.get(f"/images/{image['image_id']}/renditions/huge"), 404)
    assert body["detail"] == "There is no rendition preset 'huge'; presets: thumb, preview, small"
    bare = await new_image(client, "bare.png")
    body = await problem(await client.get(f"/images/{bare['image_id']}/renditions/thumb"), 404)
    assert body["detail"] == f"Image <{bare['image_id']}> has no file yet"
    body = await problem(await client.get("/images/999/renditions/thumb"), 404)
    assert body["detail"] == "Image <999> is not found"
    assert (await client.delete(f"/images/{image['image_id']}")).status == 204
    body = await problem(await client.get(f"/images/{image['image_id']}/renditions/thumb"), 410)
    assert body["detail"].startswith(f"Image <{image['image_id']}> was deleted at ")
    body = await problem(await client.get("/images/1/renditions/Bad%20Name"), 400)
    assert body["errors"][0]["loc"] == ["preset"]


async def thumb_ready(settings, image_id: int, sha256: str) -> bool:
    rows = sql(
        settings.database_url,
        "SELECT 1 FROM renditions WHERE image_id = %s AND preset = 'thumb' AND source_sha256 = %s",
        (image_id, sha256),
    )
    return bool(rows)


@pytest.mark.both_backends
async def test_a_stored_file_queues_its_thumbnail_and_a_replacement_rebuilds_it(
    aiohttp_client, settings
):
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"rendition_eager": ("thumb",)}))
    )
    image = await create(client, image_bytes("PNG", (600, 600), "red"), "pic.png")
    image_id, first = image["image_id"], image["attachment"]["sha256"]
    await async_wait_until(
        lambda: thumb_ready(settings, image_id, first), within=30, what="the thumbnail job"
    )
    old_key = rendition_keys(settings, image_id)["thumb"]
    body = await (await client.get(f"/images/{image_id}")).json()
    assert list(body["renditions"]) == ["thumb"]
    url = f"/images/{image_id}/attachment/pic.png"
    resp = await client.post(url, data=form(image_bytes("PNG", (600, 300), "blue")))
    assert resp.status == 200, await resp.text()
    replaced = await resp.json()
    # The old thumbnail went with the old file, after the commit; a new one is queued.
    assert replaced["renditions"] == {}
    assert old_key not in await stored_files(settings)
    second = replaced["attachment"]["sha256"]
    await async_wait_until(
        lambda: thumb_ready(settings, image_id, second), within=30, what="the rebuilt thumbnail"
    )
    new_key = rendition_keys(settings, image_id)["thumb"]
    assert new_key != old_key
    _, data, _ = await fetch_rendition(client, image_id)
    assert PILImage.open(io.BytesIO(data)).size == (320, 160)
    assert rendition_keys(settings, image_id)["thumb"] == new_key  # found, not built again
    jobs = sql(settings.database_url, "SELECT kind, status FROM jobs ORDER BY job_id")
    assert jobs == [("stored", "done"), ("stored", "done")]


@pytest.mark.both_backends
async def test_deleting_an_image_or_its_file_removes_its_renditions_after_the_commit(
    client, settings
):
    one = await create(client, image_bytes("JPEG", (500, 500)), "one.jpg")
    two = await create(client, image_bytes("JPEG", (500, 400)), "two.jpg")
    for image in (one, two):
        await fetch_rendition(client, image["image_id"])
        await fetch_rendition(client, image["image_id"], "preview")
    keys = rendition_keys(settings, one["image_id"])
    stored = await stored_files(settings)
    assert len(keys) == 2
    assert all(key in stored for key in keys.values())
    assert (await client.delete(f"/images/{one['image_id']}")).status == 204
    stored = await stored_files(settings)
    assert not any(key in stored for key in keys.values())
    two_keys = rendition_keys(settings, two["image_id"])
    assert all(key in stored for key in two_keys.values())
    resp = await client.delete(f"/images/{two['image_id']}/attachment/two.jpg")
    assert resp.status == 204
    assert await stored_files(settings) == {}
    assert sql(settings.database_url, "SELECT count(*) FROM renditions") == [(0,)]


async def test_the_sweeper_keeps_live_renditions_and_removes_leftover_ones(client, settings):
    image = await create(client, image_bytes("PNG", (400, 400)), "a.png")
    await fetch_rendition(client, image["image_id"])
    live = rendition_keys(settings, image["image_id"])["thumb"]
    leftover = settings.media_dir / str(image["image_id"]) / f"{'ab' * 8}-{'cd' * 8}.webp"
    leftover.write_bytes(b"a rendition whose commit never happened")
    app = client.server.app
    report = await sweep(app[app_keys.DATABASE], app[app_keys.STORAGE], grace=0)
    assert report.orphans == [f"{image['image_id']}/{leftover.name}"]
    stored = await stored_files(settings)
    assert live in stored
    assert leftover.name not in str(sorted(stored))


async def test_two_servers_asked_at_once_build_a_rendition_once(aiohttp_client, settings):
    servers = [await aiohttp_client(create_app(settings)) for _ in range(2)]
    # Large enough that the build takes a while, so the requests overlap it.
    source = PILImage.effect_noise((3000, 3000), 60).convert("RGB")
    buffer = io.BytesIO()
    source.save(buffer, format="JPEG", quality=95)
    image = await create(servers[0], buffer.getvalue(), "big.jpg")
    url = f"/images/{image['image_id']}/renditions/preview"
    answers = await asyncio.gather(
        *(server.get(url, allow_redirects=False) for server in servers for _ in range(8))
    )
    locations = {resp.headers["Location"] for resp in answers}
    assert [resp.status for resp in answers] == [302] * 16
    key = rendition_keys(settings, image["image_id"])["preview"]
    assert locations == {f"/media/{key}"}
    folder = sorted(p.name for p in (settings.media_dir / str(image["image_id"])).iterdir())
    # The image's file and one preview: a second build would have left a second key behind
    # (removed after its commit, which the row's key would then differ from).
    assert len(folder) == 2
    assert key.split("/")[1] in folder


async def test_a_rebuild_builds_the_missing_renditions_and_reports_progress(client, settings):
    images = [
        await create(client, image_bytes("PNG", (300 + n, 200)), f"{n}.png") for n in range(3)
    ]
    await fetch_rendition(client, images[0]["image_id"])
    resp = await client.post("/renditions/rebuild", json={"preset": "thumb"})
    assert resp.status == 202, await resp.text()
    started = await resp.json()
    assert resp.headers["Location"] == f"/renditions/rebuild/{started['rebuild_id']}"
    assert (started["presets"], started["all"], started["total"]) == (["thumb"], False, 2)

    async def finished() -> dict | None:
        body = await (await client.get(resp.headers["Location"])).json()
        return body if body["finished"] else None

    await async_wait_until(finished, within=60, what="the rebuild to finish")
    body = await finished()
    assert body is not None
    assert (body["total"], body["done"], body["failed"], body["queued"]) == (2, 2, 0, 0)
    for image in images:
        assert list(rendition_keys(settings, image["image_id"])) == ["thumb"]
    first = rendition_keys(settings, images[0]["image_id"])["thumb"]
    resp = await client.post("/renditions/rebuild", json={"all": True})
    again = await resp.json()
    assert (again["presets"], again["total"]) == (["thumb", "preview", "small"], 3)
    body = await problem(await client.post("/renditions/rebuild", json={"preset": "nope"}), 404)
    assert body["detail"].startswith("There is no rendition preset 'nope'")
    await problem(await client.get("/renditions/rebuild/12345"), 404)
    await async_wait_until(
        lambda: sql(settings.database_url, "SELECT count(*) FROM renditions") == [(9,)],
        within=60,
        what="every rendition rebuilt",
    )
    assert rendition_keys(settings, images[0]["image_id"])["thumb"] != first
    assert sorted(await stored_files(settings)) == sorted(
        [k for (k,) in sql(settings.database_url, "SELECT storage_key FROM images")]
        + [k for (k,) in sql(settings.database_url, "SELECT storage_key FROM renditions")]
    )


async def test_absurd_sides_and_decompression_bombs_are_413_at_ingest_and_never_rendered(
    client, settings
):
    from tests.images.test_attachments import png_header

    # 1 x 40,000: few pixels (under the pixel bound), a side no renderer should meet.
    resp = await client.post(
        "/images",
        data=aiohttp.FormData(
            [
                ("meta", json.dumps({"filename": "strip.png", "tags": []})),
                ("image", io.BytesIO(png_header(1, 40_000))),
            ]
        ),
    )
    body = await problem(resp, 413)
    assert body["detail"] == "The image is 1x40000 pixels: a side is longer than 30000 pixels"
    image = await new_image(client, "bomb.png")
    resp = await client.post(
        f"/images/{image['image_id']}/attachment/bomb.png", data=form(png_header(40_000, 40_000))
    )
    body = await problem(resp, 413)
    assert body["detail"] == f"The image has more than {settings.max_image_pixels} pixels"
    assert await stored_files(settings) == {}
    assert sql(settings.database_url, "SELECT count(*) FROM jobs") == [(0,)]
    body = await problem(await client.get(f"/images/{image['image_id']}/renditions/thumb"), 404)
    assert body["detail"] == f"Image <{image['image_id']}> has no file yet"
