"""Row versions as ETags: ``"v3"`` is version 3 of an image's row.

Every UPDATE of the row bumps its version (fixtures/006_edit_delete.sql), so
an ETag read from GET names exactly the state a client saw. ``If-Match``
with a stale one makes a write answer 412 and change nothing; ``If-Match: *``
or no If-Match at all let it go ahead (RFC 9110: ``*`` matches any current
representation, and a missing image answers its 404 or 410 first).
"""

import re

from aiohttp import web
from aiohttp.helpers import ETAG_ANY

from pixtag.errors import PreconditionFailed

VERSION_TAG = re.compile(r"v(0|[1-9][0-9]{0,17})")


def etag(version: int) -> str:
    """The strong ETag of a row version, quotes included."""
    return f'"v{version}"'


def if_match_versions(request: web.BaseRequest) -> list[int] | None:
    """The versions If-Match accepts; None when any will do (no If-Match, or ``*``).

    Weak tags never match (If-Match compares strongly), nor tags of another shape.
    """
    tags = request.if_match
    if tags is None or any(tag.value == ETAG_ANY for tag in tags):
        return None
    return [
        int(tag.value[1:]) for tag in tags if not tag.is_weak and VERSION_TAG.fullmatch(tag.value)
    ]


def check_version(versions: list[int] | None, version: int, what: str = "image") -> None:
    """Raise the 412 when If-Match named versions and ``version`` is not one of them."""
    if versions is not None and version not in versions:
        raise PreconditionFailed(
            f"If-Match does not hold: the {what} is now at ETag {etag(version)}; read it again"
        )
