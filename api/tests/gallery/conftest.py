"""A live ``pixtag serve``, an origin to capture from, and one headless Chromium for the module.

The browser is Debian's Chromium driven by Playwright (browsers cannot be
downloaded here, so never ``playwright install``). Every page runs in a
context that blocks and records any request not addressed to the pixtag
server: the gallery must work with no network beyond it.
"""

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.gallery.browser import ARGS, CHROMIUM, DESKTOP, WAIT_MS, Watch, open_context
from tests.support.origin import Origin, run_origin
from tests.support.processes import ServeProcess, pixtag_env, sql


def chromium_or_skip() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(
                f"{CHROMIUM} is missing in CI: .ci/run installs it (apt-get install chromium)"
            )
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI runs these tests")


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    with run_origin() as server:
        yield server


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """What the module's server runs with, beyond the tests' defaults (a module may add)."""
    return {}


@pytest.fixture(scope="module")
def live(
    tmp_path_factory: pytest.TempPathFactory,
    pg_server: Any,
    template_db: str,
    server_env: dict[str, str],
) -> Iterator[ServeProcess]:
    """One server for the module's tests, on a database of its own."""
    chromium_or_skip()
    name = f"gallery_{uuid.uuid4().hex}"
    sql(pg_server.uri(), f"CREATE DATABASE {name} TEMPLATE {template_db}")
    tmp = tmp_path_factory.mktemp("gallery")
    env = pixtag_env(
        PIXTAG_CAPTURE_ALLOW="127.0.0.1/32",
        PIXTAG_JOBS_POLL_INTERVAL="0.2",
        PIXTAG_SWEEP_INTERVAL="0",
        **server_env,
    )
    args = ("--data-dir", str(tmp / "data"), "--database-url", pg_server.uri(name))
    with ServeProcess(*args, log=tmp / "serve.log", env=env) as server:
        server.start()
        yield server
    sql(pg_server.uri(), f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def browser(live: ServeProcess) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)  # assertions wait as long as actions
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser: Any, live: ServeProcess, watch: Watch) -> Iterator[Any]:
    """A desktop page; after the test, nothing was asked of elsewhere and nothing threw."""
    context = open_context(browser, live, watch, DESKTOP)
    page = context.new_page()
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.on("dialog", lambda dialog: (watch.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()
    assert watch.elsewhere == [], "the gallery asked for something beyond the pixtag server"
    assert watch.errors == [], "the gallery's scripts threw"
    assert watch.dialogs == [], "a dialog fired"
