"""Swagger UI at /oas: the page and every asset it uses come from the server itself."""

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

CONTENT_TYPES = {
    ".css": {"text/css"},
    ".js": {"application/javascript", "text/javascript"},
    ".png": {"image/png"},
}


class References(HTMLParser):
    """Collects the URLs a page loads: scripts, stylesheets, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and attributes.get("src"):
            self.urls.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"])


async def page(client) -> str:
    resp = await client.get("/oas")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    return await resp.text()


async def test_swagger_ui_page_loads_nothing_from_outside(client):
    text = await page(client)
    assert "http://" not in text
    assert "https://" not in text
    assert "SwaggerUIBundle" in text


async def test_every_asset_of_the_page_is_served_by_pixtag(client):
    parser = References()
    parser.feed(await page(client))
    assert len(parser.urls) == 4
    for url in parser.urls:
        assert not urlsplit(url).netloc, url
        resp = await client.get(url)
        assert resp.status == 200, url
        suffix = url[url.rindex(".") :]
        assert resp.content_type in CONTENT_TYPES[suffix], url
        assert len(await resp.read()) > 0, url


@pytest.mark.parametrize(
    ("name", "minimum"), [("swagger-ui-bundle.js", 500_000), ("swagger-ui.css", 50_000)]
)
async def test_swagger_ui_assets_are_the_full_bundle(client, name, minimum):
    resp = await client.get(f"/oas/assets/{name}")
    assert resp.status == 200
    assert len(await resp.read()) > minimum


async def test_page_points_swagger_ui_at_the_live_spec(client):
    assert 'url: "/oas/spec"' in await page(client)
    resp = await client.get("/oas/spec")
    assert resp.status == 200
    assert (await resp.json())["info"]["title"] == "pixtag"
