"""The ``pixtag`` command: server commands (serve, fixtures, openapi) and client commands."""

import click

from pixtag.cli.server import fixtures, openapi, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pixtag")
def main() -> None:
    """pixtag: store images and their tags."""


main.add_command(serve)
main.add_command(fixtures)
main.add_command(openapi)
