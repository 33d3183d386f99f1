"""PixtagClient used directly, as a script would.

A listing cut short must be an error, never a shorter result.
"""

import pytest

from pixtag.app import create_app
from pixtag.client.errors import ClientError, ServerError
from pixtag.client.session import PixtagClient
from pixtag.settings import Settings
from tests.client.support import LiveServer
from tests.support.listing import backends, bulk_insert
from tests.support.processes import sql, wait_until

BULK = 8000  # enough that the stream outgrows the socket buffers


def kill_streaming_backend(database_url: str) -> None:
    """Terminate the PostgreSQL backend that feeds a listing in progress."""
    streaming: list[int] = []

    def listing_in_progress() -> bool:
        streaming[:] = [
            pid
            for pid, _state, query in backends(database_url)
            if query.startswith(("FETCH", "DECLARE"))
        ]
        return bool(streaming)

    wait_until(listing_in_progress, within=30, what="a listing in progress")
    sql(database_url, "SELECT pg_terminate_backend(%s)", (streaming[0],))


def read_all_killing_the_backend(client: PixtagClient, database_url: str) -> int:
    seen = 0
    for _image in client.images():
        seen += 1
        if seen == 1:
            kill_streaming_backend(database_url)
    return seen


def test_a_listing_cut_short_raises_instead_of_ending_quietly(
    settings: Settings, database_url: str
):
    bulk_insert(database_url, BULK)
    server = LiveServer(create_app(settings.model_copy(update={"chunk_size": 50})))
    server.start()
    try:
        with PixtagClient(server.url) as client, pytest.raises(ClientError, match="was cut short"):
            read_all_killing_the_backend(client, database_url)
    finally:
        server.stop()


def test_find_by_sha256_returns_none_for_an_unknown_digest(live_url: str):
    with PixtagClient(live_url) as client:
        assert client.find_by_sha256("0" * 64) is None
        with pytest.raises(ServerError) as caught:
            client.find_by_sha256("not-hex")
    assert caught.value.status == 400
    assert "sha256" in caught.value.detail
