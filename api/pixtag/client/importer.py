"""Upload many files concurrently; files the server already stores only get the new tags.

A file is identified by the sha256 of its bytes: before uploading, the
importer asks the server for an image with that digest, so a re-run over
the same folder uploads nothing and creates no duplicates. When the stored
image lacks some of the tags asked for, they are added to it (one PATCH);
else it is skipped. Identical files met within one run are uploaded once.
A file the server refuses (not an image, too large, a bad name) is reported
and the others go on; losing the server stops the whole run.
"""

import enum
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pixtag import validation
from pixtag.client.documents import Image
from pixtag.client.errors import ServerError
from pixtag.client.files import sha256_of
from pixtag.client.session import PixtagClient


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
    # The tags every file was given (--tag), normalised.
    given: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: uploaded and failed always, the other counts when there are any."""
        parts = [f"uploaded {len(self.uploaded)}"]
        near = sum(1 for _, image in self.uploaded if image.near_duplicates)
        if near:
            parts[0] += f" ({near} duplicating stored images, listed above)"
        keyword_tags = sum(len(from_file(image, self.given)) for _, image in self.uploaded)
        if keyword_tags:
            parts.append(f"{keyword_tags} tags from the files' keywords")
        if self.tagged:
            parts.append(f"tagged {len(self.tagged)} already stored")
        if self.skipped:
            parts.append(f"skipped {len(self.skipped)} (already stored)")
        if self.not_images:
            parts.append(f"skipped {self.not_images} (not an image)")
        parts.append(f"failed {len(self.failed)}")
        return ", ".join(parts)


def from_file(image: Image, given: Iterable[str]) -> list[str]:
    """The image's tags that its file's keywords made (not among the ``given`` tags)."""
    keywords = image.metadata.keywords if image.metadata and image.metadata.keywords else []
    made = set(normalised(keywords)) - set(normalised(given))
    return [tag for tag in image.tags if tag in made]


def normalised(tags: Iterable[str]) -> list[str]:
    """Tags as the server stores them (an invalid one is left for the server to refuse)."""
    found = []
    for tag in tags:
        try:
            found.append(validation.normalise_tag(tag))
        except ValueError:
            found.append(tag)
    return list(dict.fromkeys(found))


def import_files(
    client: PixtagClient,
    paths: Sequence[Path],
    *,
    tags: Iterable[str] = (),
    jobs: int = 4,
    check_similar: bool = False,
    on_done: Callable[[Path, Outcome], None] | None = None,
) -> ImportReport:
    """Upload ``paths`` with at most ``jobs`` requests in flight; call ``on_done`` per file.
    ``check_similar``: each answer lists the near duplicates on every rung.

    ``on_done`` runs in the calling thread, one file at a time.
    """
    tags = list(tags)
    wanted = normalised(tags)
    report = ImportReport(given=wanted)
    seen: set[str] = set()
    claim = threading.Lock()

    def upload(path: Path) -> Outcome:
        try:
            return attempt(path)
        except OSError as error:
            report.failed.append((path, error.strerror or str(error)))
            return Outcome.FAILED

    def attempt(path: Path) -> Outcome:
        digest = sha256_of(path)
        # Under the lock, two workers cannot both claim a digest.
        with claim:
            first = digest not in seen
            seen.add(digest)
        if not first:
            report.skipped.append(path)
            return Outcome.SKIPPED
        stored = client.find_by_sha256(digest)
        if stored is not None:
            missing = [tag for tag in wanted if tag not in stored.tags]
            if not missing:
                report.skipped.append(path)
                return Outcome.SKIPPED
        try:
            if stored is not None:
                image = client.update(stored.image_id, {"tags_add": missing})
                report.tagged.append((path, image))
                return Outcome.TAGGED
            image = client.create(path, tags, check_similar=check_similar)
        except ServerError as error:
            report.failed.append((path, error.detail))
            return Outcome.FAILED
        report.uploaded.append((path, image))
        return Outcome.UPLOADED

    # Here, not at the top: `add` shares this module and need not load the pool.
    from concurrent.futures import ThreadPoolExecutor, as_completed

    # Lists take appends from several threads at once safely; a lost server
    # (a ClientError that is not the server's answer) ends the run at once.
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(paths)))) as pool:
        futures = {pool.submit(upload, path): path for path in paths}
        try:
            for future in as_completed(futures):
                outcome = future.result()
                if on_done is not None:
                    on_done(futures[future], outcome)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    report.uploaded.sort(key=lambda item: item[1].image_id)
    return report
