"""``pixtag process``: a thin wrapper over pixtag.client.processing."""

import json
import time
from typing import Any

import click

from pixtag.cli.connect import run, url_option
from pixtag.client import processing as api
from pixtag.client.processing import ProcessingTask
from pixtag.client.session import PixtagClient

ALGORITHMS = ("resize", "thumbnail", "flip", "rotate", "grayscale", "crop")
ENDED = ("finished", "error")
# Seconds between looks at the tasks still under way.
POLL = 0.3


def line(task: ProcessingTask) -> str:
    """``<id>  <status>  <algorithm>  image <source>`` and what came of it."""
    outcome = ""
    if task.result_id is not None:
        outcome = f" -> image {task.result_id}"
    elif task.error is not None:
        outcome = f"  {task.error.code}: {task.error.message}"
    return f"{task.id}  {task.status}  {task.algorithm}  image {task.source_id}{outcome}"


def parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``k=v`` pairs; a value that reads as JSON (a number, true/false) is taken as such."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--param")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


@click.command()
@click.argument("image_ids", nargs=-1, required=True, type=click.IntRange(min=1))
@click.option("-a", "--algorithm", required=True, type=click.Choice(ALGORITHMS), help="What to do.")
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="A parameter of the algorithm (repeat): width=320, direction=vertical...",
)
@click.option("--wait", is_flag=True, help="Wait until every task ends.")
@url_option
def process(
    image_ids: tuple[int, ...], algorithm: str, params: tuple[str, ...], wait: bool, url: str | None
) -> None:
    """Process images into new ones (one task per image); print each task.

    With --wait, returns once every task has finished or failed; exits 1 if any failed.
    """
    values = parse_params(params)

    def work(client: PixtagClient) -> list[ProcessingTask]:
        task_ids = api.create(client, image_ids, algorithm, values)
        tasks = [api.read(client, task_id) for task_id in task_ids]
        while wait and any(t.status not in ENDED for t in tasks):
            time.sleep(POLL)
            tasks = [t if t.status in ENDED else api.read(client, t.id) for t in tasks]
        return tasks

    tasks = run(work, url)
    for task in tasks:
        click.echo(line(task))
    if wait and any(t.status == "error" for t in tasks):
        raise click.exceptions.Exit(1)
