"""Uploads: the multipart envelope, the limits, and the order of steps.

The order is what keeps file and record consistent: the body is streamed
into a temporary file with no database connection held; then, in one
transaction, the image's row is locked and written, the file is renamed into
place, and only then is the transaction committed. So the new row becomes
visible only once its file is in place, concurrent uploads to one image take
turns (the row lock is held across the rename and the commit), and a failing
write leaves the previous file untouched. Any failure on the way removes the
temporary file: a refused or aborted upload changes nothing.
"""

import dataclasses
from collections.abc import Awaitable, Callable

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_urldispatcher import _default_expect_handler
from pydantic import ValidationError

from pixtag import keys, storage
from pixtag.db.pool import cursor
from pixtag.db.queries import attachments as queries
from pixtag.errors import BadRequest, InvalidRequest, PayloadTooLarge, WrongFilename, problem
from pixtag.models import ImageCreate

# What aiohttp's multipart parser raises on a malformed body.
MALFORMED = (ValueError, HttpProcessingError)
# Room for boundaries and part headers around the file when judging Content-Length.
ENVELOPE_SIZE = 64 * 1024
MAX_META_SIZE = 64 * 1024
# The name an image part is received under when it comes before ``meta``.
PROVISIONAL_NAME = "upload"


def is_multipart(request: web.Request) -> bool:
    return request.content_type == "multipart/form-data"


def check_length(request: web.Request) -> None:
    """413 at once when Content-Length already says the body is over the limit."""
    limit = request.app[keys.SETTINGS].max_upload_size + ENVELOPE_SIZE + MAX_META_SIZE
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes")


async def expect_handler(request: web.Request) -> web.StreamResponse | None:
    """Answer ``Expect: 100-continue`` with the 413 itself, so the client never sends the body."""
    try:
        check_length(request)
    except PayloadTooLarge as error:
        return problem(error.status, error.detail)
    await _default_expect_handler(request)
    return None


async def open_form(request: web.Request) -> MultipartReader:
    """The multipart reader of a request (after the Content-Length check)."""
    check_length(request)
    if not is_multipart(request):
        raise BadRequest(
            f"Content-Type must be multipart/form-data, not {request.content_type or 'none'}"
        )
    try:
        return await request.multipart()
    except (ValueError, KeyError, AssertionError):
        raise BadRequest("The multipart body is malformed (no boundary?)") from None


async def next_part(reader: MultipartReader, *names: str) -> BodyPartReader:
    """The next part, which must be a field called one of ``names``."""
    try:
        part = await reader.next()
    except MALFORMED:
        raise BadRequest("The multipart body is malformed") from None
    if not isinstance(part, BodyPartReader) or part.name not in names:
        found = f"'{part.name}'" if isinstance(part, BodyPartReader) else "nothing"
        expected = " or ".join(f"'{name}'" for name in names)
        raise BadRequest(f"Expected a multipart field {expected}, found {found}")
    return part


async def expect_end(reader: MultipartReader, after: str = "image") -> None:
    try:
        part = await reader.next()
    except MALFORMED:
        raise BadRequest("The multipart body is malformed") from None
    if part is not None:
        name = part.name if isinstance(part, BodyPartReader) else None
        raise BadRequest(f"Unexpected multipart field '{name}' after the {after}")


def reader_of(part: BodyPartReader) -> Callable[[int], Awaitable[bytes]]:
    """``part.read_chunk``, with a malformed body reported as a 400."""

    async def read(size: int) -> bytes:
        try:
            return await part.read_chunk(size)
        except MALFORMED:
            raise BadRequest("The multipart body is malformed") from None

    return read


async def read_meta(part: BodyPartReader) -> ImageCreate:
    read = reader_of(part)
    data = bytearray()
    while chunk := await read(8192):
        data += chunk
        if len(data) > MAX_META_SIZE:
            raise PayloadTooLarge(f"The meta part is larger than {MAX_META_SIZE} bytes")
    try:
        return ImageCreate.model_validate_json(bytes(data))
    except ValidationError as error:
        raise InvalidRequest(error, "meta") from None


async def receive_part(
    request: web.Request, part: BodyPartReader, image_id: int, filename: str
) -> storage.Received:
    """Stream an ``image`` part beside the image's file; the part's own filename is ignored."""
    settings = request.app[keys.SETTINGS]
    target = storage.target_path(settings.media_dir, image_id, filename)
    return await storage.receive(reader_of(part), target, settings.max_upload_size)


async def receive(
    request: web.Request, reader: MultipartReader, image_id: int, filename: str
) -> storage.Received:
    """Stream the ``image`` part, which must be the last one."""
    received = await receive_part(request, await next_part(reader, "image"), image_id, filename)
    try:
        await expect_end(reader)
    except BaseException:
        await received.discard()
        raise
    return received


async def receive_then_meta(
    request: web.Request, reader: MultipartReader, part: BodyPartReader, image_id: int
) -> tuple[ImageCreate, storage.Received]:
    """The ``image`` part first, then ``meta``: the file waits until its name is known."""
    # The temporary file lives in the image's directory whatever the name; only
    # the rename needs the name, and it comes after the meta part is read.
    received = await receive_part(request, part, image_id, PROVISIONAL_NAME)
    try:
        meta = await read_meta(await next_part(reader, "meta"))
        await expect_end(reader, after="meta")
        media_dir = request.app[keys.SETTINGS].media_dir
        target = storage.target_path(media_dir, image_id, meta.filename)
    except BaseException:
        await received.discard()
        raise
    return meta, dataclasses.replace(received, target=target)


async def reserve_image_id(app: web.Application) -> int:
    async with cursor(app) as cur:
        return await queries.reserve_image_id(cur)


def facts(received: storage.Received) -> queries.FileFacts:
    info = received.image
    return queries.FileFacts(
        info.content_type, received.size, received.sha256, info.width, info.height
    )


async def attach(request: web.Request, image_id: int, filename: str) -> tuple[int, str]:
    """Store the file of an existing image; return 201 (first file) or 200 and the image JSON."""
    app = request.app
    async with cursor(app) as cur:
        current = await queries.image_file(cur, image_id)
    if filename != current.filename:
        raise WrongFilename(image_id, filename, current.filename)
    reader = await open_form(request)
    received = await receive(request, reader, image_id, current.filename)
    try:
        async with cursor(app) as cur, cur.begin():
            locked = await queries.image_file(cur, image_id, lock=True)
            document = await queries.record_attachment(
                cur, image_id, facts(received), media_url=app[keys.SETTINGS].media_url
            )
            await received.install()
    except BaseException:
        await received.discard()
        raise
    return (200 if locked.content_type else 201), document


async def create(request: web.Request) -> tuple[int, str]:
    """Create a record from the ``meta`` part and store the ``image`` part, all or nothing.

    The parts may come in either order. ``meta`` first is better: a bad record
    is refused before a byte of the file is read.
    """
    app = request.app
    reader = await open_form(request)
    first = await next_part(reader, "meta", "image")
    if first.name == "meta":
        meta = await read_meta(first)
        image_id = await reserve_image_id(app)
        received = await receive(request, reader, image_id, meta.filename)
    else:
        image_id = await reserve_image_id(app)
        meta, received = await receive_then_meta(request, reader, first, image_id)
    installed = False
    try:
        async with cursor(app) as cur, cur.begin():
            document = await queries.insert_image_with_attachment(
                cur,
                image_id,
                filename=meta.filename,
                tags=meta.tags,
                facts=facts(received),
                media_url=app[keys.SETTINGS].media_url,
            )
            await received.install()
            installed = True
    except BaseException:
        # Not committed: the record does not exist, so neither may its file.
        await (received.uninstall() if installed else received.discard())
        raise
    return image_id, document
