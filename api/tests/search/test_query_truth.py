"""Every form of ``q`` against a ground truth computed here, for every sort, page by page.

Random images get random tags from a small vocabulary (with creation times
that tie, so the id must break ties); random queries come from a small
grammar, are written out as ``q`` text (with random parentheses and quotes)
and evaluated in Python on the same tree. The ids the API streams, walked
page by page through the ``after`` token, must be exactly the Python answer.
"""

import random
from dataclasses import dataclass

import pytest

from tests.support.processes import sql

VOCABULARY = ["cat", "dog", "cow", "car", "sci fi", "sci-fi", "or", "-x", "a(b", "kitty"]
ALIASES = {"kitty": "cat"}  # asking for kitty means cat
PREFIXES = ["c", "ca", "sci", "zz", "-"]
SORTS = ["id", "-id", "created", "-created"]


@dataclass(frozen=True)
class Node:
    kind: str  # tag, prefix, not, all, any
    value: str = ""
    children: tuple["Node", ...] = ()


def random_tree(rng: random.Random, depth: int = 0) -> Node:
    roll = rng.random()
    if depth >= 3 or roll < 0.45:
        if rng.random() < 0.2:
            return Node("prefix", rng.choice(PREFIXES))
        return Node("tag", rng.choice(VOCABULARY))
    if roll < 0.6:
        return Node("not", children=(random_tree(rng, depth + 1),))
    kind = "all" if roll < 0.8 else "any"
    return Node(kind, children=tuple(random_tree(rng, depth + 1) for _ in range(rng.randint(2, 3))))


def quoted(tag: str) -> str:
    return '"' + tag.replace("\\", "\\\\").replace('"', '\\"') + '"'


def leaf_text(node: Node, rng: random.Random) -> str:
    plain = node.value.isalnum() and node.value != "or"
    text = node.value if plain and rng.random() < 0.7 else quoted(node.value)
    return text + ("*" if node.kind == "prefix" else "")


def render(node: Node, rng: random.Random) -> str:
    """``q`` text for the tree; "or" binds looser than juxtaposition."""
    if node.kind in ("tag", "prefix"):
        text = leaf_text(node, rng)
    elif node.kind == "not":
        (child,) = node.children
        inner = render(child, rng)
        text = "-" + (inner if child.kind in ("tag", "prefix") else f"({inner})")
    elif node.kind == "all":
        text = " ".join(
            f"({render(c, rng)})" if c.kind == "any" else render(c, rng) for c in node.children
        )
    else:
        text = " or ".join(render(c, rng) for c in node.children)
    return f"({text})" if rng.random() < 0.15 else text


def matches(node: Node, tags: set[str], known: set[str]) -> bool:
    if node.kind == "tag":
        return ALIASES.get(node.value, node.value) in tags
    if node.kind == "prefix":
        return any(t.startswith(node.value) for t in tags if t in known)
    if node.kind == "not":
        return not matches(node.children[0], tags, known)
    if node.kind == "all":
        return all(matches(c, tags, known) for c in node.children)
    return any(matches(c, tags, known) for c in node.children)


@pytest.fixture
def collection(database_url: str) -> list[tuple[int, str, set[str]]]:
    """120 images with random tags and tied creation times: (id, created key, tags)."""
    rng = random.Random(11)
    rows = []
    for n in range(120):
        tags = sorted(set(rng.sample(VOCABULARY[:-1], rng.randint(0, 4))))
        second = rng.randint(0, 30)  # about four images a second: ties
        rows.append((f"i{n}.jpg", tags, f"2026-01-01 00:00:{second:02d}+00"))
    for filename, tags, created in rows:
        sql(
            database_url,
            "INSERT INTO images (filename, tags, created_at) VALUES (%s, %s, %s)",
            (filename, tags, created),
        )
    for alias, target in ALIASES.items():
        sql(database_url, "INSERT INTO tag_aliases VALUES (%s, %s)", (alias, target))
    found = sql(database_url, "SELECT image_id, extract(epoch FROM created_at), tags FROM images")
    return [(image_id, float(epoch), set(tags)) for image_id, epoch, tags in found]


def expected_order(rows: list[tuple[int, float, set[str]]], sort: str) -> list[int]:
    key = {
        "id": lambda r: r[0],
        "-id": lambda r: -r[0],
        "created": lambda r: (r[1], r[0]),
        "-created": lambda r: (-r[1], -r[0]),
    }[sort]
    return [r[0] for r in sorted(rows, key=key)]


async def walk(client, params: dict[str, str], limit: int) -> list[int]:
    """Every id of the listing, page by page through the after token."""
    ids: list[int] = []
    after = None
    for _ in range(200):
        page = {**params, "limit": str(limit), "chunk_size": "7"}
        if after is not None:
            page["after"] = after
        resp = await client.get("/images", params=page)
        assert resp.status == 200, await resp.text()
        *chunks, totals = await resp.json()
        got = [image["image_id"] for chunk in chunks for image in chunk]
        assert totals["totalImages"] == len(got) <= limit
        ids += got
        if len(got) < limit:
            assert "after" not in totals
            return ids
        after = totals["after"]
    raise AssertionError("the pages never ended")


async def test_every_query_form_streams_exactly_the_python_answer_in_every_sort(client, collection):
    rng = random.Random(2026)
    known = set().union(*(tags for _, _, tags in collection))
    for _ in range(40):
        tree = random_tree(rng)
        text = render(tree, rng)
        sort = rng.choice(SORTS)
        matching = [r for r in collection if matches(tree, r[2], known)]
        expected = expected_order(matching, sort)
        got = await walk(client, {"q": f"{text} sort:{sort}"}, rng.randint(1, 40))
        assert got == expected, (text, sort)
        if sort == "id":
            resp = await client.get("/images", params={"q": text})
            *chunks, _ = await resp.json()
            assert [i["image_id"] for c in chunks for i in c] == expected, text


async def test_q_and_the_plain_parameters_all_apply(client, collection):
    known = set().union(*(tags for _, _, tags in collection))
    tree = Node("any", children=(Node("tag", "cat"), Node("prefix", "sci")))
    for sort in SORTS:
        for none in (["cow"], ["cow", "car"]):
            expected = expected_order(
                [
                    r
                    for r in collection
                    if matches(tree, r[2], known) and "dog" in r[2] and not r[2] & set(none)
                ],
                sort,
            )
            params = [("q", f"sort:{sort} kitty or sci*"), ("tag", "dog")]
            params += [("tags_none", t) for t in none]
            resp = await client.get("/images", params=params)
            *chunks, totals = await resp.json()
            assert [i["image_id"] for c in chunks for i in c] == expected
            assert totals == {"totalImages": len(expected), "totalChunks": len(chunks)}
