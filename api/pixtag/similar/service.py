"""Fingerprinting stored files (the ``similar`` queue's jobs) and finding similar images."""

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from pixtag.db.database import Database
from pixtag.imaging import MemoryBudget
from pixtag.jobs.errors import Permanent
from pixtag.jobs.queries import Claimed
from pixtag.pacing import Pacer
from pixtag.similar import queries
from pixtag.similar.hashing import Fingerprint, Unreadable, fingerprint
from pixtag.similar.models import Similar, SimilarImage
from pixtag.storage import spool
from pixtag.storage.backend import Storage


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
        async with self.db.cursor() as cur:
            found = await queries.file_of(cur, image_id)
        if found is None or found[0] is None or found[1] != sha256:
            # Deleted, or its file replaced (whose own job fingerprints it): nothing to do.
            return {"image_id": image_id, "skipped": "the image no longer has this file"}
        try:
            print_ = await self._fingerprint(found[0])
        except FileNotFoundError:
            return {"image_id": image_id, "skipped": "the file was replaced meanwhile"}
        except Unreadable as error:
            raise Permanent("unreadable", f"the file could not be decoded: {error}") from None
        async with self.db.cursor() as cur:
            indexed = await queries.record(cur, image_id, sha256, print_)
        return {"image_id": image_id, "indexed": indexed}

    async def _fingerprint(self, key: str) -> Fingerprint:
        loop = asyncio.get_running_loop()
        path = self.storage.local_path(key)
        async with self.pacer.turn():
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
