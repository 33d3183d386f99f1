"""``pixtag similar index``: a thin wrapper over pixtag.client.similar."""

import sys
import time

import click

from pixtag.cli.connect import run, url_option
from pixtag.client import similar as api
from pixtag.client.session import PixtagClient
from pixtag.client.similar import IndexProgress

# Seconds between looks at the progress.
POLL = 0.5


@click.group()
def similar() -> None:
    """Similar images and duplicates."""


@similar.command()
@url_option
def index(url: str | None) -> None:
    """Fingerprint the stored files that are not yet (those stored before fingerprints, or
    while PIXTAG_SIMILAR_INDEX was off), in the background, with a progress bar until the
    jobs are done. Run again, it resumes."""

    def work(client: PixtagClient) -> IndexProgress:
        current = api.index(client)
        shown = current.indexed
        # '#' and '-' read in any terminal; not a terminal: the label only.
        bar = click.progressbar(
            length=current.with_file, label="fingerprinting", file=sys.stderr, show_pos=True
        )
        with bar:
            bar.update(shown)
            while True:
                bar.update(current.indexed - shown)
                shown = current.indexed
                if current.pending == 0:
                    return current
                time.sleep(POLL)
                current = api.progress(client)

    done = run(work, url)
    missing = done.with_file - done.indexed
    click.echo(
        f"{done.indexed} of {done.with_file} stored files fingerprinted"
        + (f"; {missing} could not be decoded" if missing else "")
    )
