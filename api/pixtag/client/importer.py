"""Upload many files concurrently, skipping those the server already stores.

A file is identified by the sha256 of its bytes: before uploading, the
importer asks the server for an image with that digest, so a re-run over
the same folder uploads nothing and creates no duplicates. Identical files
met within one run are uploaded once. A file the server refuses (not an
image, too large, a bad name) is reported and the others go on; losing the
server stops the whole run.
"""

import asyncio
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pixtag.client.errors import ClientError, ServerError
from pixtag.client.files import sha256_of
from pixtag.client.session import PixtagClient
from pixtag.models import Image


class Outcome(enum.StrEnum):
    UPLOADED = "uploaded"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass
class ImportReport:
    """What happened to each file of an import."""

    uploaded: list[tuple[Path, Image]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"uploaded {len(self.uploaded)}, skipped {len(self.skipped)} (already stored),"
            f" failed {len(self.failed)}"
        )


async def import_files(
    client: PixtagClient,
    paths: Sequence[Path],
    *,
    tags: Iterable[str] = (),
    jobs: int = 4,
    on_done: Callable[[Path, Outcome], None] | None = None,
) -> ImportReport:
    """Upload ``paths`` with at most ``jobs`` requests in flight; call ``on_done`` per file."""
    tags = list(tags)
    report = ImportReport()
    seen: set[str] = set()
    pending = iter(paths)

    async def upload(path: Path) -> Outcome:
        digest = await sha256_of(path)
        # No await between the test and the add: two workers cannot both claim a digest.
        if digest in seen:
            report.skipped.append(path)
            return Outcome.SKIPPED
        seen.add(digest)
        if await client.find_by_sha256(digest) is not None:
            report.skipped.append(path)
            return Outcome.SKIPPED
        try:
            image = await client.create(path, tags)
        except ServerError as error:
            report.failed.append((path, error.detail))
            return Outcome.FAILED
        report.uploaded.append((path, image))
        return Outcome.UPLOADED

    async def worker() -> None:
        # Workers share one iterator: each file is taken exactly once.
        for path in pending:
            try:
                outcome = await upload(path)
            except OSError as error:
                report.failed.append((path, error.strerror or str(error)))
                outcome = Outcome.FAILED
            if on_done is not None:
                on_done(path, outcome)

    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(max(1, min(jobs, len(paths)))):
                group.create_task(worker())
    except* ClientError as errors:
        raise errors.exceptions[0] from None
    report.uploaded.sort(key=lambda item: item[1].image_id)
    return report
