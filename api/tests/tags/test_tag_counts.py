"""Tag counts stay exact on every write path, checked against a model kept by the test.

A seeded random sequence of writes goes through the HTTP API (JSON create,
multipart create, upload, alias, implication, rename) and through plain SQL
for the paths the API does not offer yet (UPDATE and DELETE of images). The
test keeps its own model of every image's tags and of the rules, and after
each step compares GET /tags with the counts computed from that model, and
every image's tags with the model's. The server never folds the pending
count changes (fixture 016) by itself here; the test folds some of them now
and then, in small batches, so the counts are read with some, none or all
of the changes folded.
"""

import json
import random
from collections import Counter

from tests.support.helpers import create_form, form, image_bytes
from tests.support.processes import sql

VOCABULARY = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen"]
STEPS = 60


class Model:
    """What the images and rules should be, computed without the database."""

    def __init__(self) -> None:
        self.images: dict[int, list[str]] = {}
        self.aliases: dict[str, str] = {}
        self.implications: set[tuple[str, str]] = set()

    def resolve(self, tag: str) -> str:
        return self.aliases.get(tag, tag)

    def expand(self, tags: list[str]) -> set[str]:
        found = {self.resolve(tag) for tag in tags}
        todo = list(found)
        while todo:
            tag = todo.pop()
            for source, implied in self.implications:
                if source == tag and implied not in found:
                    found.add(implied)
                    todo.append(implied)
        return found

    def reapply(self) -> None:
        for image_id, tags in self.images.items():
            self.images[image_id] = sorted(self.expand(tags))

    def implies_path(self, start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            tag = todo.pop()
            if tag == goal:
                return True
            seen.add(tag)
            todo += [b for a, b in self.implications if a == tag and b not in seen]
        return False

    def alias(self, alias: str, target: str) -> bool:
        """Apply an alias; False when the service must refuse it (a cycle)."""
        target = self.resolve(target)
        moved = {
            (target if a == alias else a, target if b == alias else b) for a, b in self.implications
        }
        moved = {(a, b) for a, b in moved if a != b}
        if target == alias or any(self._cycle(moved, a) for a, _ in moved):
            return False
        self.aliases = {a: (target if t == alias else t) for a, t in self.aliases.items()}
        self.aliases[alias] = target
        self.implications = moved
        self.reapply()
        return True

    @staticmethod
    def _cycle(edges: set[tuple[str, str]], start: str) -> bool:
        seen, todo = set(), [b for a, b in edges if a == start]
        while todo:
            tag = todo.pop()
            if tag == start:
                return True
            if tag not in seen:
                seen.add(tag)
                todo += [b for a, b in edges if a == tag]
        return False

    def imply(self, tag: str, implied: str) -> bool:
        tag, implied = self.resolve(tag), self.resolve(implied)
        if tag == implied or self.implies_path(implied, tag):
            return False
        self.implications.add((tag, implied))
        self.reapply()
        return True

    def counts(self) -> list[tuple[str, int]]:
        counted = Counter(tag for tags in self.images.values() for tag in tags)
        return sorted(counted.items(), key=lambda item: (-item[1], item[0]))


async def listed_tags(client, **params: object) -> list[tuple[str, int]]:
    resp = await client.get("/tags", params=params)
    assert resp.status == 200
    body = await resp.json()
    return [(row["tag"], row["image_count"]) for chunk in body[:-1] for row in chunk]


async def stored_images(client) -> dict[int, list[str]]:
    resp = await client.get("/images", headers={"Accept": "application/x-ndjson"})
    images = [json.loads(line) for line in (await resp.text()).splitlines()]
    return {image["image_id"]: sorted(image["tags"]) for image in images}


def some_tags(rng: random.Random) -> list[str]:
    return rng.sample(VOCABULARY, rng.randint(0, 4))


async def test_counts_stay_exact_through_a_random_sequence_of_writes(client, database_url):
    rng = random.Random(11)
    folds = random.Random(12)  # apart, so the writes are the same sequence as ever
    model = Model()
    done = Counter()
    for step in range(STEPS):
        kind = rng.choice(
            ["create", "create", "multipart", "upload", "update", "delete", "alias",
             "imply", "rename"]
        )  # fmt: skip
        tags = some_tags(rng)
        if kind == "create":
            resp = await client.post("/images", json={"filename": "a.png", "tags": tags})
            assert resp.status == 201
            image = await resp.json()
            model.images[image["image_id"]] = sorted(model.expand(tags))
        elif kind == "multipart":
            data = create_form({"filename": "b.png", "tags": tags}, image_bytes())
            resp = await client.post("/images", data=data)
            assert resp.status == 201, await resp.text()
            model.images[(await resp.json())["image_id"]] = sorted(model.expand(tags))
        elif kind == "upload" and model.images:
            image_id = rng.choice(sorted(model.images))
            filename = sql(
                database_url, "SELECT filename FROM images WHERE image_id = %s", (image_id,)
            )[0][0]
            data = form(image_bytes(color=rng.choice(["blue", "green"])))
            resp = await client.post(f"/images/{image_id}/attachment/{filename}", data=data)
            assert resp.status in (200, 201), await resp.text()
        elif kind == "update" and model.images:
            image_id = rng.choice(sorted(model.images))
            sql(database_url, "UPDATE images SET tags = %s WHERE image_id = %s", (tags, image_id))
            model.images[image_id] = sorted(model.expand(tags))
        elif kind == "delete" and model.images:
            image_id = rng.choice(sorted(model.images))
            sql(database_url, "DELETE FROM images WHERE image_id = %s", (image_id,))
            del model.images[image_id]
        elif kind == "alias":
            alias, target = rng.sample(VOCABULARY, 2)
            resp = await client.put(f"/tags/{alias}/alias", json={"target": target})
            expected = model.alias(alias, target)
            assert resp.status == (200 if expected else 409), (
                step,
                alias,
                target,
                await resp.text(),
            )
        elif kind == "imply":
            tag, implied = rng.sample(VOCABULARY, 2)
            resp = await client.put(f"/tags/{tag}/implications/{implied}")
            expected = model.imply(tag, implied)
            assert resp.status == (200 if expected else 409), (
                step,
                tag,
                implied,
                await resp.text(),
            )
        elif kind == "rename":
            held = sorted({t for tags in model.images.values() for t in tags})
            if not held:
                continue
            old, new = rng.choice(held), rng.choice(VOCABULARY)
            if old == new:
                continue
            resp = await client.post(f"/tags/{old}/rename", json={"to": new})
            if model.resolve(new) == old:
                del model.aliases[new]  # the alias becomes the tag's name
            expected = model.alias(old, new)
            assert resp.status == (200 if expected else 409), (step, old, new, await resp.text())
            if expected:
                del model.aliases[old]
        else:
            continue
        done[kind] += 1
        if folds.random() < 0.4:
            sql(database_url, "SELECT fold_tag_counts(%s)", (folds.randint(1, 6),))
            done["fold"] += 1
        assert await listed_tags(client) == model.counts(), (step, kind)
        prefix, limit = folds.choice(VOCABULARY)[0], folds.randint(1, 3)
        expected = [item for item in model.counts() if item[0].startswith(prefix)][:limit]
        assert await listed_tags(client, prefix=prefix, limit=limit) == expected, (step, kind)
        assert await stored_images(client) == model.images, (step, kind)
    # Every path ran, and the rules trigger had work to do.
    assert set(done) == {
        "fold",
        "create",
        "multipart",
        "upload",
        "update",
        "delete",
        "alias",
        "imply",
        "rename",
    }
    sql(database_url, "SELECT fold_tag_counts(1000000)")
    assert sql(database_url, "SELECT count(*) FROM tag_count_changes") == [(0,)]
    folded = sql(database_url, "SELECT tag, image_count FROM tags")
    assert sorted(folded, key=lambda item: (-item[1], item[0])) == model.counts()
    assert await listed_tags(client) == model.counts()
