"""How a client command reaches the server: its URL, one client session, one-line errors.

The URL comes from ``--url`` after the command, else ``--url`` before it, else
``PIXTAG_URL`` (through ClientSettings), else the default. Any failure, from
the server (its problem+json ``detail``), on the way there, or with a local
file, ends the command with one ``error: ...`` line on stderr and status 1.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import IO, Any

import click
from pydantic import ValidationError

from pixtag.client.errors import ClientError
from pixtag.client.session import PixtagClient
from pixtag.settings import ClientSettings

URL_HELP = "Server base URL (env PIXTAG_URL, default http://localhost:8080)."
BEARER_HELP = "API token, sent as Authorization: Bearer (env PIXTAG_TOKEN)."
# Where --token is kept in the click context.
BEARER_META = "pixtag.bearer"


class Failure(click.ClickException):
    """A one-line ``error: ...`` on stderr and exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def url_option[F: Callable[..., Any]](func: F) -> F:
    """``--url`` and ``--token`` on a command; they override those given before its name."""
    return click.option("--url", metavar="URL", help=URL_HELP)(token_option(func))


def _keep_token(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # The innermost given wins: the command's options are processed after the group's.
    if value:
        ctx.meta[BEARER_META] = value


def token_option[F: Callable[..., Any]](func: F) -> F:
    """``--token`` (kept in the context, not passed to the command)."""
    return click.option(
        "--token", metavar="TOKEN", help=BEARER_HELP, expose_value=False, callback=_keep_token
    )(func)


def client_settings(url: str | None) -> ClientSettings:
    """Settings from PIXTAG_URL, with ``--url`` (after or before the command) on top."""
    ctx = click.get_current_context()
    url = url or ctx.find_root().params.get("url")
    overrides: dict[str, Any] = {"url": url} if url else {}
    if ctx.meta.get(BEARER_META):
        overrides["token"] = ctx.meta[BEARER_META]
    try:
        return ClientSettings(**overrides)
    except ValidationError as error:
        message = error.errors(include_url=False)[0]["msg"]
        raise Failure(f"invalid server URL {url or '(PIXTAG_URL)'}: {message}") from None


def run[T](
    work: Callable[[PixtagClient], Awaitable[T]], url: str | None, *, connections: int = 4
) -> T:
    """Run ``work`` with a client session; a ClientError becomes a Failure."""
    settings = client_settings(url)

    async def session() -> T:
        token = settings.token.get_secret_value() if settings.token else None
        async with PixtagClient(str(settings.url), connections=connections, token=token) as client:
            return await work(client)

    try:
        return asyncio.run(session())
    except ClientError as error:
        raise Failure(str(error)) from None
    except OSError as error:  # a local file: unreadable, unwritable, vanished
        where = f"{error.filename}: " if error.filename else ""
        raise Failure(f"{where}{error.strerror or error}") from None
