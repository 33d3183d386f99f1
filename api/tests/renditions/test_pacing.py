"""Background image work yields to requests (``pixtag.pacing``), against a real aiohttp server.

Requests to ``/burn`` make the event loop work (each handler spends 5 ms
of CPU, and requests are sent one after another on the same loop); a
trickle of requests to ``/quick`` leaves it mostly idle. Work is a wait of
a known length inside a turn; the pause after it is long (share 0.01: 99
times the work), so "held back" and "not held back" are told apart by
seconds, not milliseconds, however loaded the machine.
"""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from pixtag.pacing import Pacer
from pixtag.settings import Settings

WORK = 0.1  # seconds of "work" in a turn
SHARE = 0.01  # the pause after it: 99 * WORK = 9.9 s
HELD_BACK = 99 * WORK


class Load:
    """Requests sent one after another until stopped (or each ``every`` seconds)."""

    def __init__(self, client: TestClient, path: str, every: float = 0.0) -> None:
        self.client, self.path, self.every = client, path, every
        self.sent = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "Load":
        self._task = asyncio.create_task(self._send())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task

    async def _send(self) -> None:
        while not self._stop.is_set():
            response = await self.client.get(self.path)
            assert response.status == 200
            assert await response.text() == self.path
            self.sent += 1
            if self.every:
                # A trickle: one request per `every` seconds.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.every)


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    async def burn(request: web.Request) -> web.Response:
        spent = time.thread_time() + 0.005
        while time.thread_time() < spent:
            pass
        return web.Response(text="/burn")

    async def quick(request: web.Request) -> web.Response:
        return web.Response(text="/quick")

    app = web.Application()
    app.router.add_get("/burn", burn)
    app.router.add_get("/quick", quick)
    async with TestClient(TestServer(app)) as client:
        yield client


async def work(pacer: Pacer) -> None:
    async with pacer.turn():
        await asyncio.sleep(WORK)


async def wait_for_requests(load: Load, count: int) -> None:
    async with asyncio.timeout(30):
        while load.sent < count:  # noqa: ASYNC110 - the load task counts, nothing to await
            await asyncio.sleep(0.01)


async def test_idle_server_lets_work_run_at_full_speed(client: TestClient) -> None:
    pacer = Pacer(SHARE)
    await work(pacer)
    started = time.monotonic()
    await work(pacer)  # no request came: no pause
    assert time.monotonic() - started < HELD_BACK / 3


async def test_busy_server_holds_work_back_until_it_is_quiet(client: TestClient) -> None:
    pacer = Pacer(SHARE)
    await work(pacer)
    async with Load(client, "/burn") as load:
        await wait_for_requests(load, 20)
        second = asyncio.create_task(work(pacer))
        # Held back: watched for a second, it is still waiting (its pause is 9.9 s).
        done, _ = await asyncio.wait({second}, timeout=1.0)
        assert not done
        assert load.sent > 20
    quiet_at = time.monotonic()
    async with asyncio.timeout(HELD_BACK / 2):
        await second  # the pause ended with the load, long before its 9.9 s
    assert time.monotonic() - quiet_at < HELD_BACK / 2


async def test_busy_server_lets_work_go_once_the_pause_is_over(client: TestClient) -> None:
    pacer = Pacer(0.5)  # the pause equals the work
    long_work = 2.0
    async with pacer.turn():
        await asyncio.sleep(long_work)
    paused_at = time.monotonic()  # the pause (as long as the work) starts here
    async with Load(client, "/burn") as load:
        await wait_for_requests(load, 5)
        started = time.monotonic()
        await work(pacer)  # waits for the rest of the pause, not longer
        done = time.monotonic()
    # Measured from the pause's start: however long the load took to get going (a busy
    # machine), the work waited for the whole pause, and then not much longer.
    assert done - paused_at >= long_work + WORK - 0.05  # (timers may fire a little early)
    assert done - started < long_work * 5


async def test_trickle_of_requests_does_not_hold_work_back(client: TestClient) -> None:
    pacer = Pacer(SHARE)
    await work(pacer)
    async with Load(client, "/quick", every=0.2) as load:
        await wait_for_requests(load, 3)
        started = time.monotonic()
        await work(pacer)
        assert time.monotonic() - started < HELD_BACK / 3


async def test_share_of_one_never_holds_back(client: TestClient) -> None:
    pacer = Pacer(1.0)
    async with Load(client, "/burn") as load:
        await wait_for_requests(load, 20)
        await work(pacer)
        started = time.monotonic()
        await work(pacer)
        assert time.monotonic() - started < HELD_BACK / 3


def test_share_is_bounded() -> None:
    with pytest.raises(ValueError, match="share"):
        Pacer(0)
    with pytest.raises(ValueError, match="greater than 0"):
        Settings(background_share=0)
    with pytest.raises(ValueError, match="less than or equal to 1"):
        Settings(background_share=1.5)
    assert Settings().background_share == 0.1
