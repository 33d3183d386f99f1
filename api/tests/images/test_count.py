"""GET /images/count: the images a search matches, exact up to the bound, else the estimate,
said to be one."""

from pixtag.images.queries import listing
from tests.support.helpers import problem
from tests.support.processes import sql


async def count(client, **params) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.get("/images/count", params=params)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_counts_match_the_listing(client, database_url):
    sql(
        database_url,
        "INSERT INTO images (filename, tags) SELECT g || '.jpg',"
        " CASE WHEN mod(g, 3) = 0 THEN ARRAY['three', 'sea'] ELSE ARRAY['sea'] END"
        " FROM generate_series(1, 90) AS g",
    )
    assert await count(client) == {"images": 90, "exact": True}
    assert await count(client, tag="three") == {"images": 30, "exact": True}
    assert await count(client, q="sea -three") == {"images": 60, "exact": True}
    assert await count(client, q="nothing") == {"images": 0, "exact": True}
    resp = await client.get("/images", params={"q": "sea -three"})
    body = await resp.json()
    assert body[-1]["totalImages"] == 60


async def test_past_the_bound_it_is_an_estimate(client, database_url, monkeypatch):
    monkeypatch.setattr(listing, "COUNT_BOUND", 20)
    sql(
        database_url,
        "INSERT INTO images (filename, tags) SELECT g || '.jpg', ARRAY['many']"
        " FROM generate_series(1, 200) AS g",
    )
    sql(database_url, "ANALYZE images")
    counted = await count(client, tag="many")
    assert counted["exact"] is False
    assert counted["images"] > 20
    assert await count(client, q="many -many") == {"images": 0, "exact": True}


async def test_bad_filters_are_refused(client):
    await problem(await client.get("/images/count", params={"q": "(a"}), 400)
    await problem(await client.get("/images/count", params={"limit": "3"}), 400)
