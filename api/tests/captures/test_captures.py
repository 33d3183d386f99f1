"""Capture by URL, in process: the lifecycle, retries, refusals and dedup, against a real
origin server (no mocks of the network)."""

import hashlib
import json
import socket

import pytest

from pixtag import keys
from pixtag.app import create_app
from pixtag.settings import Settings
from tests.support.helpers import picture
from tests.support.processes import async_wait_until, sql

TERMINAL = {"done", "failed", "cancelled"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "capture_allow": ("127.0.0.1/32",),
            "max_upload_size": 200_000,
            "jobs_poll_interval": 0.2,
            "jobs_backoff_base": 0.05,
            "jobs_max_attempts": 3,
            "capture_read_timeout": 1.0,
            "capture_total_timeout": 2.0,
        }
    )


async def capture(client, url: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.post("/captures", json={"url": url, **extra})
    assert resp.status in (200, 202), await resp.text()
    return await resp.json()


async def finished(client, capture_id: int, within: float = 15) -> dict:  # type: ignore[no-untyped-def]
    found: dict = {}

    async def done() -> bool:
        resp = await client.get(f"/captures/{capture_id}")
        found.update(await resp.json())
        return found["status"] in TERMINAL

    await async_wait_until(done, within=within, what=f"capture {capture_id} to finish")
    return found


async def test_capture_stores_the_image_and_names_it(client, origin):
    url = f"{origin.url}/img/cat.png"
    resp = await client.post("/captures", json={"url": url, "tags": ["Cats"]})
    assert resp.status == 202, await resp.text()
    body = await resp.json()
    assert resp.headers["Location"] == f"/captures/{body['capture_id']}"
    assert body["status"] in ("queued", "running")
    assert body["url"] == url
    assert body["tags"] == ["cats"]
    assert body["image_id"] is None
    done = await finished(client, body["capture_id"])
    data = picture("cat.png")
    assert done["status"] == "done"
    assert done["attempts"] == 1
    assert done["error"] is None
    assert done["sha256"] == hashlib.sha256(data).hexdigest()
    assert done["size"] == len(data)
    assert done["content_type"] == "image/png"
    assert done["duplicate"] is False
    assert done["finished_at"]
    image = await (await client.get(f"/images/{done['image_id']}")).json()
    assert image["filename"] == "cat.png"
    assert image["tags"] == ["cats"]
    assert image["attachment"]["sha256"] == done["sha256"]


async def test_a_url_captured_before_answers_the_same_capture_without_a_download(client, origin):
    url = f"{origin.url}/img/once.png"
    first = await capture(client, url)
    await finished(client, first["capture_id"])
    resp = await client.post("/captures", json={"url": url})
    assert resp.status == 200
    assert (await resp.json())["capture_id"] == first["capture_id"]
    assert origin.hits["/img/once.png"] == 1
    forced = await capture(client, url, force=True)
    assert forced["capture_id"] != first["capture_id"]
    again = await finished(client, forced["capture_id"])
    assert origin.hits["/img/once.png"] == 2
    # Same bytes: no second image; the first one gets the new tags.
    assert again["duplicate"] is True
    assert again["image_id"] == (await finished(client, first["capture_id"]))["image_id"]


async def test_same_bytes_at_another_url_is_a_duplicate_and_adds_its_tags(client, origin):
    first = await finished(client, (await capture(client, f"{origin.url}/img/a.png"))["capture_id"])
    second = await capture(client, f"{origin.url}/redirect/2/a.png", tags=["extra"])
    second = await finished(client, second["capture_id"])
    assert second["status"] == "done"
    assert second["duplicate"] is True
    assert second["image_id"] == first["image_id"]
    image = await (await client.get(f"/images/{first['image_id']}")).json()
    assert image["tags"] == ["extra"]
    assert sql(client.app[keys.SETTINGS].database_url, "SELECT count(*) FROM images")[0][0] == 1


async def test_a_capture_says_which_stored_pictures_its_file_copies(
    settings, aiohttp_client, origin
):
    """With fingerprints on, a capture's file is fingerprinted before it is recorded: the
    capture names the images it copies (nearest first), its pairs are queued for review,
    and no fingerprint job is left for it. Off, near_duplicates stays null."""
    indexed = settings.model_copy(update={"similar_index": True})
    client = await aiohttp_client(create_app(indexed))
    big = await finished(
        client, (await capture(client, f"{origin.url}/photo/30/coffee.png"))["capture_id"]
    )
    assert big["status"] == "done", big
    assert big["near_duplicates"] == []
    small = await capture(client, f"{origin.url}/photo/12/coffee.png")
    assert small["near_duplicates"] is None  # not stored yet
    small = await finished(client, small["capture_id"])
    assert small["status"] == "done", small
    (near,) = small["near_duplicates"]
    assert (near["image_id"], near["match"]) == (big["image_id"], "perceptual")
    resp = await client.get("/duplicates")
    (group,) = (await resp.json())["groups"]
    assert group["image_id"] == big["image_id"]
    assert [d["image_id"] for d in group["duplicates"]] == [small["image_id"]]
    url = indexed.database_url
    assert sql(url, "SELECT count(*) FROM jobs WHERE queue = 'similar'") == [(0,)]
    assert sql(url, "SELECT count(*) FROM image_fingerprints") == [(2,)]
    # The listing shows the same document.
    resp = await client.get("/captures", headers={"Accept": "application/x-ndjson"})
    listed = [json.loads(line) for line in (await resp.text()).splitlines()]
    assert small in listed


async def test_near_duplicates_stay_null_without_fingerprints(client, origin):
    done = await finished(
        client, (await capture(client, f"{origin.url}/photo/12/coffee.png"))["capture_id"]
    )
    assert done["status"] == "done"
    assert done["near_duplicates"] is None


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/status/403", "http_403"),
        ("/status/404", "http_404"),
        ("/text", "not_an_image"),
        ("/big", "too_large"),
        ("/big-chunked", "too_large"),
        ("/to-metadata", "refused_address"),
        ("/redirect/6/x.png", "too_many_redirects"),
    ],
)
async def test_permanent_failures_fail_at_once_keeping_their_error(client, origin, path, code):
    done = await finished(client, (await capture(client, origin.url + path))["capture_id"])
    assert done["status"] == "failed"
    assert done["attempts"] == 1
    assert done["error"]["code"] == code
    assert done["error"]["message"]
    assert done["image_id"] is None
    assert origin.hits[path] == 1


async def test_server_errors_are_retried_until_they_clear(client, origin):
    done = await finished(
        client, (await capture(client, f"{origin.url}/flaky/2/f.png"))["capture_id"]
    )
    assert done["status"] == "done"
    assert done["attempts"] == 3
    assert done["error"] is None
    assert origin.hits["/flaky/2/f.png"] == 3


async def test_server_errors_fail_after_the_maximum_attempts(client, origin):
    done = await finished(client, (await capture(client, f"{origin.url}/status/500"))["capture_id"])
    assert done["status"] == "failed"
    assert done["attempts"] == 3
    assert done["error"] == {
        "code": "http_500",
        "message": "the server answered 500 Internal Server Error",
    }
    assert origin.hits["/status/500"] == 3


async def test_too_many_requests_waits_for_retry_after(client, origin):
    done = await finished(client, (await capture(client, f"{origin.url}/busy/b.png"))["capture_id"])
    assert done["status"] == "done"
    assert done["attempts"] == 2
    rows = sql(
        client.app[keys.SETTINGS].database_url,
        "SELECT extract(epoch FROM finished_at - created_at) FROM jobs",
    )
    assert rows[0][0] >= 1.0  # the second attempt waited for Retry-After: 1


async def test_a_slow_drip_times_out_and_is_retried(client, origin):
    done = await finished(
        client, (await capture(client, f"{origin.url}/drip"))["capture_id"], within=30
    )
    assert done["status"] == "failed"
    assert done["error"]["code"] == "timeout"
    assert done["attempts"] == 3


async def test_a_capture_gives_up_once_its_total_time_is_spent(settings, aiohttp_client, origin):
    """Each attempt at a slow drip times out after 2 s; with 3 s over all attempts, the
    second gets what is left, then the capture fails for good (not after 3 x 2 s)."""
    client = await aiohttp_client(create_app(settings.model_copy(update={"capture_max_time": 3.0})))
    done = await finished(
        client, (await capture(client, f"{origin.url}/drip"))["capture_id"], within=30
    )
    assert done["status"] == "failed"
    assert done["error"]["code"] == "out_of_time"
    assert "PIXTAG_CAPTURE_MAX_TIME" in done["error"]["message"]
    assert done["attempts"] == 2
    # A retry queues it anew, with its whole time again (not out of time at once).
    assert (await client.post(f"/captures/{done['capture_id']}/retry")).status == 202
    again = await finished(client, done["capture_id"], within=30)
    assert (again["error"]["code"], again["attempts"]) == ("out_of_time", 2)


async def test_addresses_outside_the_allow_list_are_refused(client, origin):
    for url in ("http://127.0.0.2:1/x.png", "http://10.1.2.3/x.png", "http://169.254.169.254/"):
        done = await finished(client, (await capture(client, url))["capture_id"])
        assert done["status"] == "failed", url
        assert done["error"]["code"] == "refused_address", url
        assert "not a public address" in done["error"]["message"]


async def test_without_an_allow_list_loopback_is_refused_by_name_and_address(
    settings, aiohttp_client, origin
):
    client = await aiohttp_client(create_app(settings.model_copy(update={"capture_allow": ()})))
    for path in ("/img/x.png", "/redirect/1/x.png"):
        for host in ("127.0.0.1", "localhost"):
            done = await finished(
                client, (await capture(client, f"http://{host}:{origin.port}{path}"))["capture_id"]
            )
            assert done["error"]["code"] == "refused_address"
    assert sum(origin.hits.values()) == 0


async def test_blocked_domains_fail_at_once(settings, aiohttp_client):
    blocked = settings.model_copy(update={"capture_block_domains": ("sinaimg.cn",)})
    client = await aiohttp_client(create_app(blocked))
    done = await finished(
        client, (await capture(client, "http://wx3.sinaimg.cn/large/a.jpg"))["capture_id"]
    )
    assert done["status"] == "failed"
    assert done["attempts"] == 1
    assert done["error"] == {
        "code": "blocked_domain",
        "message": "the domain wx3.sinaimg.cn is blocked",
    }


async def test_a_capture_recorded_by_a_process_that_died_before_its_job_was_done_is_not_redone(
    client, origin, database_url
):
    # As a process leaves it when killed between its commit and the engine's "done": the
    # capture's result recorded, the job still running under a lease that ran out.
    done = await finished(
        client, (await capture(client, f"{origin.url}/img/once-only.png"))["capture_id"]
    )
    sql(
        database_url,
        "UPDATE jobs SET status = 'running', token = 'dead', result = NULL, finished_at = NULL,"
        " lease_until = now() - interval '1 second' WHERE job_id ="
        " (SELECT job_id FROM captures WHERE capture_id = %s)",
        (done["capture_id"],),
    )
    again = await finished(client, done["capture_id"])
    assert again["status"] == "done"
    assert again["attempts"] == 2  # taken over, and found done
    assert again["image_id"] == done["image_id"]
    assert origin.hits["/img/once-only.png"] == 1
    assert sql(database_url, "SELECT count(*) FROM images") == [(1,)]
    job = sql(
        database_url,
        "SELECT result FROM jobs JOIN captures USING (job_id) WHERE capture_id = %s",
        (done["capture_id"],),
    )
    assert job == [({"image_id": done["image_id"], "duplicate": False},)]


async def test_an_allow_rule_with_a_port_opens_that_port_only(settings, aiohttp_client, origin):
    allowed = settings.model_copy(update={"capture_allow": (f"127.0.0.1:{origin.port}",)})
    client = await aiohttp_client(create_app(allowed))
    done = await finished(
        client, (await capture(client, f"{origin.url}/img/port.png"))["capture_id"]
    )
    assert done["status"] == "done"
    with socket.socket() as other:  # a listening port of this machine that the rule does not name
        other.bind(("127.0.0.1", 0))
        other.listen()
        url = f"http://127.0.0.1:{other.getsockname()[1]}/img/port.png"
        done = await finished(client, (await capture(client, url))["capture_id"])
    assert done["error"]["code"] == "refused_address"
    assert origin.hits["/img/port.png"] == 1
