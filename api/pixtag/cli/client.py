"""Client commands (add, ls, show, get, import): thin wrappers over pixtag.client.

Each command runs one ``PixtagClient`` session under ``asyncio.run`` (see
``pixtag.cli.connect``); failures end it with one ``error: ...`` line and
exit status 1. Results go to stdout, progress and errors to stderr.
"""

import asyncio
import os
import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pixtag.cli.connect import Failure, run, url_option
from pixtag.cli.output import console, echo_image, human_size, images_table, print_table
from pixtag.client.errors import ClientError
from pixtag.client.files import save, scan
from pixtag.client.importer import import_files
from pixtag.client.session import PixtagClient
from pixtag.models import BIGINT_MAX

IMAGE_ID = click.IntRange(1, BIGINT_MAX)


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("-t", "--tag", "tags", multiple=True, metavar="TAG", help="Tag every image.")
@url_option
def add(files: tuple[Path, ...], tags: tuple[str, ...], url: str | None) -> None:
    """Upload files, one image each; print their ids.

    Each FILE is one request: the record (named after the file, with the
    tags) and its bytes, stored together or not at all.
    """

    async def work(client: PixtagClient) -> None:
        for path in files:
            click.echo((await client.create(path, tags)).image_id)

    run(work, url)


@click.command("ls")
@click.option(
    "-q",
    "--query",
    metavar="QUERY",
    help='A search: "cat (dog or fox) -blurry ca* sort:-created" (see GET /images q).',
)
@click.option("--tag", metavar="TAG", help="Only images with this tag.")
@click.option(
    "--all", "tags_all", multiple=True, metavar="TAG", help="Only images with every --all tag."
)
@click.option(
    "--any", "tags_any", multiple=True, metavar="TAG", help="Only images with any --any tag."
)
@click.option("--json", "as_json", is_flag=True, help="A JSON array of images, for scripts.")
@url_option
def ls(
    query: str | None,
    tag: str | None,
    tags_all: tuple[str, ...],
    tags_any: tuple[str, ...],
    as_json: bool,
    url: str | None,
) -> None:
    """List images, filtered by tags.

    Images come in id order, or as the query's sort: says; the filters
    combine with AND. A table by default, a JSON array of image documents
    with --json.
    """

    async def work(client: PixtagClient) -> None:
        images = client.images(q=query, tag=tag, tags_all=tags_all, tags_any=tags_any)
        if as_json:
            # Streamed one image per line: memory stays flat however large the listing.
            separator = "[\n"
            async for image in images:
                click.echo(separator + image.model_dump_json(), nl=False)
                separator = ",\n"
            click.echo("[]" if separator == "[\n" else "\n]")
            return
        rows = [image async for image in images]
        if rows:
            print_table(images_table(rows))
        else:
            click.echo("no images")

    run(work, url)


@click.command()
@click.argument("image_id", type=IMAGE_ID)
@click.option("--json", "as_json", is_flag=True, help="The image as JSON, for scripts.")
@url_option
def show(image_id: int, as_json: bool, url: str | None) -> None:
    """Show one image and its file."""
    image = run(lambda client: client.image(image_id), url)
    if as_json:
        click.echo(image.model_dump_json(indent=2))
    else:
        echo_image(image)


@click.command()
@click.argument("image_id", type=IMAGE_ID)
@click.option(
    "-o",
    "--output",
    metavar="PATH",
    help="File, or folder (existing, or ending in '/'), or '-' for stdout"
    " (default: the image's filename, here).",
)
@url_option
def get(image_id: int, output: str | None, url: str | None) -> None:
    """Download an image's file.

    The bytes are checked against the sha256 the server recorded and only
    then saved under their name; prints where the file went.
    """

    async def work(client: PixtagClient) -> Path | None:
        image = await client.image(image_id)
        file = image.attachment
        if file is None:
            raise ClientError(f"Image <{image_id}> has no file yet")
        chunks = client.download(image_id, image.filename)
        if output == "-":
            stdout = sys.stdout.buffer
            async for chunk in chunks:
                stdout.write(chunk)
            return None
        dest = Path(output or image.filename)
        if output and output.endswith(("/", os.sep)):
            await asyncio.to_thread(dest.mkdir, parents=True, exist_ok=True)
        if await asyncio.to_thread(dest.is_dir):
            dest = dest / image.filename
        await save(chunks, dest, sha256=file.sha256)
        return dest

    dest = run(work, url)
    if dest is not None:
        click.echo(f"{dest}  ({human_size(dest.stat().st_size)})")


@click.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-t", "--tag", "tags", multiple=True, metavar="TAG", help="Tag every image.")
@click.option(
    "-j", "--jobs", type=click.IntRange(1, 64), default=4, show_default=True,
    help="Uploads in flight at once.",
)  # fmt: skip
@url_option
def import_(directory: Path, tags: tuple[str, ...], jobs: int, url: str | None) -> None:
    """Upload a folder of images; files already stored only get the tags they lack.

    Image files under DIRECTORY (recursively, hidden ones left out) are
    uploaded --jobs at a time. A file whose sha256 the server already has is
    not uploaded again: the stored image gets the --tag tags it lacks, else
    the file is skipped, so a re-run uploads only what is new. Files that are
    not images (by their extension) are counted and left alone. Exits 1 if
    any file was refused.
    """
    try:
        paths, others = scan(directory)
    except ClientError as error:
        raise Failure(str(error)) from None
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console(stderr=True)) as progress:
        task = progress.add_task(f"importing {directory}", total=len(paths))
        report = run(
            lambda client: import_files(
                client, paths, tags=tags, jobs=jobs, on_done=lambda *_: progress.advance(task)
            ),
            url,
            connections=jobs,
        )
    report.not_images = len(others)
    for path, detail in report.failed:
        click.echo(f"error: {path}: {detail}", err=True)
    click.echo(report.summary())
    if report.failed:
        raise click.exceptions.Exit(1)
