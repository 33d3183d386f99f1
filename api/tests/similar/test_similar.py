"""Similar images: every rung of the ladder through the API, replaced files fingerprinted
again, the backfill, the index used, and bad input."""

import io
import json
import random

import pytest
from PIL import Image

from pixtag.settings import Settings
from pixtag.similar import queries
from pixtag.similar.hashing import distance
from tests.support.helpers import create_form, form, photo, problem
from tests.support.processes import async_wait_until, connection, sql


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"similar_index": True})


def with_exif(data: bytes) -> bytes:
    """The same pixels, another file: EXIF added."""
    with Image.open(io.BytesIO(data)) as image:
        exif = Image.Exif()
        exif[0x010F] = "Camera"
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", exif=exif.tobytes(), compress_level=9)
        return buffer.getvalue()


async def store(client, name: str, data: bytes) -> int:  # type: ignore[no-untyped-def]
    resp = await client.post("/images", data=create_form({"filename": name}, data))
    assert resp.status == 201, await resp.text()
    return int((await resp.json())["image_id"])


async def similar_when_indexed(client, image_id: int, count: int, **params: str) -> dict:  # type: ignore[no-untyped-def]
    found: dict = {}

    async def ready() -> bool:
        nonlocal found
        resp = await client.get(f"/images/{image_id}/similar", params=params)
        assert resp.status == 200, await resp.text()
        found = await resp.json()
        return found["indexed"] and len(found["similar"]) >= count

    await async_wait_until(ready, within=60, what=f"image {image_id} indexed with {count}")
    return found


@pytest.mark.both_backends
async def test_every_rung_of_the_ladder(client):
    original = photo("coffee.png")
    ids = {
        "original": await store(client, "coffee.png", original),
        "bytes": await store(client, "again.png", original),
        "pixels": await store(client, "exif.png", with_exif(original)),
        "perceptual": await store(
            client, "small.jpg", photo("coffee.png", "JPEG", 0.25, quality=40)
        ),
        "other": await store(client, "camera.png", photo("camera.png")),
    }
    found = await similar_when_indexed(client, ids["original"], 3)
    assert found["image_id"] == ids["original"]
    rungs = [(row["image_id"], row["match"]) for row in found["similar"]]
    assert rungs == [
        (ids["bytes"], "bytes"),
        (ids["pixels"], "pixels"),
        (ids["perceptual"], "perceptual"),
    ]
    assert [row["distance"] for row in found["similar"][:2]] == [0, 0]
    assert 0 <= found["similar"][2]["distance"] <= 12
    # From the other side, and not the unrelated photograph.
    other = await similar_when_indexed(client, ids["other"], 0)
    assert other["similar"] == []
    # max_distance 0: the perceptual copy only if its hash is equal; limit 1: the nearest.
    resp = await client.get(f"/images/{ids['original']}/similar", params={"limit": "1"})
    assert [row["image_id"] for row in (await resp.json())["similar"]] == [ids["bytes"]]


@pytest.mark.both_backends
async def test_a_replaced_file_is_fingerprinted_again(client):
    coffee = await store(client, "coffee.png", photo("coffee.png"))
    camera = await store(client, "camera.png", photo("camera.png"))
    await similar_when_indexed(client, coffee, 0)
    await similar_when_indexed(client, camera, 0)
    resp = await client.post(
        f"/images/{coffee}/attachment/coffee.png", data=form(photo("camera.png", "JPEG", 0.4))
    )
    assert resp.status in (200, 201), await resp.text()
    found = await similar_when_indexed(client, coffee, 1)
    assert [(row["image_id"], row["match"]) for row in found["similar"]] == [(camera, "perceptual")]


async def test_bad_input(client):
    image_id = await store(client, "coffee.png", photo("coffee.png", scale=0.1))
    for params in ({"max_distance": "16"}, {"max_distance": "-1"}, {"limit": "0"}, {"x": "1"}):
        await problem(await client.get(f"/images/{image_id}/similar", params=params), 400)
    await problem(await client.get("/images/999999/similar"), 404)
    resp = await client.delete(f"/images/{image_id}")
    assert resp.status == 204
    await problem(await client.get(f"/images/{image_id}/similar"), 410)
    # An image without a file: nothing is similar to it, and it says it is not indexed.
    resp = await client.post("/images", json={"filename": "empty.png"})
    empty = (await resp.json())["image_id"]
    resp = await client.get(f"/images/{empty}/similar")
    assert await resp.json() == {"image_id": empty, "indexed": False, "similar": []}


async def test_the_backfill_indexes_what_was_stored_before_and_resumes(client, database_url):
    ids = [
        await store(client, f"{n}.png", photo(n, scale=0.2)) for n in ("coffee.png", "camera.png")
    ]
    for image_id in ids:
        await similar_when_indexed(client, image_id, 0)
    # As if stored before fingerprints existed.
    sql(database_url, "DELETE FROM image_fingerprints")
    resp = await client.get("/similar/index")
    assert await resp.json() == {"with_file": 2, "indexed": 0, "pending": 0, "queued": None}
    resp = await client.post("/similar/index")
    assert resp.status == 202
    assert (await resp.json())["queued"] == 2
    resp = await client.post("/similar/index")  # queued or done already: not queued again
    assert (await resp.json())["queued"] == 0

    async def indexed() -> bool:
        resp = await client.get("/similar/index")
        return (await resp.json())["indexed"] == 2

    await async_wait_until(indexed, within=60, what="the backfill to finish")
    resp = await client.post("/similar/index")
    assert (await resp.json())["queued"] == 0


def random_hash(rng: random.Random) -> int:
    return rng.getrandbits(64) - (1 << 63)


def near(rng: random.Random, phash: int, bits: int) -> int:
    value = phash
    for bit in rng.sample(range(64), bits):
        value ^= 1 << bit
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def fill(database_url: str, hashes: list[int]) -> list[int]:
    """Images with fingerprints of these perceptual hashes (and unique files): their ids."""
    with connection(database_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO images (filename, content_type, size, sha256, width, height, uploaded_at)"
            " SELECT 'f' || n || '.png', 'image/png', 1, md5(n::text) || md5(n::text), 1, 1, now()"
            " FROM generate_series(1, %s) AS n RETURNING image_id",
            (len(hashes),),
        )
        ids = [row[0] for row in cur.fetchall()]
        cur.execute(
            "INSERT INTO image_fingerprints (image_id, sha256, pixels, phash, detail)"
            " SELECT i.image_id, i.sha256, sha256(i.image_id::text::bytea), h.phash,"
            " repeat('0', 256)::bit(256)"
            " FROM unnest(%s::bigint[], %s::bigint[]) AS h(image_id, phash)"
            " JOIN images AS i USING (image_id)",
            (ids, hashes),
        )
        cur.execute("VACUUM ANALYZE images, image_fingerprints")
    return ids


@pytest.mark.heavy
async def test_the_index_finds_exactly_what_a_scan_would(client, database_url):
    """Multi-index hashing misses nothing: for hashes planted at every distance up to 20,
    the answer is exactly the brute-force set within max_distance (not one more), found
    through the indexes (no sequential scan of the images or fingerprints)."""
    rng = random.Random(20261205)
    centre = random_hash(rng)
    planted = [near(rng, centre, bits) for bits in range(21) for _ in range(3)]
    background = [random_hash(rng) for _ in range(30_000)]
    hashes = [centre, *planted, *background]
    ids = fill(database_url, hashes)
    by_id = dict(zip(ids, hashes, strict=True))
    for max_distance in (0, 3, 7, 12, 15):
        resp = await client.get(
            f"/images/{ids[0]}/similar", params={"max_distance": str(max_distance), "limit": "1000"}
        )
        body = await resp.json()
        expected = {
            i for i, h in by_id.items() if i != ids[0] and distance(h, centre) <= max_distance
        }
        assert {row["image_id"] for row in body["similar"]} == expected
        assert all(
            row["distance"] == distance(by_id[row["image_id"]], centre) for row in body["similar"]
        )
        assert [row["distance"] for row in body["similar"]] == sorted(
            row["distance"] for row in body["similar"]
        )

    with connection(database_url) as conn, conn.cursor() as cur:
        # The plans of the statements inside similar_images, as notices (auto_explain).
        cur.execute("LOAD 'auto_explain'")
        cur.execute(
            "SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on;"
            " SET auto_explain.log_level = notice; SET client_min_messages = notice"
        )
        cur.execute("SELECT count(*) FROM similar_images(%s, 12, 100)", (ids[0],))
        plans = "\n".join(conn.notices)
        cur.execute("SELECT pg_get_functiondef('similar_images'::regproc)")
        assert f"bit_count(f.detail # own.detail) <= {queries.DETAIL_MAX})" in cur.fetchone()[0]
    assert "Seq Scan on image" not in plans, plans
    for index in range(4):
        assert f"Index Only Scan using image_fingerprints_chunk{index}" in plans, plans
    assert "Index Scan using image_fingerprints_pkey" in plans, plans
    assert "using images_sha256" in plans, plans

    # A 64-bit match the 256-bit hash does not confirm is no match.
    sql(
        database_url,
        "UPDATE image_fingerprints SET detail = ~detail WHERE image_id = %s",
        (ids[1],),
    )
    resp = await client.get(f"/images/{ids[0]}/similar", params={"max_distance": "0"})
    assert ids[1] not in {row["image_id"] for row in (await resp.json())["similar"]}
    assert distance(by_id[ids[1]], centre) == 0


async def listed(client, q: str) -> list[int]:  # type: ignore[no-untyped-def]
    resp = await client.get("/images", params={"q": q}, headers={"Accept": "application/x-ndjson"})
    assert resp.status == 200, await resp.text()
    rows = [json.loads(line) for line in (await resp.text()).splitlines()]
    return [row["image_id"] for row in rows if "image_id" in row]


async def test_similar_in_a_search(client, database_url):
    """``similar:ID[~D]`` in ``q`` is what /images/{id}/similar lists, combined like a tag,
    in bulk retagging too; an unknown or deleted image matches nothing; bad terms are 400s."""
    rng = random.Random(42)
    centre = random_hash(rng)
    hashes = [centre, near(rng, centre, 2), near(rng, centre, 5), near(rng, centre, 12)]
    hashes += [random_hash(rng) for _ in range(20)]
    ids = fill(database_url, hashes)
    source, two, five, twelve = ids[:4]
    sql(database_url, "UPDATE images SET tags = '{kept}' WHERE image_id = %s", (five,))

    assert await listed(client, f"similar:{source}") == [two, five, twelve]
    resp = await client.get("/images", params={"q": f"similar:{source}", "limit": "2"})
    assert resp.status == 200, await resp.text()
    assert await listed(client, f"similar:{source}~5 sort:-id") == [five, two]
    assert await listed(client, f"SIMILAR:{source}~0") == []
    assert await listed(client, f"similar:{source} -kept") == [two, twelve]
    assert await listed(client, f"similar:{source}~2 or kept") == [two, five]
    assert await listed(client, f"similar:{two}~2 similar:{five}~5") == [source]
    everything_else = set(ids) - {two, five, twelve}
    assert set(await listed(client, f"-similar:{source}")) == everything_else
    assert await listed(client, "similar:999999") == []

    resp = await client.post(
        "/images/tags", json={"query": f"similar:{source}~5", "add": ["burst"]}
    )
    assert resp.status == 200, await resp.text()
    assert await listed(client, "burst") == [two, five]

    assert (await client.delete(f"/images/{source}")).status == 204
    assert await listed(client, f"similar:{source}") == []

    for q, position in [
        ("similar:", 1),
        ("similar:abc", 1),
        ("similar:0", 1),
        ("cat similar:12x", 5),
        ("similar:1~", 10),
        ("similar:1~16", 10),
        ("similar:99999999999999999999", 1),
        (" ".join(f"similar:{n}" for n in range(1, 7)), 51),
    ]:
        resp = await client.get("/images", params={"q": q})
        body = await problem(resp, 400)
        assert body["position"] == position, (q, body)
