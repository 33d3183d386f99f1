"""Tokens for tests, stored the way the server and ``pixtag tokens create`` store them."""

from pixtag.auth import tokens
from tests.support.processes import sql

SCOPES = ("read", "write", "admin")


def make_token(
    database_url: str, scope: str, *, name: str | None = None, expires_in: float | None = None
) -> tuple[int, str]:
    """A new token with ``scope``: its id and the token itself."""
    token = tokens.new_token()
    rows = sql(
        database_url,
        "INSERT INTO api_tokens (name, scope, hint, hash, expires_at)"
        " VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s)) RETURNING token_id",
        (name or scope, scope, tokens.hint(token), tokens.digest(token), expires_in),
    )
    return int(rows[0][0]), token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
