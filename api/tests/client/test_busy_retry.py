"""A read the server answers 429 (this client's share of stream slots is taken) is asked
again after the Retry-After the server named: the client's own parallel lookups (an
import's) do not fail because they briefly overlap."""

import threading
import urllib.request

import psycopg2
import pytest
from aiohttp import web

from pixtag.client.session import PixtagClient
from pixtag.settings import Settings
from tests.support.processes import sql, wait_until


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"pool_max_size": 6, "max_streams": 3, "max_streams_per_client": 1}
    )


@pytest.fixture
def answered(live_app: web.Application) -> list[tuple[str, int]]:
    """The path and status of every answer of the live server."""
    seen: list[tuple[str, int]] = []

    @web.middleware
    async def record(request: web.Request, handler):  # type: ignore[no-untyped-def]
        response = await handler(request)
        seen.append((request.path, response.status))
        return response

    live_app.middlewares.insert(0, record)
    return seen


def waiting(database_url: str) -> int:
    ((count,),) = sql(
        database_url,
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        " AND (query ILIKE '%%FETCH%%' OR query ILIKE '%%DECLARE%%')",
    )
    return int(count)


def test_a_busy_read_is_asked_again_after_the_pause(answered, live_url, database_url):
    sql(database_url, "INSERT INTO images (filename) VALUES ('a.png')")
    holder = psycopg2.connect(database_url)
    with holder.cursor() as cur:
        cur.execute("LOCK TABLE images IN ACCESS EXCLUSIVE MODE")

    # This address's one stream: held open by the lock.
    def hold() -> None:
        with urllib.request.urlopen(f"{live_url}/images", timeout=60) as resp:
            resp.read()

    found: list[str] = []

    def look() -> None:
        with PixtagClient(live_url) as client:
            found.extend(image.filename for image in client.images())

    first = threading.Thread(target=hold)
    first.start()
    lookup = threading.Thread(target=look)
    try:
        wait_until(lambda: waiting(database_url) == 1, within=30, what="the first listing")
        lookup.start()
        wait_until(lambda: ("/images", 429) in answered, within=30, what="the lookup's 429")
    finally:
        holder.rollback()
        holder.close()
    lookup.join(30)
    first.join(30)
    assert found == ["a.png"]  # asked again after the pause, and answered
    assert ("/images", 200) in answered
