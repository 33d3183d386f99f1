"""Requests waiting for a pooled connection are served in the order they came."""

import asyncio

import pytest

from pixtag.db.acquire import DatabaseBusy, acquire
from pixtag.db.lightpool import create_pool


async def test_waiters_get_connections_first_come_first_served(database_url):
    pool = await create_pool(database_url, minsize=1, maxsize=2)
    try:
        held = [await pool.acquire() for _ in range(2)]
        served: list[int] = []

        async def request(n: int) -> None:
            conn = await acquire(pool, 10_000)
            served.append(n)
            # Give it back at once: later arrivals must still not overtake earlier ones.
            await pool.release(conn)

        waiting = []
        for n in range(20):
            waiting.append(asyncio.create_task(request(n)))
            await asyncio.sleep(0)  # each one queued before the next arrives
        # Newcomers that arrive while the line is served queue behind it.
        for conn in held:
            await pool.release(conn)
        late = [asyncio.create_task(request(100 + n)) for n in range(5)]
        await asyncio.wait_for(asyncio.gather(*waiting, *late), 30)
        assert served[:20] == list(range(20))
        assert sorted(served[20:]) == [100, 101, 102, 103, 104]
        assert pool.size <= 2
        assert pool.freesize == pool.size
    finally:
        pool.close()
        await pool.wait_closed()


async def test_a_waiter_that_gives_up_leaves_the_line_and_loses_nothing(database_url):
    pool = await create_pool(database_url, minsize=1, maxsize=1)
    try:
        conn = await pool.acquire()
        with pytest.raises(DatabaseBusy):
            await acquire(pool, 50)
        assert not pool._line
        after = asyncio.create_task(acquire(pool, 10_000))
        await asyncio.sleep(0)
        await pool.release(conn)
        second = await asyncio.wait_for(after, 10)
        assert second is conn
        await pool.release(second)
        assert pool.freesize == 1
    finally:
        pool.close()
        await pool.wait_closed()


async def test_a_closed_connection_lets_the_next_waiter_open_a_new_one(database_url):
    pool = await create_pool(database_url, minsize=1, maxsize=1)
    try:
        conn = await pool.acquire()
        waiter = asyncio.create_task(acquire(pool, 10_000))
        await asyncio.sleep(0)
        conn.close()
        await pool.release(conn)
        fresh = await asyncio.wait_for(waiter, 10)
        assert fresh is not conn
        assert not fresh.closed
        async with fresh.cursor() as cur:
            await cur.execute("SELECT 1")
            assert await cur.fetchone() == (1,)
        await pool.release(fresh)
    finally:
        pool.close()
        await pool.wait_closed()


async def test_closing_the_pool_fails_its_waiters(database_url):
    pool = await create_pool(database_url, minsize=1, maxsize=1)
    conn = await pool.acquire()
    waiter = asyncio.create_task(acquire(pool, 10_000))
    await asyncio.sleep(0)
    pool.close()
    with pytest.raises(RuntimeError, match="closing pool"):
        await asyncio.wait_for(waiter, 10)
    await pool.release(conn)
    await pool.wait_closed()
    assert pool.closed
