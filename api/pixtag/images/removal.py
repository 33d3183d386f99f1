"""Writes that stop naming a stored file: deleting an image, deleting only its file.

The storage rule of ``pixtag.images.ingest`` read the other way round: the
row stops naming the key in one transaction, and the key is removed only
once that COMMIT is known to have happened. Rolled back, the file stays
named and stays; unknown (the connection went during COMMIT), nothing is
removed and the request answers 503: the sweeper, whose only truth is the
database, removes the file later if the change did commit. A crash between
the COMMIT and the removal leaves the same: a key no row names, for the
sweeper.
"""

from pixtag.errors import DomainError, NotFound, WrongFilename
from pixtag.images.ingest import Ingest
from pixtag.images.queries import edits as queries
from pixtag.images.versions import check_version
from pixtag.renditions import queries as renditions
from pixtag.similar import queries as similar
from pixtag.storage.change import CommitUnknown


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
    try:
        async with ingest.change(f"deleting image {image_id}") as change:
            cur = await change.begin()
            locked = await queries.lock_image(cur, image_id)
            check_version(versions, locked.version)
            change.drop(locked.key)
            for derived in await renditions.forget(cur, image_id):
                change.drop(derived)
            await queries.delete_image(cur, image_id)
    except CommitUnknown:
        raise RemovalOutcomeUnknown() from None


async def delete_file(
    ingest: Ingest, image_id: int, filename: str, versions: list[int] | None
) -> int:
    """Forget an image's file, then remove it; return the row's new version."""
    try:
        async with ingest.change(f"deleting the file of image {image_id}") as change:
            cur = await change.begin()
            locked = await queries.lock_image(cur, image_id)
            if filename != locked.filename:
                raise WrongFilename(image_id, filename, locked.filename)
            if locked.key is None:
                raise NotFound(f"Image <{image_id}> has no file")
            check_version(versions, locked.version)
            change.drop(locked.key)
            for derived in await renditions.forget(cur, image_id):
                change.drop(derived)
            await similar.forget(cur, image_id)
            return await queries.forget_file(cur, image_id)
    except CommitUnknown:
        raise RemovalOutcomeUnknown() from None
