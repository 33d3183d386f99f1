"""``pixtag album``: thin wrappers over pixtag.client.albums."""

import click

from pixtag.cli.connect import run, url_option
from pixtag.cli.output import images_table, table
from pixtag.cli.share import make_link, share_options
from pixtag.client import albums as api
from pixtag.client.albums import Album
from pixtag.client.documents import Image
from pixtag.client.session import PixtagClient


def line(album: Album) -> str:
    """``<id>  <name>  (<n> images | smart: <query>)``."""
    what = f"smart: {album.query}" if album.kind == "smart" else f"{album.image_count} images"
    return f"{album.album_id}  {album.name}  ({what})"


@click.group()
def album() -> None:
    """Albums: ordered collections of images, and saved searches (smart albums)."""


@album.command()
@click.argument("name")
@click.option("-d", "--description", default="", help="What the album is.")
@click.option("-q", "--query", help="Make it a smart album: the images this search finds.")
@url_option
def create(name: str, description: str, query: str | None, url: str | None) -> None:
    """Create an album NAME; print its id and name."""
    made = run(lambda client: api.create(client, name, description=description, query=query), url)
    click.echo(line(made))


@album.command("ls")
@url_option
def list_albums(url: str | None) -> None:
    """List the albums."""
    found = run(lambda client: list(api.albums(client)), url)
    rows = [
        (
            str(a.album_id),
            a.name,
            a.kind,
            "" if a.image_count is None else str(a.image_count),
            a.query or "",
        )
        for a in found
    ]
    click.echo(
        table(("ID", "NAME", "KIND", "IMAGES", "QUERY"), rows, {0, 3}) if rows else "no albums"
    )


@album.command()
@click.argument("album_id", type=click.IntRange(1))
@url_option
def show(album_id: int, url: str | None) -> None:
    """Show album ALBUM_ID and its images, in its order."""

    def work(client: PixtagClient) -> tuple[Album, list[Image]]:
        return api.album(client, album_id), list(api.images(client, album_id))

    found, images = run(work, url)
    click.echo(line(found))
    if found.description:
        click.echo(found.description)
    if found.query_error:
        click.echo(f"query error: {found.query_error}")
        return
    click.echo(images_table(images) if images else "no images")


@album.command()
@click.argument("album_id", type=click.IntRange(1))
@click.argument("image_ids", type=click.IntRange(1), nargs=-1, required=True)
@click.option(
    "--at",
    "position",
    type=click.IntRange(0),
    help="Put them before the image at this index (0: first).",
)
@url_option
def add(album_id: int, image_ids: tuple[int, ...], position: int | None, url: str | None) -> None:
    """Add images to a manual album (those in it already stay where they are)."""
    changed = run(lambda client: api.add(client, album_id, list(image_ids), position), url)
    click.echo(line(changed))


@album.command()
@click.argument("album_id", type=click.IntRange(1))
@click.argument("image_ids", type=click.IntRange(1), nargs=-1, required=True)
@url_option
def rm(album_id: int, image_ids: tuple[int, ...], url: str | None) -> None:
    """Take images out of a manual album (the images stay)."""
    changed = run(lambda client: api.remove(client, album_id, list(image_ids)), url)
    click.echo(line(changed))


@album.command()
@click.argument("album_id", type=click.IntRange(1))
@click.argument("image_ids", type=click.IntRange(1), nargs=-1, required=True)
@click.option(
    "--before", type=click.IntRange(1), help="The image they go before (default: the end)."
)
@url_option
def order(album_id: int, image_ids: tuple[int, ...], before: int | None, url: str | None) -> None:
    """Move images of a manual album, in the order given, before image --before or to the end."""
    changed = run(lambda client: api.move(client, album_id, list(image_ids), before), url)
    click.echo(line(changed))


@album.command()
@click.argument("album_id", type=click.IntRange(1))
@click.confirmation_option(prompt="Delete the album (its images stay)?")
@url_option
def delete(album_id: int, url: str | None) -> None:
    """Delete an album; its images stay."""
    run(lambda client: api.delete(client, album_id), url)
    click.echo(f"album {album_id} deleted")


@album.command("share")
@click.argument("album_id", type=click.IntRange(1))
@share_options
@url_option
def share_album(
    album_id: int,
    password: str | None,
    expires: int | None,
    max_downloads: int | None,
    keep_metadata: bool,
    url: str | None,
) -> None:
    """Make a share link for album ALBUM_ID: a page of its images, each downloadable, and
    all of them as one zip; nothing outside the album. Downloads leave out the files'
    metadata unless --keep-metadata."""
    click.echo(make_link(url, password, expires, max_downloads, keep_metadata, album_id=album_id))
