"""Albums through the API: manual albums and their order, smart albums, deletes, ETags and
every refusal, against a ground truth kept here."""

import json
import random

import pytest

from pixtag.albums import queries
from tests.support.helpers import problem
from tests.support.processes import sql


async def images(client, n: int, tags: list[str] | None = None) -> list[int]:  # type: ignore[no-untyped-def]
    ids = []
    for k in range(n):
        resp = await client.post("/images", json={"filename": f"{k}.jpg", "tags": tags or []})
        assert resp.status == 201, await resp.text()
        ids.append((await resp.json())["image_id"])
    return ids


async def album_ids(client, album_id: int, **params: str) -> list[int]:  # type: ignore[no-untyped-def]
    resp = await client.get(f"/albums/{album_id}/images", params=params)
    assert resp.status == 200, await resp.text()
    body = json.loads(await resp.text())
    return [image["image_id"] for chunk in body[:-1] for image in chunk]


async def paged(client, album_id: int, limit: int) -> list[int]:  # type: ignore[no-untyped-def]
    found: list[int] = []
    after = None
    while True:
        params = {"limit": str(limit), **({"after": after} if after else {})}
        resp = await client.get(f"/albums/{album_id}/images", params=params)
        body = json.loads(await resp.text())
        found += [image["image_id"] for chunk in body[:-1] for image in chunk]
        after = body[-1].get("after")
        if after is None:
            return found


async def create(client, **body) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.post("/albums", json=body)
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    assert resp.headers["Location"] == f"/albums/{made['album_id']}"
    assert resp.headers["ETag"] == '"v1"'
    return made


async def test_a_manual_album_keeps_its_order_through_adds_moves_and_removes(client):
    ids = await images(client, 8)
    album = await create(client, name="Lisbon, the best")
    assert album["kind"] == "manual"
    assert album["image_count"] == 0
    assert album["cover_id"] is None
    path = f"/albums/{album['album_id']}"
    truth: list[int] = []

    async def add(new: list[int], position: int | None = None) -> dict:
        body = {"ids": new} | ({"position": position} if position is not None else {})
        resp = await client.post(f"{path}/images", json=body)
        assert resp.status == 200, await resp.text()
        fresh = [i for i in dict.fromkeys(new) if i not in truth]
        at = len(truth) if position is None else min(position, len(truth))
        truth[at:at] = fresh
        return await resp.json()

    async def move(moved: list[int], before: int | None) -> None:
        resp = await client.put(f"{path}/order", json={"ids": moved, "before": before})
        assert resp.status == 200, await resp.text()
        rest = [i for i in truth if i not in moved]
        at = len(rest) if before is None else rest.index(before)
        truth[:] = rest[:at] + moved + rest[at:]

    answer = await add(ids[:4])
    assert answer["image_count"] == 4
    assert answer["cover_id"] == ids[0]  # the first, none chosen
    await add([ids[4], ids[0]], 0)  # ids[0] is in already: it stays where it is
    await add([ids[5]], 2)
    await add([ids[6], ids[7]], 100)  # past the end: the end
    assert await album_ids(client, album["album_id"]) == truth
    await move([ids[7], ids[3]], truth[0])  # to the start
    await move([truth[0]], None)  # to the end
    await move([truth[5], truth[1]], truth[3])  # into the middle
    assert await album_ids(client, album["album_id"]) == truth
    assert await paged(client, album["album_id"], 3) == truth
    resp = await client.request("DELETE", f"{path}/images", json={"ids": [truth[2], 999999]})
    assert resp.status == 200
    del truth[2]
    assert await album_ids(client, album["album_id"]) == truth
    read = await client.get(path)
    assert (await read.json())["image_count"] == len(truth)
    assert read.headers["ETag"] == '"v9"'  # created, then 8 changes
    # Another listing's token is not this album's.
    resp = await client.get("/images", params={"limit": "1"})
    token = json.loads(await resp.text())[-1]["after"]
    await problem(await client.get(f"{path}/images", params={"after": token}), 400)


async def test_moves_in_a_10000_image_album_write_only_what_moves(client, database_url):
    sql(
        database_url,
        "INSERT INTO images (filename) SELECT 'i' || g || '.jpg' FROM generate_series(1, 10000) g",
    )
    ids = [row[0] for row in sql(database_url, "SELECT image_id FROM images ORDER BY image_id")]
    album = await create(client, name="big")
    path = f"/albums/{album['album_id']}"
    assert (await client.post(f"{path}/images", json={"ids": ids})).status == 200
    truth = list(ids)
    rng = random.Random(28)
    for _ in range(30):
        start = rng.randrange(len(truth) - 50)
        moved = truth[start : start + rng.randint(1, 50)]
        rest = [i for i in truth if i not in set(moved)]
        before = rng.choice([None, rest[0], rest[len(rest) // 2], rest[-1]])
        resp = await client.put(f"{path}/order", json={"ids": moved, "before": before})
        assert resp.status == 200, await resp.text()
        at = len(rest) if before is None else rest.index(before)
        truth = rest[:at] + moved + rest[at:]
    # The same spot again and again: the gap there runs out and the album is spread again.
    for _ in range(20):
        resp = await client.put(f"{path}/order", json={"ids": [truth[-1]], "before": truth[1]})
        assert resp.status == 200
        truth = [truth[0], truth[-1], *truth[1:-1]]
    assert await album_ids(client, album["album_id"]) == truth
    positions = sql(
        database_url,
        "SELECT min(position), count(DISTINCT position) FROM album_images WHERE album_id = %s",
        (album["album_id"],),
    )
    assert positions[0][1] == 10000
    assert positions[0][0] > 0
    assert queries.GAP > 1


async def test_a_smart_album_is_its_query_read_live(client, database_url):
    cats = await images(client, 3, ["cat"])
    await images(client, 2, ["dog"])
    album = await create(client, name="Cats", query="cat sort:-id", description="all of them")
    assert album["kind"] == "smart"
    assert album["image_count"] is None
    path = f"/albums/{album['album_id']}"
    assert await album_ids(client, album["album_id"]) == cats[::-1]
    more = await images(client, 1, ["cat"])
    assert await album_ids(client, album["album_id"]) == (cats + more)[::-1]
    # A renamed tag keeps it working (the old name is an alias).
    resp = await client.post("/tags/cat/rename", json={"to": "feline", "keep_alias": True})
    assert resp.status == 200, await resp.text()
    assert await album_ids(client, album["album_id"]) == (cats + more)[::-1]
    resp = await client.patch(path, json={"query": "dog"}, headers={"If-Match": '"v1"'})
    assert resp.status == 200, await resp.text()
    assert len(await album_ids(client, album["album_id"])) == 2
    # Stale ETag: nothing changes.
    resp = await client.patch(path, json={"name": "x"}, headers={"If-Match": '"v1"'})
    assert (await problem(resp, 412))["detail"].startswith("If-Match does not hold: the album")
    # Manual operations on a smart album: 409.
    for method, where, body in [
        ("POST", "images", {"ids": cats}),
        ("DELETE", "images", {"ids": cats}),
        ("PUT", "order", {"ids": cats[:1], "before": None}),
    ]:
        await problem(await client.request(method, f"{path}/{where}", json=body), 409)
    # A query that stops reading (stored as it was before a grammar change) says why.
    sql(database_url, "UPDATE albums SET query = 'cat (' WHERE album_id = %s", (album["album_id"],))
    read = await (await client.get(path)).json()
    assert read["query_error"] == "q: unexpected end of query at position 6"
    body = await problem(await client.get(f"{path}/images"), 422)
    assert "no longer reads as a search" in body["detail"]


async def test_deletes_album_of_deleted_images_and_bad_input(client, database_url):
    ids = await images(client, 3)
    album = await create(client, name="Trip")
    path = f"/albums/{album['album_id']}"
    await client.post(f"{path}/images", json={"ids": ids})
    # Deleting an image takes it out of its albums in the same transaction.
    assert (await client.delete(f"/images/{ids[1]}")).status == 204
    assert await album_ids(client, album["album_id"]) == [ids[0], ids[2]]
    assert (await (await client.get(path)).json())["image_count"] == 2
    for image_id in (ids[0], ids[2]):
        assert (await client.delete(f"/images/{image_id}")).status == 204
    assert await album_ids(client, album["album_id"]) == []  # still readable
    # Bad input.
    await problem(await client.post("/albums", json={"name": "trip"}), 409)  # any case
    await problem(await client.post("/albums", json={"name": ""}), 400)
    await problem(await client.post("/albums", json={"name": "a\nb"}), 400)
    body = await problem(await client.post("/albums", json={"name": "q", "query": "cat ("}), 400)
    assert body["position"] == 6
    await problem(await client.post("/albums", json={"name": "c", "cover_id": 999999}), 404)
    await problem(await client.post("/albums", json={"name": "c", "cover_id": ids[0]}), 410)
    await problem(await client.get("/albums/999999"), 404)
    await problem(await client.get("/albums/0"), 400)
    fresh = await images(client, 1)
    resp = await client.post(f"{path}/images", json={"ids": [fresh[0], 999999]})
    assert (await problem(resp, 404))["image_ids"] == [999999]
    resp = await client.post(f"{path}/images", json={"ids": [fresh[0], ids[0]]})
    assert (await problem(resp, 410))["image_ids"] == [ids[0]]
    await problem(await client.post(f"{path}/images", json={"ids": []}), 400)
    resp = await client.put(f"{path}/order", json={"ids": fresh, "before": None})
    assert (await problem(resp, 400))["image_ids"] == fresh  # not in the album
    await problem(await client.patch(path, json={"query": "cat"}), 409)  # manual
    await problem(await client.patch(path, json={}), 400)
    await problem(await client.patch(path, json={"name": None}), 400)
    # Delete: 204, then 410 everywhere.
    assert (await client.delete(path, headers={"If-Match": '"v99"'})).status == 412
    assert (await client.delete(path)).status == 204
    await problem(await client.get(path), 410)
    await problem(await client.get(f"{path}/images"), 410)
    await problem(await client.post(f"{path}/images", json={"ids": fresh}), 410)
    await problem(await client.delete(path), 410)


async def test_the_albums_of_an_image_and_the_album_listing(client):
    ids = await images(client, 2)
    first = await create(client, name="One")
    second = await create(client, name="Two", query="x")
    third = await create(client, name="Three")
    for album in (first, third):
        await client.post(f"/albums/{album['album_id']}/images", json={"ids": ids[:1]})
    resp = await client.get(f"/images/{ids[0]}/albums")
    assert await resp.json() == {
        "albums": [
            {"album_id": first["album_id"], "name": "One"},
            {"album_id": third["album_id"], "name": "Three"},
        ]
    }
    assert await (await client.get(f"/images/{ids[1]}/albums")).json() == {"albums": []}
    await problem(await client.get("/images/999999/albums"), 404)
    resp = await client.get("/albums")
    body = json.loads(await resp.text())
    listed = [a for chunk in body[:-1] for a in chunk]
    assert [a["album_id"] for a in listed] == [
        first["album_id"], second["album_id"], third["album_id"],
    ]  # fmt: skip
    assert [a["image_count"] for a in listed] == [1, None, 1]
    assert body[-1]["totalAlbums"] == 3
    resp = await client.get("/albums", params={"after_id": str(first["album_id"]), "limit": "1"})
    assert [a["album_id"] for c in json.loads(await resp.text())[:-1] for a in c] == [
        second["album_id"]
    ]


@pytest.mark.parametrize("field", ["name", "description"])
async def test_album_text_fields_are_checked(client, field):
    body = {"name": "ok", field: "x" * 5000}
    await problem(await client.post("/albums", json=body), 400)


async def listed(client, q: str) -> list[int]:  # type: ignore[no-untyped-def]
    resp = await client.get("/images", params={"q": q})
    assert resp.status == 200, (q, await resp.text())
    body = json.loads(await resp.text())
    return [image["image_id"] for chunk in body[:-1] for image in chunk]


async def test_album_terms_combine_with_the_rest_of_q(client):
    cats = await images(client, 3, ["cat"])
    dogs = await images(client, 3, ["dog"])
    trip = await create(client, name="Trip to Lisbon")
    await client.post(f"/albums/{trip['album_id']}/images", json={"ids": [cats[0], dogs[0]]})
    smart = await create(client, name="Dogs", query='dog -album:"trip to lisbon"')
    nested = await create(client, name="Both", query=f"album:{smart['album_id']} or cat")
    trip_id, smart_id = trip["album_id"], smart["album_id"]
    for q, expected in [
        (f"album:{trip_id}", [cats[0], dogs[0]]),
        ('album:"TRIP TO LISBON"', [cats[0], dogs[0]]),
        (f"album:{trip_id} cat", [cats[0]]),
        (f"-album:{trip_id}", [*cats[1:], *dogs[1:]]),
        (f"album:{trip_id} or dog", [cats[0], *dogs]),
        (f"album:{smart_id}", dogs[1:]),
        (f"album:{nested['album_id']}", [*cats, *dogs[1:]]),
        ("album:999999", []),
        ('album:"no such album"', []),
        (f"album:{smart_id} sort:-id", dogs[1:][::-1]),
    ]:
        assert await listed(client, q) == sorted(expected, reverse=q.endswith("-id")), q
    # Bulk tags through an album term.
    resp = await client.post("/images/tags", json={"query": f"album:{trip_id}", "add": ["lisbon"]})
    assert resp.status == 200, await resp.text()
    assert await listed(client, "lisbon") == [cats[0], dogs[0]]
    # Smart albums naming each other in a circle: a 400, not a loop.
    loop = await create(client, name="Loop", query="cat")
    resp = await client.patch(
        f"/albums/{loop['album_id']}", json={"query": f"album:{loop['album_id']}"}
    )
    assert resp.status == 200
    body = await problem(
        await client.get("/images", params={"q": f"album:{loop['album_id']}"}), 400
    )
    assert "more than 3 deep" in body["detail"]
    await problem(await client.get("/images", params={"q": "album:0"}), 400)
    await problem(await client.get("/images", params={"q": 'album:""'}), 400)
