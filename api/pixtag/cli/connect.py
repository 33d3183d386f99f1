"""How a client command reaches the server: its URL, one client session, one-line errors.

The URL comes from ``--url`` after the command, else ``--url`` before it, else
``PIXTAG_URL`` (click reads it for the ``--url`` before the command), else the
default; the token likewise from ``--token`` or ``PIXTAG_TOKEN``. Any
failure, from the server (its problem+json ``detail``), on the way there, or
with a local file, ends the command with one ``error: ...`` line on stderr
and status 1.

The session is built here and only here (``session``), so options every
client command shares reach it in one place. Nothing on this path imports
the server's modules (settings, pydantic, aiohttp): a client command starts
in a fraction of the time (bench/RESULTS.md).
"""

import urllib.parse
from collections.abc import Callable
from typing import IO, Any

import click

from pixtag.cli.urls import BEARER_META, DEFAULT_URL, URL_HELP, token_option
from pixtag.client.errors import ClientError
from pixtag.client.session import PixtagClient


class Failure(click.ClickException):
    """A one-line ``error: ...`` on stderr and exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def url_option[F: Callable[..., Any]](func: F) -> F:
    """``--url`` and ``--token`` on a command; they override those given before its name."""
    return click.option("--url", metavar="URL", help=URL_HELP)(token_option(func))


def server_url(url: str | None) -> str:
    """The base URL to use, checked: ``http(s)://host[:port][/path]``."""
    url = url or click.get_current_context().find_root().params.get("url") or DEFAULT_URL
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise Failure(f"invalid server URL {url}: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Failure(f"invalid server URL {url}: give http://HOST[:PORT] or https://...")
    if port == 0:
        raise Failure(f"invalid server URL {url}: port 0")
    return url


def session(url: str | None, *, connections: int = 4) -> PixtagClient:
    """The client session of a command."""
    token = click.get_current_context().meta.get(BEARER_META)
    return PixtagClient(server_url(url), connections=connections, token=token)


def run[T](work: Callable[[PixtagClient], T], url: str | None, *, connections: int = 4) -> T:
    """Run ``work`` with a client session; a ClientError becomes a Failure."""
    try:
        with session(url, connections=connections) as client:
            return work(client)
    except ClientError as error:
        raise Failure(str(error)) from None
    except OSError as error:  # a local file: unreadable, unwritable, vanished
        where = f"{error.filename}: " if error.filename else ""
        raise Failure(f"{where}{error.strerror or error}") from None
