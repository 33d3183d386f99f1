"""Who a request comes from: its Bearer token, looked up by hash, cached briefly.

A token is read from the database at most once per ``PIXTAG_AUTH_CACHE_TTL``
seconds per process (default 10): that is the bound within which a
revocation (by another process, or the CLI) takes effect; a revocation
through this process's API clears its cache at once. Only usable tokens are
cached, never past their own expiry. ``last_used_at`` is written at most once
a minute per token, by the look-up that finds it stale.
"""

import time
from dataclasses import dataclass, field

from aiohttp import web

from pixtag.auth import tokens
from pixtag.auth.queries import tokens as queries
from pixtag.auth.tokens import Principal
from pixtag.db.database import Database
from pixtag.errors import Unauthorized

CACHE_LIMIT = 10_000
ANONYMOUS = Principal(token_id=None, name=None, scope="read")


@dataclass
class Authenticator:
    """The auth policy of one process and its cache of looked-up tokens."""

    enabled: bool
    anonymous_read: bool
    cache_ttl: float
    _cache: dict[bytes, tuple[float, Principal]] = field(default_factory=dict)

    async def authenticate(self, db: Database, header: str | None) -> Principal:
        """The principal of an ``Authorization`` header; Unauthorized when there is none."""
        if header is None:
            raise Unauthorized("A token is needed: send Authorization: Bearer <token>")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized(
                "The Authorization header must be: Bearer <token>", invalid_token=True
            )
        if not tokens.well_formed(token):
            raise Unauthorized("The token is not valid", invalid_token=True)
        digest = tokens.digest(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        async with db.cursor() as cur:
            found = await queries.lookup(cur, digest)
            if found is None or not tokens.same_digest(found.hash, digest):
                self._cache.pop(digest, None)
                raise Unauthorized(
                    "The token is not valid: unknown, expired or revoked", invalid_token=True
                )
            if found.stale_use:
                await queries.touch(cur, found.token_id)
        principal = Principal(found.token_id, found.name, found.scope, found.expires_at)  # type: ignore[arg-type]
        until = now + self.cache_ttl
        if found.expires_epoch is not None:
            until = min(until, now + found.expires_epoch - time.time())
        if len(self._cache) >= CACHE_LIMIT:
            self._cache.clear()
        self._cache[digest] = (until, principal)
        return principal

    def forget(self) -> None:
        """Drop every cached token (one was revoked through this process)."""
        self._cache.clear()


AUTH = web.AppKey("auth", Authenticator)
