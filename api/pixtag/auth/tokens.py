"""API tokens: how they look, how they are kept, and what a scope allows.

A token is ``pxt_`` and 32 random bytes (urlsafe base64): recognisable in a
leaked config or a secret scanner, and too long to guess, so its SHA-256 is
all the database keeps (a slow, salted hash buys nothing against 256 bits of
randomness). The first characters are kept as a hint to tell tokens apart.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Literal

PREFIX = "pxt_"
HINT_LENGTH = len(PREFIX) + 4
TOKEN = re.compile(r"^pxt_[A-Za-z0-9_-]{43}$")

type Scope = Literal["read", "write", "admin"]
type Access = Literal["public", "read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")
# admin includes write includes read.
RANK = {"public": 0, "read": 1, "write": 2, "admin": 3}


def new_token() -> str:
    """A fresh token, shown once."""
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> bytes:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).digest()


def hint(token: str) -> str:
    """The non-secret start of a token, shown in lists."""
    return token[:HINT_LENGTH]


def well_formed(token: str) -> bool:
    """Whether ``token`` could be a pixtag token (saves a database look-up for garbage)."""
    return TOKEN.match(token) is not None


def same_digest(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a, b)


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: a token's id, name and scope (or the anonymous reader)."""

    token_id: int | None
    name: str | None
    scope: Scope
    expires_at: str | None = None

    def allows(self, needed: Access) -> bool:
        return RANK[self.scope] >= RANK[needed]
