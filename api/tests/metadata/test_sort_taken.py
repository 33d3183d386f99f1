"""``sort:taken`` and ``sort:-taken``: the order photos were taken, the undated last, paged
with the ``after`` token across the boundary between dated and undated."""

import json

from pixtag.images.queries import listing as listing_sql
from tests.support.helpers import problem
from tests.support.processes import sql


async def listing(client, q: str, **params: str) -> tuple[list[int], str | None]:  # type: ignore[no-untyped-def]
    resp = await client.get("/images", params={"q": q, **params})
    assert resp.status == 200, await resp.text()
    body = json.loads(await resp.text())
    ids = [image["image_id"] for chunk in body[:-1] for image in chunk]
    return ids, body[-1].get("after")


async def paged(client, q: str) -> list[int]:  # type: ignore[no-untyped-def]
    found: list[int] = []
    after = None
    while True:
        params = {"limit": "2", **({"after": after} if after else {})}
        ids, after = await listing(client, q, **params)
        found += ids
        if after is None:
            return found


async def test_sorted_by_when_taken_undated_last_both_ways(client):
    taken = [
        "2024-05-01T10:00:00+02:00", None, "2023-01-01T08:00:00", "2024-05-01T10:00:00",
        None, "2024-05-01T10:00:00.000001-01:00",
    ]  # fmt: skip
    ids = []
    for n, when in enumerate(taken):
        resp = await client.post("/images", json={"filename": f"{n}.jpg", "tags": ["t"]})
        image_id = (await resp.json())["image_id"]
        ids.append(image_id)
        if when is not None:
            resp = await client.patch(f"/images/{image_id}", json={"taken_at": when})
            assert resp.status == 200, await resp.text()
    a, b, c, d, e, f = ids
    ascending = [c, a, d, f, b, e]  # the wall clock, whatever the offset; ties by id
    descending = [f, d, a, c, e, b]
    for q, expected in [("sort:taken", ascending), ("t sort:-taken", descending)]:
        assert (await listing(client, q))[0] == expected
        assert await paged(client, q) == expected
    token = (await listing(client, "sort:taken", limit="2"))[1]
    body = await problem(
        await client.get("/images", params={"q": "sort:-taken", "after": token}), 400
    )
    assert "continues sort:taken" in body["detail"]


def test_each_order_walks_its_index(database_url):
    for sort, index in [("taken", "images_taken"), ("-taken", "images_taken_desc")]:
        plan = sql(
            database_url,
            "SET enable_seqscan = off; EXPLAIN SELECT image_id FROM images AS i"
            f" ORDER BY {listing_sql.ORDER[sort]} LIMIT 10",
        )
        walk = "Index Scan Backward" if sort.startswith("-") else "Index Scan"
        assert f"{walk} using {index} " in str(plan), plan


async def test_taken_terms_match_what_the_dates_say(client):
    dates = {
        "a": "2023-12-31T23:59:59.999999", "b": "2024-01-01T00:00:00",
        "c": "2024-05-01T10:00:00+02:00", "d": "2024-05-31T23:59:59",
        "e": "2024-06-01T00:00:00", "f": "2024-07-31T22:00:00", "g": "2024-08-01T00:00:00",
        "h": None,
    }  # fmt: skip
    ids = {}
    for name, when in dates.items():
        resp = await client.post("/images", json={"filename": f"{name}.jpg", "tags": [name]})
        ids[name] = (await resp.json())["image_id"]
        if when is not None:
            await client.patch(f"/images/{ids[name]}", json={"taken_at": when})

    async def names(q: str) -> list[str]:
        found, _ = await listing(client, q)
        return sorted(name for name, image_id in ids.items() if image_id in found)

    assert await names("taken:2024") == ["b", "c", "d", "e", "f", "g"]
    assert await names("taken:2023") == ["a"]
    assert await names("taken:2024-05") == ["c", "d"]
    assert await names("TAKEN:2024-05-01") == ["c"]
    assert await names("taken:2024-05-01..2024-07-31") == ["c", "d", "e", "f"]
    assert await names("taken:2024-05..2024-06") == ["c", "d", "e"]
    assert await names("-taken:2024") == ["a", "h"]
    assert await names("taken:2024-05 or g") == ["c", "d", "g"]
    assert (await listing(client, "taken:2024 sort:-taken"))[0][:2] == [ids["g"], ids["f"]]
    for q, position in [
        ("taken:2024-13", 1), ("taken:abc", 1), ("x taken:2024-02-30", 3),
        ("taken:2024..2023", 1), ("taken:", 1), ("taken:2024-05-01..", 1),
    ]:  # fmt: skip
        body = await problem(await client.get("/images", params={"q": q}), 400)
        assert body["position"] == position, (q, body)
