"""Swagger UI at ``/oas``, with its assets served from the swagger-ui-bundle package.

aiohttp-pydantic's page loads Swagger UI from a CDN, so it shows nothing on a
machine without internet access (an air-gapped deployment, a laptop on a
plane). This sub-application serves the same UI from files shipped in a
wheel, plus the live document at ``/oas/spec``.
"""

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

from pixtag.auth import access

ASSETS = Path(str(swagger_ui_path))

PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>pixtag API</title>
    <link rel="stylesheet" href="{css}">
    <link rel="icon" type="image/png" href="{icon}">
    <style>body {{ margin: 0; background: #fafafa; }}</style>
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="{bundle}"></script>
    <script src="{preset}"></script>
    <script>
      window.onload = function () {{
        window.ui = SwaggerUIBundle({{
          url: "{spec}",
          dom_id: "#swagger-ui",
          deepLinking: true,
          presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
          plugins: [SwaggerUIBundle.plugins.DownloadUrl],
          layout: "StandaloneLayout",
          persistAuthorization: true,
        }});
      }};
    </script>
  </body>
</html>
"""


async def index(request: web.Request) -> web.Response:
    """The Swagger UI page; every URL in it points at this server."""
    router = request.app.router

    def asset(name: str) -> str:
        return escape(str(router["assets"].url_for(filename=name)))

    page = PAGE.format(
        css=asset("swagger-ui.css"),
        icon=asset("favicon-32x32.png"),
        bundle=asset("swagger-ui-bundle.js"),
        preset=asset("swagger-ui-standalone-preset.js"),
        spec=escape(str(router["spec"].url_for())),
    )
    return web.Response(text=page, content_type="text/html")


def setup(app: web.Application, url_prefix: str, *, spec: Callable[[], dict[str, Any]]) -> None:
    """Mount Swagger UI at ``url_prefix``, its assets below it and the live spec at /spec."""

    async def live_spec(request: web.Request) -> web.Response:
        return web.json_response(spec())

    oas_app = web.Application()
    oas_app.router.add_get("", index, name="index")
    oas_app.router.add_get("/spec", live_spec, name="spec")
    oas_app.router.add_static("/assets", ASSETS, name="assets")
    for resource in oas_app.router.resources():
        access.declare(resource, "public")  # the docs are no secret
    app.add_subapp(url_prefix, oas_app)
