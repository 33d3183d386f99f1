"""The gallery's HTTP side: redirects, headers, static files, and staying out of the API."""

import json
import re
from pathlib import Path

from aiohttp.test_utils import TestClient

from pixtag.app import create_app
from pixtag.gallery import static
from pixtag.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def assert_protected(headers: object) -> None:
    assert headers["Content-Security-Policy"] == POLICY  # type: ignore[index]
    assert headers["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]
    assert headers["Referrer-Policy"] == "same-origin"  # type: ignore[index]
    assert headers["X-Frame-Options"] == "DENY"  # type: ignore[index]


async def test_root_redirects_to_the_gallery(client: TestClient) -> None:
    resp = await client.get("/", allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == "/gallery"


async def test_pages_are_uncached_html_with_only_versioned_scripts_of_their_own(
    client: TestClient,
) -> None:
    for path, script in (
        ("/gallery", "grid.js"),
        ("/gallery/images/42", "image.js"),
        ("/gallery/duplicates", "duplicates.js"),
    ):
        resp = await client.get(path)
        assert resp.status == 200
        assert resp.content_type == "text/html"
        assert resp.headers["Cache-Control"] == "no-cache"
        assert_protected(resp.headers)
        page = await resp.text()
        version = static.version()
        assert f'<script type="module" src="/gallery/static/{version}/{script}"></script>' in page
        # Every script is a file of this server's: none inline, none from elsewhere.
        assert re.findall(r"<script[^>]*>", page) == [
            f'<script type="module" src="/gallery/static/{version}/{script}">'
        ]
        assert "http://" not in page
        assert "https://" not in page
    page = await (await client.get("/gallery/images/42")).text()
    assert 'data-image-id="42"' in page


async def test_an_image_page_needs_an_image_id(client: TestClient) -> None:
    resp = await client.get("/gallery/images/0x1")
    assert resp.status == 404
    assert resp.content_type == "application/problem+json"
    assert_protected(resp.headers)


async def test_static_files_are_cached_forever_under_the_current_version_only(
    client: TestClient,
) -> None:
    version = static.version()
    resp = await client.get(f"/gallery/static/{version}/grid.js")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/javascript")
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert_protected(resp.headers)
    assert "import" in await resp.text()
    css = await client.get(f"/gallery/static/{version}/gallery.css")
    assert css.headers["Content-Type"].startswith("text/css")
    stale = await client.get("/gallery/static/0000000000000000/grid.js")
    assert stale.status == 200
    assert stale.headers["Cache-Control"] == "no-cache"
    missing = await client.get(f"/gallery/static/{version}/nothing.js")
    assert missing.status == 404
    assert (await missing.json())["detail"] == "There is no gallery file 'nothing.js'"
    escape = await client.get(f"/gallery/static/{version}/..%2Fpages.py")
    assert escape.status == 404


async def test_media_served_from_elsewhere_is_allowed_as_an_image_source(
    aiohttp_client, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update={"media_url": "https://cdn.example.org/media"}))
    client = await aiohttp_client(app)
    policy = (await client.get("/gallery")).headers["Content-Security-Policy"]
    assert "img-src 'self' blob: data: https://cdn.example.org;" in policy
    assert "script-src 'self';" in policy


def test_the_gallery_is_no_api_operation() -> None:
    paths = json.loads((ROOT / "openapi.json").read_text())["paths"]
    assert [path for path in paths if path == "/" or path.startswith("/gallery")] == []


def test_the_javascript_stays_under_100_kb() -> None:
    scripts = list(static.DIRECTORY.glob("*.js"))
    assert {path.name for path in scripts} >= {"api.js", "chrome.js", "grid.js", "image.js"}
    assert sum(path.stat().st_size for path in scripts) < 100_000
