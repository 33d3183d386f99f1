"""The capture job: download, then record the image and the capture's result at once.

The new image and the capture's result commit in one transaction, fenced by
the job's claim (its row locked for the transaction): a process that lost
its lease (another took the job over) commits nothing. The job engine then
marks the job done; should the process die before, the attempt that takes
the job over finds the result recorded and returns it, so a capture never
creates two images. Bytes already stored (same sha256) create nothing: the
capture names the existing image (``duplicate``) and adds its tags to it.
Two captures of the same new bytes at once take turns on a lock for that
hash, and the second becomes the duplicate.
"""

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from pixtag import validation
from pixtag.captures import queries
from pixtag.db.database import Database
from pixtag.images.ingest import Ingest, Received
from pixtag.jobs import queries as jobs
from pixtag.jobs.errors import ClaimLost, Permanent
from pixtag.net.fetch import Fetcher
from pixtag.similar import queries as similar
from pixtag.storage.change import CommitUnknown

from .download import OUT_OF_TIME, download

log = logging.getLogger(__name__)


class AlreadyStored(Exception):
    """Another image committed the same bytes first."""

    def __init__(self, image_id: int) -> None:
        super().__init__(image_id)
        self.image_id = image_id


def filename_for(capture: queries.Capture) -> str:
    """The capture's filename, else the URL's last path segment when it is a valid one."""
    if capture.filename:
        return capture.filename
    segment = unquote(urlsplit(capture.url).path.rsplit("/", 1)[-1])
    try:
        return validation.check_filename(segment) if segment else f"capture-{capture.capture_id}"
    except ValueError:
        return f"capture-{capture.capture_id}"


@dataclass(frozen=True)
class Capturer:
    """Runs capture jobs with the process's fetcher and ingest path."""

    db: Database
    ingest: Ingest
    fetcher: Fetcher
    # Seconds a capture may take over all its attempts (PIXTAG_CAPTURE_MAX_TIME).
    max_time: float = 300.0

    async def __call__(self, job: jobs.Claimed) -> dict[str, Any]:
        async with self.db.cursor() as cur:
            capture = await queries.for_job(cur, job.job_id)
        if capture.image_id is not None:
            # Recorded by an attempt that died before the engine marked its job done.
            return {"image_id": capture.image_id, "duplicate": capture.duplicate}
        left = self.max_time - capture.age
        if left <= 0:
            raise Permanent("out_of_time", OUT_OF_TIME)
        received = await download(self.fetcher, self.ingest, capture.url, left=left)
        sha256 = received.spooled.sha256
        try:
            async with self.db.cursor() as cur:
                existing = await queries.image_with_file(cur, sha256)
        except BaseException:
            await received.spooled.discard()
            raise
        if existing is not None:
            await received.spooled.discard()
            return await self._duplicate(job, capture, received, existing)
        result = await self._create(job, capture, received)
        if isinstance(result, AlreadyStored):
            return await self._duplicate(job, capture, received, result.image_id)
        return result

    async def _create(
        self, job: jobs.Claimed, capture: queries.Capture, received: Received
    ) -> dict[str, Any] | AlreadyStored:
        """The new image, the capture's result and the job's end, in one storage change."""
        # Fingerprinted here, in the background already, so that the capture can say which
        # images its file copies (with the fingerprint recorded, no job is queued for it).
        found = await self.ingest.fingerprint(received) if self.ingest.queue_fingerprints else None
        image_id, key = await self.ingest.reserve(received)
        result = {"image_id": image_id, "duplicate": False}
        sha256 = received.spooled.sha256
        try:
            async with self.ingest.change() as change:
                await self.ingest.put(change, received, key)
                cur = await change.begin()
                filename = filename_for(capture)
                await self.ingest.record(
                    cur, image_id, received, key, filename, capture.tags, found=found
                )
                if not await jobs.hold(cur, job):
                    raise ClaimLost()
                await queries.lock_sha256(cur, sha256)
                other = await queries.image_with_file(cur, sha256, other_than=image_id)
                if other is not None:
                    raise AlreadyStored(other)
                near = None
                if found is not None:
                    near = similar.listed(await similar.near_duplicates(cur, image_id))
                await self._record(
                    cur, capture, received, image_id, duplicate=False, near_duplicates=near
                )
        except AlreadyStored as stored:
            return stored
        except CommitUnknown as unknown:
            await self.ingest.confirm(key, unknown)
        return result

    async def _duplicate(
        self, job: jobs.Claimed, capture: queries.Capture, received: Received, image_id: int
    ) -> dict[str, Any]:
        """Finish the capture on the image that already holds its bytes."""
        result = {"image_id": image_id, "duplicate": True}
        async with self.db.transaction() as cur:
            if not await jobs.hold(cur, job):
                raise ClaimLost()
            await queries.add_tags(cur, image_id, capture.tags)
            await self._record(cur, capture, received, image_id, duplicate=True)
        return result

    @staticmethod
    async def _record(
        cur: Any,
        capture: queries.Capture,
        received: Received,
        image_id: int,
        *,
        duplicate: bool,
        near_duplicates: str | None = None,
    ) -> None:
        await queries.record_result(
            cur,
            capture.capture_id,
            image_id=image_id,
            duplicate=duplicate,
            size=received.spooled.size,
            content_type=received.image.content_type,
            sha256=received.spooled.sha256,
            near_duplicates=near_duplicates,
        )
