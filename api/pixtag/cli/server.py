"""Server-side commands: thin wrappers over pixtag.app and pixtag.db.fixtures."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import psycopg2
from pydantic import ValidationError

from pixtag.cli.connect import Failure
from pixtag.db import embedded
from pixtag.db import fixtures as loader
from pixtag.settings import Settings
from pixtag.storage.context import StorageError

database_url_option = click.option(
    "--database-url", help="PostgreSQL URL (env PIXTAG_DATABASE_URL); default: embedded server."
)
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Runtime state: embedded database and media (env PIXTAG_DATA_DIR, default ./data).",
)


# The command-line option that sets each setting, for error messages.
OPTIONS = {
    "host": "--host",
    "port": "--port",
    "workers": "--workers",
    "data_dir": "--data-dir",
    "database_url": "--database-url",
}


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the command line's options on top.

    An invalid setting is a one-line error naming it (never its value: it may be a secret).
    """
    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as error:
        raise click.ClickException(settings_error(error)) from None


def settings_error(error: ValidationError) -> str:
    """``invalid settings: PIXTAG_PORT (--port): ...``, every problem on one line."""
    problems = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        message = item["msg"].removeprefix("Value error, ")
        if not item["loc"]:
            problems.append(message)
            continue
        field = str(item["loc"][0])
        name = f"PIXTAG_{field.upper()}"
        if field in OPTIONS:
            name += f" ({OPTIONS[field]})"
        problems.append(f"{name}: {message}")
    return "invalid settings: " + "; ".join(problems)


@contextmanager
def open_database(settings: Settings) -> Iterator[str]:
    """The database URL (the embedded server joined if it must be); never creates one."""
    try:
        with embedded.database_url(settings) as dsn:
            yield dsn
    except embedded.NoDatabase as error:
        raise Failure(str(error)) from None


def run[T](func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a loader function, turning its errors into a one-line CLI error."""
    try:
        return func(*args, **kwargs)
    except loader.FixtureError as error:
        raise click.ClickException(str(error)) from None


@click.command()
@click.option(
    "--host",
    help="Interface to listen on (env PIXTAG_HOST, default 127.0.0.1; another address turns"
    " auth on unless PIXTAG_AUTH=off).",
)
@click.option("--port", type=int, help="Port to listen on (env PIXTAG_PORT, default 8080).")
@click.option(
    "--workers",
    help="Processes answering on the address (env PIXTAG_WORKERS, default 1; auto: one per CPU).",
)
@data_dir_option
@database_url_option
def serve(
    host: str | None,
    port: int | None,
    workers: str | None,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Serve the API (embedded PostgreSQL when no database URL is given)."""
    from pixtag import logs  # the server's modules, only for serve

    settings = load_settings(
        host=host, port=port, workers=workers, data_dir=data_dir, database_url=database_url
    )
    logs.configure()
    try:
        return _serve(settings)
    finally:
        logs.flush()  # the log's last lines before click's own


def _serve(settings: Settings) -> None:
    from pixtag import runner
    from pixtag.db.budget import OverBudget
    from pixtag.errors import one_line
    from pixtag.runner import ListenError

    try:
        if settings.workers == 1:
            runner.serve(settings)
            return
        from pixtag import workers as supervisor  # gunicorn, only with several workers

        status = supervisor.serve(settings)
    except ListenError as error:
        raise click.ClickException(str(error)) from None
    except (psycopg2.OperationalError, loader.FixtureError, StorageError, OverBudget) as error:
        raise click.ClickException(f"cannot start: {one_line(str(error))}") from None
    if status == supervisor.WORKER_BOOT_ERROR:
        raise click.ClickException("cannot start: a worker could not start (its line above)")
    if status:
        raise SystemExit(status)


fixtures_dir_option = click.option(
    "--fixtures-dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Directory of NNN_name.sql files (default: the ones shipped with pixtag).",
)


@click.group()
def fixtures() -> None:
    """List, apply or reset the SQL fixtures (the schema)."""


@fixtures.command("list")
@fixtures_dir_option
@data_dir_option
@database_url_option
def list_(fixtures_dir: Path | None, data_dir: Path | None, database_url: str | None) -> None:
    """Show each fixture as applied, pending, changed or missing."""
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    with open_database(settings) as dsn:
        for item in run(loader.status, dsn, fixtures_dir):
            when = f"  {item.applied_at:%Y-%m-%d %H:%M:%S%z}" if item.applied_at else ""
            click.echo(f"{item.state.value:<8} {item.name}{when}")


@fixtures.command()
@click.argument("names", nargs=-1)
@fixtures_dir_option
@data_dir_option
@database_url_option
def apply(
    names: tuple[str, ...],
    fixtures_dir: Path | None,
    data_dir: Path | None,
    database_url: str | None,
) -> None:
    """Apply pending fixtures in name order (or only NAMES)."""
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    with open_database(settings) as dsn:
        applied = run(loader.apply, dsn, fixtures_dir, names=names)
    for name in applied:
        click.echo(f"applied  {name}")
    if not applied:
        click.echo("nothing to apply")


@fixtures.command()
@click.option("--yes", is_flag=True, help="Confirm: this drops every table and its data.")
@data_dir_option
@database_url_option
def reset(yes: bool, data_dir: Path | None, database_url: str | None) -> None:
    """Drop everything in the database (needs --yes)."""
    if not yes:
        raise click.UsageError("reset drops every table and all data; pass --yes to confirm")
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    with open_database(settings) as dsn:
        run(loader.reset, dsn)
    click.echo("database reset: every table dropped")


@click.command()
@click.option(
    "-o", "--output", type=click.File("w"), default="-", help="Output file (default stdout)."
)
def openapi(output: Any) -> None:
    """Write the OpenAPI document generated from the code."""
    from pixtag import openapi as document
    from pixtag.app import create_app

    output.write(document.render(document.generate([create_app()])))
