"""``pixtag renditions rebuild``: a thin wrapper over pixtag.client.renditions."""

import asyncio

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pixtag.cli.connect import run, url_option
from pixtag.cli.output import console
from pixtag.client import renditions as api
from pixtag.client.session import PixtagClient
from pixtag.renditions.models import Rebuild

# Seconds between looks at the rebuild's progress.
POLL = 0.5


@click.group()
def renditions() -> None:
    """Thumbnails and previews of the stored images."""


@renditions.command()
@click.option("--preset", metavar="PRESET", help="Only this preset (default: every preset).")
@click.option("--all", "rebuild_all", is_flag=True, help="Build every rendition again.")
@url_option
def rebuild(preset: str | None, rebuild_all: bool, url: str | None) -> None:
    """Build the missing renditions (or, with --all, every one again) in the background,
    with a progress bar until they are done; exits 1 if any image failed."""

    async def work(client: PixtagClient) -> Rebuild:
        started = await api.rebuild(client, preset, rebuild_all)
        columns = (TextColumn("building"), BarColumn(), MofNCompleteColumn())
        current = started
        with Progress(*columns, TimeElapsedColumn(), console=console(stderr=True)) as bar:
            task = bar.add_task("building", total=started.total)
            while True:
                bar.update(task, completed=current.done + current.failed)
                if current.finished:
                    return current
                await asyncio.sleep(POLL)
                current = await api.progress(client, started.rebuild_id)

    done = run(work, url)
    click.echo(
        f"rebuild {done.rebuild_id} ({', '.join(done.presets)}): {done.total} images,"
        f" {done.done} done, {done.failed} failed"
    )
    if done.failed:
        raise click.exceptions.Exit(1)
