"""The capture job: download, then record the image, the capture and the job's end at once.

The new image, the capture's result and the job's ``done`` commit in one
transaction, fenced by the job's claim: a process that lost its lease
(another took the job over) commits nothing, and a capture never creates
two images. Bytes already stored (same sha256) create nothing: the capture
names the existing image (``duplicate``) and adds its tags to it. Two
captures of the same new bytes at once take turns on a lock for that hash,
and the second becomes the duplicate.
"""

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import aiopg

from pixtag import validation
from pixtag.db.queries import captures as queries
from pixtag.db.queries import jobs
from pixtag.db.transaction import Transaction
from pixtag.jobs.errors import ClaimLost
from pixtag.net.fetch import Fetcher
from pixtag.storage.ingest import Ingest, Received

from .download import download

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

    pool: aiopg.Pool
    ingest: Ingest
    fetcher: Fetcher
    timeout_ms: int = 30_000

    async def __call__(self, job: jobs.Claimed) -> dict[str, Any]:
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            capture = await queries.for_job(cur, job.job_id)
        received = await download(self.fetcher, self.ingest, capture.url)
        sha256 = received.spooled.sha256
        try:
            async with self.pool.acquire() as conn, conn.cursor() as cur:
                existing = await queries.image_with_file(cur, sha256)
        except BaseException:
            await received.spooled.discard()
            raise
        if existing is not None:
            await received.spooled.discard()
            return await self._duplicate(job, capture, received, existing)

        async def within(cur: Any, image_id: int) -> None:
            if not await jobs.hold(cur, job):
                raise ClaimLost()
            await queries.lock_sha256(cur, sha256)
            other = await queries.image_with_file(cur, sha256, other_than=image_id)
            if other is not None:
                raise AlreadyStored(other)
            await self._record(cur, capture, received, image_id, duplicate=False)
            await jobs.finish(cur, job, {"image_id": image_id, "duplicate": False})

        try:
            image_id, _ = await self.ingest.create(
                received, filename=filename_for(capture), tags=capture.tags, within=within
            )
        except AlreadyStored as stored:
            return await self._duplicate(job, capture, received, stored.image_id)
        return {"image_id": image_id, "duplicate": False}

    async def _duplicate(
        self, job: jobs.Claimed, capture: queries.Capture, received: Received, image_id: int
    ) -> dict[str, Any]:
        """Finish the capture on the image that already holds its bytes."""

        async def work(cur: Any) -> None:
            if not await jobs.hold(cur, job):
                raise ClaimLost()
            await queries.add_tags(cur, image_id, capture.tags)
            await self._record(cur, capture, received, image_id, duplicate=True)
            await jobs.finish(cur, job, {"image_id": image_id, "duplicate": True})

        await Transaction(self.pool, timeout_ms=self.timeout_ms).run(work)
        return {"image_id": image_id, "duplicate": True}

    @staticmethod
    async def _record(
        cur: Any, capture: queries.Capture, received: Received, image_id: int, *, duplicate: bool
    ) -> None:
        await queries.record_result(
            cur,
            capture.capture_id,
            image_id=image_id,
            duplicate=duplicate,
            size=received.spooled.size,
            content_type=received.image.content_type,
            sha256=received.spooled.sha256,
        )
