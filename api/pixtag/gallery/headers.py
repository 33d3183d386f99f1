"""The gallery's response headers: nothing may load from elsewhere, nothing may frame it.

The Content-Security-Policy allows scripts, styles and connections to this
origin only and no inline script at all, so a tag or filename that slipped
into the page as markup could still not run. Images may also be ``blob:``
(thumbnails fetched with a token become object URLs) and, when media is
served from another origin (``PIXTAG_MEDIA_URL`` or S3), that origin.
"""

from urllib.parse import urlsplit

from aiohttp import web

from pixtag import keys

POLICY = web.AppKey("gallery_policy", str)
HTML_CACHE = "no-cache"


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def content_security_policy(app: web.Application) -> str:
    """The policy for the gallery of ``app``: this origin, plus where its media lives."""
    settings = app[keys.SETTINGS]
    media = [
        origin
        for origin in (_origin(settings.media_url), _origin(settings.s3_endpoint_url))
        if origin is not None
    ]
    extra = "".join(f" {origin}" for origin in sorted(set(media)))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' blob: data:{extra}; connect-src 'self'{extra}; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


async def on_response_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Every gallery answer (pages, static files, errors) carries the same protections."""
    response.headers["Content-Security-Policy"] = request.config_dict[POLICY]
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", HTML_CACHE)
