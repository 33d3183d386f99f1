"""The tags API: counts and autocomplete, one tag, aliases, implications, rename and merge."""

import json

from tests.support.processes import sql


async def create(client, *tags, filename="a.png"):
    resp = await client.post("/images", json={"filename": filename, "tags": list(tags)})
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def tag_counts(client, **params):
    resp = await client.get("/tags", params=params)
    assert resp.status == 200
    assert resp.content_type == "application/json"
    body = await resp.json()
    totals = body[-1]
    rows = [row for chunk in body[:-1] for row in chunk]
    assert totals == {"totalTags": len(rows), "totalChunks": len(body) - 1}
    return [(row["tag"], row["image_count"]) for row in rows]


async def listed_ids(client, **params):
    resp = await client.get("/images", params=params, headers={"Accept": "application/x-ndjson"})
    assert resp.status == 200
    return [json.loads(line)["image_id"] for line in (await resp.text()).splitlines()]


async def test_tags_are_listed_most_used_first_then_by_name(client):
    await create(client, "cat", "dog")
    await create(client, "cat", "bird")
    await create(client, "cat", "dog", "ant")
    assert await tag_counts(client) == [("cat", 3), ("dog", 2), ("ant", 1), ("bird", 1)]


async def test_no_tags_is_an_empty_listing(client):
    resp = await client.get("/tags")
    assert await resp.json() == [{"totalTags": 0, "totalChunks": 0}]


async def test_ndjson_gives_one_tag_per_line(client):
    await create(client, "cat", "dog")
    resp = await client.get("/tags", headers={"Accept": "application/x-ndjson"})
    assert resp.content_type == "application/x-ndjson"
    lines = [json.loads(line) for line in (await resp.text()).splitlines()]
    assert lines == [{"tag": "cat", "image_count": 1}, {"tag": "dog", "image_count": 1}]


async def test_autocomplete_by_prefix_with_a_limit_ignores_a_leading_minus(client):
    await create(client, "cat", "car", "camel", "dog")
    await create(client, "car", "cab")
    await create(client, "car")
    assert await tag_counts(client, prefix="ca", limit="2") == [("car", 3), ("cab", 1)]
    assert await tag_counts(client, prefix="-Ca") == [
        ("car", 3), ("cab", 1), ("camel", 1), ("cat", 1)
    ]  # fmt: skip
    assert await tag_counts(client, prefix="x") == []


async def test_prefix_wildcards_are_literal(client):
    await create(client, "a_b", "axb", "50%", "500")
    assert await tag_counts(client, prefix="a_") == [("a_b", 1)]
    assert await tag_counts(client, prefix="50%") == [("50%", 1)]


async def test_bad_limit_is_a_400_problem(client):
    resp = await client.get("/tags", params={"limit": "0"})
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    assert "limit" in (await resp.json())["detail"]


async def test_one_tag_with_its_rules_and_404_for_an_unknown_one(client):
    await create(client, "kitten")
    assert (await client.put("/tags/kitty/alias", json={"target": "kitten"})).status == 200
    assert (await client.put("/tags/kitten/implications/cat")).status == 200
    resp = await client.get("/tags/Kitten")
    assert resp.status == 200
    assert await resp.json() == {
        "tag": "kitten",
        "image_count": 1,
        "alias_of": None,
        "aliases": ["kitty"],
        "implies": ["cat"],
        "implied_by": [],
    }
    alias = await (await client.get("/tags/kitty")).json()
    assert alias["alias_of"] == "kitten"
    assert alias["image_count"] == 0
    resp = await client.get("/tags/nothing")
    assert resp.status == 404
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["error"] == "Tag <nothing> is not found"


async def test_an_alias_is_written_and_queried_as_its_target(client):
    old = await create(client, "cat", "pet")
    resp = await client.put("/tags/cat/alias", json={"target": "Feline"})
    assert resp.status == 200
    assert await resp.json() == {"alias": "cat", "target": "feline", "images_updated": 1}
    assert (await (await client.get(f"/images/{old['image_id']}")).json())["tags"] == [
        "feline", "pet"
    ]  # fmt: skip
    new = await create(client, "Cat", "feline", "x")
    assert new["tags"] == ["feline", "x"]
    both = [old["image_id"], new["image_id"]]
    assert await listed_ids(client, tag="cat") == both
    assert await listed_ids(client, tags_any=["cat", "nothing"]) == both
    assert await listed_ids(client, tags_all=["cat", "pet"]) == [old["image_id"]]
    assert await tag_counts(client) == [("feline", 2), ("pet", 1), ("x", 1)]


async def test_an_alias_of_an_alias_is_resolved_and_a_cycle_refused(client):
    await client.put("/tags/kitty/alias", json={"target": "cat"})
    resp = await client.put("/tags/puss/alias", json={"target": "kitty"})
    assert (await resp.json())["target"] == "cat"
    resp = await client.put("/tags/cat/alias", json={"target": "puss"})
    assert resp.status == 409
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["detail"] == "Alias cycle: cat -> puss -> cat"
    # A tag that becomes an alias takes its own aliases along: no chains.
    await client.put("/tags/cat/alias", json={"target": "feline"})
    assert (await (await client.get("/tags/feline")).json())["aliases"] == ["cat", "kitty", "puss"]
    resp = await client.put("/tags/x/alias", json={"target": "X"})
    assert resp.status == 409
    assert (await resp.json())["detail"] == "Alias cycle: x -> x"


async def test_implications_are_added_transitively_on_every_write(client, database_url):
    await client.put("/tags/kitten/implications/cat")
    await client.put("/tags/cat/implications/animal")
    image = await create(client, "kitten", "cute")
    assert image["tags"] == ["kitten", "cute", "cat", "animal"]
    # Plain SQL goes through the same trigger.
    sql(
        database_url,
        "UPDATE images SET tags = '{kitten}' WHERE image_id = %s",
        (image["image_id"],),
    )
    (row,) = sql(database_url, "SELECT tags FROM images")
    assert row[0] == ["kitten", "cat", "animal"]
    assert await tag_counts(client) == [("animal", 1), ("cat", 1), ("kitten", 1)]


async def test_an_implication_applies_to_stored_images(client):
    ids = [(await create(client, "kitten"))["image_id"] for _ in range(3)]
    await create(client, "dog")
    resp = await client.put("/tags/kitten/implications/cat")
    assert resp.status == 200
    assert await resp.json() == {"tag": "kitten", "implies": "cat", "images_updated": 3}
    assert await listed_ids(client, tag="cat") == ids
    assert dict(await tag_counts(client))["cat"] == 3


async def test_an_implication_cycle_is_refused_naming_it(client):
    await client.put("/tags/a/implications/b")
    await client.put("/tags/b/implications/c")
    resp = await client.put("/tags/c/implications/a")
    assert resp.status == 409
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["detail"] == "That implication would close a cycle: c -> a -> b -> c"
    assert (await (await client.get("/tags/c")).json())["implies"] == []


async def test_removing_rules_keeps_what_they_gave(client):
    await client.put("/tags/kitten/implications/cat")
    await client.put("/tags/kitty/alias", json={"target": "kitten"})
    resp = await client.delete("/tags/kitten/implications/cat")
    assert resp.status == 204
    resp = await client.delete("/tags/kitty/alias")
    assert resp.status == 204
    assert (await create(client, "kitty", "kitten"))["tags"] == ["kitty", "kitten"]
    resp = await client.delete("/tags/kitty/alias")
    assert resp.status == 404
    assert (await resp.json())["detail"] == "Tag <kitty> is not an alias"
    resp = await client.delete("/tags/kitten/implications/cat")
    assert resp.status == 404


async def test_more_than_100_tags_with_implications_is_a_400_problem(client):
    await client.put("/tags/t0/implications/extra")
    resp = await client.post(
        "/images", json={"filename": "a.png", "tags": [f"t{i}" for i in range(100)]}
    )
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["detail"] == (
        "An image may have at most 100 tags; with the tags they imply, these make 101"
    )


async def test_an_implication_that_would_overflow_an_image_is_refused(client):
    image = await create(client, *[f"t{i}" for i in range(100)])
    resp = await client.put("/tags/t5/implications/extra")
    assert resp.status == 409
    assert (await resp.json())["detail"] == (
        f"Image <{image['image_id']}> would have 101 tags: at most 100 are allowed"
    )
    assert (await client.get("/tags/extra")).status == 404


async def test_rename_merges_into_an_existing_tag(client):
    both = await create(client, "cat", "feline", "x")
    only = await create(client, "pet", "cat")
    resp = await client.post("/tags/cat/rename", json={"to": "Feline"})
    assert resp.status == 200
    assert await resp.json() == {
        "tag": "cat", "to": "feline", "images_updated": 2, "alias_kept": False
    }  # fmt: skip
    got = await (await client.get(f"/images/{both['image_id']}")).json()
    assert got["tags"] == ["feline", "x"]
    got = await (await client.get(f"/images/{only['image_id']}")).json()
    assert got["tags"] == ["pet", "feline"]
    assert await tag_counts(client) == [("feline", 2), ("pet", 1), ("x", 1)]
    # The old name is free again.
    assert (await create(client, "cat"))["tags"] == ["cat"]


async def test_rename_moves_rules_and_can_keep_the_old_name_as_alias(client):
    await create(client, "cat")
    await client.put("/tags/kitten/implications/cat")
    await client.put("/tags/kitty/alias", json={"target": "cat"})
    resp = await client.post("/tags/cat/rename", json={"to": "feline", "keep_alias": True})
    assert (await resp.json())["alias_kept"] is True
    info = await (await client.get("/tags/feline")).json()
    assert info["aliases"] == ["cat", "kitty"]
    assert info["implied_by"] == ["kitten"]
    assert (await create(client, "kitten"))["tags"] == ["kitten", "feline"]


async def test_rename_errors(client):
    resp = await client.post("/tags/nothing/rename", json={"to": "x"})
    assert resp.status == 404
    await create(client, "cat")
    resp = await client.post("/tags/cat/rename", json={"to": "cat"})
    assert resp.status == 409
    resp = await client.post("/tags/cat/rename", json={"to": "x", "extra": 1})
    assert resp.status == 400
    await client.put("/tags/kitty/alias", json={"target": "cat"})
    resp = await client.post("/tags/kitty/rename", json={"to": "x"})
    assert resp.status == 409
    assert (await resp.json())["detail"] == "Tag <kitty> is an alias of <cat>: rename <cat> instead"
