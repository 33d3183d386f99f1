"""Moving files stored before keys existed (``media/<id>/<filename>``) to their keys.

Each file is hashed; it gets its key by a hard link (no copy), the row is
pointed at the key in its own transaction, and only once that commit is
known is the old name removed. Killed at any point, the row still names a
file that exists (the old name, or the key), and a re-run carries on; a
stray key from an interrupted step is left to the sweeper. A file that no
longer matches its record (replaced in place by an older version) is
recorded as the bytes it really holds, with a warning; a missing file is
reported and its row left as it is.
"""

import asyncio
import hashlib
import logging
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from pixtag import imaging
from pixtag.db.database import Database
from pixtag.errors import DomainError
from pixtag.images.queries.attachments import FileFacts
from pixtag.storage import keys, queries
from pixtag.storage.backend import Storage
from pixtag.storage.change import Change
from pixtag.validation import check_filename

log = logging.getLogger(__name__)

BATCH = 500
READ_SIZE = 1024 * 1024


class Unchanged(Exception):
    """The row no longer names the legacy file: the new key is not needed."""


@dataclass
class MigrationReport:
    """What a migration did, image by image."""

    moved: list[int] = field(default_factory=list)
    corrected: list[int] = field(default_factory=list)  # file differed from its record
    missing: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.moved)} files moved to keys ({len(self.corrected)} re-recorded from"
            f" their bytes), {len(self.missing)} missing, {len(self.failed)} failed"
        )


async def pending(db: Database) -> int:
    """How many rows still name a file in the layout before keys."""
    async with db.cursor() as cur:
        return await queries.count_legacy(cur)


async def migrate(db: Database, storage: Storage, *, max_pixels: int) -> MigrationReport:
    """Move every legacy file to a key; safe to run again, and alongside a running server."""
    report = MigrationReport()
    async for legacy in db.pages(partial(queries.legacy_files, limit=BATCH)):
        await _move(db, storage, legacy, max_pixels, report)
    return report


async def _move(
    db: Database,
    storage: Storage,
    legacy: queries.LegacyFile,
    max_pixels: int,
    report: MigrationReport,
) -> None:
    image_id = legacy.image_id
    try:
        check_filename(legacy.filename)
        assert storage.root is not None  # only local storage had files before keys
        path = storage.root / str(image_id) / legacy.filename
        sha256, size = await asyncio.to_thread(_hash, path)
        info = await asyncio.to_thread(imaging.identify, path, max_pixels)
    except FileNotFoundError:
        log.error("image %s: its file %s is missing; left as it is", image_id, legacy.filename)
        report.missing.append(image_id)
        return
    except (OSError, ValueError, DomainError) as error:
        log.error("image %s: cannot move %s to a key: %s", image_id, legacy.filename, error)
        report.failed.append(image_id)
        return
    if sha256 != legacy.sha256:
        log.warning(
            "image %s: %s holds other bytes than recorded (sha256 %s, recorded %s);"
            " recording the file as it is",
            image_id,
            legacy.filename,
            sha256,
            legacy.sha256,
        )
    key = keys.new_key(image_id, sha256, info.content_type)
    facts = FileFacts(key, info.content_type, size, sha256, info.width, info.height)
    try:
        async with Change(db, storage) as change:
            await change.put(path, key, info.content_type)
            cur = await change.begin()
            if not await queries.move_to_key(cur, image_id, legacy.filename, facts):
                raise Unchanged()  # changed meanwhile: this key is not needed
    except Unchanged:
        return
    except Exception:
        log.error("image %s: could not record its key", image_id, exc_info=True)
        report.failed.append(image_id)
        return
    await asyncio.to_thread(path.unlink, missing_ok=True)
    report.moved.append(image_id)
    if sha256 != legacy.sha256:
        report.corrected.append(image_id)


def _hash(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(READ_SIZE):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
