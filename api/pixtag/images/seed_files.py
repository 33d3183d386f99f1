"""Seed 003's file server on pixtag's images: create from its form, rename keeping the
extension, and find what a download sends.

A file is an image with a file: ``name`` and ``extension`` are its filename
split by ``os.path.splitext``, ``comment`` its description. The form's
``file`` goes through the one ingest path like every upload, so a file that
is no image is refused (415) as everywhere.
"""

import os.path
from typing import Any

from aiohttp import web

from pixtag import keys
from pixtag.errors import BadRequest
from pixtag.images import records, uploads
from pixtag.images.queries import edits
from pixtag.images.queries import seed_files as queries
from pixtag.validation import check_filename, normalise_description

FIELDS = {"name", "comment"}


def form_filename(name: str | None, sent: str | None, content_type: str) -> str:
    """The stored filename: ``name`` (or the file's own name without its extension, else
    ``file``) and the file's extension (or the usual one of its type)."""
    # The last segment of what a client sent (some send a whole path, with either slash).
    stem, extension = os.path.splitext((sent or "").replace("\\", "/").rpartition("/")[2])
    if not extension:
        extension = IMAGE_EXTENSIONS.get(content_type, "")
    stem = name if name is not None and name.strip() else stem or "file"
    try:
        return check_filename(stem + extension)
    except ValueError as error:
        raise BadRequest(f"name: {error}") from None


IMAGE_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/avif": ".avif",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
    "image/vnd.microsoft.icon": ".ico",
}


async def create(request: web.Request) -> int:
    """A new image from the seed's form (``name``, ``comment``, ``file``); its id."""
    form = await uploads.receive_form(request, "file", FIELDS)
    try:
        try:
            description = normalise_description(form.fields.get("comment", ""))
        except ValueError as error:
            raise BadRequest(f"comment: {error}") from None
        filename = form_filename(
            form.fields.get("name"), form.filename, form.received.image.content_type
        )
    except BaseException:
        await form.received.spooled.discard()
        raise
    image_id, _ = await request.app[keys.INGEST].create(
        form.received, filename=filename, tags=[], description=description
    )
    return image_id


async def edit(
    request: web.Request, image_id: int, *, name: str | None, comment: str | None, versions: Any
) -> int:
    """Rename (keeping the extension) and describe; the new version."""
    change = edits.Edit(filename=None, tags=None, add=[], remove=[], description=comment, stem=name)
    edited = await records.edit_image(
        request.app[keys.DATABASE],
        image_id,
        change,
        versions,
        media_url=request.app[keys.STORAGE].media_url,
    )
    return edited.version


async def document(request: web.Request, image_id: int) -> tuple[str, int]:
    """The file document of an image and its version."""
    async with request.app[keys.DATABASE].cursor() as cur:
        return await queries.file_json(cur, image_id)
