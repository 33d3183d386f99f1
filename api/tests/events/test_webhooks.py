"""Webhooks against real local receivers: signed as Standard Webhooks says (checked with the
README's recipe), in order, retried until the receiver recovers, refused on private
addresses without an allow-list, a slow receiver holding back no other, disabled after a
run of failures, redelivered on request."""

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from pixtag.app import create_app
from pixtag.settings import Settings
from tests.support.helpers import problem
from tests.support.processes import async_wait_until

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_recipe() -> Callable[[str, dict[str, str], bytes], dict]:
    """The README's ``verify``, run as it is written there (standard library only)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (recipe,) = [block for block in blocks if "def verify(" in block]
    scope: dict[str, Any] = {}
    exec(recipe, scope)
    return scope["verify"]  # type: ignore[no-any-return]


verify = readme_recipe()


@dataclass
class Receiver:
    """A local HTTP server recording what it is sent and answering as ``answer`` says."""

    answer: Callable[[int], Awaitable[web.Response]] | None = None
    received: list[tuple[dict[str, str], bytes, int]] = field(default_factory=list)
    url: str = ""
    calls: int = 0
    # The webhook-id of each request, in the order they came.
    ids: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        n = self.calls
        self.calls += 1
        self.ids.append(request.headers.get("webhook-id", ""))
        response = await self.answer(n) if self.answer else web.Response(text="thanks")
        self.received.append((dict(request.headers), body, response.status))
        return response

    def succeeded(self) -> list[dict]:
        return [json.loads(body) for _, body, status in self.received if status < 300]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow": ("127.0.0.1",),
            "webhook_retry_base": 0.05,
            "webhook_retry_max": 0.5,
            # Room for a loaded machine's answers: only the deliberately slow one is late.
            "webhook_timeout": 5.0,
            "jobs_poll_interval": 0.2,
        }
    )


@pytest.fixture
def receive(aiohttp_server):  # type: ignore[no-untyped-def]
    async def start(answer=None) -> Receiver:  # type: ignore[no-untyped-def]
        receiver = Receiver(answer)
        app = web.Application()
        app.router.add_post("/hook", receiver.handle)
        server = await aiohttp_server(app)
        receiver.url = f"http://127.0.0.1:{server.port}/hook"
        return receiver

    return start


async def hook(client, url: str, **body) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.post("/webhooks", json={"url": url, **body})
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    assert resp.headers["Location"] == f"/webhooks/{made['webhook_id']}"
    return made


async def images(client, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    ids = []
    for k in range(n):
        resp = await client.post("/images", json={"filename": f"{k}.jpg"})
        ids.append((await resp.json())["image_id"])
    return ids


async def deliveries(client, webhook_id: int) -> list[dict]:  # type: ignore[no-untyped-def]
    resp = await client.get(f"/webhooks/{webhook_id}/deliveries")
    assert resp.status == 200, await resp.text()
    return (await resp.json())["deliveries"]


async def settled(client, webhook_id: int, count: int) -> list[dict]:  # type: ignore[no-untyped-def]
    """The delivery log once it holds ``count`` deliveries and none is pending: a receiver
    has an event in hand a moment before its deliverer records the answer."""
    log: list[dict] = []

    async def done() -> bool:
        log[:] = await deliveries(client, webhook_id)
        return len(log) == count and all(d["status"] != "pending" for d in log)

    await async_wait_until(done, within=30, what=f"{count} deliveries recorded")
    return log


async def test_deliveries_are_signed_and_in_order(client, receive):
    receiver = await receive()
    made = await hook(client, receiver.url, types=["image.created"])
    assert made["secret"].startswith("whsec_")
    ids = await images(client, 5)
    await client.patch(f"/images/{ids[0]}", json={"filename": "renamed.jpg"})  # not its type
    await async_wait_until(lambda: len(receiver.received) >= 5, within=30, what="5 deliveries")
    bodies = [verify(made["secret"], headers, body) for headers, body, _ in receiver.received]
    assert [b["data"]["image_id"] for b in bodies] == ids
    assert {b["type"] for b in bodies} == {"image.created"}
    assert [h["webhook-id"] for h, _, _ in receiver.received] == [b["id"] for b in bodies]
    # Tampered, the recipe refuses it.
    headers, body, _ = receiver.received[0]
    with pytest.raises(ValueError, match="no valid signature"):
        verify(made["secret"], headers, body.replace(b"0.jpg", b"1.jpg"))
    log = await settled(client, made["webhook_id"], 5)
    assert [d["status"] for d in log] == ["succeeded"] * 5
    assert [d["event_id"] for d in reversed(log)] == [b["id"] for b in bodies]
    assert all(d["response_status"] == 200 and d["attempts"] == 1 for d in log)
    assert log[0]["response_excerpt"] == "thanks"
    # The secret is never shown again.
    resp = await client.get(f"/webhooks/{made['webhook_id']}")
    assert "secret" not in await resp.json()
    resp = await client.get("/webhooks")
    assert made["secret"] not in await resp.text()


async def test_a_receiver_that_fails_then_recovers_gets_each_event_once_in_order(client, receive):
    async def answer(n: int) -> web.Response:
        if n < 2:
            return web.Response(status=503, headers={"Retry-After": "0"})
        if n == 2:
            await asyncio.sleep(7)  # past the timeout (5 s): no answer counts as a failure
        if n == 3:
            return web.Response(status=429)
        return web.Response(status=204)

    receiver = await receive(answer)
    made = await hook(client, receiver.url, types=["image"])
    ids = await images(client, 4)

    def all_delivered() -> bool:
        return len(receiver.succeeded()) >= 4

    await async_wait_until(all_delivered, within=60, what="every event delivered")
    delivered = receiver.succeeded()
    assert [b["data"]["image_id"] for b in delivered] == ids
    assert len({b["id"] for b in delivered}) == 4
    # Every failed attempt was the first event again, with the same webhook-id.
    first_id = delivered[0]["id"]
    assert receiver.ids[:5] == [first_id] * 5
    log = await settled(client, made["webhook_id"], 4)
    assert log[-1]["attempts"] == 5
    assert log[-1]["status"] == "succeeded"
    assert all(d["attempts"] == 1 for d in log[:-1])
    resp = await client.get(f"/webhooks/{made['webhook_id']}")
    assert (await resp.json())["failures"] == 0


async def test_a_receiver_on_a_private_address_is_refused_without_an_allow_list(
    settings, aiohttp_client, receive
):
    client = await aiohttp_client(create_app(settings.model_copy(update={"webhook_allow": ()})))
    receiver = await receive()
    resp = await client.post("/webhooks", json={"url": receiver.url})
    body = await problem(resp, 400)
    assert "not a public address" in body["detail"]
    # A name that resolves to a private address: refused when it is sent, and disabled.
    made = await hook(client, receiver.url.replace("127.0.0.1", "localhost"))
    await images(client, 1)

    async def disabled() -> bool:
        resp = await client.get(f"/webhooks/{made['webhook_id']}")
        return not (await resp.json())["enabled"]

    await async_wait_until(disabled, within=30, what="the webhook disabled")
    resp = await client.get(f"/webhooks/{made['webhook_id']}")
    assert "not a public address" in (await resp.json())["disabled_reason"]
    assert receiver.received == []


async def test_a_slow_receiver_holds_back_no_other(client, receive):
    release = asyncio.Event()

    async def slow(n: int) -> web.Response:
        await release.wait()
        return web.Response()

    slow_receiver = await receive(slow)
    fast_receiver = await receive()
    await hook(client, slow_receiver.url)
    await hook(client, fast_receiver.url)
    began = time.monotonic()
    await images(client, 3)
    await async_wait_until(
        lambda: len(fast_receiver.received) >= 3, within=30, what="the fast receiver's events"
    )
    assert time.monotonic() - began < 10
    release.set()


async def test_failures_in_a_row_disable_the_webhook_until_enabled_again(
    settings, aiohttp_client, receive
):
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"webhook_max_failures": 3}))
    )
    healthy = False

    async def answer(n: int) -> web.Response:
        return web.Response(status=200 if healthy else 500, text="down")

    receiver = await receive(answer)
    made = await hook(client, receiver.url)
    ids = await images(client, 2)

    async def state() -> dict:
        resp = await client.get(f"/webhooks/{made['webhook_id']}")
        return await resp.json()

    async def disabled() -> bool:
        return not (await state())["enabled"]

    await async_wait_until(disabled, within=30, what="the webhook disabled")
    now = await state()
    assert now["disabled_reason"] == "3 failed attempts in a row (the last: HTTP 500)"
    assert len(receiver.received) == 3
    (pending,) = await deliveries(client, made["webhook_id"])
    assert pending["status"] == "pending"
    assert pending["response_excerpt"] == "down"
    healthy = True
    resp = await client.patch(f"/webhooks/{made['webhook_id']}", json={"enabled": True})
    assert (await resp.json())["failures"] == 0
    await async_wait_until(
        lambda: len(receiver.succeeded()) >= 2, within=30, what="delivery after enabling"
    )
    assert [b["data"]["image_id"] for b in receiver.succeeded()] == ids


async def test_gone_disables_and_other_client_errors_fail_one_event(client, receive):
    async def answer(n: int) -> web.Response:
        return web.Response(status=400 if n == 0 else 410)

    receiver = await receive(answer)
    made = await hook(client, receiver.url)
    await images(client, 3)

    async def disabled() -> bool:
        resp = await client.get(f"/webhooks/{made['webhook_id']}")
        return not (await resp.json())["enabled"]

    await async_wait_until(disabled, within=30, what="the webhook disabled")
    log = await deliveries(client, made["webhook_id"])
    assert [(d["status"], d["response_status"]) for d in log] == [
        ("pending", 410),
        ("failed", 400),
    ]
    assert len(receiver.received) == 2


async def test_redeliver_sends_the_event_again_with_its_id(client, receive):
    receiver = await receive()
    made = await hook(client, receiver.url, types=["image.created"])
    await images(client, 1)
    await async_wait_until(lambda: len(receiver.received) == 1, within=30, what="a delivery")
    (first,) = await deliveries(client, made["webhook_id"])
    resp = await client.post(
        f"/webhooks/{made['webhook_id']}/deliveries/{first['delivery_id']}/redeliver"
    )
    assert resp.status == 202, await resp.text()
    again = await resp.json()
    assert again["redelivery"] is True
    assert again["event_id"] == first["event_id"]
    await async_wait_until(lambda: len(receiver.received) == 2, within=30, what="a redelivery")
    assert receiver.received[0][1] == receiver.received[1][1]
    assert receiver.received[1][0]["webhook-id"] == first["event_id"]
    resp = await client.post(f"/webhooks/{made['webhook_id']}/deliveries/999999/redeliver")
    await problem(resp, 404)


async def test_webhook_bodies_are_checked(client):
    for body in (
        {"url": "ftp://example.com/x"},
        {"url": "https://user:pw@example.com/x"},
        {"url": "https://example.com/x", "types": ["images"]},
        {"url": "https://example.com/x", "secret": "whsec_c2hvcnQ="},
        {"url": "https://example.com/x", "extra": 1},
    ):
        resp = await client.post("/webhooks", json=body)
        await problem(resp, 400)
    made = await hook(client, "https://example.com/x", secret="whsec_" + "A" * 32)
    resp = await client.patch(f"/webhooks/{made['webhook_id']}", json={})
    await problem(resp, 400)
    resp = await client.patch(f"/webhooks/{made['webhook_id']}", json={"enabled": False})
    assert (await resp.json())["disabled_reason"] == "disabled by hand"
    resp = await client.delete(f"/webhooks/{made['webhook_id']}")
    assert resp.status == 204
    resp = await client.get(f"/webhooks/{made['webhook_id']}")
    await problem(resp, 404)
