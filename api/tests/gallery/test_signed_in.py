"""The gallery on a server with auth on: sign-in with a token, read-only views for a read token."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.gallery.support import tag_word, upload
from tests.support.auth import make_token
from tests.support.helpers import picture
from tests.support.processes import ServeProcess

# One Chromium at a time: every browser test runs on the same worker of a parallel run.
pytestmark = pytest.mark.xdist_group("browser")

TOKEN_KEY = "pixtag.token"


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    # On loopback auth is off unless asked for; reads need a token too.
    return {"PIXTAG_AUTH": "on", "PIXTAG_ANONYMOUS_READ": "false"}


def database_of(live: ServeProcess) -> str:
    args = list(live.args)
    return args[args.index("--database-url") + 1]


def sign_in(page: Any, token: str) -> None:
    page.goto("/gallery")
    expect(page.locator("#sign-in")).to_be_visible()
    page.locator("#token").fill(token)
    page.locator("#sign-in-form button[type=submit]").click()
    expect(page.locator("#sign-in")).to_be_hidden()


def test_without_a_token_the_sign_in_asks_for_one_and_shows_no_images(
    page: Any, live: ServeProcess
) -> None:
    page.goto("/gallery")
    expect(page.locator("#sign-in")).to_be_visible()
    expect(page.locator("#grid > li")).to_have_count(0)


def test_a_refused_token_is_said_so_and_not_kept(page: Any, live: ServeProcess) -> None:
    page.goto("/gallery")
    page.evaluate(f"sessionStorage.setItem('{TOKEN_KEY}', 'pxt_not-a-token')")
    page.reload()
    expect(page.locator("#sign-in")).to_be_visible()
    expect(page.locator("#sign-in-error")).not_to_be_empty()
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None


def test_a_read_token_sees_the_images_and_no_write_controls(page: Any, live: ServeProcess) -> None:
    _, writer = make_token(database_of(live), "write")
    _, reader = make_token(database_of(live), "read", name="viewer")
    word = tag_word()
    upload(live, f"{word}.png", picture(word), [word], token=writer)
    sign_in(page, reader)
    expect(page.locator("#who")).to_have_text("viewer (read)")
    assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == reader
    page.goto(f"/gallery?q={word}")
    img = page.locator("#grid > li", has_text=f"{word}.png").locator("img")
    # Thumbnails cannot carry the header from <img src>: fetched with it, shown as blobs.
    expect(img).to_have_attribute("src", re.compile(r"^blob:"))
    expect(img).not_to_have_js_property("naturalWidth", 0)
    expect(page.locator("body")).to_have_class(re.compile(r"\bno-write\b"))
    expect(page.locator(".upload")).to_be_hidden()


def test_a_write_token_gets_the_write_controls(page: Any, live: ServeProcess) -> None:
    _, writer = make_token(database_of(live), "write", name="editor")
    sign_in(page, writer)
    expect(page.locator("#who")).to_have_text("editor (write)")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bno-write\b"))
    expect(page.locator(".upload")).to_be_visible()
