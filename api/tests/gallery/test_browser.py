"""The gallery in a real browser (headless Chromium), against a live ``pixtag serve``.

Each test states a user's path through the pages; assertions are Playwright's
auto-waiting ``expect``, never sleeps. Share links and sign-in need the
access-control routes: those tests run as soon as the application has them.
"""

import base64
import os
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.gallery.browser import DESKTOP, PHONE, Watch, open_context
from tests.gallery.support import call, tag_word, upload
from tests.metadata.test_reading import XMP, camera_exif, saved
from tests.support.helpers import photo, picture
from tests.support.origin import Origin
from tests.support.processes import ServeProcess

# One Chromium at a time: every browser test runs on the same worker of a parallel run.
pytestmark = pytest.mark.xdist_group("browser")

DOCS = Path(__file__).resolve().parents[3] / "docs"
SCREENSHOTS = os.environ.get("PIXTAG_GALLERY_SCREENSHOTS") == "1"
XSS = "<img src=x onerror=alert(1)>"


def tiles(page: Any) -> Any:
    return page.locator("#grid > li")


def tile(page: Any, filename: str) -> Any:
    return tiles(page).filter(
        has=page.locator(".name", has_text=re.compile(f"^{re.escape(filename)}$"))
    )


def loaded(img: Any) -> None:
    """The image shows a picture (a rendition, or the original when there is none)."""
    expect(img).to_have_js_property("complete", True)
    expect(img).not_to_have_js_property("naturalWidth", 0)


def search(page: Any, q: str) -> None:
    page.fill("#q", q)
    page.press("#q", "Enter")


def test_upload_two_files_filter_by_tag_and_negated_tag_and_bulk_tag_a_selection(
    page: Any, live: ServeProcess
) -> None:
    a, b, word = f"{tag_word()}-a.png", f"{tag_word()}-b.png", tag_word()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/gallery$"))
    page.set_input_files(
        "#files",
        [
            {"name": a, "mimeType": "image/png", "buffer": picture(a)},
            {"name": b, "mimeType": "image/png", "buffer": picture(b)},
        ],
    )
    expect(page.locator("#transfers .done")).to_have_count(2)
    expect(tile(page, a)).to_be_visible()
    expect(tile(page, b)).to_be_visible()
    loaded(tile(page, a).locator("img"))
    loaded(tile(page, b).locator("img"))
    expect(page.locator("#drop")).to_be_hidden()

    # Click one, shift-click the other: both selected; tag them, then only a.
    tile(page, a).locator(".pick").click()
    tile(page, b).locator(".pick").click(modifiers=["Shift"])
    expect(page.locator("#selected-count")).to_have_text(re.compile(r"^\d+ selected$"))
    expect(tile(page, a)).to_have_class(re.compile("selected"))
    expect(tile(page, b)).to_have_class(re.compile("selected"))
    page.fill("#bulk-tags", f"{word}-both")
    page.click("#bulk-add")
    expect(page.locator("#notice")).to_have_text(re.compile(r"image.? changed"))
    expect(tile(page, a).locator(".tag", has_text=f"{word}-both")).to_be_visible()
    tile(page, a).locator(".pick").click()
    page.fill("#bulk-tags", word)
    page.click("#bulk-add")
    expect(page.locator("#notice")).to_have_text("1 image changed.")

    # Autocomplete while typing a negated tag: the suggestion shows its count.
    page.fill("#q", f"{word}-both -{word[:5]}")
    page.locator("#q").dispatch_event("input")
    suggestion = page.locator("#suggestions li", has_text=re.compile(f"^{word}1$"))
    expect(suggestion).to_be_visible()
    suggestion.dispatch_event("mousedown")
    expect(page.locator("#q")).to_have_value(f"{word}-both -{word} ")
    page.press("#q", "Enter")
    expect(tiles(page)).to_have_count(1)
    expect(tile(page, b)).to_be_visible()

    search(page, word)
    expect(tiles(page)).to_have_count(1)
    expect(tile(page, a)).to_be_visible()
    expect(page).to_have_url(re.compile(f"q={word}"))

    # Clicking a tag on a tile filters by it.
    search(page, "")
    tile(page, b).locator(".tag", has_text=f"{word}-both").click()
    expect(page.locator("#q")).to_have_value(f"{word}-both")
    expect(tiles(page)).to_have_count(2)

    # The bulk bar on the whole search: remove the shared tag from both.
    page.fill("#bulk-tags", f"{word}-both")
    page.check("#bulk-all")
    page.click("#bulk-remove")
    expect(page.locator("#notice")).to_have_text("2 images changed.")
    expect(tiles(page)).to_have_count(0)
    expect(page.locator("#empty")).to_be_visible()


def test_image_page_edits_tags_in_place_and_says_when_someone_else_changed_it(
    page: Any, live: ServeProcess
) -> None:
    word = tag_word()
    image = upload(live, f"{word}.png", picture(word), [f"{word}-keep", f"{word}-drop"])
    page.goto(f"/gallery/images/{image['image_id']}")
    expect(page.locator("#filename")).to_have_text(f"{word}.png")
    expect(page.locator("#facts")).to_contain_text("image/png")
    expect(page.locator("#facts")).to_contain_text(image["attachment"]["sha256"])
    loaded(page.locator("#preview"))
    expect(page.locator("#download")).to_have_attribute(
        "href", f"/images/{image['image_id']}/attachment/{word}.png"
    )

    page.fill("#tag-input", f"{word}-new")
    page.press("#tag-input", "Enter")
    expect(page.locator("#tags li", has_text=f"{word}-new")).to_be_visible()
    page.click(f"[aria-label='Remove tag {word}-drop']")
    expect(page.locator("#tags li")).to_have_count(2)
    _, _, stored = call(live, "GET", f"/images/{image['image_id']}")
    assert stored["tags"] == [f"{word}-keep", f"{word}-new"]

    # Someone else edits it meanwhile: the page's next edit is refused, and says why.
    status, _, _ = call(live, "PATCH", f"/images/{image['image_id']}", {"tags_add": ["other"]})
    assert status == 200
    page.fill("#tag-input", f"{word}-late")
    page.press("#tag-input", "Enter")
    expect(page.locator("#message")).to_contain_text("changed elsewhere")
    _, _, stored = call(live, "GET", f"/images/{image['image_id']}")
    assert f"{word}-late" not in stored["tags"]

    page.reload()
    page.click("#rename-open")
    page.fill("#new-name", f"{word}-renamed.png")
    page.press("#new-name", "Enter")
    expect(page.locator("#filename")).to_have_text(f"{word}-renamed.png")
    expect(page.locator("#download")).to_have_attribute(
        "href", f"/images/{image['image_id']}/attachment/{word}-renamed.png"
    )


def test_arrows_walk_the_grid_escape_returns_and_delete_asks_first(
    page: Any, live: ServeProcess
) -> None:
    word = tag_word()
    first = upload(live, f"{word}-1.png", picture(f"{word}-1"), [word])
    second = upload(live, f"{word}-2.png", picture(f"{word}-2"), [word])
    page.goto(f"/gallery?q={word}")
    expect(tiles(page)).to_have_count(2)
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.press("Escape")
    tile(page, f"{word}-2.png").locator("a.thumb").click()
    expect(page.locator("#filename")).to_have_text(f"{word}-2.png")
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(f"/gallery/images/{first['image_id']}$"))
    expect(page.locator("#filename")).to_have_text(f"{word}-1.png")
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(re.compile(f"/gallery/images/{second['image_id']}$"))

    page.click("#delete")
    expect(page.locator("#confirm-delete")).to_be_visible()
    page.click("#confirm-delete button[value=cancel]")
    assert call(live, "GET", f"/images/{second['image_id']}")[0] == 200
    page.click("#delete")
    page.click("#confirm-delete-yes")
    expect(page).to_have_url(re.compile(f"/gallery\\?q={word}$"))
    expect(tiles(page)).to_have_count(1)
    assert call(live, "GET", f"/images/{second['image_id']}")[0] == 410
    page.keyboard.press("Escape")


def test_capture_by_url_shows_its_status_until_done(
    page: Any, live: ServeProcess, origin: Origin
) -> None:
    name = f"{tag_word()}.png"
    page.goto("/gallery")
    page.fill("#capture-url", f"{origin.url}/img/{name}")
    page.press("#capture-url", "Enter")
    row = page.locator("#transfers li", has_text=name)
    expect(row).to_have_class("done", timeout=30_000)
    expect(row.locator(".status")).to_have_text(re.compile(r"^done: image \d+$"))
    expect(tile(page, name)).to_be_visible()
    page.fill("#capture-url", f"{origin.url}/status/404")
    page.press("#capture-url", "Enter")
    failed = page.locator("#transfers li", has_text="/status/404")
    expect(failed).to_have_class("failed", timeout=30_000)
    expect(failed.locator(".status")).to_contain_text("failed")


def test_markup_in_tags_and_filenames_is_shown_as_text_and_never_runs(
    page: Any, live: ServeProcess, watch: Watch
) -> None:
    status, _, image = call(live, "POST", "/images", {"filename": XSS, "tags": [XSS]})
    assert status == 201
    page.goto(f"/gallery?q={call_quote(XSS)}")
    expect(tile(page, XSS)).to_be_visible()
    expect(tile(page, XSS).locator(".tag")).to_have_text(XSS)
    page.goto(f"/gallery/images/{image['image_id']}")
    expect(page.locator("#filename")).to_have_text(XSS)
    expect(page.locator("#tags li a")).to_have_text(XSS)
    assert page.locator("#filename img, #grid img[src='x'], #tags img").count() == 0
    assert watch.dialogs == []


def call_quote(tag: str) -> str:
    from urllib.parse import quote

    return quote(f'"{tag}"')


def test_the_grid_renders_on_a_phone_and_on_a_desktop(browser: Any, live: ServeProcess) -> None:
    word = tag_word()
    for n in range(3):
        upload(live, f"{word}-{n}.png", picture(f"{word}-{n}"), [word, "screenshot"])
    many = [word, *(f"{word} tag number {n}" for n in range(12))]
    upload(live, f"{word}-many-tags.png", picture(f"{word}-many"), many)
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        watch = Watch()
        context = open_context(browser, live, watch, viewport)
        page = context.new_page()
        page.goto(f"/gallery?q={word}")
        expect(tiles(page)).to_have_count(4)
        for shown in tiles(page).all()[:2]:
            expect(shown).to_be_in_viewport()
        for shown in tiles(page).all():
            box = shown.bounding_box()
            assert box is not None
            assert box["x"] + box["width"] <= viewport["width"]
        # Cards keep one height for their tags whatever their number.
        heights = {
            round(box["height"])
            for box in map(lambda t: t.bounding_box(), tiles(page).locator(".tile-tags").all())
        }
        assert len(heights) == 1, (name, heights)
        # The search box's placeholder is whole, not cut off.
        fits = page.locator("#q").evaluate(
            """(input) => {
                const style = getComputedStyle(input);
                const context = document.createElement("canvas").getContext("2d");
                context.font = style.font;
                const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
                const room = input.clientWidth - padding;
                return context.measureText(input.placeholder).width <= room;
            }"""
        )
        assert fits, name
        context.close()
        assert watch.elsewhere == [], name


NIKON = ("NIKON CORPORATION", "NIKON Z 6_2")
CANON = ("Canon", "Canon EOS R5")
APPLE = ("Apple", "iPhone 15 Pro")
FUJI = ("FUJIFILM", "X-T5")
# The README's pictures: scikit-image's sample photographs, each with a date taken and a camera.
SHOWCASE = [
    ("astronaut.png", ["space", "portrait", "nasa"], "2024:03:14 09:12:00", *NIKON),
    ("rocket.jpg", ["space", "launch", "nasa"], "2024:03:14 16:40:10", *NIKON),
    ("hubble_deep_field.jpg", ["space", "galaxies"], "2024:04:02 22:05:00", *CANON),
    ("chelsea.png", ["cat", "pets", "portrait"], "2024:05:01 10:30:15", *APPLE),
    ("coffee.png", ["coffee", "food"], "2024:05:18 08:02:44", *APPLE),
    ("motorcycle_left.png", ["vehicle", "motorcycle"], "2024:06:09 13:20:00", *FUJI),
    ("motorcycle_right.png", ["vehicle", "motorcycle"], "2024:06:09 13:20:02", *FUJI),
    ("retina.jpg", ["science", "medical"], "2024:06:21 11:00:00", *CANON),
    ("camera.png", ["black and white", "portrait"], "2024:07:04 17:45:30", *FUJI),
    ("coins.png", ["black and white", "coins"], "2024:07:19 15:10:00", *FUJI),
    ("moon.png", ["black and white", "space"], "2024:08:11 23:59:00", *CANON),
    ("grass.png", ["texture", "nature"], "2024:08:24 07:30:00", *APPLE),
    ("gravel.png", ["texture"], "2024:08:24 07:31:00", *APPLE),
    ("brick.png", ["texture", "wall"], "2024:09:02 12:00:00", *APPLE),
]
SCREENSHOT_NAMES = ["gallery-grid", "gallery-image", "gallery-viewer", "gallery-timeline"]


def showcase_photo(name: str, taken: str, make: str, model: str) -> bytes:
    """A sample photograph as a camera JPEG: its date taken, make, model, lens and exposure."""
    exif = camera_exif(with_date=False)
    exif[0x010F], exif[0x0110] = make, model  # Make, Model
    del exif[0x0112]  # Orientation: upright as it is
    exif.get_ifd(0x8769)[0x9003] = taken  # DateTimeOriginal
    scale = {"chelsea.png": 2.0, "hubble_deep_field.jpg": 1.0, "retina.jpg": 0.5}.get(name, 0.8)
    return photo(name, "JPEG", scale, exif=exif)


def test_screenshots_of_the_grid_image_page_viewer_and_timeline(
    browser: Any, live: ServeProcess
) -> None:
    """With PIXTAG_GALLERY_SCREENSHOTS=1 this writes the README's pictures; else they are
    there, PNGs at the desktop size, and the README shows each."""
    readme = (DOCS.parent / "README.md").read_text()
    if not SCREENSHOTS:
        for name in SCREENSHOT_NAMES:
            assert f"](docs/{name}.png)" in readme
            with Image.open(DOCS / f"{name}.png") as shot:
                assert (shot.format, shot.size) == ("PNG", (DESKTOP["width"], DESKTOP["height"]))
        return
    ids = {}
    for name, tags, taken, make, model in SHOWCASE:
        data = showcase_photo(name, taken, make, model)
        ids[name] = upload(live, name.rsplit(".", 1)[0] + ".jpg", data, tags)["image_id"]
    context = open_context(browser, live, Watch(), DESKTOP)
    page = context.new_page()

    def all_loaded() -> None:
        expect(page.locator("#count")).to_have_text(f"{len(SHOWCASE)} images")
        shown_tiles = page.locator("#grid > li.tile")
        expect(shown_tiles).to_have_count(len(SHOWCASE))
        for shown in shown_tiles.all():
            if shown.bounding_box()["y"] < DESKTOP["height"]:  # below the fold: loaded lazily
                loaded(shown.locator("img"))

    page.goto("/gallery")
    all_loaded()
    page.screenshot(path=DOCS / "gallery-grid.png")

    tile(page, "chelsea.jpg").locator(".view").click()
    loaded(page.locator("#viewer-img"))
    page.screenshot(path=DOCS / "gallery-viewer.png")
    page.keyboard.press("Escape")

    page.goto("/gallery?sort=taken&group=month")
    all_loaded()
    expect(page.locator("#grid .period h2").first).to_have_text("March 2024")
    page.screenshot(path=DOCS / "gallery-timeline.png")

    page.goto(f"/gallery/images/{ids['astronaut.png']}")
    loaded(page.locator("#preview"))
    expect(page.locator("#facts dt:text-is('Camera') + dd")).to_have_text("NIKON Z 6_2")
    page.screenshot(path=DOCS / "gallery-image.png")
    context.close()


def test_a_share_link_is_created_copied_and_opens(page: Any, live: ServeProcess) -> None:
    word = tag_word()
    image = upload(live, f"{word}.png", picture(word), [word])
    page.goto(f"/gallery/images/{image['image_id']}")
    page.click("#share summary")
    page.check("#share-once")
    page.click("#share-form button[type=submit]")
    expect(page.locator("#share-url")).to_have_value(re.compile(r"/s/[^/]+$"))
    expect(page.locator("#share-message")).to_contain_text("1 download")
    url = page.locator("#share-url").input_value()
    response = page.request.get(url)
    assert response.status == 200
    assert response.body() == picture(word)


DROP = """
    ([files]) => {
      const transfer = new DataTransfer();
      for (const [name, type, base64] of files) {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], name, { type }));
      }
      document.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true }));
      document.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
    }
"""


def test_dropped_files_upload_each_on_its_own_and_a_refusal_says_why(
    page: Any, live: ServeProcess
) -> None:
    word = tag_word()
    good, bad = f"{word}.png", f"{word}.txt"
    page.goto("/gallery")
    expect(page.locator("#bulk")).to_be_visible()
    files = [
        [good, "image/png", base64.b64encode(picture(word)).decode()],
        [bad, "image/png", base64.b64encode(b"not an image at all").decode()],
    ]
    page.evaluate(DROP, [files])
    expect(page.locator("#transfers li.done", has_text=good)).to_be_visible()
    refused = page.locator("#transfers li.failed", has_text=bad)
    expect(refused.locator(".status")).to_have_text(re.compile(r"^refused: .+"))
    expect(page.locator("#drop")).to_be_hidden()
    expect(tile(page, good)).to_be_visible()
    expect(tile(page, bad)).to_have_count(0)
    status, _, listing = call(live, "GET", "/images?q=sort:-id&limit=5")
    assert status == 200
    assert good in [image["filename"] for image in listing[0]]
    assert bad not in [image["filename"] for image in listing[0]]


def test_the_image_page_shows_and_edits_the_description(page: Any, live: ServeProcess) -> None:
    word = tag_word()
    image = upload(live, f"{word}.png", picture(word), [word])
    page.goto(f"/gallery/images/{image['image_id']}")
    expect(page.locator("#description")).to_be_hidden()
    page.click("#describe-open")
    page.fill("#new-description", f"Harbour at dawn\nfrom the {word} pier")
    page.click("#describe button[type=submit]")
    expect(page.locator("#description")).to_have_text(f"Harbour at dawn\nfrom the {word} pier")
    status, _, found = call(live, "GET", f"/images?q=text:{word}")
    assert status == 200
    assert [row["image_id"] for row in found[0]] == [image["image_id"]]
    page.reload()
    expect(page.locator("#description")).to_contain_text("Harbour at dawn")


def test_duplicates_are_not_uploaded_twice_and_a_group_is_reviewed_kept_and_dismissed(
    page: Any, live: ServeProcess
) -> None:
    """Uploading a stored file again stores nothing and says where it is; a resized copy is
    stored and the row names the picture it copies; the image page shows it as similar;
    the Duplicates page keeps the larger one (merging the copy's tags) and dismisses
    another group."""
    word = tag_word()
    original = photo("coffee.png", scale=0.3)
    small = photo("coffee.png", "JPEG", scale=0.15, quality=70)
    page.goto("/gallery")
    expect(page.locator("#bulk")).to_be_visible()
    page.set_input_files(
        "#files", [{"name": f"{word}.png", "mimeType": "image/png", "buffer": original}]
    )
    expect(page.locator("#transfers li.done", has_text=f"{word}.png")).to_be_visible()
    status, _, found = call(live, "GET", f"/images?q=text:{word}&limit=5")
    ((kept,),) = found[:1]
    kept_id = kept["image_id"]

    page.set_input_files(
        "#files", [{"name": f"{word}-again.png", "mimeType": "image/png", "buffer": original}]
    )
    again = page.locator("#transfers li.duplicate", has_text=f"{word}-again.png")
    expect(again.locator(".status")).to_have_text(
        f"already stored, not uploaded again: image {kept_id}"
    )
    expect(again.locator(f'a[href$="/images/{kept_id}"]')).to_be_visible()

    page.set_input_files(
        "#files", [{"name": f"{word}-small.jpg", "mimeType": "image/jpeg", "buffer": small}]
    )
    copy = page.locator("#transfers li.duplicate", has_text=f"{word}-small.jpg")
    expect(copy.locator(".status")).to_have_text(
        re.compile(rf"^done: image (\d+), which looks like image {kept_id} \(same picture\)$")
    )
    status, _, found = call(live, "GET", f"/images?q=text:{word}&limit=5")
    assert status == 200
    assert len(found[0]) == 2  # the file sent again was not stored
    copy_id = next(image["image_id"] for image in found[0] if image["image_id"] != kept_id)
    call(live, "PATCH", f"/images/{copy_id}", {"tags_add": [f"{word}-from-copy"]})

    page.goto(f"/gallery/images/{kept_id}")
    expect(page.locator("#similar-title")).to_have_text("1 similar")
    expect(page.locator(f'#similar a[href$="/images/{copy_id}"]')).to_contain_text("same picture")

    # Another pair, to dismiss.
    rocket = photo("rocket.jpg", scale=0.2)
    other = upload(live, f"{word}-r.png", rocket, [], check_similar=True)["image_id"]
    upload(live, f"{word}-r2.jpg", photo("rocket.jpg", "JPEG", scale=0.1), [], check_similar=True)

    page.click("text=Duplicates")
    expect(page).to_have_url(re.compile(r"/gallery/duplicates$"))
    group = page.locator(f'.group[data-image-id="{kept_id}"]')
    expect(group.locator(".candidate")).to_have_count(2)
    expect(group.locator(f'.candidate[data-image-id="{kept_id}"]')).to_have_class(
        re.compile("kept")
    )
    expect(group.locator(f'.candidate[data-image-id="{copy_id}"] .match')).to_have_text(
        re.compile("^same picture")
    )
    group.locator("button.keep").click()
    expect(page.locator(".group.resolved").first).to_have_text(
        f"Kept image {kept_id}; merged and deleted image {copy_id}."
    )
    assert call(live, "GET", f"/images/{copy_id}")[0] == 410
    assert f"{word}-from-copy" in call(live, "GET", f"/images/{kept_id}")[2]["tags"]

    rockets = page.locator(f'.group[data-image-id="{other}"]')
    rockets.locator("button.dismiss").click()
    expect(page.locator(".group.resolved", has_text="are not duplicates")).to_be_visible()
    _, _, queue = call(live, "GET", "/duplicates?limit=500")
    assert other not in [g["image_id"] for g in queue["groups"]]
    assert kept_id not in [g["image_id"] for g in queue["groups"]]


def one_file(name: str, data: bytes, mime: str = "image/png") -> dict[str, Any]:
    return {"name": name, "mimeType": mime, "buffer": data}


def test_the_image_page_shows_what_the_photo_says_and_the_grid_sorts_by_date_taken(
    page: Any, live: ServeProcess
) -> None:
    word = tag_word()
    photo_bytes = saved("JPEG", exif=camera_exif(), xmp=XMP.encode())
    first = upload(live, f"{word}-1.jpg", photo_bytes, [word])["image_id"]
    later = upload(live, f"{word}-2.png", picture(word), [word])["image_id"]
    upload(live, f"{word}-3.png", picture(word + "x"), [word])  # no date: last either way
    call(live, "PATCH", f"/images/{later}", {"taken_at": "2025-01-01T12:00:00"})

    page.goto(f"/gallery/images/{first}")
    facts = page.locator("#facts")
    expect(facts).to_contain_text("2024-05-01 10:30:15 (UTC+02:00)")
    expect(facts.locator("dt:text-is('Camera') + dd")).to_have_text("Canon EOS R5")  # once
    expect(facts).to_contain_text("RF35mm F1.8 MACRO IS STM")
    expect(facts).to_contain_text("35 mm, f/2.8, 1/250 s, ISO 3200, flash")
    expect(page.locator("#location")).to_have_text("48.85660, -2.35220")
    expect(facts).to_contain_text("Paris, Eiffel Tower, Alice")

    page.goto(f"/gallery?q={word}")
    expect(tiles(page)).to_have_count(3)
    page.select_option("#sort", "-taken")
    expect(page).to_have_url(re.compile(r"sort=-taken"))
    expected = [f"{word}-2.png", f"{word}-1.jpg", f"{word}-3.png"]
    expect(tiles(page).locator(".name")).to_have_text(expected)
    page.select_option("#sort", "taken")
    expect(tiles(page).locator(".name")).to_have_text([expected[1], expected[0], expected[2]])
    # A timeline: a heading per month (or day), the undated last.
    periods = page.locator("#grid .period h2")
    expect(periods).to_have_text(["May 2024", "January 2025", "No date taken"])
    expect(page.locator("#grid [data-period]").first).to_have_attribute("data-period", "2024-05")
    page.select_option("#group", "day")
    expect(page).to_have_url(re.compile(r"group=day"))
    expect(periods).to_have_text(
        ["Wednesday, May 1, 2024", "Wednesday, January 1, 2025", "No date taken"]
    )
    page.reload()  # the order and the grouping are in the address
    expect(page.locator("#sort")).to_have_value("taken")
    expect(page.locator("#group")).to_have_value("day")
    page.select_option("#group", "")
    expect(periods).to_have_count(0)
    expect(tiles(page)).to_have_count(3)

    # The search box completes camera names as camera: matches them.
    search = page.locator("#q")
    search.fill("")
    search.press_sequentially(f"{word} camera:can")
    expect(page.locator("#suggestions li").first).to_have_text("canon eos r5")
    search.press("ArrowDown")
    search.press("Enter")
    expect(search).to_have_value(f'{word} camera:"canon eos r5" ')
    search.press("Enter")
    expect(tiles(page).locator(".name")).to_have_text([f"{word}-1.jpg"])


def test_tags_are_typed_as_people_type_them(page: Any, live: ServeProcess) -> None:
    """Spaces stay inside a tag; Enter, Tab and a comma commit; a pasted list adds each; in
    the bulk bar, commas separate and "-tag" removes."""
    word = tag_word()
    image = upload(live, f"{word}.png", picture(word), [f"{word} old"])
    path = f"/images/{image['image_id']}"
    page.goto(f"/gallery{path}")
    box = page.locator("#tag-input")
    box.fill(f"{word} new tag")
    box.press("Enter")
    expect(page.locator("#tags li", has_text=f"{word} new tag")).to_be_visible()
    expect(box).to_have_value("")
    box.fill(f"{word} by comma")
    box.press(",")
    expect(page.locator("#tags li", has_text=f"{word} by comma")).to_be_visible()
    box.fill(f"{word} by tab")
    box.press("Tab")
    expect(page.locator("#tags li", has_text=f"{word} by tab")).to_be_visible()
    expect(box).to_be_focused()  # Tab committed the tag rather than leaving the box
    box.evaluate(
        """(input, text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            input.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                                                            cancelable: true}));
        }""",
        f"{word} one\n{word} two, {word} three",
    )
    expect(page.locator("#tags li", has_text=f"{word} three")).to_be_visible()
    _, _, stored = call(live, "GET", path)
    assert sorted(stored["tags"]) == sorted(
        f"{word} {t}" for t in ("old", "new tag", "by comma", "by tab", "one", "two", "three")
    )

    page.goto("/gallery")
    page.fill("#upload-tags", f"{word} a, {word} b c, {word} d")
    page.set_input_files(
        "#files",
        [{"name": f"{word}-up.png", "mimeType": "image/png", "buffer": picture(f"{word}up")}],
    )
    expect(page.locator("#transfers .done")).to_have_count(1)
    _, _, found = call(live, "GET", f"/images?tag={word}%20b%20c")
    (uploaded,) = [image for chunk in found[:-1] for image in chunk]
    assert uploaded["tags"] == [f"{word} a", f"{word} b c", f"{word} d"]
    page.fill("#q", f'"{word} old"')
    page.press("#q", "Enter")
    expect(tiles(page)).to_have_count(1)
    expect(page.locator("#count")).to_have_text("1 image")  # GET /images/count
    page.fill("#q", f"{word}*")
    page.press("#q", "Enter")
    expect(page.locator("#count")).to_have_text("2 images")
    page.goto(f"/gallery?q={word}*")  # counted on the first load too
    expect(page.locator("#count")).to_have_text("2 images")
    page.fill("#q", f'"{word} old"')
    page.press("#q", "Enter")
    page.check("#bulk-all")
    page.fill("#bulk-tags", f"{word} summer 2026, -{word} one, -{word} two")
    page.click("#bulk-add")
    expect(page.locator("#notice")).to_have_text("1 image changed.")
    _, _, stored = call(live, "GET", path)
    assert f"{word} summer 2026" in stored["tags"]
    assert f"{word} one" not in stored["tags"]
    assert f"{word} two" not in stored["tags"]


def test_a_deleted_or_unknown_image_page_says_so_and_offers_nothing(
    page: Any, live: ServeProcess
) -> None:
    word = tag_word()
    image = upload(live, f"{word}.png", picture(word), [word])
    status, _, _ = call(live, "DELETE", f"/images/{image['image_id']}")
    assert status == 204
    page.goto(f"/gallery/images/{image['image_id']}")
    expect(page.locator("#unavailable h1")).to_have_text("This image was deleted")
    expect(page.locator("#unavailable p")).to_contain_text(
        f"Image <{image['image_id']}> was deleted"
    )
    for control in ("#rename-open", "#tag-input", "#download", "#delete", "#share", "#preview"):
        expect(page.locator(control)).to_have_count(0)
    page.click("#unavailable a")
    expect(page).to_have_url(re.compile(r"/gallery$"))
    page.goto("/gallery/images/999999")
    expect(page.locator("#unavailable h1")).to_have_text("No such image")
    expect(page.locator("#download")).to_have_count(0)


def test_related_tags_are_offered_and_added_with_a_click(page: Any, live: ServeProcess) -> None:
    word = tag_word()
    for n in range(3):
        upload(live, f"{word}-{n}.png", picture(f"{word}{n}"), [f"{word} sea", f"{word} boat"])
    upload(live, f"{word}-x.png", picture(f"{word}x"), [f"{word} sea", f"{word} sky"])
    image = upload(live, f"{word}.png", picture(word), [f"{word} sea"])
    _, _, related = call(live, "GET", f"/tags/{word}%20sea/related")
    assert [r["tag"] for r in related["related"]] == [f"{word} boat", f"{word} sky"]
    page.goto(f"/gallery/images/{image['image_id']}")
    expect(page.locator("#related li")).to_have_count(2)
    expect(page.locator("#related li").first).to_contain_text(f"{word} boat (60%)")
    page.click(f"[aria-label='Add tag {word} boat']")
    expect(page.locator("#tags li", has_text=f"{word} boat")).to_be_visible()
    expect(page.locator("#related li")).to_have_count(1)  # what it has is not offered
    _, _, stored = call(live, "GET", f"/images/{image['image_id']}")
    assert stored["tags"] == [f"{word} sea", f"{word} boat"]


def test_dates_and_sizes_read_as_the_viewer_writes_them(page: Any, live: ServeProcess) -> None:
    word = tag_word()
    data = photo("astronaut.png", "PNG", scale=1.0)
    image = upload(live, f"{word}.png", data, [word])
    page.goto(f"/gallery/images/{image['image_id']}")
    created = page.locator("#facts time").first
    expect(created).to_have_attribute("title", image["created_at"])
    expect(created).to_have_attribute("datetime", image["created_at"])
    expect(created).not_to_have_text(image["created_at"])  # the locale's words, not ISO
    size = image["attachment"]["size"]
    expect(page.locator("#facts")).to_contain_text(
        f"{size / 1024:,.1f} KiB ({size:,} bytes)".replace(".0 KiB", " KiB")
        if size < 1024 * 1024
        else f"{size / 1024 / 1024:,.1f} MiB ({size:,} bytes)".replace(".0 MiB", " MiB")
    )
    expect(page.locator("#facts")).not_to_contain_text(" KB")


def test_the_sidebar_counts_the_tags_shown_narrows_excludes_and_offers_related_tags(
    page: Any, live: ServeProcess
) -> None:
    word = tag_word()
    a, b, c = f"{word}-a", f"{word} b", f"{word}-c"
    for n, tags in enumerate([[a, b]] * 3 + [[a, c]] * 2 + [[c]]):
        upload(live, f"{word}-{n}.png", picture(f"{word}{n}"), tags)
    page.goto(f"/gallery?q={a}")
    expect(tiles(page)).to_have_count(5)

    # The tags of the images shown, each with its count in the whole collection, as the
    # API counts them, most used first.
    _, _, listed = call(live, "GET", f"/tags?name={a}&name={b.replace(' ', '%20')}&name={c}")
    truth = [(row["tag"], row["image_count"]) for chunk in listed[:-1] for row in chunk]
    assert truth == [(a, 5), (c, 3), (b, 3)] or truth == [(a, 5), (b, 3), (c, 3)]
    entries = page.locator("#tag-list li")
    expect(entries).to_have_count(3)
    shown = [
        (entry.locator(".tag-filter").inner_text(), int(entry.locator(".tag-count").inner_text()))
        for entry in entries.all()
    ]
    assert shown == truth

    # A one-tag search also shows the tags found with it, by how often.
    related = page.locator("#related-list li")
    expect(related).to_have_count(2)
    expect(related.first.locator(".tag-filter")).to_have_text(b)
    expect(related.first.locator(".tag-count")).to_have_text("3")

    # A click narrows the search; Alt+click, or the minus button, leaves the tag out.
    page.locator("#tag-list li", has_text=b).locator(".tag-filter").click()
    expect(page.locator("#q")).to_have_value(f'{a} "{b}"')
    expect(tiles(page)).to_have_count(3)
    expect(page.locator("#related-box")).to_be_hidden()  # two tags: nothing is related to both
    search(page, a)
    expect(tiles(page)).to_have_count(5)
    page.locator("#tag-list li", has_text=c).locator(".tag-filter").click(modifiers=["Alt"])
    expect(page.locator("#q")).to_have_value(f"{a} -{c}")
    expect(tiles(page)).to_have_count(3)
    search(page, a)
    page.click(f"[aria-label='Leave out images tagged {b}']")
    expect(page.locator("#q")).to_have_value(f'{a} -"{b}"')
    expect(tiles(page)).to_have_count(2)


def test_the_viewer_zooms_to_the_original_walks_by_keyboard_tags_and_returns_to_the_grid(
    page: Any, live: ServeProcess
) -> None:
    word = tag_word()
    images = {}
    for n in range(30):
        data = photo("astronaut.png") if n == 15 else picture(f"{word}{n}")
        images[n] = upload(live, f"{word}-{n:02}.png", data, [word])
        if n == 15:  # a record without a file between two pictures: the viewer steps over it
            record = {"filename": f"{word}-15b", "tags": [word]}
            status, _, _ = call(live, "POST", "/images", record)
            assert status == 201
    page.goto(f"/gallery?q={word}")
    expect(tiles(page)).to_have_count(31)
    page.evaluate("window.scrollTo(0, 300)")
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 0
    pictures = page.locator("#grid > li.tile:has(.view)")
    ids = [int(item.get_attribute("data-id")) for item in pictures.all()]
    assert len(ids) == 30
    at = ids.index(images[15]["image_id"])

    tile(page, f"{word}-15.png").locator(".view").click()
    viewer, img = page.locator("#viewer"), page.locator("#viewer-img")
    expect(viewer).to_be_visible()
    expect(img).to_have_attribute("data-image-id", str(ids[at]))
    expect(img).to_have_attribute("src", f"/images/{ids[at]}/renditions/preview")
    loaded(img)
    expect(img).to_have_attribute("alt", f"{word}-15.png")
    expect(page.locator("#viewer-caption")).to_contain_text(f"{at + 1} of 30")

    # A double-click shows the original, pixel for pixel.
    page.locator("#viewer-stage").dblclick()
    expect(img).to_have_attribute("src", images[15]["attachment"]["url"])
    expect(page.locator("#viewer-zoom")).to_have_attribute("aria-pressed", "true")
    loaded(img)
    size = img.evaluate("i => [i.getBoundingClientRect().width, i.naturalWidth]")
    assert size == [images[15]["attachment"]["width"]] * 2
    page.locator("#viewer-stage").dblclick()  # back to the window's size
    expect(page.locator("#viewer-zoom")).to_have_attribute("aria-pressed", "false")

    # The arrow keys walk the grid's order.
    page.keyboard.press("ArrowRight")
    expect(img).to_have_attribute("data-image-id", str(ids[at + 1]))
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    expect(img).to_have_attribute("data-image-id", str(ids[at - 1]))

    # `t` tags in place; Escape closes the tag box, then the viewer.
    page.keyboard.press("t")
    expect(page.locator("#viewer-tag-input")).to_be_focused()
    page.keyboard.type(f"{word} seen")
    page.keyboard.press("Enter")
    expect(page.locator("#viewer-tags")).to_have_text(f"{word}, {word} seen")
    _, _, stored = call(live, "GET", f"/images/{ids[at - 1]}")
    assert stored["tags"] == [word, f"{word} seen"]
    page.keyboard.press("Escape")
    expect(page.locator("#viewer-tag")).to_be_hidden()
    expect(viewer).to_be_visible()
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    assert page.evaluate("window.scrollY") == scrolled
    expect(tile(page, f"{word}-16.png").locator(".tag", has_text=f"{word} seen")).to_be_visible()

    # From the image page too, walking the same order.
    tile(page, f"{word}-15.png").locator("a.thumb").click()
    expect(page).to_have_url(re.compile(f"/gallery/images/{ids[at]}$"))
    page.click("#full-screen")
    expect(viewer).to_be_visible()
    expect(img).to_have_attribute("data-image-id", str(ids[at]))
    page.keyboard.press("ArrowRight")
    expect(img).to_have_attribute("data-image-id", str(ids[at + 1]))
    page.keyboard.press("ArrowLeft")
    expect(img).to_have_attribute("data-image-id", str(ids[at]))
    page.keyboard.press("ArrowLeft")  # over the record without a file the grid's ids name
    expect(img).to_have_attribute("data-image-id", str(ids[at - 1]))
    loaded(img)
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(page).to_have_url(re.compile(f"/gallery/images/{ids[at]}$"))
