"""Albums in the gallery, in Chromium: the selection into a new album, the Albums page, an
album reordered by keyboard and by drag, an image removed, the album shared."""

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.gallery.support import call, tag_word, upload
from tests.gallery.test_browser import search, tiles
from tests.support.helpers import picture
from tests.support.processes import ServeProcess

pytestmark = pytest.mark.xdist_group("browser")


def order(live: ServeProcess, album_id: int) -> list[str]:
    request = urllib.request.Request(
        f"{live.url}/albums/{album_id}/images", headers={"Accept": "application/x-ndjson"}
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return [json.loads(line)["filename"] for line in resp.read().splitlines() if line]


def test_a_selection_becomes_an_album_reordered_by_keyboard_and_drag_then_shared(
    page: Any, live: ServeProcess
) -> None:
    word = tag_word()
    names = [f"{word}-{n}.png" for n in range(4)]
    for name in names:
        upload(live, name, picture(name), [word])
    page.goto("/gallery")
    search(page, f"{word} sort:id")
    expect(tiles(page)).to_have_count(4)
    page.click("#select-all")
    page.fill("#album-target", f"Album {word}")
    page.click("#album-add")
    expect(page.locator("#notice")).to_have_text(f"Added 4 images to “Album {word}” (4 in it).")
    _, _, listed = call(live, "GET", "/albums")
    (album,) = [a for chunk in listed[:-1] for a in chunk if a["name"] == f"Album {word}"]
    assert order(live, album["album_id"]) == names

    # The Albums page lists it; open it.
    page.click("a.nav-link:has-text('Albums')")
    card = page.locator(f'.album-card[data-album-id="{album["album_id"]}"]')
    expect(card.locator(".facts")).to_have_text("4 images")
    card.locator("a").click()
    expect(page).to_have_url(re.compile(rf"/gallery/albums/{album['album_id']}$"))
    expect(page.locator("#album-name")).to_have_text(f"Album {word}")
    album_tiles = page.locator("#grid .tile")
    expect(album_tiles.locator(".name")).to_have_text(names)

    # Keyboard: the first image one place right, the last one place left.
    album_tiles.nth(0).focus()
    page.keyboard.press("Alt+ArrowRight")
    expected = [names[1], names[0], names[2], names[3]]
    expect(album_tiles.locator(".name")).to_have_text(expected)
    assert order(live, album["album_id"]) == expected
    album_tiles.nth(3).focus()
    page.keyboard.press("Alt+ArrowLeft")
    expected = [names[1], names[0], names[3], names[2]]
    expect(album_tiles.locator(".name")).to_have_text(expected)
    assert order(live, album["album_id"]) == expected

    # Drag: the last image onto the first (it goes before it).
    album_tiles.nth(3).drag_to(album_tiles.nth(0))
    expected = [names[2], names[1], names[0], names[3]]
    expect(album_tiles.locator(".name")).to_have_text(expected)
    assert order(live, album["album_id"]) == expected

    # Remove one; the page and the album agree.
    album_tiles.nth(1).locator(".remove").click()
    expected = [names[2], names[0], names[3]]
    expect(album_tiles.locator(".name")).to_have_text(expected)
    expect(page.locator("#album-facts")).to_have_text("3 images")
    assert order(live, album["album_id"]) == expected

    # Share it: the link opens the album's page, in this order.
    page.click("#share-album")
    link = page.locator("#share-url")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href is not None
    page.goto(href)
    expect(page.locator("h1")).to_have_text(f"Album {word}")
    expect(page.locator("li.image .name")).to_have_text(expected)
