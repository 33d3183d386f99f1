"""The ``pixtag`` command: server commands (serve, fixtures, openapi) and client commands."""

import click

from pixtag.cli.captures import capture, captures
from pixtag.cli.client import add, get, import_, ls, show
from pixtag.cli.connect import URL_HELP
from pixtag.cli.edit import mv, rm, tag
from pixtag.cli.processing import process
from pixtag.cli.server import fixtures, openapi, serve
from pixtag.cli.storage import storage
from pixtag.cli.tags import alias, imply, rename, tags, unalias, unimply


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pixtag")
@click.option("--url", metavar="URL", help=f"For the client commands. {URL_HELP}")
def main(url: str | None) -> None:
    """pixtag: store images and their tags."""


main.add_command(serve)
main.add_command(fixtures)
main.add_command(openapi)
main.add_command(storage)
for command in (
    add,
    ls,
    show,
    get,
    import_,
    tag,
    mv,
    rm,
    tags,
    rename,
    alias,
    unalias,
    imply,
    unimply,
    capture,
    captures,
    process,
):
    main.add_command(command)
