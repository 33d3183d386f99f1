"""GET /images: the streamed document, its filters, chunking, NDJSON and keyset paging."""

import hashlib

import pytest

from pixtag.app import create_app
from tests.support.helpers import create_form, image_bytes, record_of, sha256
from tests.support.listing import (
    bulk_insert,
    chunks_of,
    create_catalogue,
    flat,
    ndjson_lines,
)
from tests.support.processes import sql


def ids(images: list[dict]) -> list[int]:
    return [image["image_id"] for image in images]


def expected(created: list[dict], keep) -> list[int]:
    return [image["image_id"] for image in created if keep(set(image["tags"]))]


async def test_empty_collection_is_the_seed_document(client):
    resp = await client.get("/images")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    assert resp.headers["Transfer-Encoding"] == "chunked"
    assert await resp.text() == '[{"totalImages": 0, "totalChunks": 0}]'


async def test_no_match_is_the_empty_document(client):
    await create_catalogue(client)
    resp = await client.get("/images", params={"tag": "canon2"})
    assert await resp.text() == '[{"totalImages": 0, "totalChunks": 0}]'


async def test_full_listing_in_id_order_equals_single_reads(client):
    created = await create_catalogue(client)
    body = await (await client.get("/images")).json()
    chunks, totals = chunks_of(body)
    assert totals == {"totalImages": len(created), "totalChunks": 1}
    assert chunks == [created]
    for image in flat(body):
        assert await (await client.get(f"/images/{image['image_id']}")).json() == image


async def test_chunk_size_splits_the_stream_and_counts_chunks(client):
    created = await create_catalogue(client)
    body = await (await client.get("/images", params={"chunk_size": "3"})).json()
    chunks, totals = chunks_of(body)
    assert [len(chunk) for chunk in chunks] == [3, 3, 1]
    assert totals == {"totalImages": 7, "totalChunks": 3}
    assert flat(body) == created


@pytest.mark.parametrize("count", [15, 16, 17, 20, 21, 40, 45])
async def test_chunks_keep_their_size_when_the_first_rows_are_fetched_ahead(
    client, database_url, count
):
    # The first FETCH asks for LEAD_ROWS (16) rows, the next for the rest of the first chunk:
    # the document still has chunks of chunk_size, whatever the count around those bounds.
    bulk_insert(database_url, count, tags_per_image=2)
    for accept in ("application/json", "application/x-ndjson"):
        resp = await client.get("/images", params={"chunk_size": "20"}, headers={"Accept": accept})
        assert resp.status == 200
        if accept == "application/x-ndjson":
            images = ndjson_lines(await resp.text())
            assert [image["filename"] for image in images] == [
                f"bulk_{n}.jpg" for n in range(1, count + 1)
            ]
            continue
        body = await resp.json()
        chunks, totals = chunks_of(body)
        sizes = [20] * (count // 20) + ([count % 20] if count % 20 else [])
        assert [len(chunk) for chunk in chunks] == sizes
        assert totals == {"totalImages": count, "totalChunks": len(sizes)}
        assert [image["filename"] for image in flat(body)] == [
            f"bulk_{n}.jpg" for n in range(1, count + 1)
        ]


async def test_chunk_size_defaults_to_the_setting(aiohttp_client, settings):
    client = await aiohttp_client(create_app(settings.model_copy(update={"chunk_size": 2})))
    await create_catalogue(client)
    body = await (await client.get("/images")).json()
    chunks, totals = chunks_of(body)
    assert [len(chunk) for chunk in chunks] == [2, 2, 2, 1]
    assert totals == {"totalImages": 7, "totalChunks": 4}


async def test_chunk_size_bounds_are_accepted(client):
    created = await create_catalogue(client)
    for size, count in (("1", 7), ("10000", 1)):
        body = await (await client.get("/images", params={"chunk_size": size})).json()
        assert chunks_of(body)[1] == {"totalImages": 7, "totalChunks": count}
        assert flat(body) == created


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ([("tag", "canon")], lambda t: "canon" in t),
        ([("tags_all", "canon"), ("tags_all", "sea")], lambda t: {"canon", "sea"} <= t),
        ([("tags_any", "nikon"), ("tags_any", "sony")], lambda t: bool({"nikon", "sony"} & t)),
        ([("tag", "jpeg"), ("tags_all", "sky")], lambda t: {"jpeg", "sky"} <= t),
        (
            [("tag", "sea"), ("tags_any", "canon"), ("tags_any", "nikon")],
            lambda t: "sea" in t and bool({"canon", "nikon"} & t),
        ),
        (
            [("tags_all", "jpeg"), ("tags_any", "sea"), ("tags_any", "sky")],
            lambda t: "jpeg" in t and bool({"sea", "sky"} & t),
        ),
        ([("tags_any", "canon"), ("tags_any", "canon")], lambda t: "canon" in t),
    ],
)
async def test_filters_match_the_ground_truth(client, query, keep):
    created = await create_catalogue(client)
    body = await (await client.get("/images", params=query)).json()
    assert ids(flat(body)) == expected(created, keep)
    assert chunks_of(body)[1]["totalImages"] == len(expected(created, keep))


async def test_filter_values_are_normalised_like_tags(client):
    created = await create_catalogue(client)
    query = [("tag", "  CANON "), ("tags_any", "Se\u0301a"), ("tags_any", "SKY")]
    body = await (await client.get("/images", params=query)).json()
    assert ids(flat(body)) == expected(created, lambda t: "canon" in t and "sky" in t)


async def test_sha256_finds_the_image_holding_that_file(client, database_url):
    created = await create_catalogue(client)
    digest = hashlib.sha256(b"c.png").hexdigest()
    target = created[2]["image_id"]
    sql(
        database_url,
        "UPDATE images SET content_type = 'image/png', size = 5, sha256 = %s, width = 1,"
        " height = 1, uploaded_at = now() WHERE image_id = %s",
        (digest, target),
    )
    for spelling in (digest, f" {digest.upper()} "):
        body = await (await client.get("/images", params={"sha256": spelling})).json()
        assert ids(flat(body)) == [target]
        assert flat(body)[0]["attachment"]["sha256"] == digest
    other = hashlib.sha256(b"absent").hexdigest()
    resp = await client.get("/images", params={"sha256": other})
    assert await resp.text() == '[{"totalImages": 0, "totalChunks": 0}]'


async def test_order_is_by_id_even_after_rows_are_rewritten(client, database_url):
    created = await create_catalogue(client)
    sql(
        database_url,
        "UPDATE images SET tags = tags || '{sea}' WHERE image_id = %s",
        (created[0]["image_id"],),
    )
    body = await (await client.get("/images", params={"tag": "sea", "chunk_size": "2"})).json()
    got = ids(flat(body))
    assert got == sorted(got)
    assert got == expected(created, lambda t: "sea" in t)


async def test_ndjson_is_one_image_per_line_identical_to_single_reads(client):
    created = await create_catalogue(client)
    resp = await client.get(
        "/images", params={"chunk_size": "2"}, headers={"Accept": "application/x-ndjson"}
    )
    assert resp.status == 200
    assert resp.content_type == "application/x-ndjson"
    assert resp.headers["Vary"] == "Accept, Accept-Encoding"
    text = await resp.text()
    lines = text.splitlines()
    assert ndjson_lines(text) == created
    single = await (await client.get(f"/images/{created[0]['image_id']}")).text()
    assert lines[0] == single


async def test_ndjson_of_nothing_is_an_empty_body(client):
    resp = await client.get("/images", headers={"Accept": "application/x-ndjson"})
    assert resp.status == 200
    assert await resp.text() == ""


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/json, application/x-ndjson;q=0.5", "application/json"),
        ("application/x-ndjson;q=0", "application/json"),
        ("*/*", "application/json"),
        ("application/x-ndjson, application/json;q=0.9", "application/x-ndjson"),
    ],
)
async def test_accept_header_chooses_the_format(client, accept, content_type):
    resp = await client.get("/images", headers={"Accept": accept})
    assert resp.content_type == content_type


async def test_keyset_pages_walk_a_filtered_set_exactly_once(client):
    created = await create_catalogue(client)
    for _ in range(3):
        created += await create_catalogue(client)
    want = expected(created, lambda t: "sea" in t or "sky" in t)
    seen: list[int] = []
    after = 0
    while True:
        query = [
            ("tags_any", "sea"),
            ("tags_any", "sky"),
            ("after_id", str(after)),
            ("limit", "4"),
            ("chunk_size", "3"),
        ]
        page = flat(await (await client.get("/images", params=query)).json())
        assert len(page) <= 4
        if not page:
            break
        seen += ids(page)
        after = page[-1]["image_id"]
    assert seen == want


async def test_limit_without_after_id_takes_the_first_images(client):
    created = await create_catalogue(client)
    body = await (await client.get("/images", params={"limit": "2"})).json()
    assert flat(body) == created[:2]
    assert chunks_of(body)[1] == {"totalImages": 2, "totalChunks": 1, "after": "WyJpZCIsMl0"}


async def test_after_id_without_limit_runs_to_the_end(client):
    created = await create_catalogue(client)
    after = created[4]["image_id"]
    body = await (await client.get("/images", params={"after_id": str(after)})).json()
    assert flat(body) == created[5:]


async def test_sha256_finds_an_uploaded_file_as_the_import_command_asks(client):
    data = image_bytes("PNG", color="blue")
    resp = await client.post(
        "/images", data=create_form({"filename": "blue.png", "tags": ["import"]}, data)
    )
    assert resp.status == 201
    created = await resp.json()
    await create_catalogue(client)
    body = await (await client.get("/images", params={"sha256": sha256(data)})).json()
    assert flat(body) == [record_of(created)]
    assert created["attachment"]["sha256"] == sha256(data)
    other = image_bytes("PNG", color="green")
    resp = await client.get("/images", params={"sha256": sha256(other)})
    assert await resp.text() == '[{"totalImages": 0, "totalChunks": 0}]'
