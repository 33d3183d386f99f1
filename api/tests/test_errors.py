"""Errors from every layer answer problem+json: parsing, routing, methods, ids, crashes."""

import io
import logging

import pytest
from aiohttp import web

from pixtag.app import create_app


async def problem(resp, status):
    assert resp.status == status
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["status"] == status
    assert body["error"] == body["detail"]
    assert body["title"]
    return body


async def test_malformed_json_is_400(client):
    resp = await client.post(
        "/images", data=b'{"filename": ', headers={"Content-Type": "application/json"}
    )
    body = await problem(resp, 400)
    assert "Invalid JSON" in body["detail"]


async def test_json_that_is_not_an_object_is_400(client):
    resp = await client.post("/images", json=["a.jpg"])
    await problem(resp, 400)


async def test_body_that_is_not_utf8_is_400(client):
    resp = await client.post(
        "/images", data=b'{"filename": "\xff"}', headers={"Content-Type": "application/json"}
    )
    await problem(resp, 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_wrong_content_type_is_415(client, content_type):
    resp = await client.post(
        "/images", data=b'{"filename": "a.jpg"}', headers={"Content-Type": content_type}
    )
    body = await problem(resp, 415)
    assert body["detail"] == (
        f"Content-Type must be application/json or multipart/form-data, not {content_type}"
    )


async def test_missing_body_is_415(client):
    resp = await client.post("/images")
    await problem(resp, 415)


async def test_body_over_the_request_limit_is_413(client):
    payload = b'{"filename": "a.jpg", "tags": ["' + b"x" * (2 * 1024 * 1024) + b'"]}'
    resp = await client.post(
        "/images", data=io.BytesIO(payload), headers={"Content-Type": "application/json"}
    )
    await problem(resp, 413)


async def test_unknown_route_is_404(client):
    await problem(await client.get("/nowhere"), 404)


async def test_wrong_method_is_405_with_allow(client):
    resp = await client.delete("/images/1")
    await problem(resp, 405)
    assert resp.headers["Allow"] == "GET"


@pytest.mark.parametrize("image_id", ["abc", "1.5", "0", "-1", "9223372036854775808", "1e3", "%20"])
async def test_bad_image_id_is_400(client, image_id):
    body = await problem(await client.get(f"/images/{image_id}"), 400)
    assert body["errors"][0]["loc"] == ["image_id"]
    assert body["errors"][0]["in"] == "path"


async def test_largest_bigint_id_is_a_plain_404(client):
    body = await problem(await client.get("/images/9223372036854775807"), 404)
    assert body["error"] == "Image <9223372036854775807> is not found"


async def test_unexpected_error_is_a_generic_500_and_logged(aiohttp_client, settings, caplog):
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internal detail /var/lib/x")

    app = create_app(settings)
    app.router.add_get("/boom", boom)
    client = await aiohttp_client(app)
    with caplog.at_level(logging.ERROR, logger="pixtag.errors"):
        resp = await client.get("/boom")
    body = await problem(resp, 500)
    assert "secret" not in await resp.text()
    assert body["detail"] == "The server met an unexpected error."
    assert "secret internal detail" in caplog.text
