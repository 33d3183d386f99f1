"""``pixtag storage``: move old files to keys, sweep leftovers, verify every file.

Each command opens the database the server uses (applying pending fixtures,
as ``serve`` does) and the configured storage, and may run beside a running
server.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import click

from pixtag.cli.server import (
    data_dir_option,
    database_url_option,
    load_settings,
    open_database,
    run,
)
from pixtag.db import fixtures as loader
from pixtag.db.database import Database, pooled
from pixtag.settings import Settings
from pixtag.storage import migrate as migration
from pixtag.storage import sweeper, verify
from pixtag.storage.backend import Storage
from pixtag.storage.context import StorageError, open_storage


@contextlib.asynccontextmanager
async def opened(settings: Settings, dsn: str) -> AsyncIterator[tuple[Database, Storage]]:
    async with pooled(dsn, settings, max_size=2) as db:
        storage = await open_storage(settings)
        try:
            yield db, storage
        finally:
            await storage.close()


def run_with_storage[T](
    data_dir: Path | None,
    database_url: str | None,
    action: Callable[[Database, Storage, Settings], Awaitable[T]],
) -> T:
    """Run ``action`` with the handle on the server's database and its storage."""
    settings = load_settings(data_dir=data_dir, database_url=database_url)

    async def main(dsn: str) -> T:
        async with opened(settings, dsn) as (db, storage):
            return await action(db, storage, settings)

    with open_database(settings) as dsn:
        run(loader.apply, dsn)
        try:
            return asyncio.run(main(dsn))
        except StorageError as error:
            raise click.ClickException(str(error)) from None


@click.group()
def storage() -> None:
    """Maintain stored files: migrate, sweep, verify."""


@storage.command()
@data_dir_option
@database_url_option
def migrate(data_dir: Path | None, database_url: str | None) -> None:
    """Move files stored before storage keys to keys (the server also does it at start)."""

    async def action(db: Database, store: Storage, settings: Settings) -> None:
        if store.root is None:
            raise click.ClickException("only local storage has files from before storage keys")
        report = await migration.migrate(db, store, max_pixels=settings.max_image_pixels)
        click.echo(str(report))
        if report.missing or report.failed:
            raise click.ClickException("some files could not be moved (see above)")

    run_with_storage(data_dir, database_url, action)


@storage.command()
@click.option(
    "--grace",
    type=click.IntRange(min=0),
    help="Leave files younger than this many seconds (default PIXTAG_SWEEP_GRACE).",
)
@data_dir_option
@database_url_option
def sweep(grace: int | None, data_dir: Path | None, database_url: str | None) -> None:
    """Remove stored files no image names, and leftovers of interrupted uploads."""

    async def action(db: Database, store: Storage, settings: Settings) -> None:
        report = await sweeper.sweep(
            db, store, grace=settings.sweep_grace if grace is None else grace
        )
        if report is None:
            raise click.ClickException("another process is sweeping this storage; try again later")
        for key in report.orphans + report.incomplete:
            click.echo(f"removed  {key}")
        click.echo(f"removed {report}")

    run_with_storage(data_dir, database_url, action)


@storage.command("verify")
@data_dir_option
@database_url_option
def verify_(data_dir: Path | None, database_url: str | None) -> None:
    """Read every stored file back and compare it with its record (exit 1 on any mismatch)."""

    async def action(db: Database, store: Storage, settings: Settings) -> None:
        report = await verify.verify(db, store)
        for problem in report.problems:
            click.echo(str(problem))
        click.echo(f"{report.checked} files checked, {len(report.problems)} problems")
        if report.problems:
            raise click.ClickException("some records do not match their files")

    run_with_storage(data_dir, database_url, action)
