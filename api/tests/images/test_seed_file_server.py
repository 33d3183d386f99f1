"""Seed 003's file server, walked as its README shows it, on pixtag's images."""

import re
from email.utils import parsedate_to_datetime

import aiohttp
import pytest

from tests.support.helpers import image_bytes, problem, sha256

RFC1123 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" \d{4} \d\d:\d\d:\d\d GMT$"
)
FIELDS = ["id", "name", "extension", "comment", "size", "created_at", "updated_at"]


def seed_form(data: bytes, filename: str = "photo.png", **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return form


@pytest.mark.parametrize("path", ["/api/file-server/", "/api/file-server"])
async def test_the_seed_walk_create_list_get_download_patch(client, path):
    data = image_bytes("PNG", (9, 4))
    created = await client.post(path, data=seed_form(data, name="имя файла", comment="комментарий"))
    assert created.status == 201, await created.text()
    doc = await created.json()
    assert list(doc) == FIELDS
    assert doc["name"] == "имя файла"
    assert doc["extension"] == ".png"
    assert doc["comment"] == "комментарий"
    assert doc["size"] == len(data)
    assert RFC1123.match(doc["created_at"])
    assert RFC1123.match(doc["updated_at"])
    file_id = doc["id"]
    assert created.headers["Location"] == f"/api/file-server/{file_id}"

    # The same image through pixtag's own API.
    image = await (await client.get(f"/images/{file_id}")).json()
    assert (image["filename"], image["description"]) == ("имя файла.png", "комментарий")

    listed = await client.get(path)
    assert listed.status == 200
    assert await listed.json() == [doc]

    one = await client.get(f"/api/file-server/{file_id}")
    assert await one.json() == doc

    download = await client.get(f"/api/file-server/{file_id}/download")
    assert download.status == 200
    body = await download.read()
    assert sha256(body) == sha256(data)
    assert download.content_type == "image/png"
    assert download.headers["Content-Disposition"].startswith("attachment;")

    patched = await client.patch(
        f"/api/file-server/{file_id}", json={"name": "renamed", "comment": "doc"}
    )
    assert patched.status == 200, await patched.text()
    after = await patched.json()
    assert (after["name"], after["extension"], after["comment"]) == ("renamed", ".png", "doc")
    assert after["created_at"] == doc["created_at"]
    updated = parsedate_to_datetime(after["updated_at"])
    assert updated >= parsedate_to_datetime(doc["updated_at"])
    image = await (await client.get(f"/images/{file_id}")).json()
    assert image["filename"] == "renamed.png"


async def test_newest_first_and_only_images_with_a_file(client):
    first = await (
        await client.post("/api/file-server/", data=seed_form(image_bytes(), "a.png"))
    ).json()
    second = await (
        await client.post("/api/file-server/", data=seed_form(image_bytes("GIF"), "b.gif"))
    ).json()
    await client.post("/images", json={"filename": "no-file.png"})
    listed = await (await client.get("/api/file-server/")).json()
    assert [d["id"] for d in listed] == [second["id"], first["id"]]
    # The file's own name without its extension when no name is given.
    assert (second["name"], second["extension"], second["comment"]) == ("b", ".gif", "")


async def test_empty_list_is_an_empty_array(client):
    resp = await client.get("/api/file-server/")
    assert resp.status == 200
    assert await resp.text() == "[]"


async def test_a_file_that_is_no_image_is_refused_with_415(client, settings):
    resp = await client.post(
        "/api/file-server/", data=seed_form(b"%PDF-1.4 not an image", "subka.pdf", name="subka")
    )
    body = await problem(resp, 415)
    assert "not an image" in body["detail"]
    assert await (await client.get("/api/file-server/")).json() == []


async def test_form_mistakes_are_400(client):
    no_file = aiohttp.FormData(default_to_multipart=True)
    no_file.add_field("name", "x")
    body = await problem(await client.post("/api/file-server/", data=no_file), 400)
    assert "no file" in body["detail"]
    extra = seed_form(image_bytes(), other="1")
    assert (
        "Unexpected multipart field 'other'"
        in (await problem(await client.post("/api/file-server/", data=extra), 400))["detail"]
    )
    bad_name = seed_form(image_bytes(), name="a/b")
    assert (
        "name:"
        in (await problem(await client.post("/api/file-server/", data=bad_name), 400))["detail"]
    )


async def test_missing_gone_and_fileless(client):
    await problem(await client.get("/api/file-server/999"), 404)
    await problem(await client.get("/api/file-server/999/download"), 404)
    record = await (await client.post("/images", json={"filename": "empty.png"})).json()
    body = await problem(await client.get(f"/api/file-server/{record['image_id']}"), 404)
    assert "has no file" in body["detail"]
    await problem(
        await client.patch(f"/api/file-server/{record['image_id']}", json={"comment": "x"}), 404
    )
    made = await (await client.post("/api/file-server/", data=seed_form(image_bytes()))).json()
    assert (await client.delete(f"/images/{made['id']}")).status == 204
    await problem(await client.get(f"/api/file-server/{made['id']}"), 410)


async def test_patch_honours_if_match_and_refuses_nulls(client):
    made = await client.post("/api/file-server/", data=seed_form(image_bytes()))
    file_id = (await made.json())["id"]
    url = f"/api/file-server/{file_id}"
    await problem(await client.patch(url, json={"comment": "x"}, headers={"If-Match": '"v9"'}), 412)
    ok = await client.patch(url, json={"comment": "x"}, headers={"If-Match": made.headers["ETag"]})
    assert ok.status == 200
    await problem(await client.patch(url, json={"name": None}), 400)
    await problem(await client.patch(url, json={}), 400)


async def test_head_of_a_download_sends_no_bytes(client):
    made = await (await client.post("/api/file-server/", data=seed_form(image_bytes()))).json()
    resp = await client.head(f"/api/file-server/{made['id']}/download")
    assert resp.status == 200
    assert int(resp.headers["Content-Length"]) == made["size"]
    assert await resp.read() == b""
