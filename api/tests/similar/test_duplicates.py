"""The review queue of duplicates: groups found by the fingerprint jobs, dismissed for good,
resolved in one transaction (merged onto the kept image, the others deleted)."""

import pytest

from pixtag.settings import Settings
from tests.similar.test_similar import photo, store, with_exif
from tests.support.helpers import form, problem
from tests.support.processes import async_wait_until, sql


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"similar_index": True})


def assert_sizes_kept(database_url: str) -> None:
    """The group sizes the triggers keep are the pairs' counts."""
    kept = sql(database_url, "SELECT low, size FROM duplicate_groups ORDER BY low")
    counted = sql(
        database_url, "SELECT low, count(*) FROM duplicate_pairs GROUP BY low ORDER BY low"
    )
    assert kept == counted


async def groups(client, **params: str) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.get("/duplicates", params=params)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def queued(client, count: int) -> dict:  # type: ignore[no-untyped-def]
    found: dict = {}

    async def ready() -> bool:
        nonlocal found
        found = await groups(client)
        return sum(group["size"] for group in found["groups"]) >= count

    await async_wait_until(ready, within=60, what=f"{count} pairs in the queue")
    return found


async def test_the_queue_groups_dismisses_for_good_and_pages(client, database_url):
    coffee = photo("coffee.png", scale=0.3)
    a = await store(client, "a.png", coffee)
    b = await store(client, "b.png", with_exif(coffee))
    c = await store(client, "c.jpg", photo("coffee.png", "JPEG", 0.2, quality=50))
    d = await store(client, "d.png", photo("camera.png", scale=0.3))
    e = await store(client, "e.png", photo("camera.png", scale=0.3))  # the same bytes as d
    found = await queued(client, 4)  # a-b, a-c, b-c, d-e
    assert [(g["image_id"], g["size"]) for g in found["groups"]] == [(a, 2), (b, 1), (d, 1)]
    assert found["groups"][0]["duplicates"][0] == {"image_id": b, "match": "pixels", "distance": 0}
    assert found["groups"][0]["duplicates"][1]["image_id"] == c
    assert found["groups"][2]["duplicates"] == [{"image_id": e, "match": "bytes", "distance": 0}]
    assert found["next"] is None

    # Pages: one group each, the cursor leads on; a forged cursor is a 400.
    first = await groups(client, limit="1")
    assert [g["image_id"] for g in first["groups"]] == [a]
    second = await groups(client, limit="1", after=first["next"])
    assert [g["image_id"] for g in second["groups"]] == [b]
    for after in ("x", "1", "1.-2", "01.2"):
        await problem(await client.get("/duplicates", params={"after": after}), 400)

    # Dismissed: out of the queue, and not queued again when the files are indexed anew.
    resp = await client.post("/duplicates/dismiss", json={"ids": [d, e]})
    assert resp.status == 204

    async def settled() -> bool:
        resp = await client.get("/similar/index")
        body = await resp.json()
        return body["indexed"] == 5 and body["pending"] == 0

    await async_wait_until(settled, within=60, what="every fingerprint job done")
    sql(database_url, "DELETE FROM image_fingerprints")
    resp = await client.post("/similar/index")
    assert (await resp.json())["queued"] == 5
    await async_wait_until(settled, within=60, what="the files indexed again")
    found = await groups(client)
    assert [g["image_id"] for g in found["groups"]] == [a, b]
    assert_sizes_kept(database_url)
    # A deleted image takes its pairs, and its group's count, along.
    resp = await client.delete(f"/images/{c}")
    assert resp.status == 204
    found = await groups(client)
    assert [(g["image_id"], g["size"]) for g in found["groups"]] == [(a, 1)]
    assert_sizes_kept(database_url)
    # /similar still answers what is similar: dismissing is about the queue.
    resp = await client.get(f"/images/{d}/similar")
    assert [row["image_id"] for row in (await resp.json())["similar"]] == [e]

    # Bad bodies, unknown and deleted ids.
    for body in ({"ids": [a]}, {"ids": []}, {"ids": [a, "x"]}, {"ids": [a, b], "x": 1}):
        await problem(await client.post("/duplicates/dismiss", json=body), 400)
    await problem(await client.post("/duplicates/dismiss", json={"ids": [a, 999999]}), 404)


async def test_resolve_merges_onto_the_kept_image_and_deletes_the_others(client, database_url):
    coffee = photo("coffee.png", scale=0.3)
    resp = await client.post("/images", json={"filename": "keep.png", "tags": ["cup"]})
    keep = (await resp.json())["image_id"]
    resp = await client.post(f"/images/{keep}/attachment/keep.png", data=form(coffee))
    assert resp.status in (200, 201)
    others = []
    for n, (tags, description) in enumerate(
        ((["coffee", "cup"], "Morning."), (["brown"], "")), start=1
    ):
        resp = await client.post(
            "/images",
            json={"filename": f"o{n}.png", "tags": tags, "description": description},
        )
        others.append((await resp.json())["image_id"])
    resp = await client.patch(f"/images/{keep}", json={"description": "A cup."})
    assert resp.status == 200

    resp = await client.post("/duplicates/resolve", json={"keep": keep, "remove": others})
    assert resp.status == 200, await resp.text()
    kept = await resp.json()
    assert kept["tags"] == ["cup", "coffee", "brown"]
    assert kept["description"] == "A cup.\n\nMorning."
    assert resp.headers["ETag"]
    for image_id in others:
        await problem(await client.get(f"/images/{image_id}"), 410)
    # Gone now: resolving again names the deleted image.
    body = await problem(
        await client.post("/duplicates/resolve", json={"keep": keep, "remove": others}), 410
    )
    assert str(others[0]) in body["detail"] or str(others[1]) in body["detail"]

    # Bad bodies; an unknown id changes nothing.
    for body in (
        {"keep": keep, "remove": [keep]},
        {"keep": keep, "remove": []},
        {"keep": keep, "remove": [5, 5]},
        {"keep": keep, "remove": [5], "merge": {"tags": "yes please"}},
        {"remove": [5]},
    ):
        await problem(await client.post("/duplicates/resolve", json=body), 400)
    resp = await client.post("/images", json={"filename": "x.png", "tags": ["x"]})
    alive = (await resp.json())["image_id"]
    await problem(
        await client.post("/duplicates/resolve", json={"keep": keep, "remove": [alive, 999999]}),
        404,
    )
    resp = await client.get(f"/images/{alive}")
    assert resp.status == 200
    resp = await client.get(f"/images/{keep}")
    assert (await resp.json())["tags"] == ["cup", "coffee", "brown"]
    assert_sizes_kept(database_url)

    # merge off: the others' tags and descriptions are not taken.
    resp = await client.post(
        "/duplicates/resolve",
        json={"keep": keep, "remove": [alive], "merge": {"tags": False, "description": False}},
    )
    assert (await resp.json())["tags"] == ["cup", "coffee", "brown"]
    assert_sizes_kept(database_url)
