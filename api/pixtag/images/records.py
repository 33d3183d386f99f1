"""Image records: made without a file (``POST /images`` as JSON), renamed and retagged
(``PATCH /images/{id}``), each a versioned write.

An edit locks the row, checks its version against If-Match and changes it
in one transaction; its version goes up by one (fixtures/006_edit_delete.sql). A
rename never moves bytes: files live under immutable keys, and the filename
is metadata. A file stored before keys is still found by its filename, so
such an image cannot be renamed until ``pixtag storage migrate`` has moved
it (the server does at start).
"""

import os.path
from dataclasses import replace

from pixtag.db.database import Database
from pixtag.errors import BadRequest, Conflict
from pixtag.images.queries import edits as queries
from pixtag.images.queries import images
from pixtag.images.queries.images import Versioned
from pixtag.images.versions import check_version
from pixtag.validation import check_filename


async def create_record(
    db: Database, *, filename: str, tags: list[str], description: str, media_url: str | None
) -> tuple[int, Versioned]:
    """A new image record with no file yet; its id and JSON at its first version."""
    async with db.cursor() as cur:
        return await images.insert_image(
            cur, filename=filename, tags=tags, description=description, media_url=media_url
        )


async def edit_image(
    db: Database,
    image_id: int,
    edit: queries.Edit,
    versions: list[int] | None,
    *,
    media_url: str | None,
) -> Versioned:
    """Apply ``edit`` if the image's version is one of ``versions`` (any, when None)."""
    async with db.transaction() as cur:
        locked = await queries.lock_image(cur, image_id)
        check_version(versions, locked.version)
        if edit.stem is not None:
            edit = replace(edit, filename=with_extension(edit.stem, locked.filename))
        if locked.legacy and edit.filename not in (None, locked.filename):
            raise Conflict(
                f"Image <{image_id}> has a file stored before storage keys, found by its"
                " filename; run `pixtag storage migrate` before renaming it"
            )
        document, version = await queries.update_image(cur, image_id, edit, media_url=media_url)
    return Versioned(document, version)


def with_extension(stem: str, filename: str) -> str:
    """``stem`` with the extension of ``filename`` (``os.path.splitext``'s); 400 if the
    result is no filename."""
    try:
        return check_filename(stem + os.path.splitext(filename)[1])
    except ValueError as error:
        raise BadRequest(f"name: {error} (with the extension)") from None
