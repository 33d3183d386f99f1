"""PATCH /images/{id}: rename an image and change its tags, as one versioned write.

The row is locked, its version checked against If-Match, and changed in one
transaction; its version goes up by one (fixtures/006_edit_delete.sql). A
rename never moves bytes: files live under immutable keys, and the filename
is metadata. A file stored before keys is still found by its filename, so
such an image cannot be renamed until ``pixtag storage migrate`` has moved
it (the server does at start).
"""

from pixtag.errors import Conflict
from pixtag.images.ingest import Ingest
from pixtag.images.queries import edits as queries
from pixtag.images.queries.images import Versioned
from pixtag.images.versions import check_version


async def edit_image(
    ingest: Ingest, image_id: int, edit: queries.Edit, versions: list[int] | None
) -> Versioned:
    """Apply ``edit`` if the image's version is one of ``versions`` (any, when None)."""

    async with ingest.db.transaction() as cur:
        locked = await queries.lock_image(cur, image_id)
        check_version(versions, locked.version)
        if locked.legacy and edit.filename not in (None, locked.filename):
            raise Conflict(
                f"Image <{image_id}> has a file stored before storage keys, found by its"
                " filename; run `pixtag storage migrate` before renaming it"
            )
        document, version = await queries.update_image(
            cur, image_id, edit, media_url=ingest.media_url
        )
    return Versioned(document, version)
