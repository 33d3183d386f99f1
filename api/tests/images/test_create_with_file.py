"""POST /images as multipart: ``meta`` then ``image`` create a record with its file, or nothing."""

import json

import pytest
from aiohttp import FormData

from pixtag.models import Image
from tests.support.helpers import (
    SVG,
    create_form,
    file_key,
    image_bytes,
    record_of,
    sha256,
    stored_files,
)

pytestmark = pytest.mark.both_backends


async def count_images(client) -> int:
    ids = []
    for image_id in range(1, 10):
        if (await client.get(f"/images/{image_id}")).status == 200:
            ids.append(image_id)
    return len(ids)


async def test_one_request_creates_the_record_and_stores_the_file(client, settings):
    data = image_bytes("JPEG", (40, 30))
    meta = {"filename": "holiday.jpg", "tags": ["Sea", "sun"]}
    resp = await client.post("/images", data=create_form(meta, data, filename="ignored.png"))
    assert resp.status == 201
    body = await resp.json()
    Image.model_validate(body)
    assert resp.headers["Location"] == f"/images/{body['image_id']}"
    assert body["filename"] == "holiday.jpg"
    assert body["tags"] == ["sea", "sun"]
    attachment = body["attachment"]
    assert attachment["content_type"] == "image/jpeg"
    assert (attachment["width"], attachment["height"]) == (40, 30)
    assert attachment["sha256"] == sha256(data)
    assert attachment["size"] == len(data)
    key = file_key(settings, body["image_id"])
    assert key.startswith(f"{body['image_id']}/{sha256(data)[:16]}-")
    assert key.endswith(".jpg")
    assert await stored_files(settings) == {key: data}
    assert await (await client.get(f"/images/{body['image_id']}")).json() == record_of(body)
    download = await client.get(f"/images/{body['image_id']}/attachment/holiday.jpg")
    assert await download.read() == data


async def test_a_refused_file_leaves_no_record_and_no_file(client, settings):
    meta = {"filename": "drawing.svg", "tags": ["x"]}
    resp = await client.post("/images", data=create_form(meta, SVG))
    assert resp.status == 415
    assert resp.content_type == "application/problem+json"
    assert await stored_files(settings) == {}
    assert await count_images(client) == 0
    # The next record works and the refused one never appears.
    ok = await client.post("/images", data=create_form({"filename": "a.png"}, image_bytes()))
    assert ok.status == 201
    assert await count_images(client) == 1


async def test_a_file_over_the_limit_leaves_no_record(aiohttp_client, settings):
    from pixtag.app import create_app

    small = settings.model_copy(update={"max_upload_size": 500})
    client = await aiohttp_client(create_app(small))
    resp = await client.post(
        "/images", data=create_form({"filename": "big.bmp"}, image_bytes("BMP", (20, 20)))
    )
    assert resp.status == 413
    assert await stored_files(small) == {}
    assert await count_images(client) == 0


async def test_invalid_meta_is_400_listing_the_fields(client, settings):
    resp = await client.post(
        "/images", data=create_form({"filename": "a.png", "tags": [""]}, image_bytes())
    )
    assert resp.status == 400
    body = await resp.json()
    assert body["errors"][0]["in"] == "meta"
    assert body["errors"][0]["loc"] == ["tags", 0]
    assert await count_images(client) == 0
    assert await stored_files(settings) == {}


async def test_meta_that_is_not_json_is_400(client):
    form = FormData()
    form.add_field("meta", "{not json", content_type="application/json")
    form.add_field("image", image_bytes(), filename="a.png")
    resp = await client.post("/images", data=form)
    assert resp.status == 400
    assert (await resp.json())["error"].startswith("Invalid meta")


async def test_image_part_before_meta_creates_the_same_record(client, settings):
    form = FormData()
    form.add_field("image", image_bytes(), filename="ignored.png")
    form.add_field("meta", json.dumps({"filename": "a.png", "tags": ["X"]}))
    resp = await client.post("/images", data=form)
    assert resp.status == 201
    body = await resp.json()
    assert body["filename"] == "a.png"
    assert body["tags"] == ["x"]
    assert body["attachment"]["content_type"] == "image/png"
    key = file_key(settings, body["image_id"])
    assert key.endswith(".png")
    assert await stored_files(settings) == {key: image_bytes()}


async def test_image_part_before_a_bad_meta_leaves_nothing(client, settings):
    for meta in ('{"filename": "../a.png"}', "{not json"):
        form = FormData()
        form.add_field("image", image_bytes(), filename="a.png")
        form.add_field("meta", meta)
        resp = await client.post("/images", data=form)
        assert resp.status == 400
        assert (await resp.json())["error"].startswith("Invalid meta")
    form = FormData()
    form.add_field("image", image_bytes(), filename="a.png")
    resp = await client.post("/images", data=form)
    assert resp.status == 400
    assert (await resp.json())["error"] == "Expected a multipart field 'meta', found nothing"
    assert await count_images(client) == 0
    assert await stored_files(settings) == {}


async def test_unknown_or_missing_parts_are_400(client, settings):
    form = FormData()
    form.add_field("file", image_bytes(), filename="a.png")
    resp = await client.post("/images", data=form)
    assert resp.status == 400
    assert (await resp.json())["error"] == (
        "Expected a multipart field 'meta' or 'image', found 'file'"
    )
    form = FormData()
    form.add_field("meta", json.dumps({"filename": "a.png"}))
    form.add_field("file", image_bytes(), filename="a.png")
    resp = await client.post("/images", data=form)
    assert resp.status == 400
    assert (await resp.json())["error"] == "Expected a multipart field 'image', found 'file'"
    assert await count_images(client) == 0
    assert await stored_files(settings) == {}


async def test_json_creation_still_works_and_other_types_are_415(client):
    resp = await client.post("/images", json={"filename": "a.png"})
    assert resp.status == 201
    assert (await resp.json())["attachment"] is None
    resp = await client.post("/images", data=b"x", headers={"Content-Type": "text/plain"})
    assert resp.status == 415
