"""The web gallery: HTML pages and their static files, served by pixtag itself.

The pages are shells: they name the image (an id) and the static files, and
their JavaScript reads everything else from the public HTTP API with the
user's own token. So the HTML and static files are public (``access:
public``) without revealing anything, and the gallery can do nothing a
client of the API could not. Nothing is loaded from elsewhere (no CDN, no
build step): the files ship inside the package and work offline.

It is a sub-application under ``/gallery`` with plain handlers (not
PydanticViews), so it stays out of the OpenAPI document; ``/`` redirects to it.
"""

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from pixtag.auth import access
from pixtag.gallery import headers, pages, static

PREFIX = "/gallery"
TEMPLATES = Path(__file__).parent / "templates"


def setup(app: web.Application) -> None:
    """Mount the gallery at ``/gallery`` and redirect ``/`` to it."""
    gallery = web.Application()
    aiohttp_jinja2.setup(
        gallery,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    gallery[headers.POLICY] = headers.content_security_policy(app)
    gallery.on_response_prepare.append(headers.on_response_prepare)
    # Public, every one: the pages are shells, the data comes from the API with the
    # visitor's token.
    for route in (
        gallery.router.add_get("", pages.grid, name="grid"),
        gallery.router.add_get("/images/{image_id:[1-9][0-9]{0,18}}", pages.image, name="image"),
        gallery.router.add_get("/duplicates", pages.duplicates, name="duplicates"),
        gallery.router.add_get("/albums", pages.albums, name="albums"),
        gallery.router.add_get("/albums/{album_id:[1-9][0-9]{0,18}}", pages.album, name="album"),
        gallery.router.add_get("/static/{version}/{name}", static.serve, name="static"),
        app.router.add_get("/", pages.home, name="home"),
    ):
        access.declare(route, "public")
    app.add_subapp(PREFIX, gallery)
