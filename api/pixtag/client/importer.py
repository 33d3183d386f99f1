"""Upload many files concurrently; files the server already stores only get the new tags.

A file is identified by the sha256 of its bytes: before uploading, the
importer asks the server for an image with that digest, so a re-run over
the same folder uploads nothing and creates no duplicates. When the stored
image lacks some of the tags asked for, they are added to it (one PATCH);
else it is skipped. Identical files met within one run are uploaded once.
A file the server refuses (not an image, too large, a bad name) is reported
and the others go on; losing the server stops the whole run.
"""

import asyncio
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pixtag import validation
from pixtag.client.errors import ClientError, ServerError
from pixtag.client.files import sha256_of
from pixtag.client.session import PixtagClient
from pixtag.models import Image


class Outcome(enum.StrEnum):
    UPLOADED = "uploaded"
    TAGGED = "tagged"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass
class ImportReport:
    """What happened to each file of an import (and how many were not images at all)."""

    uploaded: list[tuple[Path, Image]] = field(default_factory=list)
    tagged: list[tuple[Path, Image]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    not_images: int = 0

    def summary(self) -> str:
        """One line: uploaded and failed always, the other counts when there are any."""
        parts = [f"uploaded {len(self.uploaded)}"]
        if self.tagged:
            parts.append(f"tagged {len(self.tagged)} already stored")
        if self.skipped:
            parts.append(f"skipped {len(self.skipped)} (already stored)")
        if self.not_images:
            parts.append(f"skipped {self.not_images} (not an image)")
        parts.append(f"failed {len(self.failed)}")
        return ", ".join(parts)


def normalised(tags: Iterable[str]) -> list[str]:
    """Tags as the server stores them (an invalid one is left for the server to refuse)."""
    found = []
    for tag in tags:
        try:
            found.append(validation.normalise_tag(tag))
        except ValueError:
            found.append(tag)
    return list(dict.fromkeys(found))


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
    wanted = normalised(tags)
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
        stored = await client.find_by_sha256(digest)
        if stored is not None:
            missing = [tag for tag in wanted if tag not in stored.tags]
            if not missing:
                report.skipped.append(path)
                return Outcome.SKIPPED
        try:
            if stored is not None:
                image = await client.update(stored.image_id, {"tags_add": missing})
                report.tagged.append((path, image))
                return Outcome.TAGGED
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
