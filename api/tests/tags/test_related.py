"""GET /tags/{tag}/related: the tags found with a tag, counted against a ground truth, the
sample's bound, aliases, and refusals."""

import random
from collections import Counter

from pixtag.tags import views
from tests.support.helpers import problem
from tests.support.processes import sql


async def test_related_tags_are_the_most_frequent_companions(client, database_url):
    rng = random.Random(7)
    pool = [f"t{k}" for k in range(12)]
    truth: Counter[str] = Counter()
    holding = 0
    rows = []
    for n in range(300):
        tags = sorted(set(rng.sample(pool, rng.randint(1, 5))) | ({"sea"} if n % 3 else set()))
        rows.append((f"{n}.jpg", tags))
        if "sea" in tags:
            holding += 1
            truth.update(t for t in tags if t != "sea")
    for filename, tags in rows:
        sql(database_url, "INSERT INTO images (filename, tags) VALUES (%s, %s)", (filename, tags))
    resp = await client.get("/tags/sea/related", params={"limit": "5"})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["tag"] == "sea"
    assert body["image_count"] == holding
    assert body["sampled"] == holding
    expected = sorted(truth.items(), key=lambda item: (-item[1], item[0]))[:5]
    assert [(r["tag"], r["images"]) for r in body["related"]] == expected
    # An alias answers for its target.
    await client.put("/tags/ocean/alias", json={"target": "sea"})
    resp = await client.get("/tags/ocean/related", params={"limit": "5"})
    assert (await resp.json())["tag"] == "sea"


async def test_the_sample_is_bounded(client, database_url, monkeypatch):
    monkeypatch.setattr(views, "RELATED_SAMPLE", 50)
    sql(
        database_url,
        "INSERT INTO images (filename, tags) SELECT g || '.jpg', ARRAY['many', 'other']"
        " FROM generate_series(1, 120) AS g",
    )
    body = await (await client.get("/tags/many/related")).json()
    assert body["image_count"] == 120
    assert body["sampled"] == 50
    assert body["related"] == [{"tag": "other", "images": 50}]


async def test_unknown_tags_and_bad_limits_are_refused(client):
    await problem(await client.get("/tags/nothing/related"), 404)
    await client.post("/images", json={"filename": "a.jpg", "tags": ["alone"]})
    body = await (await client.get("/tags/alone/related")).json()
    assert body == {"tag": "alone", "image_count": 1, "sampled": 1, "related": []}
    for limit in ("0", "101", "x"):
        await problem(await client.get("/tags/alone/related", params={"limit": limit}), 400)
