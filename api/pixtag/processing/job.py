"""The processing job: read the source's file, process it in a worker thread, and record the
result image and the task's result at once.

The new image and ``result_id`` commit in one storage change, fenced by the
job's claim (its row locked for the transaction): a process that lost its
lease commits nothing. The job engine then marks the job done; should the
process die before, the attempt that takes the job over finds the result
recorded and returns it, so a task never makes two images. The source is
held (``FOR SHARE``) in that transaction: deleted meanwhile, the task fails
with ``source_gone`` and the stored result is removed by the rolled-back
outcome. Failures that trying again cannot mend
(no source, an out-of-bounds crop, a file that does not decode) fail the task
at once with their message; anything else is retried by the job engine.
"""

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from pixtag import validation
from pixtag.db.database import Database
from pixtag.errors import ImageGone, ImageNotFound, PayloadTooLarge
from pixtag.images.ingest import Ingest
from pixtag.imaging import MemoryBudget
from pixtag.jobs import queries as jobs
from pixtag.jobs.errors import ClaimLost, Permanent
from pixtag.pacing import Pacer
from pixtag.processing import queries
from pixtag.processing.operations import Output, process
from pixtag.storage import spool
from pixtag.storage.change import CommitUnknown

PIECE = 1024 * 1024


def result_filename(source: str, algorithm: str, output: Output) -> str:
    """``photo.jpg`` -> ``photo.resize.jpg``; the extension is the result's format's, unless the
    format is the source's; the stem is shortened to keep within 255 bytes."""
    stem, dot, extension = source.rpartition(".")
    if not dot or not stem:
        stem, extension = source, ""
    ending = f".{extension}" if output.same_format and extension else output.extension
    suffix = f".{algorithm}{ending}"
    room = validation.MAX_FILENAME_BYTES - len(suffix.encode())
    stem = stem.encode()[:room].decode(errors="ignore")
    try:
        return validation.check_filename(stem + suffix)
    except ValueError:
        return f"image{suffix}"


async def _pieces(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), PIECE):
        yield data[start : start + PIECE]


def _gone(error: ImageGone | ImageNotFound) -> Permanent:
    return Permanent("source_gone", f"the source image is gone: {error.detail}")


@dataclass(frozen=True)
class Processor:
    """Runs processing jobs with the process's ingest path and worker threads."""

    db: Database
    ingest: Ingest
    executor: Executor
    pacer: Pacer
    budget: MemoryBudget

    async def __call__(self, job: jobs.Claimed) -> dict[str, Any]:
        async with self.db.cursor() as cur:
            task = await queries.for_job(cur, job.job_id)
            if task.result_id is not None:
                # Recorded by an attempt that died before the engine marked its job done.
                return {"result_id": task.result_id}
            try:
                source = await queries.source(cur, task.source_id)
            except (ImageGone, ImageNotFound) as error:
                raise _gone(error) from None
        if source.key is None or source.content_type is None:
            raise Permanent("no_file", f"Image <{task.source_id}> has no file any more")
        output = await self._process(task, source.key)
        try:
            received = await self.ingest.receive(_pieces(output.data))
        except PayloadTooLarge as error:
            raise Permanent("too_large", f"the result is too large: {error.detail}") from None

        filename = result_filename(source.filename, task.algorithm, output)
        image_id, key = await self.ingest.reserve(received)
        result = {"result_id": image_id}
        try:
            async with self.ingest.change() as change:
                await self.ingest.put(change, received, key)
                cur = await change.begin()
                await self.ingest.record(cur, image_id, received, key, filename, source.tags)
                if not await jobs.hold(cur, job):
                    raise ClaimLost()
                try:
                    await queries.hold_source(cur, task.source_id)
                except (ImageGone, ImageNotFound) as error:
                    raise _gone(error) from None
                await queries.record_result(cur, task.task_id, image_id)
        except CommitUnknown as unknown:
            await self.ingest.confirm(key, unknown)
        return result

    async def _process(self, task: queries.Task, key: str) -> Output:
        """The source's bytes spooled to a local file, processed in a worker thread."""
        storage = self.ingest.storage
        limits = self.ingest.limits
        try:
            spooled = await spool.receive(storage.read(key), storage.spool_dir, limits.max_size)
        except FileNotFoundError:
            raise Permanent(
                "file_missing", f"the file of image <{task.source_id}> is missing from storage"
            ) from None
        except PayloadTooLarge as error:
            raise Permanent("too_large", error.detail) from None
        try:
            loop = asyncio.get_running_loop()
            async with self.pacer.turn():
                return await loop.run_in_executor(
                    self.executor,
                    process,
                    spooled.path,
                    task.algorithm,
                    task.params,
                    limits.max_pixels,
                    self.budget,
                )
        finally:
            await spooled.discard()
