"""axe-core in the browser: no serious or critical violation on the grid, an image's page,
the viewer and a share page.

``vendor/axe.min.js`` is axe-core from npm (see ``vendor/README.md``), a test tool only:
it is evaluated into the page by the test, never served by pixtag.
"""

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.gallery.support import call, tag_word, upload
from tests.support.helpers import photo
from tests.support.processes import ServeProcess

pytestmark = pytest.mark.xdist_group("browser")

AXE = (Path(__file__).with_name("vendor") / "axe.min.js").read_text()
# What axe reports, cut to what a failure needs to say.
FOUND = """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
  .filter((v) => v.impact === "serious" || v.impact === "critical")
  .map((v) => `${v.id} (${v.impact}): ${v.help}: ${
    v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`)"""


def violations(page: Any) -> list[str]:
    """The serious and critical violations axe finds in the page as it is now."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE)  # through the DevTools protocol: the page's CSP still holds for it
    return page.evaluate(FOUND)


def test_no_serious_violation_on_the_grid_an_image_page_the_viewer_and_a_share_page(
    page: Any, live: ServeProcess
) -> None:
    word = tag_word()
    image = upload(live, f"{word}.png", photo("astronaut.png"), [word, f"{word} two"])
    page.goto(f"/gallery?q={word}")
    expect(page.locator("#grid > li")).to_have_count(1)
    expect(page.locator("#tag-list li")).to_have_count(2)
    # The check sees what it should: a button without a name is one.
    page.evaluate(
        "document.body.append(Object.assign(document.createElement('button'), {id: 'x'}))"
    )
    assert [found.split(" ")[0] for found in violations(page)] == ["button-name"]
    page.evaluate("document.getElementById('x').remove()")
    assert violations(page) == []

    page.locator("#grid .view").click()
    expect(page.locator("#viewer")).to_be_visible()
    expect(page.locator("#viewer-img")).not_to_have_js_property("naturalWidth", 0)
    assert violations(page) == []

    page.goto(f"/gallery/images/{image['image_id']}")
    expect(page.locator("#filename")).to_have_text(f"{word}.png")
    assert violations(page) == []

    status, _, share = call(live, "POST", f"/images/{image['image_id']}/shares", {})
    assert status == 201
    page.goto(share["url"])
    expect(page.locator("h1")).to_have_text(f"{word}.png")
    assert violations(page) == []
