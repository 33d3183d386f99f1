"""GET /images/{id}/attachment/{filename} (302) and /media: headers, ranges, conditional GET."""

import os
from urllib.parse import quote

import pytest

from tests.support.helpers import file_key, form, image_bytes, new_image


@pytest.fixture
async def attached(client):
    image = await new_image(client, filename="photo 1.png")
    data = image_bytes("PNG", (31, 17))
    resp = await client.post(
        f"/images/{image['image_id']}/attachment/photo%201.png", data=form(data)
    )
    assert resp.status == 201
    return await resp.json(), data


async def test_attachment_get_redirects_to_the_key_under_media(client, attached, settings):
    image, _ = attached
    resp = await client.get(
        f"/images/{image['image_id']}/attachment/photo%201.png", allow_redirects=False
    )
    assert resp.status == 302
    key = file_key(settings, image["image_id"])
    assert resp.headers["Location"] == f"/media/{key}"
    assert resp.headers["Location"] == image["attachment"]["url"]


async def test_redirect_uses_the_configured_media_url(aiohttp_client, settings):
    from pixtag.app import create_app

    cdn = settings.model_copy(update={"media_url": "https://cdn.example/m"})
    client = await aiohttp_client(create_app(cdn))
    image = await new_image(client, filename="a.png")
    body = await (
        await client.post(f"/images/{image['image_id']}/attachment/a.png", data=form(image_bytes()))
    ).json()
    resp = await client.get(f"/images/{image['image_id']}/attachment/a.png", allow_redirects=False)
    key = file_key(cdn, image["image_id"])
    assert resp.headers["Location"] == f"https://cdn.example/m/{key}"
    assert body["attachment"]["url"] == resp.headers["Location"]


async def test_following_the_redirect_gives_the_bytes_with_safe_immutable_headers(client, attached):
    image, data = attached
    resp = await client.get(f"/images/{image['image_id']}/attachment/photo%201.png")
    assert resp.status == 200
    assert await resp.read() == data
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.headers["Content-Disposition"] == (
        "inline; filename=\"photo 1.png\"; filename*=UTF-8''photo%201.png"
    )
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["ETag"]
    assert resp.headers["Last-Modified"]
    assert int(resp.headers["Content-Length"]) == len(data)


async def test_attachment_get_404s(client, attached):
    image, _ = attached
    bare = await new_image(client, filename="bare.png")
    cases = {
        f"/images/{image['image_id']}/attachment/other.png": (
            f"Image <{image['image_id']}> has no file named 'other.png':"
            " its filename is 'photo 1.png'"
        ),
        f"/images/{bare['image_id']}/attachment/bare.png": (
            f"Image <{bare['image_id']}> has no file yet"
        ),
        "/images/999/attachment/x.png": "Image <999> is not found",
    }
    for url, error in cases.items():
        resp = await client.get(url, allow_redirects=False)
        assert resp.status == 404, url
        assert resp.content_type == "application/problem+json"
        assert (await resp.json())["error"] == error


async def test_etag_and_if_none_match_give_304(client, attached):
    image, _ = attached
    url = image["attachment"]["url"]
    first = await client.get(url)
    etag = first.headers["ETag"]
    resp = await client.get(url, headers={"If-None-Match": etag})
    assert resp.status == 304
    assert await resp.read() == b""
    assert resp.headers["ETag"] == etag
    resp = await client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert resp.status == 304
    resp = await client.get(url, headers={"If-None-Match": '"something-else"'})
    assert resp.status == 200


async def test_a_replaced_file_has_a_new_url_and_the_old_one_is_gone(client, attached, settings):
    image, _ = attached
    url = image["attachment"]["url"]
    new = image_bytes("PNG", (3, 3), "green")
    replaced = await client.post(
        f"/images/{image['image_id']}/attachment/photo%201.png", data=form(new)
    )
    new_url = (await replaced.json())["attachment"]["url"]
    assert new_url != url
    assert await (await client.get(new_url)).read() == new
    gone = await client.get(url)
    assert gone.status == 404
    assert gone.content_type == "application/problem+json"


async def test_a_link_by_filename_redirects_to_the_key(client, attached, settings):
    image, data = attached
    resp = await client.get(f"/media/{image['image_id']}/photo%201.png", allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == image["attachment"]["url"]
    assert await (await client.get(f"/media/{image['image_id']}/photo%201.png")).read() == data


async def test_a_unicode_filename_names_the_download_safely(client, settings):
    image = await new_image(client, filename='фото "1".png')
    await client.post(
        f"/images/{image['image_id']}/attachment/{quote(image['filename'], safe='')}",
        data=form(image_bytes()),
    )
    resp = await client.get(
        f"/images/{image['image_id']}/attachment/{quote(image['filename'], safe='')}"
    )
    assert resp.status == 200
    assert resp.headers["Content-Disposition"] == (
        "inline; filename=\"____ _1_.png\"; filename*=UTF-8''" + quote(image["filename"], safe="")
    )


async def test_range_gives_206_with_the_requested_bytes(client, attached):
    image, data = attached
    url = image["attachment"]["url"]
    resp = await client.get(url, headers={"Range": "bytes=10-19"})
    assert resp.status == 206
    assert await resp.read() == data[10:20]
    assert resp.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    resp = await client.get(url, headers={"Range": "bytes=-5"})
    assert resp.status == 206
    assert await resp.read() == data[-5:]


async def test_an_unsatisfiable_range_is_416_problem_json(client, attached):
    image, data = attached
    # Another unit than bytes is ignored instead (test_conditional.py).
    for value in (f"bytes={len(data)}-", "bytes=9-3", "bytes=-0"):
        resp = await client.get(image["attachment"]["url"], headers={"Range": value})
        assert resp.status == 416, value
        assert resp.content_type == "application/problem+json"
        assert resp.headers["Content-Range"] == f"bytes */{len(data)}"


async def test_head_gives_the_headers_only(client, attached):
    image, data = attached
    resp = await client.head(image["attachment"]["url"])
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "image/png"
    assert int(resp.headers["Content-Length"]) == len(data)
    assert await resp.read() == b""


async def test_content_type_is_the_identified_one_not_the_extension(client, settings):
    image = await new_image(client, filename="page.html")
    await client.post(
        f"/images/{image['image_id']}/attachment/page.html", data=form(image_bytes("GIF"))
    )
    resp = await client.get(f"/media/{image['image_id']}/page.html")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "image/gif"
    assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


async def test_media_without_a_record_or_a_file_is_404_problem_json(client, attached, settings):
    image, _ = attached
    stray = settings.media_dir / "77"
    stray.mkdir()
    (stray / "stray.png").write_bytes(image_bytes())
    for url in (
        "/media/77/stray.png",
        f"/media/{image['image_id']}/other.png",
        f"/media/{image['image_id']}/",
        f"/media/{image['image_id']}",
        "/media/",
        "/media",
    ):
        resp = await client.get(url)
        assert resp.status == 404, url
        assert resp.content_type == "application/problem+json"


async def test_media_does_not_follow_symlinks(client, attached, settings, tmp_path):
    image, _ = attached
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"secret")
    path = settings.media_dir / file_key(settings, image["image_id"])
    path.unlink()
    os.symlink(secret, path)
    resp = await client.get(image["attachment"]["url"])
    assert resp.status == 404
    assert b"secret" not in await resp.read()
    # A symlinked image directory is refused too.
    path.unlink()
    directory = settings.media_dir / str(image["image_id"])
    directory.rmdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / path.name).write_bytes(b"secret")
    os.symlink(outside, directory)
    resp = await client.get(image["attachment"]["url"])
    assert resp.status == 404
    assert b"secret" not in await resp.read()


async def test_head_on_the_attachment_gives_the_redirect(client, attached):
    image, _ = attached
    url = f"/images/{image['image_id']}/attachment/photo%201.png"
    resp = await client.head(url, allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == image["attachment"]["url"]
    resp = await client.head(url)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "image/png"
