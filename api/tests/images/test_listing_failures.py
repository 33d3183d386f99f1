"""GET /images when things go wrong: bad parameters, broken query, dead backend, lost client."""

import asyncio
import json
import socket
import time

import aiohttp
import aiopg
import psycopg2
import pytest
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from pixtag.app import create_app
from pixtag.db.stream import CURSOR_NAME, stream_transaction
from tests.support.listing import backends, bulk_insert, pool_is_whole
from tests.support.processes import async_wait_until, sql

# Large enough that the stream outgrows every socket buffer between server and client.
BULK = 8000
# Uncompressed: gzipped, the bulk rows (alike but for numbers) would fit in those buffers.
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("tag=", "tag"),
        ("tag=%20%20", "tag"),
        ("tag=a,b", "tag"),
        ("tag=a%01", "tag"),
        ("tag=" + "x" * 101, "tag"),
        ("tag=a&tag=b", "tag"),
        ("tags_all=ok&tags_all=", "tags_all"),
        ("tags_any=", "tags_any"),
        ("sha256=abc", "sha256"),
        ("sha256=" + "g" * 64, "sha256"),
        ("chunk_size=0", "chunk_size"),
        ("chunk_size=10001", "chunk_size"),
        ("chunk_size=ten", "chunk_size"),
        ("after_id=-1", "after_id"),
        ("after_id=9223372036854775808", "after_id"),
        ("limit=0", "limit"),
        ("limit=1.5", "limit"),
    ],
)
async def test_bad_parameter_is_a_400_problem_naming_the_field(client, query, field):
    resp = await client.get(f"/images?{query}")
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["status"] == 400
    assert body["title"] == "Bad Request"
    assert body["error"] == body["detail"]
    assert body["errors"][0]["in"] == "query string"
    assert body["errors"][0]["loc"][0] == field


async def test_failing_query_is_a_500_problem_before_any_byte_of_the_stream(client, database_url):
    sql(database_url, "ALTER TABLE images RENAME TO images_gone")
    resp = await client.get("/images", params={"tag": "canon"})
    assert resp.status == 500
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["detail"] == "The server met an unexpected error."
    assert "images" not in json.dumps(body)
    # Waited for, not read at once: the job engine borrows a pooled connection
    # now and then to look for due jobs.
    assert await wait_for(lambda: pool_is_whole(client))
    assert not [s for s in backends(database_url) if s[1] == "idle in transaction"]


async def wait_for(predicate, within: float = 30.0) -> bool:
    """Poll ``predicate`` until it holds; fail after ``within`` seconds."""
    await async_wait_until(predicate, within=within, what="the stream's end to be seen")
    return True


def streaming_backend(database_url: str) -> int | None:
    """The pid of the backend holding the listing's cursor open, if any."""
    for pid, _state, query in backends(database_url):
        # The cursor's statements name it: its DECLARE (after the plan's settings) and FETCHes.
        if CURSOR_NAME in query:
            return pid
    return None


async def test_backend_killed_mid_stream_gives_an_incomplete_transfer(client, database_url):
    bulk_insert(database_url, BULK)
    resp = await client.get("/images", params={"chunk_size": "50"}, headers=IDENTITY)
    assert resp.status == 200
    head = await resp.content.read(1024)
    assert head.startswith(b"[[{")
    assert await wait_for(lambda: streaming_backend(database_url) is not None)
    pid = streaming_backend(database_url)
    assert sql(database_url, "SELECT pg_terminate_backend(%s)", (pid,)) == [(True,)]
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()
    assert await wait_for(lambda: pool_is_whole(client))
    # The pool replaced the dead connection: the next listing works.
    body = await (await client.get("/images", params={"limit": "1"})).json()
    assert body[-1] == {"totalImages": 1, "totalChunks": 1, "after": "WyJpZCIsMV0"}


async def test_client_disconnect_ends_the_transaction_and_returns_the_connection(
    client, database_url
):
    bulk_insert(database_url, BULK)
    resp = await client.get("/images", params={"chunk_size": "50"}, headers=IDENTITY)
    assert (await resp.content.read(1024)).startswith(b"[[{")
    assert await wait_for(lambda: streaming_backend(database_url) is not None)
    resp.close()  # drops the connection mid-stream
    assert await wait_for(lambda: streaming_backend(database_url) is None)
    assert await wait_for(lambda: pool_is_whole(client))
    states = [state for _pid, state, _query in backends(database_url)]
    assert "idle in transaction" not in states
    assert "active" not in states


def small_receive_buffer(addr_info) -> socket.socket:  # type: ignore[no-untyped-def]
    """A client socket whose receive buffer (and so its TCP window) stays a few kilobytes:
    a reader that stops reading holds up the server after that much, not after megabytes."""
    family, kind, proto, _name, _address = addr_info
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: no autotuning
    return sock


async def test_stalled_reader_is_cut_off_after_the_idle_bound(
    aiohttp_client, settings, database_url
):
    # No minimum rate: the idle bound is the only limit a stalled reader can meet.
    idle_bound = 0.3
    quick = settings.model_copy(
        update={"stream_idle_timeout_ms": int(idle_bound * 1000), "stream_min_rate": 0}
    )
    client = await aiohttp_client(create_app(quick))
    # About 14 MB: more than the server's send buffer (at most net.ipv4.tcp_wmem's 4 MB)
    # and the reader's few kilobytes and its client's 128 KB can hold between them.
    bulk_insert(database_url, 2 * BULK)
    connector = aiohttp.TCPConnector(socket_factory=small_receive_buffer)
    async with aiohttp.ClientSession(connector=connector) as session:
        resp = await session.get(
            client.make_url("/images"), params={"chunk_size": "50"}, headers=IDENTITY
        )
        assert resp.status == 200
        assert (await resp.content.read(1024)).startswith(b"[[{")
        stalled = time.monotonic()
        # Stop reading: the server blocks on back-pressure, then gives up.
        assert await wait_for(lambda: streaming_backend(database_url) is None)
        assert time.monotonic() - stalled >= idle_bound
        assert await wait_for(lambda: pool_is_whole(client))
        assert "idle in transaction" not in [s[1] for s in backends(database_url)]
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()


async def test_postgresql_ends_a_stream_left_idle_past_the_bound(database_url):
    pool = await aiopg.create_pool(database_url, minsize=1, maxsize=1)
    try:
        query = "SELECT image_id::text FROM generate_series(1, 10) AS image_id"

        async def stall() -> None:
            async with stream_transaction(pool, idle_timeout_ms=200, acquire_timeout_ms=1000) as tx:
                chunks = await tx.declare(query, {}, chunk_size=2, read_ahead=False)
                assert await anext(chunks) == [(b"1",), (b"2",)]
                await asyncio.sleep(0.6)  # a stalled reader: the backend is ended meanwhile
                await anext(chunks)

        with pytest.raises(psycopg2.Error):  # the dead backend surfaces as either error class
            await stall()
        assert pool.size == pool.freesize
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT 1")
            assert await cur.fetchone() == (1,)
    finally:
        pool.close()
        await pool.wait_closed()


@pytest.mark.parametrize("read_ahead", [True, False])
async def test_stream_transaction_commits_and_returns_the_connection(database_url, read_ahead):
    pool = await aiopg.create_pool(database_url, minsize=1, maxsize=1)
    try:
        query = "SELECT n::text FROM generate_series(1, %(n)s) AS n"
        async with stream_transaction(pool, idle_timeout_ms=1000, acquire_timeout_ms=1000) as tx:
            (found,) = await tx.query("SELECT %(n)s::int * 2", {"n": 3})
            chunks = await tx.declare(query, {"n": 5}, chunk_size=2, read_ahead=read_ahead)
            read = [[row[0] for row in chunk] async for chunk in chunks]
        assert found == (6,)
        assert read == [[b"1", b"2"], [b"3", b"4"], [b"5"]]
        assert pool.size == pool.freesize == 1
        async with pool.acquire() as conn:
            assert conn.raw.get_transaction_status() == TRANSACTION_STATUS_IDLE
    finally:
        pool.close()
        await pool.wait_closed()


@pytest.mark.parametrize(
    ("rows", "pieces"),
    [
        (12, [[1, 2], [3, 4, 5], [6, 7, 8, 9, 10], [11, 12]]),
        (10, [[1, 2], [3, 4, 5], [6, 7, 8, 9, 10]]),
        (2, [[1, 2]]),
        (1, [[1]]),
        (0, []),
    ],
)
async def test_first_fetch_leads_with_a_few_rows_then_fills_the_chunk(database_url, rows, pieces):
    pool = await aiopg.create_pool(database_url, minsize=1, maxsize=1)
    try:
        query = "SELECT n::text FROM generate_series(1, %(n)s) AS n"
        async with stream_transaction(pool, idle_timeout_ms=1000, acquire_timeout_ms=1000) as tx:
            cursor = await tx.declare(query, {"n": rows}, chunk_size=5, lead=2)
            read = [[int(row[0]) for row in piece] async for piece in cursor]
        assert read == pieces
        assert pool.size == pool.freesize == 1
    finally:
        pool.close()
        await pool.wait_closed()
