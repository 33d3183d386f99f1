"""The one way a file becomes an image's file: received, identified, stored, recorded.

Uploads (and, later, downloads and renditions) hand this module an async
byte source. The order of steps is what keeps records and files in
agreement, even across a crash or a failed COMMIT:

1. receive the bytes into a locked temporary file, hashing and counting
   them, with no database connection held; identify the image from them;
2. store them under a new key, which no row names yet;
3. in one transaction, lock the image's row and point it at the new key;
4. only then, by the outcome of the COMMIT: committed, remove the old key;
   rolled back, remove the new one; unknown (connection lost during COMMIT),
   remove nothing.

A record therefore never names a missing or partly written file. Whatever a
crash leaves behind (a temporary file, a key no row names) is removed later
by ``pixtag.storage.sweeper``, whose only truth is the database.
"""

import asyncio
import logging
from collections.abc import AsyncIterable, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import aiopg

from pixtag import imaging
from pixtag.db.acquire import connection
from pixtag.db.queries import attachments as queries
from pixtag.db.queries import renditions
from pixtag.db.transaction import Outcome, Transaction
from pixtag.errors import DomainError, WrongFilename
from pixtag.storage import keys, spool
from pixtag.storage.backend import Storage

log = logging.getLogger(__name__)


class OutcomeUnknown(DomainError):
    """The database connection was lost while the change was being committed."""

    status = 503

    def __init__(self) -> None:
        super().__init__(
            "The file was stored, but whether the change was saved could not be confirmed;"
            " read the image before trying again",
            headers={"Retry-After": "1"},
        )


@dataclass(frozen=True)
class Limits:
    """What the ingest accepts: bytes per file, pixels per image, pixels per side."""

    max_size: int
    max_pixels: int
    max_side: int | None = None


@dataclass(frozen=True)
class Received:
    """A complete, identified file waiting to be stored."""

    spooled: spool.Spooled
    image: imaging.ImageInfo

    def facts(self, key: str) -> queries.FileFacts:
        info = self.image
        spooled = self.spooled
        return queries.FileFacts(
            key, info.content_type, spooled.size, spooled.sha256, info.width, info.height
        )


@dataclass(frozen=True)
class Ingest:
    """Files in, records out: the storage backend and the database, used in the right order."""

    pool: aiopg.Pool
    storage: Storage
    limits: Limits
    # How long a recording transaction may wait for and hold a row lock.
    transaction_timeout_ms: int = 30_000
    # How long a request waits for a pooled connection (then 503).
    acquire_timeout_ms: int = 5_000
    # A stored file queues a job for its eager renditions (PIXTAG_RENDITION_EAGER), if any.
    queue_renditions: bool = False

    @property
    def media_url(self) -> str | None:
        return self.storage.media_url

    async def receive(self, source: AsyncIterable[bytes]) -> Received:
        """Spool ``source`` and identify it; the caller then attaches, creates or discards it."""
        spooled = await spool.receive(source, self.storage.spool_dir, self.limits.max_size)
        try:
            info = await asyncio.to_thread(
                imaging.identify, spooled.path, self.limits.max_pixels, self.limits.max_side
            )
        except BaseException:
            await spooled.discard()
            raise
        return Received(spooled, info)

    async def attach(self, image_id: int, filename: str, received: Received) -> tuple[int, str]:
        """Make ``received`` the file of an existing image; return 201 (first file) or 200 and
        the image JSON."""
        replaced: list[str | None] = []
        stale: list[str] = []

        async def record(cur: Any) -> str:
            current = await queries.image_file(cur, image_id, lock=True)
            if current.filename != filename:
                raise WrongFilename(image_id, filename, current.filename)
            replaced.append(current.key)
            # Renditions of other bytes go with the old file; the new file's are queued.
            sha256 = received.spooled.sha256
            stale[:] = await renditions.forget(cur, image_id, keep=sha256)
            if self.queue_renditions:
                await renditions.queue_stored(cur, image_id, sha256)
            return await queries.record_attachment(
                cur, image_id, received.facts(key), media_url=self.media_url
            )

        key = keys.new_key(image_id, received.spooled.sha256, received.image.content_type)
        document = await self._store(received, key, record)
        old = replaced[-1] if replaced else None
        for gone in ([old] if old is not None else []) + stale:
            await self.remove(gone)
        return (200 if old else 201), document

    async def create(
        self,
        received: Received,
        *,
        filename: str,
        tags: list[str],
        within: Callable[[Any, int], Awaitable[None]] | None = None,
    ) -> tuple[int, str]:
        """Create a record with ``received`` as its file; return its id and JSON.

        ``within(cur, image_id)``, if given, runs in the recording transaction
        after the insert: what it writes commits with the record, or nothing does.
        """
        try:
            async with self._connection() as conn, conn.cursor() as cur:
                image_id = await queries.reserve_image_id(cur)
        except BaseException:
            await received.spooled.discard()
            raise
        key = keys.new_key(image_id, received.spooled.sha256, received.image.content_type)

        async def record(cur: Any) -> str:
            document = await queries.insert_image_with_attachment(
                cur,
                image_id,
                filename=filename,
                tags=tags,
                facts=received.facts(key),
                media_url=self.media_url,
            )
            if self.queue_renditions:
                await renditions.queue_stored(cur, image_id, received.spooled.sha256)
            if within is not None:
                await within(cur, image_id)
            return document

        return image_id, await self._store(received, key, record)

    async def _store(
        self, received: Received, key: str, record: Callable[[Any], Awaitable[str]]
    ) -> str:
        """Put the file under ``key``, then commit ``record``; clean up by the outcome."""
        try:
            await self.storage.put(received.spooled.path, key, received.image.content_type)
        finally:
            await received.spooled.discard()
        transaction = Transaction(
            self.pool,
            timeout_ms=self.transaction_timeout_ms,
            acquire_timeout_ms=self.acquire_timeout_ms,
        )
        try:
            return await transaction.run(record)
        except BaseException as error:
            if transaction.outcome is not Outcome.UNKNOWN:
                await self.remove(key)
                raise
            log.warning("the outcome of recording %s is unknown; nothing removed", key)
            if not isinstance(error, Exception):
                raise  # cancelled: nobody is waiting for an answer
            document = await self._confirm(key)
            if document is None:
                raise OutcomeUnknown() from error
            return document

    async def _confirm(self, key: str) -> str | None:
        """After an unknown outcome: the image JSON if the row does name ``key`` (committed)."""
        try:
            async with self._connection() as conn, conn.cursor() as cur:
                return await queries.image_by_key(cur, key, media_url=self.media_url)
        except Exception:
            log.warning("could not check whether %s was recorded", key, exc_info=True)
            return None

    def _connection(self) -> AbstractAsyncContextManager[Any]:
        return connection(self.pool, self.acquire_timeout_ms)

    async def remove(self, key: str) -> None:
        """Remove a key no committed row names; a failure only leaves work for the sweeper."""
        try:
            await asyncio.shield(self.storage.delete(key))
        except Exception:
            log.warning("could not remove %s; the sweeper will", key, exc_info=True)
