"""API tokens and the server's shared secrets (fixture 015).

Tokens are found by the SHA-256 of what the client sent; the hash is the
key, so the look-up reveals nothing a timing attack could use.
"""

from dataclasses import dataclass
from typing import Any

from pixtag.db import prepared
from pixtag.errors import NotFound

COLUMNS = """
    token_id, name, scope, hint, utc_iso(created_at), utc_iso(expires_at),
    utc_iso(revoked_at), utc_iso(last_used_at)
"""

INSERT_TOKEN = f"""
    INSERT INTO api_tokens (name, scope, hint, hash, expires_at)
    VALUES (%(name)s, %(scope)s, %(hint)s, %(hash)s,
            now() + make_interval(secs => %(expires_in)s))
    RETURNING {COLUMNS}
"""  # noqa: S608 - constant fragments; values bound

INSERT_BOOTSTRAP = """
    INSERT INTO api_tokens (name, scope, hint, hash)
    VALUES ('bootstrap', 'admin', %(hint)s, %(hash)s)
    ON CONFLICT (hash) DO NOTHING
    RETURNING token_id
"""

SELECT_TOKENS = f"""
    SELECT {COLUMNS} FROM api_tokens
    WHERE %(all)s OR (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))
    ORDER BY token_id
"""  # noqa: S608 - constant fragments; values bound

REVOKE_TOKEN = f"""
    UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
    WHERE token_id = %(token_id)s
    RETURNING {COLUMNS}
"""  # noqa: S608 - constant fragments; values bound

# The per-request look-up (once per cache period per token): only a token
# that can still be used, and whether its last use is worth recording.
LOOKUP = prepared.statement(
    "lookup_token",
    """
    SELECT token_id, name, scope, hash, utc_iso(expires_at),
           extract(epoch FROM expires_at)::float8,
           last_used_at IS NULL OR last_used_at < now() - interval '60 seconds'
    FROM api_tokens
    WHERE hash = %(hash)s AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
""",
)

TOUCH = """
    UPDATE api_tokens SET last_used_at = now()
    WHERE token_id = %(token_id)s
      AND (last_used_at IS NULL OR last_used_at < now() - interval '60 seconds')
"""

# One statement whatever the race: processes starting at once on a fresh database (the
# workers) all get the one secret. DO NOTHING would not do: a statement that waited for
# another's insert sees neither its own row nor, in its snapshot, the other's; DO UPDATE
# returns the row that won, committed or not yet visible.
SIGNING_KEY_SQL = """
    INSERT INTO server_secrets AS s (name, secret) VALUES (%(name)s, %(secret)s)
    ON CONFLICT (name) DO UPDATE SET name = s.name
    RETURNING s.secret
"""


@dataclass(frozen=True)
class TokenRow:
    """A token as listed (never the token itself)."""

    token_id: int
    name: str
    scope: str
    hint: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None


@dataclass(frozen=True)
class Found:
    """A usable token found by its hash."""

    token_id: int
    name: str
    scope: str
    hash: bytes
    expires_at: str | None
    expires_epoch: float | None
    stale_use: bool  # last_used_at is over a minute old


async def create(
    cur: Any, *, name: str, scope: str, hint: str, hash: bytes, expires_in: float | None
) -> TokenRow:
    """Store a new token's hash; the row as listed."""
    params = {"name": name, "scope": scope, "hint": hint, "hash": hash, "expires_in": expires_in}
    await cur.execute(INSERT_TOKEN, params)
    return TokenRow(*await cur.fetchone())


async def bootstrap(cur: Any, *, hint: str, hash: bytes) -> bool:
    """Store the bootstrap admin token unless it is there; whether it was new."""
    await cur.execute(INSERT_BOOTSTRAP, {"hint": hint, "hash": hash})
    return await cur.fetchone() is not None


async def listing(cur: Any, *, include_all: bool = False) -> list[TokenRow]:
    """Tokens in id order: usable ones, or with ``include_all`` revoked and expired too."""
    await cur.execute(SELECT_TOKENS, {"all": include_all})
    return [TokenRow(*row) for row in await cur.fetchall()]


async def revoke(cur: Any, token_id: int) -> TokenRow:
    """Revoke a token (again is no error); NotFound when there is no such id."""
    await cur.execute(REVOKE_TOKEN, {"token_id": token_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"Token <{token_id}> is not found")
    return TokenRow(*row)


async def lookup(cur: Any, hash: bytes) -> Found | None:
    """The usable token with this hash, if any."""
    await prepared.execute(cur, LOOKUP, {"hash": hash})
    row = await cur.fetchone()
    return None if row is None else Found(row[0], row[1], row[2], bytes(row[3]), *row[4:])


async def touch(cur: Any, token_id: int) -> None:
    """Record a use (a no-op when one was recorded in the last minute)."""
    await cur.execute(TOUCH, {"token_id": token_id})


async def secret(cur: Any, name: str, candidate: str) -> str:
    """The secret called ``name``: ``candidate`` if this call made it, else the stored one."""
    await cur.execute(SIGNING_KEY_SQL, {"name": name, "secret": candidate})
    row = await cur.fetchone()
    return str(row[0])
