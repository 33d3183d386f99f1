"""Seed 003's file documents, rendered by PostgreSQL from image rows.

``{id, name, extension, comment, size, created_at, updated_at}``: ``name`` is
the filename without its extension (``os.path.splitext``: the last ``.``
and what follows it), ``extension`` that part with its dot (``""`` when
none), ``comment`` the description, the dates RFC 1123 in GMT as Flask
wrote them, ``updated_at`` when the record or its file last changed
(``modified_at``, fixtures/018_descriptions.sql). Only images that have a
file are files.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pixtag.db.chunks import FirstColumn, declared
from pixtag.db.database import Database
from pixtag.errors import NotFound
from pixtag.images.queries.missing import missing_image

CHUNK_SIZE = 1000
EXTENSION = r"coalesce(substring(i.filename from '\.[^.]*$'), '')"
HTTP_DATE = """to_char({} AT TIME ZONE 'UTC', 'Dy, DD Mon YYYY HH24:MI:SS "GMT"')"""
DOCUMENT = f"""
    json_build_object(
        'id', i.image_id,
        'name', left(i.filename, char_length(i.filename) - char_length({EXTENSION})),
        'extension', {EXTENSION},
        'comment', i.description,
        'size', i.size,
        'created_at', {HTTP_DATE.format("i.created_at")},
        'updated_at', {HTTP_DATE.format("modified_at(i)")}
    )::text
"""

SELECT_FILE = f"""
    SELECT {DOCUMENT}, i.version, i.content_type IS NOT NULL
    FROM images AS i WHERE i.image_id = %(image_id)s
"""  # noqa: S608 - constant fragments; values bound
LIST_FILES = f"""
    SELECT {DOCUMENT} FROM images AS i
    WHERE i.content_type IS NOT NULL
    ORDER BY i.created_at DESC, i.image_id DESC
"""  # noqa: S608 - constant fragments

SELECT_STORED = """
    SELECT file_key(i), i.content_type, i.filename, i.size
    FROM images AS i WHERE i.image_id = %(image_id)s
"""


@dataclass(frozen=True)
class StoredFile:
    """What a download of an image's file sends."""

    key: str
    content_type: str
    filename: str
    size: int


class NoFile(NotFound):
    def __init__(self, image_id: int) -> None:
        super().__init__(f"Image <{image_id}> has no file: it is no file of the file server")


async def file_json(cur: Any, image_id: int) -> tuple[str, int]:
    """The file document of an image with a file, and its row version."""
    await cur.execute(SELECT_FILE, {"image_id": image_id})
    row = await cur.fetchone()
    if row is None:
        raise await missing_image(cur, image_id)
    if not row[2]:
        raise NoFile(image_id)
    return str(row[0]), int(row[1])


@asynccontextmanager
async def open_files(db: Database) -> AsyncIterator[FirstColumn]:
    """Every image with a file as a file document, newest first."""
    async with declared(db, LIST_FILES, {}, chunk_size=CHUNK_SIZE) as chunks:
        yield chunks


async def stored_file(cur: Any, image_id: int) -> StoredFile:
    """The stored file of an image; ImageNotFound, ImageGone or NoFile if there is none."""
    await cur.execute(SELECT_STORED, {"image_id": image_id})
    row = await cur.fetchone()
    if row is None:
        raise await missing_image(cur, image_id)
    if row[0] is None:
        raise NoFile(image_id)
    return StoredFile(row[0], row[1], row[2], int(row[3]))
