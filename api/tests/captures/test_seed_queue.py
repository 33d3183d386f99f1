"""Seed 001's URL queue, walked as its README describes it, on captures."""

import pytest

from pixtag.settings import Settings
from tests.captures.test_captures import finished
from tests.support.helpers import problem


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"capture_allow": ("127.0.0.1/32",), "jobs_poll_interval": 0.2}
    )


async def queue(client, *urls: str) -> list[dict]:  # type: ignore[no-untyped-def]
    resp = await client.post("/queue", json=[{"url": url} for url in urls])
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def status(client, enabled: bool) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.post("/status", json={"enabled": enabled})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def listed(client, **params) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    resp = await client.get("/queue", params=params)
    assert resp.status == 200, await resp.text()
    return [(entry["url"], entry["status"]) for entry in await resp.json()]


async def test_the_seed_walk_ready_while_disabled_tasked_when_enabled_done_when_visited(
    client, origin
):
    assert await (await client.get("/status")).json() == {"enabled": True}
    assert await status(client, False) == {"enabled": False, "dispatched": 0}
    a, b = f"{origin.url}/img/a.png", f"{origin.url}/img/b.png"

    added = await queue(client, a, b, a)
    assert [(e["url"], e["status"]) for e in added] == [(a, "READY"), (b, "READY")]
    assert set(added[0]) == {"id", "url", "status"}
    assert await queue(client, a) == []  # seen before: discarded
    assert await listed(client) == [(a, "READY"), (b, "READY")]
    assert origin.hits["/img/a.png"] == 0

    # Enabling dispatches every READY URL.
    assert await status(client, True) == {"enabled": True, "dispatched": 2}
    for entry in added:
        assert (await finished(client, entry["id"]))["status"] == "done"
    assert await listed(client) == [(a, "DONE"), (b, "DONE")]
    assert await listed(client, status="DONE", limit="1") == [(a, "DONE")]
    assert await listed(client, status="READY") == []
    # Done is remembered: the URL is discarded again, whatever its status.
    assert await queue(client, a, b) == []


async def test_a_worker_hands_urls_back_ready_or_done(client, origin):
    await status(client, False)
    waiting = f"{origin.url}/img/w.png"
    (entry,) = await queue(client, waiting)
    # DONE for one still waiting: finished without being fetched.
    resp = await client.put("/queue", json={"origin": waiting, "status": "DONE"})
    assert resp.status == 200
    assert (await resp.json())["status"] == "DONE"
    await problem(await client.get(f"/captures/{entry['id']}"), 410)  # cancelled
    # READY for a finished one: it waits to run again.
    resp = await client.put("/queue", json={"origin": waiting, "status": "READY"})
    again = await resp.json()
    assert (again["status"], again["url"]) == ("READY", waiting)
    assert again["id"] != entry["id"]
    await status(client, True)
    assert (await finished(client, again["id"]))["status"] == "done"
    assert origin.hits["/img/w.png"] == 1


async def test_refusals(client, origin):
    await problem(await client.post("/queue", json={"url": "x"}), 400)
    await problem(await client.post("/queue", json=[{"url": "ftp://x/y"}]), 400)
    await problem(await client.post("/queue", json=[]), 400)
    await problem(await client.get("/queue", params={"status": "LOST"}), 400)
    await problem(await client.get("/queue", params={"limit": "0"}), 400)
    await problem(
        await client.put("/queue", json={"origin": f"{origin.url}/never", "status": "DONE"}), 404
    )
    await problem(
        await client.put("/queue", json={"origin": f"{origin.url}/x", "status": "TASKED"}), 400
    )
    await problem(await client.post("/status", json={"enabled": "yes"}), 400)
