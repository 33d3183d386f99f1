"""``q`` and ``after`` errors: a 400 problem naming the position, or the token's fault."""

import aiohttp
import pytest

from pixtag.app import create_app
from tests.support.helpers import new_image
from tests.support.processes import sql


@pytest.mark.parametrize(
    ("q", "position", "message"),
    [
        ("cat (dog))", 10, "unexpected ')'"),
        ("cat (dog", 9, "unexpected end of query"),
        ("cat or", 7, "unexpected end of query"),
        ('"sci fi', 1, "unterminated quote"),
        ("ca*t", 3, "'*' may only end a word"),
        ("cat sort:name", 5, "unknown sort 'name'"),
        ("(sort:id cat)", 2, "sort: may only stand at the top level"),
        ("sort:id sort:-id", 9, "sort: given twice"),
        ("cat - dog", 5, "'-' needs a term right after it"),
        ("(" * 9 + "a" + ")" * 9, 9, "more than 8 nested parentheses"),
        (" or ".join(f"t{n}*" for n in range(11)), 71, "more than 10 prefixes"),
    ],
)
async def test_a_syntax_error_is_a_400_naming_its_position(client, q, position, message):
    resp = await client.get("/images", params={"q": q})
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["detail"] == body["error"]
    assert body["detail"].startswith(f"q: {message}")
    assert body["detail"].endswith(f" at position {position}")
    assert body["position"] == position
    assert body["errors"][0]["loc"] == ["q"]
    assert body["errors"][0]["position"] == position


async def test_an_invalid_tag_in_q_is_refused_like_on_create(client):
    body = await (await client.get("/images", params={"q": "ok a,b"})).json()
    assert body["status"] == 400
    assert body["detail"] == "q: invalid tag 'a,b' (tag must not contain ',') at position 4"


async def test_an_empty_q_lists_everything(client):
    created = [await new_image(client, f"{n}.jpg") for n in range(3)]
    body = await (await client.get("/images", params={"q": "  "})).json()
    assert [i["image_id"] for i in body[0]] == [c["image_id"] for c in created]


async def test_sort_alone_orders_everything(client):
    created = [await new_image(client, f"{n}.jpg") for n in range(3)]
    body = await (await client.get("/images", params={"q": "sort:-id"})).json()
    assert [i["image_id"] for i in body[0]] == [c["image_id"] for c in reversed(created)]


async def test_a_prefix_matching_no_tag_matches_nothing(client):
    await new_image(client, "a.jpg", tags=("cat",))
    assert await (await client.get("/images", params={"q": "zz*"})).json() == [
        {"totalImages": 0, "totalChunks": 0}
    ]
    body = await (await client.get("/images", params={"q": "-zz*"})).json()
    assert body[-1] == {"totalImages": 1, "totalChunks": 1}


async def test_a_token_of_another_sort_is_refused(client):
    for n in range(3):
        await new_image(client, f"{n}.jpg")
    body = await (await client.get("/images", params={"q": "sort:-id", "limit": "1"})).json()
    token = body[-1]["after"]
    resp = await client.get("/images", params={"q": "sort:created", "after": token})
    assert resp.status == 400
    assert (await resp.json())["detail"] == (
        "after: the token continues sort:-id, not sort:created"
    )
    resp = await client.get("/images", params={"after": "bm90LWEtdG9rZW4"})
    assert (await resp.json())["detail"] == "after: not a cursor token returned by this listing"
    page = await (await client.get("/images", params={"q": "sort:-id", "after": token})).json()
    assert [i["image_id"] for i in page[0]] == [2, 1]


async def test_a_listing_statement_past_its_bound_ends_the_listing(
    aiohttp_client, settings, caplog
):
    """Each statement of a listing, the first chunk and every FETCH, runs under
    ``PIXTAG_STREAM_STATEMENT_TIMEOUT_MS`` (1 ms here, against a search over 30,000 images
    with ten prefixes): before the headers the answer is a 503, after them the stream ends
    unfinished; either way the slot is given back and the server answers on."""
    sql(
        settings.database_url,
        "INSERT INTO images (filename, tags) SELECT 'a.png', ARRAY['t' || (g %% 97), 'u' || g]"
        " FROM generate_series(1, 30000) AS g",
    )
    bounded = settings.model_copy(update={"stream_statement_timeout_ms": 1, "max_streams": 1})
    client = await aiohttp_client(create_app(bounded))
    q = " or ".join(f"-t{n}*" for n in range(1, 10)) + " or u1*"
    for _ in range(3):  # the one slot comes back each time
        try:
            resp = await client.get("/images", params={"q": q})
            body = await resp.read()
        except aiohttp.ClientError:
            continue  # ended after the headers, before its totals
        assert resp.status == 503, body
        assert resp.headers["Retry-After"] == "5"
        assert b"took longer than the server allows" in body
    assert "statement timeout" in caplog.text or "statement bound" in caplog.text
    assert (await client.get("/images/1")).status == 200
    # The same search under the default bound answers in full.
    plain = await aiohttp_client(create_app(settings))
    resp = await plain.get("/images", params={"q": q, "limit": "5"})
    assert resp.status == 200
    assert len((await resp.json())[0]) == 5
