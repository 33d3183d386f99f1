"""Fingerprinting stored files (the ``similar`` queue's jobs) and finding similar images."""

import asyncio
import contextlib
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from pixtag.db.database import Database
from pixtag.errors import BadRequest
from pixtag.images.ingest import Ingest
from pixtag.images.queries import edits
from pixtag.images.removal import RemovalOutcomeUnknown
from pixtag.imaging import MemoryBudget
from pixtag.jobs.errors import Permanent
from pixtag.jobs.queries import Claimed
from pixtag.pacing import Pacer
from pixtag.renditions import queries as renditions
from pixtag.similar import queries
from pixtag.similar.hashing import Fingerprint, Unreadable, fingerprint
from pixtag.similar.models import (
    DEFAULT_DISTANCE,
    DuplicateGroup,
    DuplicateGroups,
    Merge,
    Similar,
    SimilarImage,
)
from pixtag.storage import spool
from pixtag.storage.backend import Storage
from pixtag.storage.change import CommitUnknown
from pixtag.validation import MAX_DESCRIPTION_LENGTH


@dataclass(frozen=True)
class Fingerprinter:
    """Fingerprints stored files in the background, off the event loop and paced."""

    db: Database
    storage: Storage
    executor: Executor
    pacer: Pacer
    budget: MemoryBudget

    async def __call__(self, job: Claimed) -> dict[str, Any]:
        image_id, sha256 = int(job.payload["image_id"]), str(job.payload["sha256"])
        return await self.index(image_id, sha256)

    async def index(
        self, image_id: int, sha256: str | None, *, paced: bool = True
    ) -> dict[str, Any]:
        """Fingerprint the image's file if it still has the bytes ``sha256`` (None: whatever
        file it has) and they are not fingerprinted yet, and queue the pairs found for
        review; what was done."""
        async with self.db.cursor() as cur:
            found = await queries.file_of(cur, image_id)
        if found is None or found.key is None or found.sha256 is None:
            return {"image_id": image_id, "skipped": "the image has no file"}
        sha256 = sha256 or found.sha256
        if found.sha256 != sha256:
            # Deleted, or its file replaced (whose own job fingerprints it): nothing to do.
            return {"image_id": image_id, "skipped": "the image no longer has this file"}
        if found.indexed:
            return {"image_id": image_id, "skipped": "this file is fingerprinted already"}
        try:
            print_ = await self._fingerprint(found.key, paced)
        except FileNotFoundError:
            return {"image_id": image_id, "skipped": "the file was replaced meanwhile"}
        except Unreadable as error:
            raise Permanent("unreadable", f"the file could not be decoded: {error}") from None
        async with self.db.transaction() as cur:
            pairs = await queries.record_found(cur, image_id, sha256, print_, DEFAULT_DISTANCE)
        return {"image_id": image_id, "indexed": pairs is not None, "pairs": len(pairs or [])}

    async def _fingerprint(self, key: str, paced: bool) -> Fingerprint:
        loop = asyncio.get_running_loop()
        path = self.storage.local_path(key)
        async with self.pacer.turn() if paced else contextlib.nullcontext():
            if path is not None:
                return await loop.run_in_executor(self.executor, fingerprint, path, self.budget)
            spooled = await spool.receive(self.storage.read(key), self.storage.spool_dir, 1 << 62)
            try:
                return await loop.run_in_executor(
                    self.executor, fingerprint, spooled.path, self.budget
                )
            finally:
                await spooled.discard()


async def similar(db: Database, image_id: int, max_distance: int, limit: int) -> Similar:
    """The images on each rung of ``image_id``'s ladder, nearest first."""
    async with db.cursor() as cur:
        indexed, matches = await queries.similar(cur, image_id, max_distance, limit)
    return Similar(
        image_id=image_id,
        indexed=indexed,
        similar=[
            SimilarImage(image_id=m.image_id, match=m.match, distance=m.distance) for m in matches
        ],
    )


async def duplicate_groups(
    db: Database, after: tuple[int, int] | None, limit: int
) -> DuplicateGroups:
    """A page of the review queue: its groups, and the cursor of the next page."""
    async with db.cursor() as cur:
        rows = await queries.groups(cur, after, limit)
    groups = [
        DuplicateGroup(image_id=image_id, size=len(found), duplicates=[_similar(m) for m in found])
        for image_id, found in rows
    ]
    last = groups[-1] if len(groups) == limit else None
    return DuplicateGroups(
        groups=groups, next=None if last is None else f"{last.size}.{last.image_id}"
    )


def _similar(found: queries.Match) -> SimilarImage:
    return SimilarImage(
        image_id=found.image_id,
        match=found.match,
        distance=found.distance,
    )


async def dismiss(db: Database, ids: list[int]) -> None:
    """Remember every pair among ``ids`` as not duplicates."""
    async with db.transaction() as cur:
        for image_id in sorted(set(ids)):  # each must exist (404, or 410 if deleted)
            await edits.lock_image(cur, image_id)
        await queries.dismiss(cur, sorted(set(ids)))


async def resolve(ingest: Ingest, keep: int, remove: list[int], merge: Merge) -> tuple[str, int]:
    """Keep one image, merge the others' tags and description onto it and delete them (their
    files after the commit), in one transaction; the kept image's JSON and row version."""
    try:
        async with ingest.change(f"resolving duplicates of image {keep}") as change:
            cur = await change.begin()
            locked = {}
            for image_id in sorted({keep, *remove}):  # one lock order: no deadlock
                locked[image_id] = await edits.lock_image(cur, image_id)
            found = await queries.merged(cur, [keep, *remove])
            add = [tag for image_id in remove for tag in found[image_id][0]] if merge.tags else []
            description = _merged_description(found, keep, remove) if merge.description else None
            edit = edits.Edit(filename=None, tags=None, add=add, remove=[], description=description)
            document, version = await edits.update_image(
                cur, keep, edit, media_url=ingest.media_url
            )
            for image_id in remove:
                change.drop(locked[image_id].key)
                for derived in await renditions.forget(cur, image_id):
                    change.drop(derived)
                await edits.delete_image(cur, image_id)
    except CommitUnknown:
        raise RemovalOutcomeUnknown() from None
    return document, version


def _merged_description(
    found: dict[int, tuple[list[str], str]], keep: int, remove: list[int]
) -> str | None:
    """The kept image's description, then each other one it does not hold yet, a blank line
    apart; BadRequest if that is longer than a description may be."""
    parts = [found[keep][1]] if found[keep][1] else []
    for image_id in remove:
        text = found[image_id][1]
        if text and text not in parts:
            parts.append(text)
    merged = "\n\n".join(parts)
    if len(merged) > MAX_DESCRIPTION_LENGTH:
        raise BadRequest(
            f"The merged description would have {len(merged)} characters; at most"
            f" {MAX_DESCRIPTION_LENGTH} are allowed: shorten one first, or resolve without"
            " merging descriptions"
        )
    return merged if merged != found[keep][1] else None


# Names, on an upload's answer, the images it duplicates (its near_duplicates' ids).
DUPLICATE_OF = "Pixtag-Duplicate-Of"


async def near_duplicates(
    db: Database, fingerprinter: Fingerprinter, image_id: int, *, check: bool
) -> list[queries.Match]:
    """For an upload's answer: the images whose file has the same bytes as ``image_id``'s
    and, with ``check``, every rung (the file fingerprinted now, unpaced, instead of by its
    job), nearest first; the first ``queries.ANSWER_LIMIT``."""
    if check:
        # A file Pillow cannot decode has its same-bytes copies only.
        with contextlib.suppress(Permanent):
            await fingerprinter.index(image_id, None, paced=False)
    async with db.cursor() as cur:
        return await queries.near_duplicates(cur, image_id)


def answer(document: str, found: list[queries.Match]) -> tuple[str, dict[str, str]]:
    """An upload's answer: the image document with its ``near_duplicates``, and the header
    naming them."""
    listed = queries.listed(found)
    body = document.rstrip()  # a JSON object: its closing brace last
    headers = {DUPLICATE_OF: ", ".join(str(m.image_id) for m in found)} if found else {}
    return f'{body[:-1]},"near_duplicates":{listed}}}', headers
