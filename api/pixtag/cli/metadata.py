"""``pixtag metadata rebuild``: a thin wrapper over pixtag.client.metadata."""

import sys
import time

import click

from pixtag.cli.connect import run, url_option
from pixtag.client import metadata as api
from pixtag.client.metadata import RebuildProgress
from pixtag.client.session import PixtagClient

# Seconds between looks at the progress.
POLL = 0.5


@click.group()
def metadata() -> None:
    """What the photos' files say (EXIF, XMP, IPTC)."""


@metadata.command()
@click.option(
    "--all", "every", is_flag=True, help="Read every stored file again, not only unread ones."
)
@url_option
def rebuild(every: bool, url: str | None) -> None:
    """Read the metadata of the stored files not read yet (stored before pixtag read it), in
    the background, with a progress bar until the jobs are done: date taken, camera,
    location, keywords as tags. A date set by hand is kept. Run again, it resumes."""

    def work(client: PixtagClient) -> RebuildProgress:
        current = api.rebuild(client, every=every)
        # With --all the files read before count again as they are read anew.
        target = current.with_file
        shown = 0 if every else current.read
        bar = click.progressbar(length=target, label="reading", file=sys.stderr, show_pos=True)
        with bar:
            bar.update(shown)
            while True:
                done = target - current.pending if every else current.read
                bar.update(max(0, done - shown))
                shown = max(shown, done)
                if current.pending == 0:
                    return current
                time.sleep(POLL)
                current = api.progress(client)

    done = run(work, url)
    unread = done.with_file - done.read
    click.echo(
        f"{done.read} of {done.with_file} stored files read"
        + (f"; {unread} could not be read" if unread else "")
    )
