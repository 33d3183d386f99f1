"""``pixtag renditions rebuild``: a thin wrapper over pixtag.client.renditions."""

import sys
import time

import click

from pixtag.cli.connect import run, url_option
from pixtag.client import renditions as api
from pixtag.client.renditions import Rebuild
from pixtag.client.session import PixtagClient

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

    def work(client: PixtagClient) -> Rebuild:
        started = api.rebuild(client, preset, rebuild_all)
        current, shown = started, 0
        # '#' and '-' read in any terminal; not a terminal: the label only.
        bar = click.progressbar(
            length=started.total, label="building", file=sys.stderr, show_pos=True
        )
        with bar:
            while True:
                ended = current.done + current.failed
                bar.update(ended - shown)
                shown = ended
                if current.finished:
                    return current
                time.sleep(POLL)
                current = api.progress(client, started.rebuild_id)

    done = run(work, url)
    click.echo(
        f"rebuild {done.rebuild_id} ({', '.join(done.presets)}): {done.total} images,"
        f" {done.done} done, {done.failed} failed"
    )
    if done.failed:
        raise click.exceptions.Exit(1)
