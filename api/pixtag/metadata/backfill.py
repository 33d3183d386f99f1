"""Reading the metadata of files stored before it was read (``pixtag metadata rebuild``).

One job per file on the ``metadata`` queue, paced as background work and
run on one low-priority thread: the file is read (from local storage, or
spooled from S3), and its facts recorded as the ingest records them, but a
date set with PATCH is kept. The job engine makes it resumable: a job is
done once its facts are committed, a process killed mid-way leaves its job
to be claimed again when the lease ends, and running the rebuild again
queues only what is still unread.
"""

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixtag import imaging
from pixtag.errors import DomainError
from pixtag.images.ingest import Ingest, file_facts
from pixtag.jobs.errors import Permanent
from pixtag.jobs.queries import Claimed
from pixtag.metadata import queries
from pixtag.metadata.reading import READER_VERSION, PhotoFacts
from pixtag.pacing import Pacer
from pixtag.storage import spool

# A file stored was admitted then; only an absurd one is refused now.
_ANY_PIXELS = 1 << 62


@dataclass(frozen=True)
class Backfill:
    """Reads stored files' metadata in the background."""

    ingest: Ingest
    executor: Executor
    pacer: Pacer

    async def __call__(self, job: Claimed) -> dict[str, Any]:
        image_id, sha256 = int(job.payload["image_id"]), str(job.payload["sha256"])
        every = bool(job.payload.get("all"))
        db = self.ingest.db
        async with db.cursor() as cur:
            found = await queries.stored_file(cur, image_id)
        if found is None or found.key is None or found.sha256 != sha256:
            return {"image_id": image_id, "skipped": "the image no longer has this file"}
        if not every and found.read_by is not None and found.read_by >= READER_VERSION:
            return {"image_id": image_id, "skipped": "this file is read already"}
        try:
            async with self.pacer.turn():
                info, photo = await self._read(found.key)
        except FileNotFoundError:
            return {"image_id": image_id, "skipped": "the file was replaced meanwhile"}
        except DomainError as error:  # not an image any more: the stored file is damaged
            raise Permanent("unreadable", f"the file could not be identified: {error}") from None
        keywords = self.ingest.keywords(photo, sha256)
        facts = file_facts(found.key, info, found.size or 0, sha256, photo, keywords)
        async with db.transaction() as cur:
            recorded = await queries.record(cur, image_id, facts)
        if not recorded:
            return {"image_id": image_id, "skipped": "the file was replaced meanwhile"}
        return {"image_id": image_id, "read": True, "keywords": len(keywords)}

    async def _read(self, key: str) -> tuple[imaging.ImageInfo, PhotoFacts]:
        loop = asyncio.get_running_loop()
        storage = self.ingest.storage
        path = storage.local_path(key)
        if path is not None:
            return await loop.run_in_executor(self.executor, self._examine, path)
        spooled = await spool.receive(storage.read(key), storage.spool_dir, 1 << 62)
        try:
            return await loop.run_in_executor(self.executor, self._examine, spooled.path)
        finally:
            await spooled.discard()

    def _examine(self, path: Path) -> tuple[imaging.ImageInfo, PhotoFacts]:
        return imaging.identify(path, _ANY_PIXELS), self.ingest.photo_facts(path)
