"""The repository's nginx config, for real: nginx in front of a test server, /media from disk.

The template is rendered the way the nginx image does it (``${NAME}``
substitution) with local ports and the test's media root; the test skips,
saying why, where nginx is not installed (``.ci/run`` installs it).
"""

import io
import os
import time

import aiohttp
import pytest
from PIL import Image as PILImage
from pydantic import SecretStr
from yarl import URL

from pixtag.app import create_app
from pixtag.auth.signing import MediaSigner
from tests.support.auth import bearer, make_token
from tests.support.helpers import create_form, file_key, form, image_bytes
from tests.support.nginx import NGINX, running_nginx
from tests.support.processes import sql

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx-light; .ci/run does)"
)

SECRET = "nginx-test-secret-0123456789abcdef"


@pytest.fixture
def media_signed() -> bool:
    """Whether media is behind auth (tests of signed URLs override it)."""
    return False


@pytest.fixture
def served_settings(settings, media_signed):
    """The settings of the server behind nginx: auth and a shared secret when signed."""
    if not media_signed:
        return settings
    return settings.model_copy(update={"auth": "on", "secret_key": SecretStr(SECRET)})


@pytest.fixture
async def nginx(aiohttp_server, served_settings, media_signed, tmp_path):
    """nginx on a free local port in front of a real pixtag server; yields its base URL."""
    settings = served_settings
    server = await aiohttp_server(create_app(settings))
    async with running_nginx(
        tmp_path / "nginx",
        upstream=f"127.0.0.1:{server.port}",
        media_root=settings.media_dir,
        media_signed=media_signed,
        secret=SECRET,
    ) as url:
        yield url


async def test_upload_redirect_and_download_through_nginx(nginx, settings):
    data = image_bytes("PNG", (21, 12))
    async with aiohttp.ClientSession(nginx) as http:
        created = await http.post("/images", data=create_form({"filename": "photo 1.png"}, data))
        assert created.status == 201
        image = await created.json()
        image_id = image["image_id"]
        # A replacement streamed through the proxy.
        replaced = await http.post(
            f"/images/{image_id}/attachment/photo%201.png", data=form(image_bytes("PNG", (5, 5)))
        )
        assert replaced.status == 200
        key = file_key(settings, image_id)
        data = (settings.media_dir / key).read_bytes()

        redirect = await http.get(
            f"/images/{image_id}/attachment/photo%201.png", allow_redirects=False
        )
        assert redirect.status == 302
        assert redirect.headers["Location"] == f"/media/{key}"

        resp = await http.get(f"/images/{image_id}/attachment/photo%201.png")
        assert resp.status == 200
        assert resp.url.path == f"/media/{key}"
        assert resp.headers["Server"] == "nginx"  # served from disk, not by the API
        assert await resp.read() == data
        assert resp.headers["Content-Type"] == "image/png"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        etag = resp.headers["ETag"]

        cached = await http.get(resp.url, headers={"If-None-Match": etag})
        assert cached.status == 304
        part = await http.get(resp.url, headers={"Range": "bytes=0-7"})
        assert part.status == 206
        assert await part.read() == data[:8]


async def test_nginx_serves_the_identified_type_whatever_the_filename(nginx, settings):
    async with aiohttp.ClientSession(nginx) as http:
        for filename, fmt, content_type in [
            ("photo.jpg", "PNG", "image/png"),
            ("scan.png", "TIFF", "image/tiff"),
            ("page.html", "GIF", "image/gif"),
        ]:
            created = await http.post(
                "/images", data=create_form({"filename": filename}, image_bytes(fmt))
            )
            image = await created.json()
            resp = await http.get(image["attachment"]["url"])
            assert resp.status == 200
            assert resp.headers["Server"] == "nginx"
            assert resp.headers["Content-Type"] == content_type, filename
            assert await resp.read() == image_bytes(fmt)


async def test_nginx_sends_links_by_filename_to_the_api_for_the_key(nginx, settings):
    async with aiohttp.ClientSession(nginx) as http:
        image = await (
            await http.post("/images", data=create_form({"filename": "a b.png"}, image_bytes()))
        ).json()
        resp = await http.get(f"/media/{image['image_id']}/a%20b.png", allow_redirects=False)
        assert resp.status == 302
        assert resp.headers["Location"] == image["attachment"]["url"]
        missing = await http.get(f"/media/{image['image_id']}/nothing.png")
        assert missing.status == 404
        assert missing.content_type == "application/problem+json"


async def test_nginx_keeps_temp_files_symlinks_and_escapes_private(nginx, settings, tmp_path):
    secret = b"not for the web"
    (settings.data_dir / "secret.png").write_bytes(secret)
    async with aiohttp.ClientSession(nginx) as http:
        image = await (
            await http.post("/images", data=create_form({"filename": "a.png"}, image_bytes()))
        ).json()
        directory = settings.media_dir / str(image["image_id"])
        (directory / ".upload-1234").write_bytes(secret)
        (settings.media_dir / ".incoming" / ".upload-5678").write_bytes(secret)
        os.symlink(settings.data_dir / "secret.png", directory / "link.png")
        paths = [
            f"/media/{image['image_id']}/.upload-1234",
            "/media/.incoming/.upload-5678",
            "/media/.incoming/",
            f"/media/{image['image_id']}/link.png",
            f"/media/{image['image_id']}/",
            "/media/",
            f"/media/{image['image_id']}/..%2F..%2Fsecret.png",
            "/media/..%2Fsecret.png",
            "/media/%2e%2e/secret.png",
            f"/media/{image['image_id']}/..%5C..%5Csecret.png",
        ]
        for path in paths:
            url = URL(nginx + path, encoded=True)
            resp = await http.get(url)
            body = await resp.read()
            assert resp.status in (400, 404), path
            assert secret not in body, path
            if resp.status == 404:
                assert resp.content_type == "application/problem+json", path


@pytest.mark.parametrize("media_signed", [True])
async def test_nginx_serves_signed_urls_and_refuses_tampered_and_expired_ones(
    nginx, served_settings, database_url
):
    _, token = make_token(database_url, "write")
    async with aiohttp.ClientSession(nginx, headers=bearer(token)) as api:
        created = await api.post("/images", data=create_form({"filename": "a.png"}, image_bytes()))
        assert created.status == 201
        image = await created.json()
        redirect = await api.get(image["attachment"]["url"], allow_redirects=False)
        assert redirect.status == 302
        location = redirect.headers["Location"]
    key = file_key(served_settings, image["image_id"])
    assert location.startswith(f"/media/{key}?md5=")
    async with aiohttp.ClientSession(nginx) as http:  # no token: a browser, an <img> tag
        resp = await http.get(location)
        assert resp.status == 200
        assert resp.headers["Server"] == "nginx"
        assert await resp.read() == image_bytes()

        for url in (f"/media/{key}", location.replace("md5=", "md5=x"), location + "0"):
            refused = await http.get(url)
            assert refused.status == 403, url
            assert refused.content_type == "application/problem+json"
            assert "signature" in (await refused.json())["detail"]
        expired = MediaSigner(SECRET, 300).sign(f"/media/{key}", now=time.time() - 600)
        gone = await http.get(expired)
        assert gone.status == 410
        assert gone.content_type == "application/problem+json"
        # The same signature checked by pixtag's own /media (no nginx in the way).
        assert (
            MediaSigner(SECRET, 300)
            .verify(f"/media/{key}", *[dict(URL(location).query)[k] for k in ("md5", "expires")])
            .value
            == "valid"
        )


async def test_a_rendition_redirect_lands_on_nginx_serving_it_from_disk(nginx, settings):
    async with aiohttp.ClientSession(nginx) as http:
        created = await http.post(
            "/images", data=create_form({"filename": "wide.png"}, image_bytes("PNG", (640, 320)))
        )
        image_id = (await created.json())["image_id"]
        redirect = await http.get(f"/images/{image_id}/renditions/thumb", allow_redirects=False)
        assert redirect.status == 302
        location = redirect.headers["Location"]
        (key,) = sql(
            settings.database_url,
            "SELECT storage_key FROM renditions WHERE image_id = %s AND preset = 'thumb'",
            (image_id,),
        )[0]
        assert location == f"/media/{key}"
        resp = await http.get(location)
        assert resp.status == 200
        assert resp.headers["Server"] == "nginx"  # from disk, not by the API
        assert resp.headers["Content-Type"] == "image/webp"
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        data = await resp.read()
        assert data == (settings.media_dir / key).read_bytes()
        assert PILImage.open(io.BytesIO(data)).size == (320, 160)
