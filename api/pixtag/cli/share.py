"""``pixtag share ID``: a share link for an image's file, printed as a full URL."""

import sys
from collections.abc import Callable

import click

from pixtag.cli.connect import Failure, run, server_url, url_option
from pixtag.cli.durations import Duration
from pixtag.client.shares import create_share

ASK = "\0ask"  # --password given without a value


def read_password() -> str:
    """The password: asked with hidden input on a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise Failure("no password on stdin")
    return line


def share_options[F: Callable[..., object]](command: F) -> F:
    """The options of a share link: --password, --expires, --max-downloads, --keep-metadata."""
    for option in reversed(
        [
            click.option(
                "--password",
                is_flag=False,
                flag_value=ASK,
                default=None,
                help="Protect the link; without a value it is asked (hidden) or read from stdin.",
            ),
            click.option("--expires", type=Duration(), help="Lifetime: 90s, 15m, 12h, 1d, 2w."),
            click.option(
                "--max-downloads", type=click.IntRange(1), help="How many downloads it allows."
            ),
            click.option(
                "--keep-metadata",
                is_flag=True,
                help="Send the files as stored, their EXIF, XMP and IPTC (date, camera, GPS).",
            ),
        ]
    ):
        command = option(command)
    return command


def make_link(
    url: str | None,
    password: str | None,
    expires: int | None,
    max_downloads: int | None,
    keep_metadata: bool,
    *,
    image_id: int | None = None,
    album_id: int | None = None,
) -> str:
    """Make the share link (of the image, or the album); its full URL."""
    if password == ASK:
        password = read_password()
    made = run(
        lambda client: create_share(
            client,
            image_id,
            password=password,
            expires_in=expires,
            max_downloads=max_downloads,
            keep_metadata=keep_metadata,
            album_id=album_id,
        ),
        url,
    )
    return server_url(url).rstrip("/") + made.url


@click.command()
@click.argument("image_id", type=click.IntRange(1))
@share_options
@url_option
def share(
    image_id: int,
    password: str | None,
    expires: int | None,
    max_downloads: int | None,
    keep_metadata: bool,
    url: str | None,
) -> None:
    """Make a share link for image ID's file; it needs no API token to follow. Its downloads
    leave out the file's metadata (date, camera, GPS position) unless --keep-metadata."""
    click.echo(make_link(url, password, expires, max_downloads, keep_metadata, image_id=image_id))
