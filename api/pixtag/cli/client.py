"""Client commands (add, ls, show, get, import): thin wrappers over pixtag.client.

Each command runs one ``PixtagClient`` session (see ``pixtag.cli.connect``);
a failure that ends the command is one ``error: ...`` line and exit status
1. Commands over several files try every file, print one ``error: FILE:
...`` line per refusal, and exit 1 at the end if any failed. Results go to
stdout, progress and errors to stderr.
"""

import json
import os
import sys
from pathlib import Path

import click

from pixtag.cli.connect import Failure, run, url_option
from pixtag.cli.output import echo_image, human_size, images_table
from pixtag.client.documents import Image
from pixtag.client.errors import ClientError, ServerError
from pixtag.client.files import save, scan, sha256_of
from pixtag.client.importer import from_file, import_files, normalised
from pixtag.client.session import PixtagClient
from pixtag.validation import BIGINT_MAX

IMAGE_ID = click.IntRange(1, BIGINT_MAX)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-t", "--tag", "tags", multiple=True, metavar="TAG", help="Tag every image.")
@click.option("--force", is_flag=True, help="Store files the server already has once more.")
@url_option
def add(files: tuple[Path, ...], tags: tuple[str, ...], force: bool, url: str | None) -> None:
    """Upload files, one image each; print ``FILE -> ID`` for each.

    Each FILE is one request: the record (named after the file, with the
    tags) and its bytes, stored together or not at all. A file whose sha256
    the server already stores is not stored again (unless --force): its line
    says "already stored" and the image gets the tags it lacks. Tags the
    server made of the file's keywords are named. A stored file
    that duplicates others (the same pixels, or the same picture resized or
    re-compressed) says which. Every file is tried; exits 1 if any was
    refused.
    """

    def one(client: PixtagClient, path: Path) -> str:
        if not force:
            stored = client.find_by_sha256(sha256_of(path))
            if stored is not None:
                missing = [t for t in normalised(tags) if t not in stored.tags]
                if missing:
                    client.update(stored.image_id, {"tags_add": missing})
                return f"{path} -> {stored.image_id} (already stored)"
        image = client.create(path, tags, check_similar=True)
        made = from_file(image, tags)
        keywords = f" (tags from the file: {', '.join(made)})" if made else ""
        return f"{path} -> {image.image_id}{keywords}{near_duplicates(image)}"

    def work(client: PixtagClient) -> int:
        failed = 0
        for path in files:
            try:
                click.echo(one(client, path))
            except ServerError as error:
                click.echo(f"error: {path}: {error.detail}", err=True)
                failed += 1
            except OSError as error:
                click.echo(f"error: {path}: {error.strerror or error}", err=True)
                failed += 1
        return failed

    if run(work, url):
        raise click.exceptions.Exit(1)


def near_duplicates(image: Image) -> str:
    """`` (duplicates 4: same bytes; 9: same picture, 3 bits apart)`` for an upload's
    answer that names any."""
    found = image.near_duplicates or []
    return f" (duplicates {'; '.join(map(str, found))})" if found else ""


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

    def work(client: PixtagClient) -> None:
        images = client.images(q=query, tag=tag, tags_all=tags_all, tags_any=tags_any)
        if as_json:
            # Streamed one image per line, as the server wrote it: memory stays flat.
            separator = "[\n"
            for image in images:
                click.echo(separator + image.raw, nl=False)
                separator = ",\n"
            click.echo("[]" if separator == "[\n" else "\n]")
            return
        rows = list(images)
        click.echo(images_table(rows) if rows else "no images")

    run(work, url)


@click.command()
@click.argument("image_id", type=IMAGE_ID)
@click.option("--json", "as_json", is_flag=True, help="The image as JSON, for scripts.")
@url_option
def show(image_id: int, as_json: bool, url: str | None) -> None:
    """Show one image and its file."""
    image = run(lambda client: client.image(image_id), url)
    if as_json:
        click.echo(json.dumps(json.loads(image.raw), indent=2, ensure_ascii=False))
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

    def work(client: PixtagClient) -> Path | None:
        image = client.image(image_id)
        file = image.attachment
        if file is None:
            raise ClientError(f"Image <{image_id}> has no file yet")
        chunks = client.download(image_id, image.filename)
        if output == "-":
            stdout = sys.stdout.buffer
            for chunk in chunks:
                stdout.write(chunk)
            return None
        dest = Path(output or image.filename)
        if output and output.endswith(("/", os.sep)):
            dest.mkdir(parents=True, exist_ok=True)
        if dest.is_dir():
            dest = dest / image.filename
        save(chunks, dest, sha256=file.sha256)
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
@click.option(
    "--check-similar", is_flag=True,
    help="Have each upload fingerprinted before its answer, to list the files that duplicate"
    " stored images (slower: the server decodes every file while the import waits).",
)  # fmt: skip
@url_option
def import_(
    directory: Path, tags: tuple[str, ...], jobs: int, check_similar: bool, url: str | None
) -> None:
    """Upload a folder of images; files already stored only get the tags they lack.

    Image files under DIRECTORY (recursively, hidden ones left out) are
    uploaded --jobs at a time. A file whose sha256 the server already has is
    not uploaded again: the stored image gets the --tag tags it lacks, else
    the file is skipped, so a re-run uploads only what is new. Files that are
    not images (by their extension) are counted and left alone. With
    --check-similar, an uploaded file that duplicates a stored one (the same
    pixels, or the same picture resized or re-compressed) is listed with the
    images it duplicates. Exits 1 if any file was refused.
    """
    try:
        paths, others = scan(directory)
    except ClientError as error:
        raise Failure(str(error)) from None
    # click's bar draws with '#' and '-' (it reads as full in any terminal, colours or
    # not) and, when stderr is not a terminal, prints only its label: logs stay plain.
    bar = click.progressbar(
        length=len(paths), label=f"importing {directory}", file=sys.stderr, show_pos=True
    )
    with bar:
        report = run(
            lambda client: import_files(
                client,
                paths,
                tags=tags,
                jobs=jobs,
                check_similar=check_similar,
                on_done=lambda *_: bar.update(1),
            ),
            url,
            connections=jobs,
        )
    report.not_images = len(others)
    for path, image in report.uploaded:
        if image.near_duplicates:
            click.echo(f"{path} -> {image.image_id}{near_duplicates(image)}")
    for path, detail in report.failed:
        click.echo(f"error: {path}: {detail}", err=True)
    click.echo(report.summary())
    if report.failed:
        raise click.exceptions.Exit(1)
