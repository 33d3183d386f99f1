"""Share links (seed 002) on a live server: passwords, expiry, download limits, revocation.

A share's URL needs no API token; an API client following it is sent to
its download URL, which answers the bytes and counts them (the page, HEAD
and link previews count nothing: test_share_pages.py).
"""

import asyncio

import pytest

from pixtag.app import create_app
from tests.support.auth import bearer, make_token
from tests.support.helpers import create_form, image_bytes
from tests.support.processes import sql

DATA = image_bytes()


@pytest.fixture
async def stored(client):
    resp = await client.post(
        "/images", data=create_form({"filename": "cat.png", "tags": ["cat"]}, DATA)
    )
    assert resp.status == 201
    return client


async def share(client, **body):
    resp = await client.post("/images/1/shares", json=body)
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    assert resp.headers["Location"] == made["url"] == f"/s/{made['token']}"
    return made


async def follow(client, url, **kwargs):
    return await client.get(url, allow_redirects=False, **kwargs)


async def download(client, url, **kwargs):
    return await client.get(f"{url}/download", allow_redirects=False, **kwargs)


async def test_a_share_leads_to_the_file_through_a_signed_url(stored):
    made = await share(stored)
    assert made["image_id"] == 1
    assert made["expires_at"] is None
    assert made["max_downloads"] is None
    assert made["downloads"] == 0
    assert made["has_password"] is False
    assert made["created_at"].endswith("Z")
    assert len(made["token"]) >= 32
    resp = await follow(stored, made["url"])
    assert resp.status == 302
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Location"] == f"{made['url']}/download"
    listed = await (await stored.get("/images/1/shares")).json()
    assert [(s["token"], s["downloads"]) for s in listed] == [(made["token"], 0)]
    media = await stored.get(resp.headers["Location"])
    assert media.status == 200
    assert media.content_type == "image/png"
    assert media.headers["Content-Disposition"].startswith('attachment; filename="cat.png"')
    assert await media.read() == DATA
    listed = await (await stored.get("/images/1/shares")).json()
    assert [(s["token"], s["downloads"]) for s in listed] == [(made["token"], 1)]


async def test_a_password_is_asked_for_checked_and_hashed(stored, database_url):
    made = await share(stored, password="s3cret pass")
    assert made["has_password"] is True
    stored_hash = sql(database_url, "SELECT password_hash FROM shares")[0][0]
    assert stored_hash.startswith("scrypt$")
    assert "s3cret" not in stored_hash
    missing = await follow(stored, made["url"])
    assert missing.status == 401
    assert missing.content_type == "application/problem+json"
    assert "needs its password" in (await missing.json())["detail"]
    assert "WWW-Authenticate" in missing.headers
    wrong = await follow(stored, made["url"], params={"password": "guess"})
    assert wrong.status == 401
    assert (await wrong.json())["detail"] == "Wrong password for this share link"
    right = await follow(stored, made["url"], params={"password": "s3cret pass"})
    assert right.status == 302
    assert right.headers["Location"] == f"{made['url']}/download?password=s3cret+pass"
    assert (await stored.get(right.headers["Location"])).status == 200
    by_header = await download(stored, made["url"], headers={"X-Share-Password": "s3cret pass"})
    assert by_header.status == 200
    assert await by_header.read() == DATA
    assert (await download(stored, made["url"])).status == 401
    assert sql(database_url, "SELECT downloads, failures FROM shares") == [(2, 0)]


async def test_wrong_passwords_are_rate_limited_in_the_database(stored, database_url):
    made = await share(stored, password="right")
    for _ in range(5):
        assert (await follow(stored, made["url"], params={"password": "wrong"})).status == 401
    locked = await follow(stored, made["url"], params={"password": "right"})
    assert locked.status == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    assert "Too many wrong passwords" in (await locked.json())["detail"]
    assert sql(database_url, "SELECT failures, downloads FROM shares") == [(5, 0)]
    # The window passing (moved back here, not waited for) lifts the lock.
    sql(database_url, "UPDATE shares SET failures_since = now() - interval '61 seconds'")
    assert (await download(stored, made["url"], params={"password": "right"})).status == 200


async def test_guesses_sent_at_once_cannot_outrun_the_limit(stored, database_url):
    made = await share(stored, password="right")

    async def guess(password: str) -> int:
        return (await follow(stored, made["url"], params={"password": password})).status

    statuses = await asyncio.gather(*(guess(f"wrong{n}") for n in range(100)))
    assert statuses.count(401) == 5  # checked: exactly the limit
    assert statuses.count(429) == 95  # refused without being checked
    assert await guess("right") == 429  # locked, however right
    assert sql(database_url, "SELECT failures, downloads FROM shares") == [(5, 0)]


async def test_an_expired_share_is_gone(stored, database_url):
    made = await share(stored, expires_in=3600)
    assert made["expires_at"].endswith("Z")
    assert (await follow(stored, made["url"])).status == 302
    sql(database_url, "UPDATE shares SET expires_at = now() - interval '1 second'")
    gone = await follow(stored, made["url"])
    assert gone.status == 410
    assert gone.content_type == "application/problem+json"


async def test_max_downloads_hold_under_concurrent_requests(stored, database_url):
    made = await share(stored, max_downloads=3)
    answers = await asyncio.gather(*(download(stored, made["url"]) for _ in range(12)))
    statuses = sorted(resp.status for resp in answers)
    assert statuses == [200] * 3 + [410] * 9
    assert sql(database_url, "SELECT downloads FROM shares") == [(3,)]
    # Checking the link after it is used up says so, and still counts nothing.
    assert (await follow(stored, made["url"])).status == 410


async def test_a_revoked_share_is_gone_and_unlisted(stored):
    made = await share(stored)
    kept = await share(stored, max_downloads=1)
    assert (await stored.delete(f"/shares/{made['token']}")).status == 204
    assert (await stored.delete(f"/shares/{made['token']}")).status == 204
    assert (await follow(stored, made["url"])).status == 410
    assert (await download(stored, made["url"])).status == 410  # nothing served once revoked
    listed = await (await stored.get("/images/1/shares")).json()
    assert [s["token"] for s in listed] == [kept["token"]]
    unknown = await stored.delete("/shares/nosuchshare")
    assert unknown.status == 404
    assert (await unknown.json())["detail"] == "No such share link"


async def test_a_deleted_images_share_is_gone_and_unknown_tokens_are_404(stored):
    made = await share(stored)
    assert (await stored.delete("/images/1")).status == 204
    gone = await follow(stored, made["url"])
    assert gone.status == 410
    assert (await follow(stored, "/s/nosuchshare")).status == 404
    assert (await stored.post("/images/1/shares", json={})).status == 410
    assert (await stored.post("/images/7/shares", json={})).status == 404
    assert (await stored.get("/images/7/shares")).status == 404


async def test_share_bodies_are_validated(stored):
    bodies = ({"max_downloads": 0}, {"expires_in": -5}, {"expires_in": True}, {"password": ""})
    for body in (*bodies, {"other": 1}, {"max_downloads": "2"}):
        resp = await stored.post("/images/1/shares", json=body)
        assert resp.status == 400, body
        assert resp.content_type == "application/problem+json"


async def test_shares_need_write_to_make_and_nothing_to_follow(
    aiohttp_client, settings, database_url
):
    client = await aiohttp_client(create_app(settings.model_copy(update={"auth": "on"})))
    _, write = make_token(database_url, "write")
    _, read = make_token(database_url, "read")
    created = await client.post(
        "/images", json={"filename": "a.png", "tags": []}, headers=bearer(write)
    )
    assert created.status == 201
    assert (await client.post("/images/1/shares", json={}, headers=bearer(read))).status == 403
    resp = await client.post("/images/1/shares", json={}, headers=bearer(write))
    assert resp.status == 201
    url = (await resp.json())["url"]
    # No file yet: the link answers 404 without any token, not 401.
    no_file = await follow(client, url)
    assert no_file.status == 404
    assert (await no_file.json())["detail"] == "The shared image has no file yet"
