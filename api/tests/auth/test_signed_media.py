"""Media behind auth: the redirects hand out signed, expiring URLs; /media checks them.

Local storage: pixtag's own /media checks the nginx ``secure_link`` scheme
(tampered or missing: 403, expired: 410), and a client sending its token may
fetch plain URLs. S3: the presigned URL lives PIXTAG_MEDIA_URL_TTL seconds,
and SeaweedFS refuses it once expired or tampered. With anonymous reads on,
URLs stay permanent and cacheable.
"""

import asyncio
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
import pytest
from pydantic import SecretStr

from pixtag.app import create_app
from pixtag.auth.signing import MediaSigner
from tests.support.auth import bearer, make_token
from tests.support.helpers import create_form, image_bytes
from tests.support.processes import sql

DATA = image_bytes("PNG", (9, 4))


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


async def store(client, token: str) -> dict:
    meta = {"filename": "cat.png", "tags": []}
    resp = await client.post("/images", data=create_form(meta, DATA), headers=bearer(token))
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def redirect(client, image: dict, token: str) -> str:
    resp = await client.get(
        image["attachment"]["url"], headers=bearer(token), allow_redirects=False
    )
    assert resp.status == 302
    return resp.headers["Location"]


@pytest.fixture
async def signed_client(aiohttp_client, settings):
    return await aiohttp_client(create_app(settings.model_copy(update={"auth": "on"})))


async def test_local_media_urls_are_signed_and_checked(signed_client, database_url):
    _, token = make_token(database_url, "write")
    image = await store(signed_client, token)
    # No permanent URL in the JSON: the attachment's redirect signs one when asked.
    assert image["attachment"]["url"] == "/images/1/attachment/cat.png"
    url = await redirect(signed_client, image, token)
    query = dict(parse_qsl(urlsplit(url).query))
    assert set(query) == {"md5", "expires"}
    assert 295 <= int(query["expires"]) - time.time() <= 301
    fetched = await signed_client.get(url)
    assert fetched.status == 200
    assert await fetched.read() == DATA

    other = "B" if query["md5"].startswith("A") else "A"  # a signature differing for sure
    tampered = await signed_client.get(with_query(url, md5=other + query["md5"][1:]))
    assert tampered.status == 403
    assert tampered.content_type == "application/problem+json"
    longer = await signed_client.get(with_query(url, expires=str(int(query["expires"]) + 60)))
    assert longer.status == 403
    plain = urlsplit(url).path
    assert (await signed_client.get(plain)).status == 403
    # A client with a token may fetch the plain URL.
    with_token = await signed_client.get(plain, headers=bearer(token))
    assert with_token.status == 200

    secret = sql(database_url, "SELECT secret FROM server_secrets")[0][0]
    expired = MediaSigner(secret, 300).sign(plain, now=time.time() - 600)
    gone = await signed_client.get(expired)
    assert gone.status == 410
    assert "expired" in (await gone.json())["detail"]


async def test_every_process_signs_with_the_secret_in_the_database(
    aiohttp_client, settings, database_url
):
    on = settings.model_copy(update={"auth": "on"})
    first = await aiohttp_client(create_app(on))
    second = await aiohttp_client(create_app(on))
    _, token = make_token(database_url, "write")
    image = await store(first, token)
    url = await redirect(first, image, token)
    assert (await second.get(url)).status == 200
    assert len(sql(database_url, "SELECT secret FROM server_secrets")) == 1


async def test_the_configured_secret_key_signs(aiohttp_client, settings, database_url):
    key = SecretStr("k" * 32)
    on = settings.model_copy(update={"auth": "on", "secret_key": key, "media_url_ttl": 60})
    client = await aiohttp_client(create_app(on))
    _, token = make_token(database_url, "write")
    url = await redirect(client, await store(client, token), token)
    path = urlsplit(url).path
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["md5"] == MediaSigner("k" * 32, 60).signature(path, int(query["expires"]))


async def test_with_anonymous_reads_urls_stay_permanent(aiohttp_client, settings, database_url):
    open_reads = settings.model_copy(update={"auth": "on", "anonymous_read": True})
    client = await aiohttp_client(create_app(open_reads))
    _, token = make_token(database_url, "write")
    image = await store(client, token)
    assert image["attachment"]["url"].startswith("/media/1/")
    resp = await client.get(image["attachment"]["url"])
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("storage_backend", ["s3"])
async def test_s3_presigned_urls_live_the_media_ttl_and_are_checked(
    aiohttp_client, settings, database_url
):
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"auth": "on", "media_url_ttl": 2}))
    )
    _, token = make_token(database_url, "write")
    url = await redirect(client, await store(client, token), token)
    assert "X-Amz-Expires=2" in url
    async with aiohttp.ClientSession() as http:
        async with http.get(with_query(url, **{"X-Amz-Signature": "0" * 64})) as resp:
            assert resp.status == 403
        deadline = time.monotonic() + 30
        statuses = []
        while time.monotonic() < deadline:
            async with http.get(url) as resp:
                statuses.append(resp.status)
            if resp.status != 200:
                break
            await asyncio.sleep(0.2)
    assert statuses[-1] == 403
