"""Tag commands: ``pixtag tags`` lists counts; ``rename-tag``, ``alias``, ``unalias``,
``imply`` and ``unimply`` rename tags and set their rules."""

import click

from pixtag.cli.connect import run, url_option
from pixtag.cli.output import table
from pixtag.client import tags as api
from pixtag.client.documents import compact


@click.command()
@click.argument("prefix", required=False)
@click.option("-n", "--limit", type=click.IntRange(1, 10_000), help="At most this many tags.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, for scripts.")
@url_option
def tags(prefix: str | None, limit: int | None, as_json: bool, url: str | None) -> None:
    """List tags with their image counts, most used first.

    With PREFIX, only the tags starting with it (as autocomplete does).
    """
    rows = run(lambda client: api.tag_counts(client, prefix, limit), url)
    if as_json:
        for row in rows:
            click.echo(compact(row))
        return
    if not rows:
        click.echo("no tags")
        return
    click.echo(table(("TAG", "IMAGES"), [(r.tag, str(r.image_count)) for r in rows], right={1}))


@click.command("rename-tag")
@click.argument("old")
@click.argument("new")
@click.option("--keep-alias", is_flag=True, help="Keep OLD as an alias of NEW.")
@url_option
def rename(old: str, new: str, keep_alias: bool, url: str | None) -> None:
    """Rename OLD to NEW on every image; merge when NEW exists."""
    done = run(lambda client: api.rename(client, old, new, keep_alias=keep_alias), url)
    click.echo(f"renamed {done.tag} to {done.to} on {done.images_updated} images")


@click.command("alias")
@click.argument("alias")
@click.argument("target")
@url_option
def alias(alias: str, target: str, url: str | None) -> None:
    """Make ALIAS mean TARGET, on stored images too."""
    done = run(lambda client: api.set_alias(client, alias, target), url)
    click.echo(f"{done.alias} now means {done.target} ({done.images_updated} images rewritten)")


@click.command("unalias")
@click.argument("alias")
@url_option
def unalias(alias: str, url: str | None) -> None:
    """Remove an alias (images keep the target)."""
    run(lambda client: api.delete_alias(client, alias), url)
    click.echo(f"{alias} is no alias any more")


@click.command("imply")
@click.argument("tag_name", metavar="TAG")
@click.argument("implied")
@url_option
def imply(tag_name: str, implied: str, url: str | None) -> None:
    """Make TAG imply IMPLIED, on stored images too."""
    done = run(lambda client: api.set_implication(client, tag_name, implied), url)
    click.echo(f"{done.tag} now implies {done.implies} ({done.images_updated} images rewritten)")


@click.command("unimply")
@click.argument("tag_name", metavar="TAG")
@click.argument("implied")
@url_option
def unimply(tag_name: str, implied: str, url: str | None) -> None:
    """Remove an implication (images keep the tags it gave)."""
    run(lambda client: api.delete_implication(client, tag_name, implied), url)
    click.echo(f"{tag_name} no longer implies {implied}")
