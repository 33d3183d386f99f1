"""A share link opened in Chromium: its page, its password form, its Download button, and a
one-time link that only a real download uses up."""

import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.gallery.support import call, tag_word, upload
from tests.support.helpers import picture
from tests.support.processes import ServeProcess, wait_until

pytestmark = pytest.mark.xdist_group("browser")


def downloads(live: ServeProcess, image_id: int) -> list[int]:
    status, _, shares = call(live, "GET", f"/images/{image_id}/shares")
    assert status == 200
    return [share["downloads"] for share in shares]


def fetch(live: ServeProcess, path: str, method: str = "GET", **headers: str) -> int:
    request = urllib.request.Request(live.url + path, method=method, headers=headers)
    opener = urllib.request.build_opener(NoRedirect())
    try:
        with opener.open(request, timeout=30) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_a_password_page_says_wrong_then_opens_and_downloads_once(
    page: Any, live: ServeProcess
) -> None:
    word = tag_word()
    data = picture(word)
    image = upload(live, f"{word}.png", data, [word])
    status, _, share = call(
        live,
        "POST",
        f"/images/{image['image_id']}/shares",
        {"password": "open sesame", "max_downloads": 1},
    )
    assert status == 201

    # What must not use the link up: HEAD (curl -I), the page, a link preview.
    assert fetch(live, share["url"], "HEAD") == 401  # the password is asked for, nothing counted
    assert fetch(live, share["url"], "GET", Accept="text/html") == 200
    assert fetch(live, share["url"], "GET", **{"User-Agent": "Slackbot-LinkExpanding 1.0"}) == 200
    assert downloads(live, image["image_id"]) == [0]

    page.goto(share["url"])
    expect(page.locator("h1")).to_have_text("This link needs a password")
    page.fill("#password", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".message")).to_have_text("Wrong password.")
    page.fill("#password", "open sesame")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text(f"{word}.png")
    expect(page.locator(".size")).to_contain_text("bytes")
    assert downloads(live, image["image_id"]) == [0]

    with page.expect_download() as waiting:
        page.click("#download")
    download = waiting.value
    assert download.suggested_filename == f"{word}.png"
    with open(download.path(), "rb") as saved:
        assert saved.read() == data
    assert downloads(live, image["image_id"]) == [1]

    page.goto(share["url"])
    expect(page.locator(".message")).to_contain_text("used up")


def test_a_link_without_password_shows_its_thumbnail_and_survives_everything_but_a_download(
    page: Any, live: ServeProcess
) -> None:
    word = tag_word()
    data = picture(word)
    image = upload(live, f"{word}.png", data, [word])
    status, _, share = call(
        live, "POST", f"/images/{image['image_id']}/shares", {"max_downloads": 1}
    )
    assert status == 201
    assert fetch(live, share["url"], "HEAD") == 302  # curl -I: checked, nothing counted
    assert fetch(live, share["url"], "GET") == 302  # curl -D - -o /dev/null, no -L
    assert fetch(live, share["url"] + "/download", "HEAD") == 200
    assert downloads(live, image["image_id"]) == [0]

    # Test servers build no rendition eagerly: asking for the thumbnail builds it.
    fetch(live, f"/images/{image['image_id']}/renditions/thumb")
    wait_until(
        lambda: "thumb" in call(live, "GET", f"/images/{image['image_id']}")[2]["renditions"],
        within=60,
        what="the thumbnail",
    )
    page.goto(share["url"])
    expect(page.locator("h1")).to_have_text(f"{word}.png")
    image_box = page.locator("figure img")
    expect(image_box).to_be_visible()
    assert page.evaluate("document.querySelector('figure img').naturalWidth") > 0
    assert downloads(live, image["image_id"]) == [0]
    assert re.search(r"/s/[^/]+/download$", page.locator("#download").get_attribute("href"))

    with page.expect_download() as waiting:
        page.click("#download")
    with open(waiting.value.path(), "rb") as saved:
        assert saved.read() == data
    assert downloads(live, image["image_id"]) == [1]
    assert fetch(live, share["url"] + "/download") == 410


def test_an_album_page_with_a_password_shows_its_images_and_zips_them(
    page: Any, live: ServeProcess
) -> None:
    import hashlib
    import zipfile

    word = tag_word()
    files = {f"{word}-{n}.png": picture(f"{word}{n}") for n in range(3)}
    ids = [upload(live, name, data, [word])["image_id"] for name, data in files.items()]
    outsider = upload(live, f"{word}-x.png", picture(word + "x"), [word])["image_id"]
    status, _, album = call(live, "POST", "/albums", {"name": f"Album {word}"})
    assert status == 201
    call(live, "POST", f"/albums/{album['album_id']}/images", {"ids": ids})
    status, _, share = call(
        live,
        "POST",
        f"/albums/{album['album_id']}/shares",
        {"password": "open sesame", "strip_metadata": False},
    )
    assert status == 201

    page.goto(share["url"])
    expect(page.locator("h1")).to_have_text("This album needs a password")
    page.fill("#password", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".message")).to_have_text("Wrong password.")
    page.fill("#password", "open sesame")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text(f"Album {word}")
    images = page.locator("li.image")
    expect(images.locator(".name")).to_have_text(list(files))
    # The thumbnails load through the page's signed URLs (no password in them).
    for n in range(3):
        expect(images.nth(n).locator("img")).to_have_js_property("complete", True)
        width = images.nth(n).locator("img").evaluate("img => img.naturalWidth")
        assert width > 0
    assert "sesame" not in page.content()
    # One image, then all of them.
    with page.expect_download() as waiting:
        images.nth(1).locator("a.download").click()
    with open(waiting.value.path(), "rb") as saved:
        assert saved.read() == files[f"{word}-1.png"]
    with page.expect_download() as waiting:
        page.click("#download-all")
    assert waiting.value.suggested_filename == f"Album {word}.zip"
    with zipfile.ZipFile(waiting.value.path()) as archive:
        assert archive.namelist() == list(files)
        for name, data in files.items():
            assert hashlib.sha256(archive.read(name)).digest() == hashlib.sha256(data).digest()
    # The page's URLs lead only into the album: the same grant shape on another image fails.
    view = images.nth(0).locator("a.view").get_attribute("href")
    assert view is not None
    guessed = view.replace(f"/images/{ids[0]}/", f"/images/{outsider}/")
    assert fetch(live, guessed) in (401, 404)
    status, _, shares = call(live, "GET", f"/albums/{album['album_id']}/shares")
    assert [s["downloads"] for s in shares] == [2]
