"""Seed 002's file drop, walked as its README shows it: PUT /file, then GET its URL once."""

import io

import aiohttp
import pytest
from yarl import URL

from tests.support.helpers import image_bytes, problem
from tests.support.processes import sql

DATA = image_bytes("JPEG", (16, 12))


def drop_form(data: bytes = DATA, filename: str = "report.jpg", **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field(
        "file", io.BytesIO(data), filename=filename, content_type="application/octet-stream"
    )
    for name, value in fields.items():
        form.add_field(name, value)
    return form


async def put_drop(client, **fields: str) -> str:  # type: ignore[no-untyped-def]
    resp = await client.put("/file", data=drop_form(**fields))
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["status"] == "File Uploaded Successfully"
    url = URL(body["url"])
    assert url.is_absolute()
    assert url.path.startswith("/file/")
    return url.path


async def test_the_seed_walk_with_a_password(client, database_url):
    path = await put_drop(client, password="hello world")
    (image_id,) = sql(database_url, "SELECT image_id FROM shares WHERE kind = 'drop'")[0]
    await problem(await client.get(path), 401)
    await problem(await client.get(path, params={"password": "nope"}), 401)
    head = await client.head(path, params={"password": "hello world"})
    assert head.status == 200  # HEAD uses nothing up
    got = await client.get(path, params={"password": "hello world"})
    assert got.status == 200
    assert got.content_type == "image/jpeg"
    assert await got.read() == DATA
    await problem(await client.get(path, params={"password": "hello world"}), 410)
    # Removed through the normal delete path: a tombstone, no file left.
    await problem(await client.get(f"/images/{image_id}"), 410)


async def test_without_a_password_the_url_alone_downloads_once(client):
    path = await put_drop(client)
    first = await client.get(path)
    assert first.status == 200
    assert await first.read() == DATA
    await problem(await client.get(path), 410)


async def test_refusals_the_seed_lists(client, settings):
    no_file = aiohttp.FormData(default_to_multipart=True)
    no_file.add_field("password", "x")
    assert "no file" in (await problem(await client.put("/file", data=no_file), 400))["detail"]
    for method in ("GET", "POST", "PATCH", "DELETE"):
        resp = await client.request(method, "/file")
        await problem(resp, 405)
    await problem(await client.get("/file/nosuchdrop"), 404)
    await problem(await client.put("/file", data=drop_form(b"%PDF-1.4 no image")), 415)
    too_big = drop_form(b"\x00" * (settings.max_upload_size + 1))
    await problem(await client.put("/file", data=too_big), 413)


async def test_a_drop_is_not_a_share_link(client):
    path = await put_drop(client)
    token = path.rsplit("/", 1)[1]
    await problem(await client.get(f"/s/{token}"), 404)
    await problem(await client.get(f"/s/{token}/download"), 404)
    # And a share token is no drop.
    made = await (await client.post("/images", json={"filename": "a.png"})).json()
    share = await (await client.post(f"/images/{made['image_id']}/shares", json={})).json()
    await problem(await client.get(f"/file/{share['token']}"), 404)


@pytest.mark.parametrize("password", ["", None])
async def test_an_empty_password_is_none(client, password):
    fields = {} if password is None else {"password": password}
    path = await put_drop(client, **fields)
    assert (await client.get(path)).status == 200
