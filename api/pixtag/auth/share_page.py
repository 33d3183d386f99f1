"""The page a share link shows in a browser: the image's thumbnail, its name and size, a
password form when it needs one, and a Download button.

Opening the page counts nothing; the button's URL (``/s/{token}/download``) sends the
bytes and counts them. For a share with a password, the page that took the right one
signs its download and thumbnail URLs (a grant, valid ``PIXTAG_MEDIA_URL_TTL`` seconds),
so the password is sent once and never lands in a URL. The page is plain HTML with no
script; its style is inline, allowed by its hash in the Content-Security-Policy.
"""

import base64
import hashlib
import re
from pathlib import Path

import jinja2
from aiohttp import web

from pixtag.auth import shares
from pixtag.auth.queries import shares as queries
from pixtag.errors import Gone, NotFound

TEMPLATES = Path(__file__).parent / "templates"
ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
)
CSS = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#222}
.share{max-width:40rem;margin:3rem auto;padding:1.5rem;background:#fff;border-radius:8px}
h1{font-size:1.3rem;margin:0 0 1rem;overflow-wrap:anywhere}
figure{margin:0 0 1rem}img{max-width:100%;height:auto;display:block;border-radius:4px}
.no-preview{padding:3rem;text-align:center;background:#eee;color:#666;border-radius:4px}
figcaption{margin-top:.5rem;color:#555;overflow-wrap:anywhere}
.album{max-width:72rem}.grid{list-style:none;padding:0;margin:1rem 0;display:grid;gap:.8rem;
grid-template-columns:repeat(auto-fill,minmax(10rem,1fr))}.grid li{background:#f6f6f4;
border-radius:6px;padding:.4rem;overflow-wrap:anywhere;font-size:.9rem}
.grid img{aspect-ratio:1;object-fit:cover;width:100%}
.message{padding:.5rem .75rem;background:#fdecea;color:#8a1c13;border-radius:4px}
.button,button{display:inline-block;padding:.5rem 1.25rem;background:#1f5fbf;color:#fff;
border:0;border-radius:4px;text-decoration:none;font:inherit;cursor:pointer}
input{font:inherit;padding:.4rem;margin:0 .5rem}.note{color:#666;font-size:.9rem}
"""
STYLE_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src 'self';"
    f" style-src 'sha256-{STYLE_HASH}'; form-action 'self'; base-uri 'none';"
    " frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}
# Link previews (chat and social apps) fetch a shared URL to show a card: they get the page,
# which counts nothing, whatever their Accept header says.
PREVIEW_AGENTS = re.compile(
    r"Slackbot|facebookexternalhit|Facebot|Twitterbot|Discordbot|WhatsApp|TelegramBot|"
    r"LinkedInBot|SkypeUriPreview|Teams|Mattermost|redditbot|Embedly|Iframely|"
    r"Google-PageRenderer|Googlebot|bingbot|Applebot|Signal|Pinterestbot|vkShare|"
    r"MicrosoftPreview|Zulip|Rocket\.Chat|Synapse|matrix",
    re.IGNORECASE,
)


def wants_page(request: web.Request) -> bool:
    """A browser (it prefers HTML to anything else it takes) or a link preview."""
    if PREVIEW_AGENTS.search(request.headers.get("User-Agent", "")):
        return True
    best: dict[str, float] = {}
    for item in request.headers.get("Accept", "").split(","):
        media_type, *params = (part.strip().lower() for part in item.split(";"))
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best[media_type] = max(q, best.get(media_type, 0.0))
    html = best.get("text/html", 0.0)
    return html > 0 and html >= max((q for t, q in best.items() if t != "text/html"), default=0)


def human_size(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    raise AssertionError


def render(status: int, **context: object) -> web.Response:
    page = ENVIRONMENT.get_template("share.html").render(
        css=CSS, max_failures=queries.MAX_FAILURES, **context
    )
    return web.Response(status=status, text=page, content_type="text/html", headers=HEADERS)


def _ready(request: web.Request, token: str, link: queries.Link, *, grant: bool) -> web.Response:
    base = f"/s/{token}"
    download, preview = f"{base}/download", f"{base}/preview"
    if grant:
        download, preview = shares.grant(request.app, download), shares.grant(request.app, preview)
    remaining = None
    return render(
        200,
        state="ok",
        title=link.filename or "Shared image",
        message=None,
        filename=link.filename,
        size=human_size(link.size or 0),
        preview_url=preview if link.preview_key else None,
        download_url=download,
        remaining=remaining,
    )


def render_album(document: dict[str, object]) -> web.Response:
    """An album share's page: its images' thumbnails, each linking to its view and download,
    and a Download all button."""
    page = ENVIRONMENT.get_template("album.html").render(css=CSS, **document)
    return web.Response(status=200, text=page, content_type="text/html", headers=HEADERS)


def closed(status: int, message: str) -> web.Response:
    return render(status, state="closed", title="Share link", message=message)


async def page(request: web.Request, token: str, password: str | None = None) -> web.Response:
    """The share's page: as opened (``password`` None), or after its form was sent."""
    try:
        link = await shares.find(request.app, token)
        if link.password_hash is None:
            link = await shares.check(request.app, token, shares.Proof())
            return _ready(request, token, link, grant=False)
        if password is None:
            return render(
                200,
                state="password",
                title="This link needs a password",
                message=None,
                action=f"/s/{token}",
            )
        link = await shares.check(request.app, token, shares.Proof(password=password))
        return _ready(request, token, link, grant=True)
    except NotFound as error:
        return closed(404, error.detail)
    except Gone:
        return closed(
            410, "This link has been used up, has expired or was revoked, or its image is gone."
        )
    except shares.ShareLocked as locked:
        return render(
            429,
            state="locked",
            title="This link needs a password",
            message=f"Too many wrong passwords. Try again in {locked.retry_after} seconds.",
            action=f"/s/{token}",
        )
    except shares.SharePasswordNeeded as needed:
        return render(
            401,
            state="wrong" if needed.wrong else "password",
            title="This link needs a password",
            message="Wrong password." if needed.wrong else "Enter the password.",
            action=f"/s/{token}",
        )
