"""Counts with changes pending (not folded yet) read exact; folds, even concurrent, lose none.

The test server folds never (``tag_count_fold_interval=0``, conftest): a
test folds when it means to, with ``fold_tag_counts`` (the server's fold).
"""

import asyncio
import json
import random

from aiohttp.test_utils import TestClient

from pixtag import keys
from pixtag.app import create_app
from pixtag.tags.folding import fold_pending
from pixtag.tags.queries import counts as tag_counts
from tests.support.processes import async_wait_until, sql


async def counts(
    client: TestClient, params: list[tuple[str, str]] | None = None, **named: str
) -> list[tuple[str, int]]:
    resp = await client.get("/tags", params=params or named)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body[-1]["totalTags"] == sum(len(chunk) for chunk in body[:-1])
    return [(row["tag"], row["image_count"]) for chunk in body[:-1] for row in chunk]


async def one_tag(client: TestClient, tag: str) -> tuple[int, object]:
    resp = await client.get(f"/tags/{tag}")
    return resp.status, await resp.json()


def insert(database_url: str, tags: list[str], times: int = 1) -> list[int]:
    rows = sql(
        database_url,
        "INSERT INTO images (filename, tags) SELECT 'a.png', %s FROM generate_series(1, %s)"
        " RETURNING image_id",
        (tags, times),
    )
    return [image_id for (image_id,) in rows]


def fold(database_url: str) -> None:
    sql(database_url, "SELECT fold_tag_counts(1000000)")


def ground_truth(database_url: str) -> list[tuple[str, int]]:
    return sql(
        database_url,
        "SELECT tag, count(*) FROM images, unnest(tags) AS tag GROUP BY tag"
        ' ORDER BY 2 DESC, tag COLLATE "C"',
    )


def folded(database_url: str) -> list[tuple[str, int]]:
    return sql(database_url, 'SELECT tag, image_count FROM tags ORDER BY 2 DESC, tag COLLATE "C"')


def pending(database_url: str) -> int:
    return int(sql(database_url, "SELECT count(*) FROM tag_count_changes")[0][0])


async def test_pending_changes_give_exact_counts_order_and_limit(client, database_url):
    cab = insert(database_url, ["cab"], 3)
    insert(database_url, ["car"], 2)
    (cat,) = insert(database_url, ["cat"])
    fold(database_url)
    # Pending only: cab falls below car, cap is new, cat falls to zero.
    sql(database_url, "DELETE FROM images WHERE image_id = ANY (%s)", (cab[:2],))
    insert(database_url, ["cap"], 4)
    sql(database_url, "DELETE FROM images WHERE image_id = %s", (cat,))
    assert folded(database_url) == [("cab", 3), ("car", 2), ("cat", 1)]
    assert pending(database_url) == 3

    assert await counts(client) == [("cap", 4), ("car", 2), ("cab", 1)]
    assert await counts(client, prefix="ca", limit="2") == [("cap", 4), ("car", 2)]
    assert await counts(client, prefix="-CA", limit="3") == [("cap", 4), ("car", 2), ("cab", 1)]
    assert await counts(client, prefix="cat") == []
    assert await one_tag(client, "cab") == (
        200,
        {"tag": "cab", "image_count": 1, "alias_of": None, "aliases": [], "implies": [],
         "implied_by": []},
    )  # fmt: skip
    assert (await one_tag(client, "cap"))[1]["image_count"] == 4
    status, problem = await one_tag(client, "cat")
    assert (status, problem["detail"]) == (404, "Tag <cat> is not found")

    # By name (the gallery's sidebar): the named ones, most used first; a name no image holds
    # (cat, now) or no tag has (dog) is left out; names are normalised as tags are.
    named = [("name", n) for n in ("cab", "CAT", "cap", "dog", "cab")]
    assert await counts(client, params=named) == [("cap", 4), ("cab", 1)]
    assert await counts(client, params=[*named, ("limit", "1")]) == [("cap", 4)]

    fold(database_url)
    assert folded(database_url) == [("cap", 4), ("car", 2), ("cab", 1)]  # cat's row removed
    assert pending(database_url) == 0
    assert await counts(client, prefix="ca", limit="2") == [("cap", 4), ("car", 2)]
    assert await counts(client, params=named) == [("cap", 4), ("cab", 1)]


async def test_names_are_bounded_and_a_prefix_narrows_them(client, database_url):
    insert(database_url, ["cab", "car", "dog"])
    named = [("name", "cab"), ("name", "dog"), ("name", "cow")]
    assert await counts(client, params=[*named, ("prefix", "c")]) == [("cab", 1)]
    for params, detail in [
        ([("name", f"t{n}") for n in range(101)], "at most 100 items"),
        ([("name", "")], "name"),
    ]:
        resp = await client.get("/tags", params=params)
        assert resp.status == 400, params
        assert resp.content_type == "application/problem+json"
        assert detail in await resp.text()


async def test_a_pending_increase_lifts_a_tag_from_far_below_the_limit(client, database_url):
    for n, count in enumerate([5, 4, 3, 2, 1], start=1):
        insert(database_url, [f"a{n}"], count)
    fold(database_url)
    insert(database_url, ["a5"], 10)  # 1 -> 11: from last to first
    insert(database_url, ["a4"])  # 2 -> 3: not enough to matter for limit 1 or 2
    assert await counts(client, prefix="a", limit="1") == [("a5", 11)]
    assert await counts(client, prefix="a", limit="2") == [("a5", 11), ("a1", 5)]
    ids = sql(database_url, "SELECT image_id FROM images WHERE tags = '{a1}' LIMIT 3")
    sql(database_url, "DELETE FROM images WHERE image_id = ANY (%s)", ([i for (i,) in ids],))
    # a1: 5 -> 2, below a2 (4), a3 (3) and a4 (3, the pending one, after a3 by name).
    assert await counts(client, prefix="a", limit="2") == [("a5", 11), ("a2", 4)]
    assert await counts(client, prefix="a", limit="3") == [("a5", 11), ("a2", 4), ("a3", 3)]
    assert await counts(client, prefix="a", limit="5") == [
        ("a5", 11), ("a2", 4), ("a3", 3), ("a4", 3), ("a1", 2)
    ]  # fmt: skip
    assert folded(database_url) == [("a1", 5), ("a2", 4), ("a3", 3), ("a4", 2), ("a5", 1)]


async def test_prefix_expansion_takes_the_most_used_by_exact_count(client, database_url):
    # 101 tags starting with p, one image each, folded; then p100 gains an image
    # (pending): the 100 most used are p100 and p000..p098, so p099 is left out.
    sql(
        database_url,
        "INSERT INTO images (filename, tags)"
        " SELECT 'p.png', ARRAY['p' || lpad(g::text, 3, '0')] FROM generate_series(0, 100) AS g",
    )
    fold(database_url)
    (extra,) = insert(database_url, ["p100"])
    resp = await client.get(
        "/images", params={"q": "p*"}, headers={"Accept": "application/x-ndjson"}
    )
    assert resp.status == 200
    tags = sorted(json.loads(line)["tags"][0] for line in (await resp.text()).splitlines())
    expected = sorted([f"p{n:03}" for n in range(99)] + ["p100", "p100"])
    assert tags == expected
    assert extra in [json.loads(line)["image_id"] for line in (await resp.text()).splitlines()]


async def test_a_tag_removed_at_zero_comes_back_when_used_again(client, database_url):
    (first,) = insert(database_url, ["phoenix"])
    fold(database_url)
    assert folded(database_url) == [("phoenix", 1)]
    resp = await client.delete(f"/images/{first}")
    assert resp.status == 204
    fold(database_url)
    assert folded(database_url) == []
    assert (await one_tag(client, "phoenix"))[0] == 404

    resp = await client.post("/images", json={"filename": "b.png", "tags": ["phoenix"]})
    assert resp.status == 201
    assert folded(database_url) == []  # pending only, and counted
    assert await counts(client, prefix="pho", limit="5") == [("phoenix", 1)]
    assert (await one_tag(client, "phoenix"))[1]["image_count"] == 1
    fold(database_url)
    assert folded(database_url) == [("phoenix", 1)]
    assert pending(database_url) == 0


async def test_two_folders_during_creates_and_deletes_lose_nothing(client, database_url):
    db = client.app[keys.DATABASE]
    rng = random.Random(5)
    vocabulary = [f"v{n}" for n in range(12)]
    created: list[int] = []
    writing = True

    async def writer(seed: int) -> None:
        mine = random.Random(seed)
        for _ in range(40):
            tags = mine.sample(vocabulary, mine.randint(1, 4))
            resp = await client.post("/images", json={"filename": "w.png", "tags": tags})
            assert resp.status == 201, await resp.text()
            created.append((await resp.json())["image_id"])
            if mine.random() < 0.3 and created:
                victim = created.pop(mine.randrange(len(created)))
                assert (await client.delete(f"/images/{victim}")).status == 204

    async def folder() -> int:
        total = 0
        while writing:
            # Small batches, so the two folders split a tag's changes between them.
            total += await fold_pending(db, batch=rng.randint(1, 9))
            await asyncio.sleep(0)
        return total

    folders = [asyncio.create_task(folder()) for _ in range(2)]
    await asyncio.gather(*(writer(n) for n in range(6)))
    writing = False
    folded_by_them = await asyncio.gather(*folders)
    assert sum(folded_by_them) > 0

    truth = ground_truth(database_url)
    assert await counts(client) == truth
    await fold_pending(db)
    assert pending(database_url) == 0
    assert folded(database_url) == truth
    assert await counts(client) == truth


async def test_the_server_folds_in_the_background(aiohttp_client, settings, database_url):
    insert(database_url, ["sea", "sky"], 3)
    insert(database_url, ["sea"])
    assert pending(database_url) == 3  # sea and sky, then sea
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"tag_count_fold_interval": 0.05}))
    )
    await async_wait_until(
        lambda: pending(database_url) == 0, within=10, what="the changes made before start folded"
    )
    assert folded(database_url) == [("sea", 4), ("sky", 3)]
    resp = await client.post("/images", json={"filename": "c.png", "tags": ["sky"]})
    assert resp.status == 201
    await async_wait_until(
        lambda: folded(database_url) == [("sea", 4), ("sky", 4)],
        within=10,
        what="the create's change folded",
    )
    assert pending(database_url) == 0


async def test_the_folder_vacuums_the_change_table_it_empties(client, database_url):
    insert(database_url, ["sea", "sky", "sun"], 5000)
    assert int(sql(database_url, "SELECT pg_relation_size('tag_count_batches')")[0][0]) > 0
    db = client.app[keys.DATABASE]
    assert await fold_pending(db, batch=2) == 1  # one statement: one batch of three tags

    async def vacuumed() -> bool:
        # A snapshot another backend holds at that moment (the job engine looking for
        # work) keeps the dead row one round longer: vacuum again until it is reclaimed.
        async with db.cursor() as cur:
            await tag_counts.vacuum(cur)  # on a pooled connection: outside any transaction
        size = sql(database_url, "SELECT pg_relation_size('tag_count_batches')")
        return size == [(0,)]

    await async_wait_until(vacuumed, within=30, what="the change table vacuumed empty")
    assert folded(database_url) == [("sea", 5000), ("sky", 5000), ("sun", 5000)]


async def test_autocomplete_matches_the_images_whatever_is_pending(client, database_url):
    rng = random.Random(3)
    tags = [f"z{n:02}" for n in range(30)]
    for _ in range(60):
        insert(database_url, rng.sample(tags, rng.randint(1, 3)), rng.randint(1, 6))
    for round_ in range(25):
        # Mostly folded, then a few changes pending: rises and falls near the top.
        if rng.random() < 0.7:
            fold(database_url)
        else:
            sql(database_url, "SELECT fold_tag_counts(%s)", (rng.randint(1, 20),))
        for _ in range(rng.randint(0, 4)):
            insert(database_url, rng.sample(tags, rng.randint(1, 3)), rng.randint(1, 8))
        sql(
            database_url,
            "DELETE FROM images WHERE image_id IN"
            " (SELECT image_id FROM images ORDER BY random() LIMIT %s)",
            (rng.randint(0, 40),),
        )
        truth = ground_truth(database_url)
        for prefix in ("z", "z0", "z1", "z2"):
            matching = [item for item in truth if item[0].startswith(prefix)]
            for limit in (1, 2, 3, 5, 8):
                got = await counts(client, prefix=prefix, limit=str(limit))
                assert got == matching[:limit], (round_, prefix, limit)
