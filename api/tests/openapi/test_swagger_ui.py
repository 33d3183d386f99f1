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


async def test_try_it_out_prefills_no_optional_parameter(client):
    """Swagger UI sends a parameter's example in "Try it out": an optional filter would
    then be applied to every try, and find nothing."""
    spec = await (await client.get("/oas/spec")).json()
    optional = [
        (path, method, parameter)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        for parameter in operation.get("parameters", [])
        if not parameter.get("required")
    ]
    assert {parameter["name"] for path, _, parameter in optional if path == "/images"} >= {
        "tag",
        "tags_all",
        "tags_any",
        "sha256",
    }
    for path, method, parameter in optional:
        schema = parameter.get("schema", {})
        for node in (parameter, schema, schema.get("items", {})):
            assert "example" not in node, (method, path, parameter["name"])
            assert "examples" not in node, (method, path, parameter["name"])
