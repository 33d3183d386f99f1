"""Client commands that change images (tag, mv, rm): thin wrappers over PixtagClient.

Each prints one line per image it changed; an image the server refuses
(404, 410, a bad tag or name) gets one ``error: ...`` line on stderr, the
others still go ahead, and the command then exits 1.
"""

from collections.abc import Callable, Sequence

import click

from pixtag.cli.connect import Failure, run, url_option
from pixtag.client.errors import ServerError
from pixtag.client.session import PixtagClient
from pixtag.validation import BIGINT_MAX

IMAGE_ID = click.IntRange(1, BIGINT_MAX)


def each_image(
    ids: Sequence[int], act: Callable[[PixtagClient, int], str], url: str | None
) -> None:
    """``act`` on each image in turn, printing its line; exit 1 if any was refused."""

    def work(client: PixtagClient) -> int:
        failed = 0
        for image_id in ids:
            try:
                click.echo(act(client, image_id))
            except ServerError as error:
                click.echo(f"error: {error.detail}", err=True)
                failed += 1
        return failed

    if run(work, url):
        raise click.exceptions.Exit(1)


def split_tag_args(args: Sequence[str]) -> tuple[list[int], list[str], list[str]]:
    """``ID... [+|-]TAG...``: the ids (leading numbers), the tags to add and to remove."""
    ids: list[int] = []
    rest = list(args)
    while rest and rest[0].isdigit():
        image_id = int(rest.pop(0))
        if not 1 <= image_id <= BIGINT_MAX:
            raise Failure(f"{image_id} is not an image id (1 to {BIGINT_MAX})")
        ids.append(image_id)
    add = [arg[1:] if arg.startswith("+") else arg for arg in rest if not arg.startswith("-")]
    remove = [arg[1:] for arg in rest if arg.startswith("-")]
    if not ids:
        raise Failure("give at least one image id before the tags")
    if not add and not remove:
        raise Failure("give at least one tag: +TAG (or TAG) adds it, -TAG removes it")
    return ids, add, remove


# -TAG must reach the arguments: no short options here (not even -h), none is an option.
@click.command(context_settings={"ignore_unknown_options": True, "help_option_names": ["--help"]})
@click.argument("args", nargs=-1, required=True, type=click.UNPROCESSED, metavar="ID... TAG...")
@url_option
def tag(args: tuple[str, ...], url: str | None) -> None:
    """Add and remove tags: +TAG (or TAG) adds it, -TAG removes it.

    The leading numbers are image ids; write a numeric tag as +2024. Prints
    each image's tags afterwards.
    """
    ids, add, remove = split_tag_args(args)
    changes: dict[str, list[str]] = {}
    if add:
        changes["tags_add"] = add
    if remove:
        changes["tags_remove"] = remove

    def act(client: PixtagClient, image_id: int) -> str:
        image = client.update(image_id, changes)
        return f"tagged {image_id}: {', '.join(image.tags) or '(no tags)'}"

    each_image(ids, act, url)


@click.command()
@click.argument("image_id", type=IMAGE_ID)
@click.argument("filename")
@url_option
def mv(image_id: int, filename: str, url: str | None) -> None:
    """Rename an image (its stored file and its URL stay as they are)."""

    def act(client: PixtagClient, image_id: int) -> str:
        before = client.image(image_id)
        after = client.update(image_id, {"filename": filename})
        return f"renamed {image_id}: {before.filename} -> {after.filename}"

    each_image([image_id], act, url)


@click.command()
@click.argument("ids", nargs=-1, required=True, type=IMAGE_ID, metavar="ID...")
@url_option
def rm(ids: tuple[int, ...], url: str | None) -> None:
    """Delete images and their files."""

    def act(client: PixtagClient, image_id: int) -> str:
        client.delete(image_id)
        return f"deleted {image_id}"

    each_image(ids, act, url)
