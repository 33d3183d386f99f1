"""Signed media URLs: ``<path>?md5=<sig>&expires=<unix time>``, checkable by nginx too.

The scheme is the one stock nginx can check (``secure_link`` module):
``sig = base64url(md5(f"{expires}{path} {secret}"))`` without padding,
``secure_link $arg_md5,$arg_expires; secure_link_md5 "$secure_link_expires$uri <secret>"``.
Using it for pixtag's own ``/media`` too keeps one format wherever files
are served. MD5 is what nginx offers; with a secret of 32 random bytes,
an expiry, and nothing but a path to gain, a forgery still needs a
preimage-style attack on a secret-suffixed hash, which MD5 does not give.
"""

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlencode, urlsplit


class Verdict(Enum):
    VALID = "valid"
    INVALID = "invalid"  # missing or tampered
    EXPIRED = "expired"


def new_secret() -> str:
    """A fresh signing secret (no spaces or quotes, so it fits an nginx config line)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class MediaSigner:
    """Signs and checks media URLs with one secret; URLs live ``ttl`` seconds."""

    secret: str
    ttl: int

    def signature(self, path: str, expires: int) -> str:
        text = f"{expires}{path} {self.secret}".encode()
        digest = hashlib.md5(text).digest()  # noqa: S324 - nginx secure_link's scheme (above)
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, url: str, *, now: float | None = None) -> str:
        """``url`` (a path, or an absolute URL) with its signature and expiry appended."""
        expires = int(now if now is not None else time.time()) + self.ttl
        path = urlsplit(url).path
        query = urlencode({"md5": self.signature(path, expires), "expires": expires})
        return f"{url}?{query}"

    def verify(self, path: str, md5: str | None, expires: str | None) -> Verdict:
        """Whether ``path`` with these query values is a valid, current signature."""
        if not md5 or not expires or not expires.isdigit() or len(expires) > 12:
            return Verdict.INVALID
        if not hmac.compare_digest(self.signature(path, int(expires)).encode(), md5.encode()):
            return Verdict.INVALID
        if int(expires) < time.time():
            return Verdict.EXPIRED
        return Verdict.VALID
