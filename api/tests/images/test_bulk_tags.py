"""POST /images/tags: bulk add/remove by search or ids, in batches, with a report."""

import json
from pathlib import Path

from tests.support.processes import sql


def tags_table_is_exact(database_url: str) -> bool:
    """The exact counts are those the images give, before and after a fold of the pending
    changes (which leaves none behind)."""
    counted = sql(
        database_url,
        "SELECT tag, count(*) FROM images, unnest(tags) AS tag GROUP BY tag ORDER BY tag",
    )
    before = sql(database_url, "SELECT tag, image_count FROM tag_counts ORDER BY tag")
    sql(database_url, "SELECT fold_tag_counts(1000000)")
    folded = sql(database_url, "SELECT tag, image_count FROM tags ORDER BY tag")
    pending = sql(database_url, "SELECT count(*) FROM tag_count_changes")
    return counted == before == folded and pending == [(0,)]


def seed(database_url: str, count: int) -> None:
    """Images tagged cat (even ids), dog (multiples of 3), all with 'n'."""
    sql(
        database_url,
        "INSERT INTO images (filename, tags) SELECT 'i' || g || '.jpg', array_remove(ARRAY['n',"
        " CASE WHEN g %% 2 = 0 THEN 'cat' END, CASE WHEN g %% 3 = 0 THEN 'dog' END], NULL)"
        " FROM generate_series(1, %s) AS g",
        (count,),
    )


async def test_a_query_retags_its_images_in_batches_and_counts_stay_exact(client, database_url):
    seed(database_url, 100_000)
    resp = await client.post(
        "/images/tags",
        json={"query": "cat -dog", "add": [" Blue ", "n"], "remove": ["cat"], "batch_size": 5000},
    )
    assert resp.status == 200
    expected = sum(1 for g in range(1, 100_001) if g % 2 == 0 and g % 3 != 0)
    assert await resp.json() == {"changed": expected, "batches": -(-expected // 5000)}
    assert sql(database_url, "SELECT tags FROM images WHERE image_id = 2") == [(["n", "blue"],)]
    assert sql(database_url, "SELECT tags FROM images WHERE image_id = 6") == [
        (["n", "cat", "dog"],)
    ]
    blue = sql(database_url, "SELECT image_count FROM tag_counts WHERE tag = 'blue'")
    assert blue == [(expected,)]
    assert tags_table_is_exact(database_url)
    # Again: nothing left to change.
    again = await client.post("/images/tags", json={"query": "cat -dog", "add": ["blue"]})
    assert await again.json() == {"changed": 0, "batches": 0}


async def test_ids_and_aliases(client, database_url):
    seed(database_url, 10)
    sql(database_url, "INSERT INTO tag_aliases (alias, target) VALUES ('kitty', 'cat')")
    resp = await client.post("/images/tags", json={"ids": [1, 2, 3, 999], "add": ["Kitty"]})
    assert await resp.json() == {"changed": 2, "batches": 1}
    rows = sql(database_url, "SELECT image_id, tags FROM images WHERE image_id <= 3 ORDER BY 1")
    assert rows == [(1, ["n", "cat"]), (2, ["n", "cat"]), (3, ["n", "dog", "cat"])]
    assert tags_table_is_exact(database_url)


async def test_a_failed_batch_is_reported_and_the_earlier_ones_are_kept(client, database_url):
    seed(database_url, 30)
    full = [f"t{n}" for n in range(100)]
    sql(database_url, "UPDATE images SET tags = %s WHERE image_id = 25", (full,))
    resp = await client.post(
        "/images/tags", json={"query": "-dog", "add": ["new"], "batch_size": 10}
    )
    assert resp.status == 409
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    # -dog: 20 images; batches of 10 by id: 1..14, then 16..29 holding 25.
    assert body["changed"] == 10
    assert body["batches"] == 1
    assert body["failed_batch"] == 2
    assert body["failed_ids"] == [16, 17, 19, 20, 22, 23, 25, 26, 28, 29]
    assert body["detail"].startswith("batch 2 failed (")
    assert body["detail"].endswith(
        "and changed nothing; the 1 batches before it are kept (10 images changed)"
    )
    assert sql(database_url, "SELECT count(*) FROM images WHERE tags @> '{new}'") == [(10,)]
    assert sql(database_url, "SELECT image_count FROM tag_counts WHERE tag = 'new'") == [(10,)]


async def test_bulk_request_errors(client):
    cases = [
        ({"add": ["a"]}, "give exactly one of query and ids"),
        ({"query": "a", "ids": [1], "add": ["a"]}, "give exactly one of query and ids"),
        ({"query": "a"}, "give tags to add or to remove"),
        ({"query": "a", "add": ["x"], "remove": ["X "]}, "tags both added and removed: x"),
    ]
    for body, message in cases:
        resp = await client.post("/images/tags", json=body)
        assert resp.status == 400
        assert message in (await resp.json())["detail"]
    resp = await client.post("/images/tags", json={"query": "a (b", "add": ["x"]})
    problem = await resp.json()
    assert problem["detail"] == "query: unexpected end of query at position 5"
    assert problem["errors"][0]["in"] == "body"
    assert problem["position"] == 5


def documented_example() -> dict:
    """The body the committed openapi.json gives as POST /images/tags's example."""
    document = json.loads((Path(__file__).resolve().parents[3] / "openapi.json").read_text())
    return dict(document["components"]["schemas"]["BulkTags"]["example"])


async def test_the_documents_example_body_is_accepted(client, database_url):
    # Clients (Swagger UI's "Try it out", generated ones) send the example as it stands.
    example = documented_example()
    seed(database_url, 3)  # image 2 is the one cat
    resp = await client.post("/images/tags", json=example)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["changed"] == 1
    assert sql(database_url, "SELECT image_id FROM images WHERE 'reviewed' = ANY(tags)") == [(2,)]
