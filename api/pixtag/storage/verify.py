"""Checking that every record's file exists and holds the bytes it records."""

import hashlib
from dataclasses import dataclass, field
from functools import partial

from pixtag.db.database import Database
from pixtag.images.queries import attachments as queries
from pixtag.storage.backend import Storage

BATCH = 500


@dataclass(frozen=True)
class Problem:
    """A record whose file is missing or differs from what it records."""

    image_id: int
    key: str
    reason: str

    def __str__(self) -> str:
        return f"image {self.image_id}: {self.key}: {self.reason}"


@dataclass
class VerifyReport:
    checked: int = 0
    problems: list[Problem] = field(default_factory=list)


async def verify(db: Database, storage: Storage) -> VerifyReport:
    """Read back every recorded file and compare its size and sha256 with the record."""
    report = VerifyReport()
    async for recorded in db.pages(partial(queries.recorded_files, limit=BATCH)):
        problem = await _check(storage, recorded)
        if problem is not None:
            report.problems.append(problem)
        report.checked += 1
    return report


async def _check(storage: Storage, recorded: queries.RecordedFile) -> Problem | None:
    digest = hashlib.sha256()
    size = 0
    try:
        async for chunk in storage.read(recorded.key):
            digest.update(chunk)
            size += len(chunk)
    except FileNotFoundError:
        return Problem(recorded.image_id, recorded.key, "missing")
    if size != recorded.size or digest.hexdigest() != recorded.sha256:
        return Problem(
            recorded.image_id,
            recorded.key,
            f"holds {size} bytes with sha256 {digest.hexdigest()}, recorded {recorded.size}"
            f" bytes with sha256 {recorded.sha256}",
        )
    return None
