"""The captures API around the downloads: listing, retry, cancel, the switch, batch, errors,
and seed 000's spellings."""

import json
import urllib.parse

import pytest

from pixtag.settings import Settings
from tests.captures.test_captures import capture, finished
from tests.support.processes import async_wait_until


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "capture_allow": ("127.0.0.1/32",),
            "jobs_poll_interval": 0.2,
            "jobs_backoff_base": 0.05,
            "jobs_max_attempts": 2,
            "chunk_size": 2,
        }
    )


async def pause(client, enabled: bool) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.put("/captures/switch", json={"enabled": enabled})
    assert resp.status == 200
    return await resp.json()


async def test_the_switch_pauses_dispatch_and_resuming_runs_the_queued(client, origin):
    assert await (await client.get("/captures/switch")).json() == {
        "enabled": True,
        "queued": 0,
        "running": 0,
    }
    assert await pause(client, False) == {"enabled": False, "queued": 0, "running": 0}
    queued = await capture(client, f"{origin.url}/img/p.png")
    state = await (await client.get("/captures/switch")).json()
    assert state == {"enabled": False, "queued": 1, "running": 0}
    assert (await (await client.get(f"/captures/{queued['capture_id']}")).json())[
        "status"
    ] == "queued"
    assert origin.hits["/img/p.png"] == 0
    await pause(client, True)
    assert (await finished(client, queued["capture_id"]))["status"] == "done"


async def test_cancel_a_queued_capture_and_not_a_finished_one(client, origin):
    await pause(client, False)
    queued = await capture(client, f"{origin.url}/img/c.png")
    resp = await client.delete(f"/captures/{queued['capture_id']}")
    assert resp.status == 200
    cancelled = await resp.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["finished_at"]
    for method in ("DELETE", "GET"):
        resp = await client.request(method, f"/captures/{queued['capture_id']}")
        assert resp.status == 410
        assert resp.content_type == "application/problem+json"
        assert (await resp.json())["detail"] == f"Capture <{queued['capture_id']}> was cancelled"
    await pause(client, True)
    # A cancelled URL may be captured again.
    again = await capture(client, f"{origin.url}/img/c.png")
    assert again["capture_id"] != queued["capture_id"]
    assert (await finished(client, again["capture_id"]))["status"] == "done"
    assert origin.hits["/img/c.png"] == 1


async def test_a_running_capture_cannot_be_cancelled(client, origin):
    running = await capture(client, f"{origin.url}/held/h.png")

    async def started() -> bool:
        found = await (await client.get(f"/captures/{running['capture_id']}")).json()
        return found["status"] == "running"

    await async_wait_until(started, within=15, what="the capture to start")
    resp = await client.delete(f"/captures/{running['capture_id']}")
    assert resp.status == 409
    assert (await resp.json())["detail"] == (
        f"Capture <{running['capture_id']}> is running: only a queued capture can be cancelled"
    )
    origin.held.set()
    assert (await finished(client, running["capture_id"]))["status"] == "done"


async def test_retry_a_failed_capture(client, origin):
    failed = await finished(
        client, (await capture(client, f"{origin.url}/flaky/2/r.png"))["capture_id"]
    )
    assert failed["status"] == "failed"
    assert failed["attempts"] == 2
    assert failed["error"]["code"] == "http_503"
    resp = await client.post(f"/captures/{failed['capture_id']}/retry")
    assert resp.status == 202
    assert (await resp.json())["attempts"] == 0
    done = await finished(client, failed["capture_id"])
    assert done["status"] == "done"
    assert done["attempts"] == 1
    assert done["error"] is None
    resp = await client.post(f"/captures/{failed['capture_id']}/retry")
    assert resp.status == 409
    assert (await resp.json())["detail"] == (
        f"Capture <{failed['capture_id']}> is done: only a failed or queued capture can be retried"
    )


async def test_missing_captures_are_404_problems(client):
    for method, path in [
        ("GET", "/captures/9"),
        ("DELETE", "/captures/9"),
        ("POST", "/captures/9/retry"),
    ]:
        resp = await client.request(method, path)
        assert resp.status == 404
        assert (await resp.json())["error"] == "Capture <9> is not found"


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/a.png"},
        {"url": "http://"},
        {"url": "javascript:alert(1)"},
        {"url": "http://example.com/a b.png"},
        {"url": "http://example.com/a.png", "tags": [""]},
        {"url": "http://example.com/a.png", "unknown": 1},
        {},
    ],
)
async def test_invalid_capture_requests_are_400_problems(client, body):
    resp = await client.post("/captures", json=body)
    assert resp.status == 400
    problem = await resp.json()
    assert problem["status"] == 400
    assert problem["errors"]


async def test_batch_queues_each_distinct_url_once_in_order(client, origin):
    earlier = await finished(
        client, (await capture(client, f"{origin.url}/img/b0.png"))["capture_id"]
    )
    urls = [f"{origin.url}/img/b{n}.png" for n in range(4)]
    resp = await client.post("/captures/batch", json={"urls": [*urls, urls[1]], "tags": ["b"]})
    assert resp.status == 202
    batch = await resp.json()
    assert [c["url"] for c in batch] == urls
    assert batch[0] == earlier
    assert all(c["tags"] == ["b"] for c in batch[1:])
    for item in batch:
        assert (await finished(client, item["capture_id"]))["status"] == "done"
    assert [origin.hits[f"/img/b{n}.png"] for n in range(4)] == [1, 1, 1, 1]


async def test_listing_streams_captures_in_chunks_filtered_and_paged(client, origin):
    ids = []
    for name in ("l1", "l2", "l3"):
        ids.append((await capture(client, f"{origin.url}/img/{name}.png"))["capture_id"])
    failing = (await capture(client, f"{origin.url}/status/410"))["capture_id"]
    for capture_id in [*ids, failing]:
        await finished(client, capture_id)
    resp = await client.get("/captures")
    assert resp.status == 200
    assert resp.headers["Transfer-Encoding"] == "chunked"
    body = await resp.json()
    assert [[c["capture_id"] for c in chunk] for chunk in body[:-1]] == [ids[:2], [ids[2], failing]]
    assert body[-1] == {"totalImages": 4, "totalChunks": 2}
    done = await (await client.get("/captures", params={"status": "done"})).json()
    assert [c["capture_id"] for chunk in done[:-1] for c in chunk] == ids
    page = await (await client.get("/captures", params={"after_id": ids[0], "limit": 2})).json()
    assert [c["capture_id"] for chunk in page[:-1] for c in chunk] == ids[1:]
    lines = await (
        await client.get(
            "/captures", params={"status": "failed"}, headers={"Accept": "application/x-ndjson"}
        )
    ).text()
    assert [json.loads(line)["error"]["code"] for line in lines.splitlines()] == ["http_410"]
    resp = await client.get("/captures", params={"status": "lost"})
    assert resp.status == 400


async def test_seed_spellings_answer_resources_from_the_same_rows(client, origin):
    url = f"{origin.url}/img/seed.png"
    resp = await client.post("/capture", json={"url": url})
    assert resp.status == 201
    resource = await resp.json()
    assert resource["url"] == url
    assert resource["status"] in ("init", "done")
    resp = await client.post("/batch/capture", json={"urls": [url, f"{origin.url}/status/403"]})
    assert resp.status == 201
    both = await resp.json()
    assert [r["url"] for r in both] == [url, f"{origin.url}/status/403"]
    assert both[0]["task_id"] == resource["task_id"]  # the same capture: no second download

    async def settled() -> bool:
        found = await (await client.get("/resources", params={"status": "ongoing"})).json()
        return found == []

    await async_wait_until(settled, within=15, what="no ongoing resources")
    done = await (await client.get("/resources", params={"status": "done"})).json()
    assert [r["url"] for r in done] == [url]
    (item,) = done
    assert item["status"] == "done"
    assert item["downloaded"] == 1
    assert item["mimetype"] == "image/png"
    assert len(item["content_hash"]) == 64
    assert item["downloaded_time"] >= item["created"] > 0
    failed = await (await client.get("/resources", params={"status": "failed"})).json()
    assert [(r["url"], r["status"], r["downloaded"]) for r in failed] == [
        (f"{origin.url}/status/403", "failed", 0)
    ]
    resp = await client.get("/resources/" + urllib.parse.quote(url, safe=""))
    assert resp.status == 200
    assert await resp.json() == item
    resp = await client.get("/resources/" + urllib.parse.quote("http://nowhere.example/x", safe=""))
    assert resp.status == 404
    assert origin.hits["/img/seed.png"] == 1
