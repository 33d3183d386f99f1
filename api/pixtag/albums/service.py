"""What an album request means: create, edit, delete, and a manual album's images.

Every change holds the album's row for its transaction and bumps its
version (its ETag); ``If-Match`` with another version is a 412 and changes
nothing. A manual album's images are changed only on a manual album (409 on
a smart one); a smart album's query is checked as a search when it is saved.
"""

from dataclasses import dataclass
from typing import Any

from pixtag.albums import queries
from pixtag.albums.models import AlbumCreate, AlbumPatch
from pixtag.db.database import Database
from pixtag.errors import BadRequest, Conflict, Gone, NotFound
from pixtag.images.versions import check_version
from pixtag.search.grammar import QuerySyntaxError, parse


class SmartAlbum(Conflict):
    """A manual album's operation asked of a smart one."""

    def __init__(self, album_id: int) -> None:
        super().__init__(
            f"Album <{album_id}> is a smart album: its images are its query's, not added,"
            " removed or ordered by hand"
        )


class ManualAlbum(Conflict):
    def __init__(self, album_id: int) -> None:
        super().__init__(
            f"Album <{album_id}> is a manual album: it has no query (create a smart album)"
        )


class ImagesMissing(NotFound):
    def __init__(self, missing: list[int]) -> None:
        super().__init__(f"No image has these ids: {', '.join(map(str, missing))}")
        self.extensions = {"image_ids": missing}


class ImagesDeleted(Gone):
    def __init__(self, deleted: list[int]) -> None:
        super().__init__(f"These images were deleted: {', '.join(map(str, deleted))}")
        self.extensions = {"image_ids": deleted}


class NotInAlbum(BadRequest):
    def __init__(self, album_id: int, ids: list[int], what: str = "ids") -> None:
        super().__init__(
            f"{what}: not in album <{album_id}>: {', '.join(map(str, ids))}",
        )
        self.extensions |= {"image_ids": ids}


@dataclass(frozen=True)
class Written:
    """An album as written: its JSON and its version."""

    document: str
    version: int


def check_query(query: str) -> None:
    """400 naming the position when ``query`` is no search."""
    parse(query, ("body", "query"))


def query_error(query: str | None) -> str | None:
    """Why a stored query does not parse any more (None: it does)."""
    if query is None:
        return None
    try:
        parse(query)
    except QuerySyntaxError as error:
        return error.detail
    return None


async def create(db: Database, body: AlbumCreate) -> Written:
    if body.query is not None:
        check_query(body.query)
    async with db.transaction() as cur:
        if body.cover_id is not None:
            await _require_images(cur, [body.cover_id])
        row = await queries.insert(
            cur,
            name=body.name,
            description=body.description,
            query=body.query,
            cover_id=body.cover_id,
        )
    return Written(row.document, row.version)


async def edit(
    db: Database, album_id: int, patch: AlbumPatch, versions: list[int] | None
) -> Written:
    changes: dict[str, Any] = patch.model_dump(exclude_unset=True)
    if not changes:
        raise BadRequest("Nothing to change: give name, description, query or cover_id")
    async with db.transaction() as cur:
        version, query = await queries.lock(cur, album_id)
        check_version(versions, version, "album")
        if "query" in changes:
            if query is None:
                raise ManualAlbum(album_id)
            check_query(changes["query"])
        if changes.get("cover_id") is not None:
            await _require_images(cur, [changes["cover_id"]])
        row = await queries.update(cur, album_id, changes)
    return Written(row.document, row.version)


async def delete(db: Database, album_id: int, versions: list[int] | None) -> None:
    async with db.transaction() as cur:
        version, _ = await queries.lock(cur, album_id)
        check_version(versions, version, "album")
        await queries.delete(cur, album_id)


async def add_images(
    db: Database, album_id: int, ids: list[int], index: int | None, versions: list[int] | None
) -> Written:
    """Add the images (in their order, before the image at ``index``); those in the album
    already stay where they are."""
    async with db.transaction() as cur:
        await _manual(cur, album_id, versions)
        await _require_images(cur, ids)
        new = await queries.new_ids(cur, album_id, ids)
        if new:
            positions = await queries.slots(cur, album_id, len(new), index)
            await queries.add(cur, album_id, new, positions)
        row = await queries.touch(cur, album_id)
    return Written(row.document, row.version)


async def remove_images(
    db: Database, album_id: int, ids: list[int], versions: list[int] | None
) -> Written:
    async with db.transaction() as cur:
        await _manual(cur, album_id, versions)
        await queries.remove(cur, album_id, ids)
        row = await queries.touch(cur, album_id)
    return Written(row.document, row.version)


async def move_images(
    db: Database, album_id: int, ids: list[int], before: int | None, versions: list[int] | None
) -> Written:
    """Place ``ids`` (in this order) right before the image ``before``, or at the end."""
    if len(set(ids)) != len(ids):
        raise BadRequest("ids: an image is named twice")
    if before is not None and before in ids:
        raise BadRequest("before: one of the images moved")
    async with db.transaction() as cur:
        await _manual(cur, album_id, versions)
        absent = await queries.not_in_album(cur, album_id, ids)
        if absent:
            raise NotInAlbum(album_id, absent)
        if before is not None and await queries.not_in_album(cur, album_id, [before]):
            raise NotInAlbum(album_id, [before], "before")
        positions = await queries.move_slots(cur, album_id, ids, before)
        await queries.move(cur, album_id, ids, positions)
        row = await queries.touch(cur, album_id)
    return Written(row.document, row.version)


async def _manual(cur: Any, album_id: int, versions: list[int] | None) -> None:
    version, query = await queries.lock(cur, album_id)
    check_version(versions, version, "album")
    if query is not None:
        raise SmartAlbum(album_id)


async def _require_images(cur: Any, ids: list[int]) -> None:
    missing = await queries.missing_images(cur, ids)
    unknown = [image_id for image_id, deleted in missing if not deleted]
    if unknown:
        raise ImagesMissing(unknown)
    if missing:
        raise ImagesDeleted([image_id for image_id, _ in missing])
