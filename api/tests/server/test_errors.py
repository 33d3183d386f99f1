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
    resp = await client.put("/images/1")
    await problem(resp, 405)
    assert resp.headers["Allow"] == "DELETE,GET,HEAD,PATCH"


@pytest.mark.parametrize(
    "image_id", ["abc", "1.5", "0", "-1", "9223372036854775808", "1e3", "%20", "1_0", "+1", "010"]
)
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


DIGITS_ONLY = (
    "Value error, must be a decimal integer: digits only, no sign, spaces, separators or"
    " leading zeros"
)


@pytest.mark.parametrize(
    "path",
    [
        "/images/1_0",
        "/images/+1",
        "/images/%2010",
        "/images/010",
        "/images/1_0/attachment/a.png",
        "/media/+1/a.png",
        "/media/1_0/a.png",
    ],
)
async def test_a_path_id_that_is_not_plain_digits_is_400_even_if_it_names_an_image(client, path):
    for _ in range(10):  # image 10 exists, and 1 does: neither is reached
        assert (await client.post("/images", json={"filename": "a.png"})).status == 201
    body = await problem(await client.get(path), 400)
    assert body["errors"] == [
        {"in": "path", "loc": ["image_id"], "msg": DIGITS_ONLY, "type": "value_error"}
    ]


@pytest.mark.parametrize(
    "query",
    [
        "limit=1_000",
        "after_id=0.0",
        "limit=%205%20",
        "chunk_size=+5",
        "after_id=00",
        "limit=%EF%BC%91",  # a full-width digit one
        "limit=5%0A",
    ],
)
async def test_a_query_number_that_is_not_plain_digits_is_400(client, query):
    body = await problem(await client.get(f"/images?{query}"), 400)
    name = query.partition("=")[0]
    assert body["errors"] == [
        {"in": "query string", "loc": [name], "msg": DIGITS_ONLY, "type": "value_error"}
    ]
    assert body["detail"] == f"Invalid query string: {name}: {DIGITS_ONLY}"


async def test_plain_digits_are_read_as_numbers(client):
    resp = await client.get("/images?limit=1000&after_id=0&chunk_size=5")
    assert resp.status == 200


LISTING_TAKES = (
    "this operation takes tag, tags_all, tags_any, tags_none, q, sha256, chunk_size, after_id,"
    " limit, after"
)


async def test_an_unknown_query_parameter_is_400_naming_it_and_the_accepted_ones(client):
    await client.post("/images", json={"filename": "a.png", "tags": ["pets"]})
    body = await problem(await client.get("/images?tags=pets&limt=5&tag=pets"), 400)
    message = f"Unknown parameter: {LISTING_TAKES}"
    assert body["detail"] == f"Invalid query string: tags: {message}"
    assert body["errors"] == [
        {"in": "query string", "loc": ["tags"], "msg": message, "type": "unknown_parameter"},
        {"in": "query string", "loc": ["limt"], "msg": message, "type": "unknown_parameter"},
    ]


async def test_a_repeated_tag_is_400_pointing_at_tags_all(client):
    body = await problem(await client.get("/images?tag=a&tag=b"), 400)
    assert body["detail"] == (
        "Invalid query string: tag: Given 2 times, but it takes one value; to find images"
        " having all of several tags, repeat tags_all instead"
    )
    assert body["errors"][0]["type"] == "repeated_parameter"
    body = await problem(await client.get("/images?limit=1&limit=2"), 400)
    assert body["detail"] == "Invalid query string: limit: Given 2 times, but it takes one value"
    resp = await client.get("/images?tags_all=a&tags_all=b&tags_any=c&tags_any=d")
    assert resp.status == 200


@pytest.mark.parametrize(
    ("method", "path", "takes"),
    [
        ("GET", "/images/1", "no query parameters"),
        ("HEAD", "/images/1", "no query parameters"),
        ("POST", "/images", "takes check_similar"),
        ("GET", "/images/1/attachment/a.png", "no query parameters"),
        ("POST", "/images/1/attachment/a.png", "takes check_similar"),
    ],
)
async def test_operations_refuse_query_parameters_they_do_not_take(client, method, path, takes):
    await client.post("/images", json={"filename": "a.png"})
    resp = await client.request(method, f"{path}?x=1")
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    if method != "HEAD":
        body = await resp.json()
        assert body["detail"].startswith("Invalid query string: x: Unknown parameter: ")
        assert takes in body["detail"]


async def test_head_answers_wherever_get_does_with_its_headers_and_no_body(client):
    created = await (await client.post("/images", json={"filename": "a.png"})).json()
    for path in ("/images", "/images?tag=x&limit=1", f"/images/{created['image_id']}"):
        got = await client.get(path)
        head = await client.head(path)
        assert head.status == got.status == 200, path
        assert head.headers["Content-Type"] == got.headers["Content-Type"]
        assert await head.read() == b""
    one = await client.get(f"/images/{created['image_id']}")
    head = await client.head(f"/images/{created['image_id']}")
    assert head.headers["Content-Length"] == one.headers["Content-Length"]
    ndjson = await client.head("/images", headers={"Accept": "application/x-ndjson"})
    assert ndjson.content_type == "application/x-ndjson"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/images?limit=0", 400), ("/images?tags=x", 400), ("/images/999", 404), ("/images/0", 400)],
)
async def test_head_fails_as_get_does(client, path, status):
    resp = await client.head(path)
    assert resp.status == status
    assert resp.content_type == "application/problem+json"
    assert await resp.read() == b""
