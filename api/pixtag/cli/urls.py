"""Where the client commands look for the server by default, and as whom (``--url``, ``--token``).

Apart from ``connect`` so that the ``pixtag`` group itself can name it
without loading the HTTP client (``pixtag --help``, ``--version``).
"""

from collections.abc import Callable
from typing import Any

import click

DEFAULT_URL = "http://localhost:8080"
URL_HELP = f"Server base URL (env PIXTAG_URL, default {DEFAULT_URL})."
BEARER_HELP = "API token, sent as Authorization: Bearer (env PIXTAG_TOKEN)."
# Where --token is kept in the click context.
BEARER_META = "pixtag.bearer"


def _keep_token(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # The innermost given wins (a command's options are processed after the group's),
    # but PIXTAG_TOKEN never overrides a --token given before the command name.
    from_env = ctx.get_parameter_source("token") is click.core.ParameterSource.ENVIRONMENT
    if value and not (from_env and BEARER_META in ctx.meta):
        ctx.meta[BEARER_META] = value


def token_option[F: Callable[..., Any]](func: F) -> F:
    """``--token`` (or PIXTAG_TOKEN), kept in the context, not passed to the command."""
    return click.option(
        "--token",
        metavar="TOKEN",
        envvar="PIXTAG_TOKEN",
        help=BEARER_HELP,
        expose_value=False,
        callback=_keep_token,
    )(func)
