"""``q`` and ``after`` errors: a 400 problem naming the position, or the token's fault."""

import pytest

from tests.support.helpers import new_image


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
