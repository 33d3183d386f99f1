"""With S3 storage: the attachment's 302 goes to a presigned URL on the S3 server itself.

Fetched with a plain HTTP client from SeaweedFS, which checks signatures:
the URL gives the stored bytes with the recorded type and the image's
filename; a tampered or expired URL, or the object without a signature, is
refused.
"""

import asyncio
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import pytest

from pixtag.app import create_app
from tests.support.helpers import create_form, file_key, image_bytes, sha256


@pytest.fixture
def storage_backend():
    return "s3"


async def create(client, filename: str, data: bytes) -> dict:
    resp = await client.post("/images", data=create_form({"filename": filename}, data))
    assert resp.status == 201
    return await resp.json()


async def location(client, image) -> str:
    path = image["attachment"]["url"]
    resp = await client.get(path, allow_redirects=False)
    assert resp.status == 302
    return resp.headers["Location"]


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


async def test_the_redirect_is_a_presigned_url_giving_the_bytes_and_the_filename(client, settings):
    data = image_bytes("JPEG", (30, 20))
    image = await create(client, "holiday photo.jpg", data)
    assert (
        image["attachment"]["url"] == f"/images/{image['image_id']}/attachment/holiday%20photo.jpg"
    )
    url = await location(client, image)
    key = file_key(settings, image["image_id"])
    assert url.startswith(f"{settings.s3_endpoint_url}/pixtag-test/{settings.s3_prefix}{key}?")
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=3600" in url
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200
        body = await resp.read()
        assert resp.headers["Content-Type"] == "image/jpeg"
        assert resp.headers["Content-Disposition"] == (
            "inline; filename=\"holiday photo.jpg\"; filename*=UTF-8''holiday%20photo.jpg"
        )
    assert sha256(body) == image["attachment"]["sha256"]
    # The client follows the redirect itself too.
    followed = await client.get(image["attachment"]["url"])
    assert await followed.read() == data


async def test_a_tampered_presigned_url_is_refused(client):
    image = await create(client, "a.png", image_bytes())
    url = await location(client, image)
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    other = await create(client, "b.png", image_bytes("PNG", (9, 9)))
    other_path = urlsplit(await location(client, other)).path
    tampered = [
        with_query(url, **{"X-Amz-Signature": flipped}),
        with_query(url, **{"response-content-type": "text/html"}),
        urlunsplit(urlsplit(url)._replace(path=other_path)),
        urlunsplit(urlsplit(url)._replace(query="")),  # no signature at all
    ]
    async with aiohttp.ClientSession() as http:
        for bad in tampered:
            async with http.get(bad) as resp:
                assert resp.status == 403, bad
                assert image_bytes() != await resp.read()


async def test_an_expired_presigned_url_is_refused(aiohttp_client, settings):
    short = settings.model_copy(update={"s3_presign_expires": 1})
    client = await aiohttp_client(create_app(short))
    image = await create(client, "a.png", image_bytes())
    url = await location(client, image)
    assert "X-Amz-Expires=1&" in url or url.endswith("X-Amz-Expires=1")
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(url) as resp:
                if resp.status == 403:
                    assert b"expired" in (await resp.read()).lower()
                    break
                assert resp.status == 200
            assert time.monotonic() < deadline, "the URL never expired"
            await asyncio.sleep(0.2)
        # A fresh redirect works again.
        async with http.get(await location(client, image)) as resp:
            assert resp.status == 200


async def test_media_on_the_api_serves_nothing_with_s3(client, settings):
    image = await create(client, "a.png", image_bytes())
    key = file_key(settings, image["image_id"])
    resp = await client.get(f"/media/{key}")
    assert resp.status == 404
    assert resp.content_type == "application/problem+json"
