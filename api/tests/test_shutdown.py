"""Graceful shutdown: in-flight requests finish before the pool closes."""

import asyncio

import aiohttp
from aiohttp import web

from pixtag import keys
from pixtag.app import create_app
from pixtag.db.pool import cursor


async def test_in_flight_request_finishes_then_the_pool_closes(settings, unused_tcp_port):
    started = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        async with cursor(request.app) as cur:
            await cur.execute("SELECT pg_sleep(0.5), 42")
            (_, answer) = await cur.fetchone()
        return web.json_response({"answer": answer})

    app = create_app(settings)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app, shutdown_timeout=10)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    pool = app[keys.POOL]

    async with aiohttp.ClientSession() as session:
        pending = asyncio.create_task(session.get(f"http://127.0.0.1:{unused_tcp_port}/slow"))
        await started.wait()
        await runner.cleanup()  # what SIGTERM/SIGINT trigger in `pixtag serve`
        resp = await pending
        assert resp.status == 200
        assert await resp.json() == {"answer": 42}
    assert pool.closed
