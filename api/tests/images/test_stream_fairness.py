"""One client cannot take every stream slot: past its share, its next listing is a 429 at
once while other clients still get theirs. The listings are held open deterministically:
their first FETCH waits for a lock the test holds on the images table."""

import asyncio

import psycopg2
import pytest

from pixtag.app import create_app
from pixtag.settings import Settings
from pixtag.views.stream import client_address
from tests.support.auth import bearer, make_token
from tests.support.helpers import problem
from tests.support.processes import async_wait_until, sql

A = {"X-Forwarded-For": "203.0.113.7"}
B = {"X-Forwarded-For": "198.51.100.9"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "pool_max_size": 6,
            "max_streams": 3,
            "max_streams_per_client": 2,
            "trusted_proxies": ("127.0.0.1/32", "::1/128"),
        }
    )


def waiting_listings(database_url: str) -> int:
    ((count,),) = sql(
        database_url,
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND (query ILIKE '%%FETCH%%' OR query ILIKE '%%DECLARE%%')",
    )
    return int(count)


async def test_one_client_cannot_take_every_stream_slot(client, database_url):
    assert (await client.post("/images", json={"filename": "a.png"})).status == 201
    holder = psycopg2.connect(database_url)
    try:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE images IN ACCESS EXCLUSIVE MODE")
        first = [asyncio.create_task(client.get("/images", headers=A)) for _ in range(2)]
        await async_wait_until(
            lambda: waiting_listings(database_url) == 2, within=30, what="two listings of A"
        )
        third = await client.get("/images", headers=A)
        body = await problem(third, 429)
        assert "PIXTAG_STREAMS_PER_CLIENT" in body["detail"]
        assert third.headers["Retry-After"] == "1"
        other = asyncio.create_task(client.get("/images", headers=B))
        await async_wait_until(
            lambda: waiting_listings(database_url) == 3, within=30, what="B's listing too"
        )
    finally:
        holder.rollback()
        holder.close()
    for resp in [*(await asyncio.gather(*first)), await other]:
        assert resp.status == 200
        assert (await resp.json())[-1]["totalImages"] == 1
    # Its streams over (their handlers end a moment after the client has the last byte),
    # A may stream again.

    async def streams_again() -> bool:
        return (await client.get("/images", headers=A)).status == 200

    await async_wait_until(streams_again, within=10, what="A's slots to be given back")


def test_x_forwarded_for_is_believed_only_from_trusted_proxies():
    forwarded = "203.0.113.7, 10.0.0.2"
    assert client_address("127.0.0.1", forwarded, ()) == "127.0.0.1"
    assert client_address("192.0.2.1", forwarded, ("127.0.0.1/32",)) == "192.0.2.1"
    assert client_address("127.0.0.1", forwarded, ("127.0.0.1/32",)) == "10.0.0.2"
    trusted = ("127.0.0.1/32", "10.0.0.0/8")
    assert client_address("127.0.0.1", forwarded, trusted) == "203.0.113.7"
    assert client_address("127.0.0.1", "", trusted) == "127.0.0.1"


async def test_with_tokens_each_token_has_its_own_share(aiohttp_client, settings, database_url):
    """Behind one address (a proxy nobody trusts), two tokens still count apart."""
    app = create_app(settings.model_copy(update={"auth": "on", "trusted_proxies": ()}))
    client = await aiohttp_client(app)
    _, first = make_token(database_url, "read")
    _, second = make_token(database_url, "read")
    holder = psycopg2.connect(database_url)
    try:
        with holder.cursor() as cur:
            cur.execute("LOCK TABLE images IN ACCESS EXCLUSIVE MODE")
        held = [asyncio.create_task(client.get("/images", headers=bearer(first))) for _ in "ab"]
        await async_wait_until(
            lambda: waiting_listings(database_url) == 2, within=30, what="the first token's two"
        )
        await problem(await client.get("/images", headers=bearer(first)), 429)
        other = asyncio.create_task(client.get("/images", headers=bearer(second)))
        await async_wait_until(
            lambda: waiting_listings(database_url) == 3, within=30, what="the second token's"
        )
    finally:
        holder.rollback()
        holder.close()
    for resp in [*(await asyncio.gather(*held)), await other]:
        assert resp.status == 200
