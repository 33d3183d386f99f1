"""API tokens: made, listed and revoked, for the API (admin) and the CLI alike.

A token is shown once, when it is made; what is kept is its hash and its
first characters (``pixtag.auth.tokens``).
"""

from pixtag.auth import tokens
from pixtag.auth.queries import tokens as queries
from pixtag.db.database import Database


async def create_token(
    db: Database, *, name: str, scope: str, expires_in: float | None
) -> tuple[str, queries.TokenRow]:
    """A new token, and what is kept of it."""
    token = tokens.new_token()
    async with db.cursor() as cur:
        row = await queries.create(
            cur,
            name=name,
            scope=scope,
            hint=tokens.hint(token),
            hash=tokens.digest(token),
            expires_in=expires_in,
        )
    return token, row


async def list_tokens(db: Database, *, include_all: bool = False) -> list[queries.TokenRow]:
    """The usable tokens, oldest first (with ``include_all``, revoked and expired ones too)."""
    async with db.cursor() as cur:
        return await queries.listing(cur, include_all=include_all)


async def revoke_token(db: Database, token_id: int) -> queries.TokenRow:
    """Revoke a token; NotFound when there is none."""
    async with db.cursor() as cur:
        return await queries.revoke(cur, token_id)
