"""Descriptions: set on create, edited with If-Match, searched with ``text:`` in ``q``."""

import json

import pytest

from tests.support.helpers import create_form, image_bytes, problem
from tests.support.processes import sql


async def create(client, filename: str, description: str = "", tags=()) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.post(
        "/images", json={"filename": filename, "tags": list(tags), "description": description}
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def ids(client, q: str) -> list[int]:  # type: ignore[no-untyped-def]
    resp = await client.get("/images", params={"q": q}, headers={"Accept": "application/x-ndjson"})
    assert resp.status == 200, await resp.text()
    rows = [json.loads(line) for line in (await resp.text()).splitlines()]
    return [row["image_id"] for row in rows if "image_id" in row]


async def test_a_description_is_stored_trimmed_with_line_feeds_and_shown(client, settings):
    image = await create(client, "a.png", "  Harbour at dawn\r\nfrom the pier\t ")
    assert image["description"] == "Harbour at dawn\nfrom the pier"
    again = await (await client.get(f"/images/{image['image_id']}")).json()
    assert again["description"] == "Harbour at dawn\nfrom the pier"
    bare = await create(client, "b.png")
    assert bare["description"] == ""


async def test_the_one_request_upload_takes_a_description(client):
    meta = {"filename": "up.png", "tags": [], "description": "caf\u0065\u0301"}
    resp = await client.post("/images", data=create_form(meta, image_bytes()))
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["description"] == "caf\u00e9"  # NFC


async def test_patch_edits_the_description_under_if_match(client, settings):
    image = await create(client, "p.png", "old words", tags=["x"])
    url = f"/images/{image['image_id']}"
    stale = await client.patch(url, json={"description": "new"}, headers={"If-Match": '"v7"'})
    await problem(stale, 412)
    resp = await client.patch(url, json={"description": "new words"}, headers={"If-Match": '"v1"'})
    assert resp.status == 200, await resp.text()
    assert resp.headers["ETag"] == '"v2"'
    body = await resp.json()
    assert (body["description"], body["tags"], body["filename"]) == ("new words", ["x"], "p.png")
    (updated,) = sql(
        settings.database_url,
        "SELECT updated_at > created_at FROM images WHERE image_id = %s",
        (image["image_id"],),
    )
    assert updated == (True,)
    cleared = await client.patch(url, json={"description": ""})
    assert (await cleared.json())["description"] == ""


@pytest.mark.parametrize(
    ("description", "says"),
    [
        ("x" * 4001, "at most 4000"),
        ("bell\x07", "control characters"),
        ("a\u202eb", "format character U+202E"),
        ("a\u2028b", "separator"),
        (None, "null"),
    ],
)
async def test_a_bad_description_is_refused_with_its_reason(client, description, says):
    image = await create(client, "r.png")
    resp = await client.patch(f"/images/{image['image_id']}", json={"description": description})
    body = await problem(resp, 400)
    assert says in str(body)
    created = await client.post("/images", json={"filename": "c.png", "description": description})
    assert (says if description is not None else "valid string") in str(await problem(created, 400))


async def test_text_finds_words_of_the_filename_and_the_description(client):
    harbour = await create(client, "IMG_2024-05.jpg", "Harbour at dawn, from the north pier")
    pier = await create(client, "pier.png", "A pier, north of town", tags=["sea"])
    other = await create(client, "cat.png", "a cat asleep", tags=["sea"])
    h, p, o = harbour["image_id"], pier["image_id"], other["image_id"]

    assert await ids(client, "text:harbour") == [h]
    assert await ids(client, "text:HARBOUR") == [h]
    assert await ids(client, "text:2024") == [h]  # a word of the filename
    assert await ids(client, "text:IMG_2024.jpg") == [h]  # read as the index reads filenames
    assert await ids(client, "text:pier") == [h, p]
    assert await ids(client, 'text:"north pier"') == [h]  # the words in this order
    assert await ids(client, "text:harb*") == [h]
    assert await ids(client, "text:pier sea") == [p]  # with a tag
    assert await ids(client, "sea -text:pier") == [o]
    assert await ids(client, "text:cat or text:harbour sort:-id") == [o, h]
    assert await ids(client, "text:nowhere") == []


async def test_a_text_term_edit_is_found_at_once(client):
    image = await create(client, "e.png", "before")
    await client.patch(f"/images/{image['image_id']}", json={"description": "after"})
    assert await ids(client, "text:after") == [image["image_id"]]
    assert await ids(client, "text:before") == []


@pytest.mark.parametrize(
    ("q", "position", "says"),
    [
        ("text:", 1, "needs a word"),
        ('a text:"..."', 3, "needs a word"),
        ("text:ab-c*", 1, "prefix is one word"),
        ("text:a*b", 7, "'*' may only end"),
        ('text:"open', 6, "unterminated quote"),
        ("text:" + "x" * 201, 1, "at most 200"),
    ],
)
async def test_a_bad_text_term_names_its_position(client, q, position, says):
    body = await problem(await client.get("/images", params={"q": q}), 400)
    assert body["position"] == position
    assert says in body["detail"]


async def test_bulk_tags_select_by_text(client):
    one = await create(client, "one.png", "sunset over water")
    await create(client, "two.png", "noon")
    resp = await client.post("/images/tags", json={"query": "text:sunset", "add": ["golden"]})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["changed"] == 1
    assert await ids(client, "golden") == [one["image_id"]]
