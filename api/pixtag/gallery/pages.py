"""The gallery's pages: the grid, one image, the duplicates to review and the albums, from
templates."""

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from pixtag.gallery import static

SHARED = ("api.js", "chrome.js")
# The pages with the full-screen viewer import it too.
VIEWING = (*SHARED, "viewer.js")


def _context(
    request: web.Request, page: str, modules: tuple[str, ...] = SHARED, **extra: Any
) -> dict[str, Any]:
    return {
        "page": page,
        "css": static.url(request, "gallery.css"),
        "script": static.url(request, f"{page}.js"),
        "grid_url": str(request.app.router["grid"].url_for()),
        "duplicates_url": str(request.app.router["duplicates"].url_for()),
        "albums_url": str(request.app.router["albums"].url_for()),
        # The modules every page imports, fetched beside the page's own instead of after it.
        "preload": [static.url(request, name) for name in modules],
        **extra,
    }


async def home(request: web.Request) -> web.StreamResponse:
    """``/``: the gallery."""
    raise web.HTTPFound("/gallery")


@aiohttp_jinja2.template("grid.html")
async def grid(request: web.Request) -> dict[str, Any]:
    """The grid of thumbnails, with search, upload, capture and bulk tagging."""
    return _context(request, "grid", VIEWING)


@aiohttp_jinja2.template("image.html")
async def image(request: web.Request) -> dict[str, Any]:
    """One image's page; the image itself is read by the page's script."""
    return _context(request, "image", VIEWING, image_id=int(request.match_info["image_id"]))


@aiohttp_jinja2.template("duplicates.html")
async def duplicates(request: web.Request) -> dict[str, Any]:
    """The review queue of duplicates: groups side by side, keep one, or dismiss."""
    return _context(request, "duplicates")


@aiohttp_jinja2.template("albums.html")
async def albums(request: web.Request) -> dict[str, Any]:
    """The albums, and a form to make one."""
    return _context(request, "albums")


@aiohttp_jinja2.template("album.html")
async def album(request: web.Request) -> dict[str, Any]:
    """One album's images, in its order: reordered by drag or keyboard, shared."""
    return _context(request, "album", album_id=int(request.match_info["album_id"]))
