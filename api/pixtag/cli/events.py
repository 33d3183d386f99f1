"""``pixtag events`` and ``pixtag webhooks``: thin wrappers over pixtag.client.events."""

import json
import sys
from pathlib import Path

import click

from pixtag.cli.connect import run, url_option
from pixtag.cli.output import table
from pixtag.client import events as api
from pixtag.client.session import PixtagClient


@click.command()
@click.option("-f", "--follow", is_flag=True, help="Keep printing events as they come.")
@click.option(
    "-t",
    "--types",
    multiple=True,
    metavar="TYPE",
    help="Only these types or families (image.created, album); repeat for more.",
)
@click.option("--after", metavar="ID", help="Start after this event id (`now`: from now on).")
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Resume from the cursor kept in this file, and keep it there after each page.",
)
@url_option
def events(
    follow: bool, types: tuple[str, ...], after: str | None, state: Path | None, url: str | None
) -> None:
    """Print the events, one JSON document per line, in commit order (from the oldest kept,
    or where --after or --state says)."""
    keeper = api.State(state) if state is not None else None
    cursor = after if after is not None else keeper.read() if keeper is not None else None

    def work(client: PixtagClient) -> None:
        nonlocal cursor
        while True:
            found = api.page(client, cursor, types, wait=api.WAIT if follow else 0)
            for event in found.events:
                click.echo(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
            sys.stdout.flush()  # printed before the cursor moves past them: at least once
            if found.cursor and found.cursor != cursor:
                cursor = found.cursor
                if keeper is not None:
                    keeper.write(cursor)
            if not follow and not found.events:
                return

    run(work, url, connections=1)


@click.group()
def webhooks() -> None:
    """Webhooks: events POSTed to a URL, signed (admin)."""


def _line(hook: api.Webhook) -> tuple[str, ...]:
    state = "enabled" if hook.enabled else f"disabled: {hook.disabled_reason}"
    return (str(hook.webhook_id), hook.url, ",".join(hook.types) or "all", state)


@webhooks.command("add")
@click.argument("target", metavar="URL")
@click.option("-t", "--types", multiple=True, metavar="TYPE", help="Only these; repeat.")
@click.option("-d", "--description", default="", help="What it is for.")
@url_option
def add(target: str, types: tuple[str, ...], description: str, url: str | None) -> None:
    """POST events to URL; print its id and its secret (shown this once)."""
    made = run(lambda client: api.add_webhook(client, target, types, description), url)
    click.echo(f"{made.webhook_id}  {made.url}")
    click.echo(f"secret: {made.secret}")


@webhooks.command("ls")
@url_option
def list_webhooks(url: str | None) -> None:
    """List the webhooks."""
    found = run(api.webhooks, url)
    rows = [_line(hook) for hook in found]
    click.echo(table(("ID", "URL", "TYPES", "STATE"), rows, {0}) if rows else "no webhooks")


@webhooks.command("rm")
@click.argument("webhook_id", type=click.IntRange(1))
@url_option
def remove(webhook_id: int, url: str | None) -> None:
    """Delete webhook WEBHOOK_ID and its deliveries."""
    run(lambda client: api.remove_webhook(client, webhook_id), url)
    click.echo(f"deleted webhook {webhook_id}")


@webhooks.command("enable")
@click.argument("webhook_id", type=click.IntRange(1))
@url_option
def enable(webhook_id: int, url: str | None) -> None:
    """Start a disabled webhook again where it stopped."""
    hook = run(lambda client: api.set_enabled(client, webhook_id, True), url)
    click.echo("  ".join(_line(hook)))


@webhooks.command("deliveries")
@click.argument("webhook_id", type=click.IntRange(1))
@click.option("-n", "--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@url_option
def deliveries(webhook_id: int, limit: int, url: str | None) -> None:
    """The webhook's latest deliveries, newest first."""
    found = run(lambda client: api.deliveries(client, webhook_id, limit), url)
    rows = [
        (
            str(d.delivery_id),
            d.event_id,
            d.event_type,
            d.status + (" (again)" if d.redelivery else ""),
            str(d.attempts),
            "" if d.response_status is None else str(d.response_status),
            d.error or "",
        )
        for d in found
    ]
    headers = ("ID", "EVENT", "TYPE", "STATUS", "ATTEMPTS", "HTTP", "ERROR")
    click.echo(table(headers, rows, {0, 4, 5}) if rows else "no deliveries")


@webhooks.command("redeliver")
@click.argument("webhook_id", type=click.IntRange(1))
@click.argument("delivery_id", type=click.IntRange(1))
@url_option
def redeliver(webhook_id: int, delivery_id: int, url: str | None) -> None:
    """Send a delivery's event again."""
    again = run(lambda client: api.redeliver(client, webhook_id, delivery_id), url)
    click.echo(f"queued delivery {again.delivery_id} of event {again.event_id}")
