"""``pixtag tokens``: make, list and revoke API tokens on the database directly.

Like ``pixtag fixtures`` these need no running server and no token: this is
how the first admin token is made. A token is printed once, when made; the
database keeps only its hash.
"""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click

from pixtag.auth import tokens
from pixtag.auth.queries import tokens as queries
from pixtag.cli.durations import Duration
from pixtag.cli.server import data_dir_option, database_url_option, load_settings, open_database
from pixtag.errors import NotFound


def on_database[T](
    work: Callable[[Any], Awaitable[T]], data_dir: Path | None, database_url: str | None
) -> T:
    """Run ``work`` with a handle on the configured database."""
    # Server-side only: not loaded for the client commands.
    from pixtag.db.database import pooled

    settings = load_settings(data_dir=data_dir, database_url=database_url)

    async def session(dsn: str) -> T:
        async with pooled(dsn, settings, max_size=1) as db:
            return await work(db)

    with open_database(settings) as dsn:
        return asyncio.run(session(dsn))


@click.group("tokens")
def tokens_group() -> None:
    """Make, list and revoke API tokens (on the database; no server needed)."""


@tokens_group.command()
@click.option("--name", required=True, help="What the token is for (shown in lists).")
@click.option(
    "--scope", type=click.Choice(tokens.SCOPES), required=True, help="read, write or admin."
)
@click.option("--expires", type=Duration(), help="Lifetime: 90s, 15m, 12h, 30d, 2w (default none).")
@data_dir_option
@database_url_option
def create(
    name: str, scope: str, expires: int | None, data_dir: Path | None, database_url: str | None
) -> None:
    """Make a token and print it (only this once)."""
    if not 1 <= len(name) <= 100:
        raise click.BadParameter("1 to 100 characters", param_hint="--name")

    async def work(db: Any) -> tuple[str, queries.TokenRow]:
        from pixtag.auth import service  # server-side: loaded only when run

        return await service.create_token(db, name=name, scope=scope, expires_in=expires)

    token, row = on_database(work, data_dir, database_url)
    click.echo(token)
    until = f", expires {row.expires_at}" if row.expires_at else ""
    click.echo(f"token {row.token_id} {row.name!r} ({row.scope}{until}): shown only now", err=True)


@tokens_group.command("list")
@click.option("--all", "include_all", is_flag=True, help="Revoked and expired tokens too.")
@data_dir_option
@database_url_option
def list_(include_all: bool, data_dir: Path | None, database_url: str | None) -> None:
    """List tokens (never the tokens themselves: their first characters)."""

    async def work(db: Any) -> list[queries.TokenRow]:
        from pixtag.auth import service  # server-side: loaded only when run

        return await service.list_tokens(db, include_all=include_all)

    rows = on_database(work, data_dir, database_url)
    click.echo(f"{'ID':>4}  {'NAME':<16} {'SCOPE':<6} {'TOKEN':<12} {'EXPIRES':<20} LAST USED")
    for row in rows:
        state = " (revoked)" if row.revoked_at else ""
        click.echo(
            f"{row.token_id:>4}  {row.name:<16} {row.scope:<6} {row.hint + '...':<12}"
            f" {row.expires_at or '-':<20} {row.last_used_at or '-'}{state}"
        )


@tokens_group.command()
@click.argument("token_id", type=int)
@data_dir_option
@database_url_option
def revoke(token_id: int, data_dir: Path | None, database_url: str | None) -> None:
    """Revoke a token by its id (running servers refuse it within PIXTAG_AUTH_CACHE_TTL s)."""

    async def work(db: Any) -> queries.TokenRow:
        from pixtag.auth import service  # server-side: loaded only when run

        return await service.revoke_token(db, token_id)

    try:
        row = on_database(work, data_dir, database_url)
    except NotFound as error:
        raise click.ClickException(error.detail) from None
    click.echo(f"revoked token {row.token_id} {row.name!r}")
