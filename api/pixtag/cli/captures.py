"""``pixtag capture`` and ``pixtag captures``: thin wrappers over pixtag.client.captures."""

import sys
import time
from collections.abc import Callable

import click

from pixtag.cli.connect import run, url_option
from pixtag.client import captures as api
from pixtag.client.captures import Capture
from pixtag.client.session import PixtagClient

ENDED = ("done", "failed", "cancelled")
# Seconds between looks at the captures still under way.
POLL = 0.5


def line(capture: Capture) -> str:
    """``<id>  <status>  <url>`` and what came of it."""
    outcome = ""
    if capture.image_id is not None:
        outcome = f"  image {capture.image_id}" + (" (duplicate)" if capture.duplicate else "")
    elif capture.error is not None:
        outcome = f"  {capture.error.code}: {capture.error.message}"
    return f"{capture.capture_id}  {capture.status}  {capture.url}{outcome}"


def wait_for(
    client: PixtagClient, captures: list[Capture], advance: Callable[[], object]
) -> list[Capture]:
    """Poll until every capture has ended; ``advance()`` once per capture that ends."""
    latest = {c.capture_id: c for c in captures}
    while True:
        pending = [i for i, c in latest.items() if c.status not in ENDED]
        if not pending:
            return list(latest.values())
        time.sleep(POLL)
        for capture_id in pending:
            latest[capture_id] = api.read(client, capture_id)
            if latest[capture_id].status in ENDED:
                advance()


@click.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("-t", "--tag", "tags", multiple=True, metavar="TAG", help="Tag every image.")
@click.option("--wait", is_flag=True, help="Show progress until every capture ends.")
@url_option
def capture(urls: tuple[str, ...], tags: tuple[str, ...], wait: bool, url: str | None) -> None:
    """Capture images from URLs; print each capture.

    A URL captured before answers that capture. With --wait, a progress bar
    runs until every capture has ended; exits 1 if any failed.
    """

    def work(client: PixtagClient) -> list[Capture]:
        requested = api.request(client, urls, tags)
        if not wait:
            return requested
        # '#' and '-' read in any terminal; not a terminal: the label only.
        bar = click.progressbar(
            length=len(requested), label="capturing", file=sys.stderr, show_pos=True
        )
        with bar:
            bar.update(sum(c.status in ENDED for c in requested))
            return wait_for(client, requested, lambda: bar.update(1))

    captures = run(work, url)
    for item in captures:
        click.echo(line(item))
    if wait and any(c.status != "done" for c in captures):
        raise click.exceptions.Exit(1)


@click.group(invoke_without_command=True)
@click.option(
    "--status",
    type=click.Choice(["queued", "running", "done", "failed", "cancelled"]),
    help="Only captures with this status.",
)
@url_option
@click.pass_context
def captures(ctx: click.Context, status: str | None, url: str | None) -> None:
    """List captures, or pause and resume them."""
    if ctx.invoked_subcommand is not None:
        return

    def work(client: PixtagClient) -> int:
        count = 0
        for item in api.listing(client, status):
            click.echo(line(item))
            count += 1
        return count

    if not run(work, url):
        click.echo("no captures")


def _switch(enabled: bool, url: str | None) -> None:
    state = run(lambda client: api.switch(client, enabled), url)
    word = "running" if state.enabled else "paused"
    click.echo(f"captures {word}: {state.queued} queued, {state.running} running")


@captures.command()
@url_option
def pause(url: str | None) -> None:
    """Start no more captures (running ones finish; queued ones wait)."""
    _switch(False, url)


@captures.command()
@url_option
def resume(url: str | None) -> None:
    """Dispatch the queued captures again."""
    _switch(True, url)
