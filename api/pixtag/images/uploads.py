"""Uploads: the multipart envelope and its limits, in front of the one ingest path.

This module reads what HTTP brings (the ``meta`` and ``image`` parts, the
declared length) and hands the file's bytes to ``pixtag.images.ingest``,
which stores and records them; a refused or aborted upload changes nothing.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_urldispatcher import _default_expect_handler
from pydantic import ValidationError

from pixtag import keys
from pixtag.errors import BadRequest, InvalidRequest, PayloadTooLarge, WrongFilename, problem
from pixtag.images.ingest import Ingest, Received
from pixtag.images.queries import attachments as queries
from pixtag.models import ImageCreate

# What aiohttp's multipart parser raises on a malformed body.
MALFORMED = (ValueError, HttpProcessingError)
# Room for boundaries and part headers around the file when judging Content-Length.
ENVELOPE_SIZE = 64 * 1024
MAX_META_SIZE = 64 * 1024
READ_SIZE = 256 * 1024


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


async def chunks_of(part: BodyPartReader) -> AsyncIterator[bytes]:
    """The part's bytes, with a malformed body reported as a 400."""
    while True:
        try:
            chunk = await part.read_chunk(READ_SIZE)
        except MALFORMED:
            raise BadRequest("The multipart body is malformed") from None
        if not chunk:
            return
        yield chunk


async def read_meta(part: BodyPartReader) -> ImageCreate:
    data = bytearray()
    async for chunk in chunks_of(part):
        data += chunk
        if len(data) > MAX_META_SIZE:
            raise PayloadTooLarge(f"The meta part is larger than {MAX_META_SIZE} bytes")
    try:
        return ImageCreate.model_validate_json(bytes(data))
    except ValidationError as error:
        raise InvalidRequest(error, "meta") from None


@dataclass
class Form:
    """A form of text fields and one file, received: the file spooled and identified."""

    received: Received
    fields: dict[str, str]
    filename: str | None  # the file part's own filename, if it gave one


async def read_text(part: BodyPartReader) -> str:
    data = bytearray()
    async for chunk in chunks_of(part):
        data += chunk
        if len(data) > MAX_META_SIZE:
            raise PayloadTooLarge(f"The field '{part.name}' is larger than {MAX_META_SIZE} bytes")
    try:
        return bytes(data).decode()
    except UnicodeDecodeError:
        raise BadRequest(f"The field '{part.name}' is not UTF-8 text") from None


async def receive_form(request: web.Request, file_field: str, text_fields: set[str]) -> Form:
    """Text fields and one file field of a form, in any order (an HTML form's or a script's).

    Every field is named, once; an unknown or repeated field is a 400 and so is a form
    without the file. The file is spooled as it comes and discarded if the rest is bad."""
    ingest = request.app[keys.INGEST]
    reader = await open_form(request)
    fields: dict[str, str] = {}
    form: Form | None = None
    try:
        while True:
            try:
                part = await reader.next()
            except MALFORMED:
                raise BadRequest("The multipart body is malformed") from None
            if part is None:
                break
            name = part.name if isinstance(part, BodyPartReader) else None
            if not isinstance(part, BodyPartReader) or name not in text_fields | {file_field}:
                known = ", ".join(f"'{n}'" for n in sorted(text_fields | {file_field}))
                raise BadRequest(f"Unexpected multipart field '{name}' (this form takes {known})")
            if name in fields or (name == file_field and form is not None):
                raise BadRequest(f"The multipart field '{name}' is given twice")
            if name == file_field:
                form = Form(await ingest.receive(chunks_of(part)), fields, part.filename)
            else:
                fields[name] = await read_text(part)
    except BaseException:
        if form is not None:
            await form.received.spooled.discard()
        raise
    if form is None:
        raise BadRequest(f"The form has no file: send it in the multipart field '{file_field}'")
    return form


async def receive_last(ingest: Ingest, reader: MultipartReader) -> Received:
    """Receive the ``image`` part, which must be the last one."""
    received = await ingest.receive(chunks_of(await next_part(reader, "image")))
    try:
        await expect_end(reader)
    except BaseException:
        await received.spooled.discard()
        raise
    return received


async def attach(request: web.Request, image_id: int, filename: str) -> tuple[bool, str]:
    """Store the file of an existing image; whether it replaced one, and the image JSON."""
    app = request.app
    async with app[keys.DATABASE].cursor() as cur:
        current = await queries.image_file(cur, image_id)
    if filename != current.filename:
        raise WrongFilename(image_id, filename, current.filename)
    reader = await open_form(request)
    ingest = app[keys.INGEST]
    return await ingest.attach(image_id, filename, await receive_last(ingest, reader))


async def create(request: web.Request) -> tuple[int, str]:
    """Create a record from the ``meta`` part and store the ``image`` part, all or nothing.

    The parts may come in either order. ``meta`` first is better: a bad record
    is refused before a byte of the file is read.
    """
    ingest = request.app[keys.INGEST]
    reader = await open_form(request)
    first = await next_part(reader, "meta", "image")
    if first.name == "meta":
        meta = await read_meta(first)
        received = await receive_last(ingest, reader)
    else:
        received = await ingest.receive(chunks_of(first))
        try:
            meta = await read_meta(await next_part(reader, "meta"))
            await expect_end(reader, after="meta")
        except BaseException:
            await received.spooled.discard()
            raise
    return await ingest.create(
        received, filename=meta.filename, tags=meta.tags, description=meta.description
    )
