"""Writes that stop naming a stored file: deleting an image, deleting only its file.

The storage rule of ``pixtag.storage.ingest`` read the other way round: the
row stops naming the key in one transaction, and the key is removed only
once that COMMIT is known to have happened. Rolled back, the file stays
named and stays; unknown (the connection went during COMMIT), nothing is
removed and the request answers 503: the sweeper, whose only truth is the
database, removes the file later if the change did commit. A crash between
the COMMIT and the removal leaves the same: a key no row names, for the
sweeper.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pixtag.db.queries import edits as queries
from pixtag.db.queries import renditions
from pixtag.db.transaction import Outcome, Transaction
from pixtag.errors import DomainError, NotFound, WrongFilename
from pixtag.storage.ingest import Ingest
from pixtag.versions import check_version

log = logging.getLogger(__name__)


class RemovalOutcomeUnknown(DomainError):
    """The database connection was lost while a delete was being committed."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "Whether the deletion was saved could not be confirmed; read the image before"
            " trying again",
            headers={"Retry-After": "1"},
        )


async def delete_image(ingest: Ingest, image_id: int, versions: list[int] | None) -> None:
    """Delete an image (leaving its tombstone), then its file."""

    async def work(cur: Any) -> list[str]:
        locked = await queries.lock_image(cur, image_id)
        check_version(versions, locked.version)
        gone = await renditions.forget(cur, image_id)
        await queries.delete_image(cur, image_id)
        return _keys(locked.key, gone)

    await _commit_then_remove(ingest, work, f"deleting image {image_id}")


async def delete_file(
    ingest: Ingest, image_id: int, filename: str, versions: list[int] | None
) -> int:
    """Forget an image's file, then remove it; return the row's new version."""
    forgotten: list[int] = []

    async def work(cur: Any) -> list[str]:
        locked = await queries.lock_image(cur, image_id)
        if filename != locked.filename:
            raise WrongFilename(image_id, filename, locked.filename)
        if locked.key is None:
            raise NotFound(f"Image <{image_id}> has no file")
        check_version(versions, locked.version)
        gone = await renditions.forget(cur, image_id)
        forgotten.append(await queries.forget_file(cur, image_id))
        return _keys(locked.key, gone)

    await _commit_then_remove(ingest, work, f"deleting the file of image {image_id}")
    return forgotten[-1]


def _keys(key: str | None, derived: list[str]) -> list[str]:
    """The image's file and its renditions' files."""
    return ([key] if key is not None else []) + derived


async def _commit_then_remove(
    ingest: Ingest, work: Callable[[Any], Awaitable[list[str]]], what: str
) -> None:
    """Commit ``work`` (which returns the keys its change stops naming), then remove them."""
    transaction = Transaction(
        ingest.pool,
        timeout_ms=ingest.transaction_timeout_ms,
        acquire_timeout_ms=ingest.acquire_timeout_ms,
    )
    try:
        gone = await transaction.run(work)
    except BaseException as error:
        if transaction.outcome is not Outcome.UNKNOWN:
            raise
        log.warning("the outcome of %s is unknown; nothing removed", what)
        if not isinstance(error, Exception):
            raise  # cancelled: nobody is waiting for an answer
        raise RemovalOutcomeUnknown() from error
    for key in gone:
        await ingest.remove(key)
