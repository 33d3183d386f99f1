"""gzip on JSON answers: the listing chunk by chunk, large documents whole, nothing else."""

import gzip
import json
import zlib

import aiohttp
import pytest
from multidict import CIMultiDict

from pixtag.compression import MIN_SIZE
from tests.support.helpers import create_form, noisy_png
from tests.support.listing import create_catalogue, ndjson_lines
from tests.support.processes import connection, sql

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}
NDJSON = {"Accept": "application/x-ndjson"}


def vary(headers: CIMultiDict[str]) -> set[str]:
    return {part.strip() for part in headers.get("Vary", "").split(",")}


@pytest.fixture
async def raw(client):  # type: ignore[no-untyped-def]
    """A session that leaves bodies as the server sent them (the test client decompresses)."""
    async with aiohttp.ClientSession(str(client.make_url("")), auto_decompress=False) as session:
        yield session


@pytest.mark.parametrize("accept", [{}, NDJSON])
async def test_gzip_listing_decompresses_to_exactly_the_uncompressed_body(client, raw, accept):
    created = await create_catalogue(client)
    params = {"chunk_size": "2"}
    async with raw.get("/images", params=params, headers={**accept, **IDENTITY}) as resp:
        assert resp.status == 200
        assert "Content-Encoding" not in resp.headers
        assert vary(resp.headers) == {"Accept", "Accept-Encoding"}
        plain = await resp.read()
    async with raw.get("/images", params=params, headers={**accept, **GZIP}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Encoding"] == "gzip"
        assert resp.headers["Transfer-Encoding"] == "chunked"
        assert vary(resp.headers) == {"Accept", "Accept-Encoding"}
        compressed = await resp.read()
    assert compressed[:2] == b"\x1f\x8b"
    assert gzip.decompress(compressed) == plain
    if accept:
        assert ndjson_lines(plain.decode()) == created
    else:
        assert [image for chunk in json.loads(plain)[:-1] for image in chunk] == created


async def test_each_chunk_arrives_compressed_while_the_stream_is_still_running(
    client, raw, database_url
):
    created = await create_catalogue(client)
    # The last image's row makes its FETCH wait on an advisory lock the test holds:
    # the server has sent the first chunk and cannot send more until it is released.
    blocked = created[-1]["image_id"]
    sql(
        database_url, "UPDATE images SET created_at = '2000-01-01Z' WHERE image_id = %s", (blocked,)
    )
    sql(
        database_url,
        """
        CREATE OR REPLACE FUNCTION utc_iso(ts timestamptz) RETURNS text
        LANGUAGE plpgsql STABLE AS $$
        BEGIN
            IF ts = '2000-01-01Z' THEN
                PERFORM pg_advisory_lock_shared(4242);
                PERFORM pg_advisory_unlock_shared(4242);
            END IF;
            RETURN replace((ts AT TIME ZONE 'UTC')::text, ' ', 'T') || 'Z';
        END $$
        """,
    )
    first = len(created) - 1
    with connection(database_url, autocommit=True) as lock:
        lock.cursor().execute("SELECT pg_advisory_lock(4242)")
        resp = await raw.get("/images", params={"chunk_size": str(first)}, headers=GZIP)
        assert resp.headers["Content-Encoding"] == "gzip"
        decoder = zlib.decompressobj(31)
        text = b""
        while not text.endswith(b"]"):
            data = await resp.content.readany()
            assert data, "the stream ended before its first chunk could be decoded"
            text += decoder.decompress(data)
        # The whole first chunk, decoded from bytes sent before the end of the stream.
        assert json.loads(text[1:]) == created[:first]
        assert not decoder.eof
        assert not resp.content.at_eof()
        lock.cursor().execute("SELECT pg_advisory_unlock(4242)")
        text += decoder.decompress(await resp.content.read())
        resp.release()
    assert decoder.eof
    body = json.loads(text)
    assert body[1] == [{**created[-1], "created_at": "2000-01-01T00:00:00Z"}]
    assert body[2] == {"totalImages": len(created), "totalChunks": 2}


async def test_head_of_a_gzip_listing_has_the_headers_of_get_and_no_body(client, raw):
    await create_catalogue(client)
    async with raw.head("/images", headers=GZIP) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Encoding"] == "gzip"
        assert vary(resp.headers) == {"Accept", "Accept-Encoding"}
        assert await resp.read() == b""


async def test_errors_are_problems_whatever_the_encoding(client, raw):
    async with raw.get("/images", params={"tag": ""}, headers=GZIP) as resp:
        assert resp.status == 400
        assert resp.content_type == "application/problem+json"
        assert "Content-Encoding" not in resp.headers  # small: sent as is
        assert "Accept-Encoding" in vary(resp.headers)
        assert json.loads(await resp.read())["errors"][0]["loc"] == ["tag"]
    async with raw.get("/images/999", headers=GZIP) as resp:
        assert resp.status == 404
        assert json.loads(await resp.read())["detail"] == "Image <999> is not found"


async def test_a_large_document_is_gzipped_for_clients_that_take_it(client, raw):
    tags = [f"tag-number-{n}" for n in range(80)]
    created = await (await client.post("/images", json={"filename": "a.jpg", "tags": tags})).json()
    path = f"/images/{created['image_id']}"
    async with raw.get(path, headers=IDENTITY) as resp:
        plain = await resp.read()
        assert len(plain) >= MIN_SIZE
        assert "Content-Encoding" not in resp.headers
        assert vary(resp.headers) == {"Accept-Encoding"}
    assert json.loads(plain) == created
    for accept in ("gzip", "br;q=1, gzip;q=0.5", "*", "x-gzip"):
        async with raw.get(path, headers={"Accept-Encoding": accept}) as resp:
            compressed = await resp.read()
            assert resp.headers["Content-Encoding"] == "gzip"
            assert int(resp.headers["Content-Length"]) == len(compressed) < len(plain)
            assert gzip.decompress(compressed) == plain
    async with raw.head(path, headers=GZIP) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        assert int(resp.headers["Content-Length"]) == len(compressed)
        assert await resp.read() == b""
    for refused in ("gzip;q=0", "br", "identity", "*;q=0"):
        async with raw.get(path, headers={"Accept-Encoding": refused}) as resp:
            assert "Content-Encoding" not in resp.headers
            assert await resp.read() == plain
    # A small document is sent as is, even to a client that takes gzip.
    small = await (await client.post("/images", json={"filename": "b.jpg", "tags": []})).json()
    async with raw.get(f"/images/{small['image_id']}", headers=GZIP) as resp:
        assert "Content-Encoding" not in resp.headers
        assert "Accept-Encoding" in vary(resp.headers)
        assert json.loads(await resp.read()) == small


async def test_media_and_redirects_are_never_compressed(client, raw):
    data = noisy_png((64, 64))
    meta = {"filename": "a.png", "tags": []}
    image = await (await client.post("/images", data=create_form(meta, data))).json()
    path = f"/images/{image['image_id']}/attachment/a.png"
    async with raw.get(path, headers=GZIP, allow_redirects=False) as resp:
        assert resp.status == 302
        assert "Content-Encoding" not in resp.headers
    async with raw.get(image["attachment"]["url"], headers=GZIP) as resp:
        assert resp.status == 200
        assert "Content-Encoding" not in resp.headers
        assert await resp.read() == data
