"""Fixtures for the client commands: a live server per test, on a fresh database."""

from collections.abc import Iterator

import pytest
from aiohttp import web

from pixtag.app import create_app
from pixtag.settings import Settings
from tests.client.support import LiveServer, Pixtag


@pytest.fixture
def live_app(settings: Settings) -> web.Application:
    """The application the live server runs; a test may add middlewares before it starts."""
    return create_app(settings)


@pytest.fixture
def live_url(live_app: web.Application) -> Iterator[str]:
    server = LiveServer(live_app)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture
def pixtag(live_url: str) -> Pixtag:
    return Pixtag(live_url)
