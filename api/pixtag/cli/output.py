"""How the client commands show images: tables and key/value lines for people, JSON for scripts.

rich wraps a table to the terminal's width; when the output is a pipe or a
file there is no width to fit, so lines are never wrapped there and each row
stays one line for ``grep`` and friends.
"""

import sys
from collections.abc import Iterable
from datetime import UTC, datetime

import click
from rich import box
from rich.console import Console
from rich.table import Table

from pixtag.models import Image


def console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr): wrapped for a terminal, unbounded for a pipe."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 100_000
    return Console(stderr=stderr, width=width, highlight=False)


def human_size(size: int) -> str:
    """Bytes in the largest binary unit that keeps the number readable."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{size} B" if unit == 0 else f"{value:.1f} {units[unit]}"


def images_table(images: Iterable[Image]) -> Table:
    """One row per image: id, filename, tags, file size and pixels, creation time (UTC)."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("ID", justify="right")
    table.add_column("FILENAME")
    table.add_column("TAGS")
    table.add_column("SIZE", justify="right")
    table.add_column("PIXELS", justify="right")
    table.add_column("CREATED (UTC)")
    for image in images:
        file = image.attachment
        table.add_row(
            str(image.image_id),
            image.filename,
            ", ".join(image.tags),
            human_size(file.size) if file else "-",
            f"{file.width}x{file.height}" if file else "-",
            f"{image.created_at:%Y-%m-%d %H:%M:%S}",
        )
    return table


def utc_text(moment: datetime) -> str:
    """A time as the server writes it: UTC, ``Z``, no trailing zeros in the fraction."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def image_lines(image: Image) -> list[tuple[str, str]]:
    """The fields of one image as (name, value) pairs, the file's under it."""
    lines = [
        ("image_id", str(image.image_id)),
        ("filename", image.filename),
        ("tags", ", ".join(image.tags) or "-"),
        ("created_at", utc_text(image.created_at)),
    ]
    file = image.attachment
    if file is None:
        lines.append(("file", "none uploaded"))
        return lines
    return [
        *lines,
        ("file", f"{file.content_type}, {human_size(file.size)}, {file.width}x{file.height}"),
        ("sha256", file.sha256),
        ("url", file.url),
        ("uploaded_at", utc_text(file.uploaded_at)),
    ]


def print_table(table: Table) -> None:
    """Print a table without the padding rich leaves at line ends and below the last row."""
    out = console()
    with out.capture() as captured:
        out.print(table)
    lines = [line.rstrip() for line in captured.get().splitlines()]
    click.echo("\n".join(lines).strip("\n"), color=out.is_terminal)


def echo_image(image: Image) -> None:
    width = max(len(name) for name, _ in image_lines(image))
    for name, value in image_lines(image):
        click.echo(f"{name:<{width}}  {value}")
