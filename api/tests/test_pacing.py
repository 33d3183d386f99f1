"""Background image work yields to requests (``pixtag.pacing``), on a real aiohttp server.

The server counts its requests with the same ``InFlight`` middleware as
pixtag; a request held open (its handler waits on an event) or requests
coming one after another make the server busy. Work is a wait of a known
length inside a turn; the pause after it is long (share 0.01: 99 times the
work), so "held back" and "not held back" are told apart by seconds, not by
milliseconds, however loaded the machine.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from pixtag.inflight import InFlight
from pixtag.pacing import Pacer
from pixtag.settings import Settings

WORK = 0.1  # seconds of "work" in a turn
SHARE = 0.01  # the pause after it: 99 * WORK = 9.9 s
HELD_BACK = 99 * WORK


class Server:
    def __init__(self, client: TestClient, in_flight: InFlight, release: asyncio.Event) -> None:
        self.client = client
        self.in_flight = in_flight
        self.release = release


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    in_flight = InFlight()
    release = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="released")

    async def quick(request: web.Request) -> web.Response:
        return web.Response(text="quick")

    app = web.Application(middlewares=[in_flight.middleware])
    app.router.add_get("/held", held)
    app.router.add_get("/quick", quick)
    async with TestClient(TestServer(app)) as client:
        yield Server(client, in_flight, release)
        release.set()


async def work(pacer: Pacer) -> None:
    async with pacer.turn():
        await asyncio.sleep(WORK)


async def test_idle_server_lets_work_run_at_full_speed(server: Server) -> None:
    pacer = Pacer(server.in_flight, SHARE)
    loop = asyncio.get_running_loop()
    await work(pacer)
    started = loop.time()
    await work(pacer)  # no request came: no pause
    assert loop.time() - started < HELD_BACK / 3


async def test_request_in_flight_holds_work_back_until_it_ends(server: Server) -> None:
    pacer = Pacer(server.in_flight, SHARE)
    loop = asyncio.get_running_loop()
    await work(pacer)
    held = asyncio.create_task(server.client.get("/held"))
    async with asyncio.timeout(30):
        while server.in_flight.count == 0:
            await asyncio.sleep(0.01)
    second = asyncio.create_task(work(pacer))
    # Held back: watched for a second, it is still waiting (its pause is 9.9 s).
    done, _ = await asyncio.wait({second}, timeout=1.0)
    assert not done
    released_at = loop.time()
    server.release.set()
    response = await held
    assert await response.text() == "released"
    async with asyncio.timeout(HELD_BACK / 2):
        await second  # the pause ended with the request, long before its 9.9 s
    assert loop.time() - released_at < HELD_BACK / 2


async def test_requests_one_after_another_keep_work_held_back(server: Server) -> None:
    pacer = Pacer(server.in_flight, 0.5)  # the pause equals the work
    loop = asyncio.get_running_loop()
    long_work = 3.0
    stop = asyncio.Event()

    async def requests() -> int:
        count = 0
        while not stop.is_set():  # short requests, none in flight for long
            response = await server.client.get("/quick")
            assert await response.text() == "quick"
            count += 1
        return count

    async with pacer.turn():
        await asyncio.sleep(long_work)
    sender = asyncio.create_task(requests())
    async with asyncio.timeout(30):
        while server.in_flight.started < 3:
            await asyncio.sleep(0.01)
    started = loop.time()
    await work(pacer)
    stop.set()
    assert await sender > 3
    # Held back for what is left of the pause (about long_work), then worked.
    assert loop.time() - started >= long_work / 3 + WORK


async def test_share_of_one_never_holds_back(server: Server) -> None:
    pacer = Pacer(server.in_flight, 1.0)
    loop = asyncio.get_running_loop()
    held = asyncio.create_task(server.client.get("/held"))
    async with asyncio.timeout(30):
        while server.in_flight.count == 0:
            await asyncio.sleep(0.01)
    async with pacer.turn():
        await asyncio.sleep(HELD_BACK / 10)
    started = loop.time()
    await work(pacer)
    assert loop.time() - started < HELD_BACK / 3
    server.release.set()
    await held


def test_share_is_bounded() -> None:
    with pytest.raises(ValueError, match="share"):
        Pacer(InFlight(), 0)
    with pytest.raises(ValueError, match="greater than 0"):
        Settings(background_share=0)
    with pytest.raises(ValueError, match="less than or equal to 1"):
        Settings(background_share=1.5)
    assert Settings().background_share == 0.1
