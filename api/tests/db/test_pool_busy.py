"""A request that cannot get a pooled connection in time answers 503 at once, never hangs."""

import time

import pytest

from pixtag import keys
from pixtag.app import create_app

BUSY = "The server is busy; try again"


@pytest.fixture
async def crowded(aiohttp_client, settings):
    """A server whose two pooled connections are both taken, and the held connections."""
    app = create_app(settings.model_copy(update={"pool_max_size": 2, "pool_timeout_ms": 300}))
    client = await aiohttp_client(app)
    pool = app[keys.DATABASE].pool
    held = [await pool.acquire() for _ in range(pool.maxsize)]
    yield client
    for conn in held:
        await pool.release(conn)


async def assert_busy(resp) -> None:
    assert resp.status == 503
    assert resp.content_type == "application/problem+json"
    assert resp.headers["Retry-After"] == "1"
    body = await resp.json()
    assert body == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": BUSY,
        "error": BUSY,
    }


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/images/1", None),
        ("GET", "/images", None),
        ("POST", "/images", {"filename": "a.jpg", "tags": ["x"]}),
        ("GET", "/images/1/attachment/a.jpg", None),
    ],
    ids=["point-read", "listing", "create", "attachment"],
)
async def test_an_exhausted_pool_answers_503_with_retry_after_within_the_bound(
    crowded, method, path, body
):
    began = time.monotonic()
    resp = await crowded.request(method, path, json=body, allow_redirects=False)
    await assert_busy(resp)
    # The bound is 0.3 s; aiopg's own wait would have been 60 s.
    assert time.monotonic() - began < 10


async def test_the_server_answers_normally_once_connections_come_free(aiohttp_client, settings):
    app = create_app(settings.model_copy(update={"pool_max_size": 1, "pool_timeout_ms": 300}))
    client = await aiohttp_client(app)
    pool = app[keys.DATABASE].pool
    conn = await pool.acquire()
    await assert_busy(await client.get("/images/1"))
    await pool.release(conn)
    resp = await client.get("/images/1")
    assert resp.status == 404
    assert (await resp.json())["detail"] == "Image <1> is not found"
