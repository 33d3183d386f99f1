"""The one way a file becomes an image's file: received, identified, stored, recorded.

Uploads, captures and processing results hand this module an async byte
source. The order of steps is what keeps records and files in agreement,
even across a crash or a failed COMMIT:

1. receive the bytes into a locked temporary file, hashing and counting
   them, with no database connection held; identify the image from them;
2. in one storage change (``pixtag.storage.change``): store them under a new
   key, which no row names yet; lock the image's row and point it at the new
   key; remove the old key or the new one by the outcome of the COMMIT.

A record therefore never names a missing or partly written file. Whatever a
crash leaves behind (a temporary file, a key no row names) is removed later
by ``pixtag.storage.sweeper``, whose only truth is the database.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pixtag import imaging, validation
from pixtag.db.database import Database
from pixtag.errors import Conflict, DomainError, WrongFilename
from pixtag.images.queries import attachments as queries
from pixtag.imaging import MemoryBudget
from pixtag.metadata.reading import READER_VERSION, PhotoFacts, read_file
from pixtag.metadata.reading import read as read_image
from pixtag.renditions import queries as renditions
from pixtag.similar import queries as similar
from pixtag.similar.hashing import Fingerprint, Unreadable, fingerprint
from pixtag.similar.models import DEFAULT_DISTANCE
from pixtag.storage import keys, spool
from pixtag.storage.backend import Storage
from pixtag.storage.change import Change, CommitUnknown, remove_key

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
    # What the file says of the photo, as it is recorded (PIXTAG_METADATA_LOCATION applied),
    # and the tags its keywords make (PIXTAG_METADATA_TAGS).
    photo: PhotoFacts = field(default_factory=PhotoFacts)
    keywords: tuple[str, ...] = ()

    def facts(self, key: str) -> queries.FileFacts:
        return file_facts(
            key, self.image, self.spooled.size, self.spooled.sha256, self.photo, self.keywords
        )


def file_facts(
    key: str,
    info: imaging.ImageInfo,
    size: int,
    sha256: str,
    photo: PhotoFacts,
    keywords: tuple[str, ...],
) -> queries.FileFacts:
    """What is recorded of a stored file: its type, size and hash, its pixels as displayed
    (EXIF orientations 5 to 8 turn the image a quarter), and what it says of the photo."""
    width, height = info.width, info.height
    if (photo.orientation or 1) >= 5:
        width, height = height, width
    document = photo.document()
    return queries.FileFacts(
        key,
        info.content_type,
        size,
        sha256,
        width,
        height,
        taken_at=photo.taken_at,
        taken_offset=photo.taken_offset,
        metadata=None
        if document is None
        else json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        keywords=keywords,
        metadata_read=READER_VERSION,
    )


class DuplicateFile(Conflict):
    """The bytes uploaded are another image's file already, or decode to the same pixels
    (PIXTAG_DUPLICATES=refuse)."""

    def __init__(self, image_id: int, *, pixels: bool = False) -> None:
        same = "a file of the same pixels" if pixels else "the same file"
        super().__init__(
            f"Image <{image_id}> holds {same} already; the server refuses duplicates",
            headers={"Location": f"/images/{image_id}"},
        )
        self.extensions = {"image_id": image_id}


@dataclass(frozen=True)
class Ingest:
    """Files in, records out: the storage backend and the database, used in the right order."""

    db: Database
    storage: Storage
    limits: Limits
    # A stored file queues a job for its eager renditions (PIXTAG_RENDITION_EAGER), if any.
    queue_renditions: bool = False
    # A stored file queues a job for its fingerprint (PIXTAG_SIMILAR_INDEX).
    queue_fingerprints: bool = False
    # An upload (create or attach) of bytes another image holds, or of a file that decodes to
    # the same pixels, is refused (PIXTAG_DUPLICATES); such uploads are fingerprinted before
    # they are recorded, under this share of memory.
    refuse_duplicates: bool = False
    budget: MemoryBudget | None = None
    # A file's keywords become tags of its image (PIXTAG_METADATA_TAGS=keywords).
    keyword_tags: bool = True
    # A file's GPS position is recorded (PIXTAG_METADATA_LOCATION=keep), or never (drop).
    keep_location: bool = True

    @property
    def media_url(self) -> str | None:
        return self.storage.media_url

    def change(self, what: str | None = None) -> Change:
        """A storage change on this ingest's database and storage (``what`` it is, for the
        log)."""
        return Change(self.db, self.storage, what)

    async def receive(self, source: AsyncIterable[bytes]) -> Received:
        """Spool ``source`` and identify it; the caller then attaches, creates or discards it."""
        spooled = await spool.receive(source, self.storage.spool_dir, self.limits.max_size)
        try:
            info, photo = await asyncio.to_thread(self._examine, spooled.path)
        except BaseException:
            await spooled.discard()
            raise
        return Received(spooled, info, photo, self.keywords(photo, spooled.sha256))

    def _examine(self, path: Path) -> tuple[imaging.ImageInfo, PhotoFacts]:
        """The image's type and size (or the refusal), then what its metadata says."""
        # One open of the file: its header, then its metadata.
        info, photo = imaging.identify_and(
            path, self.limits.max_pixels, self.limits.max_side, read_image
        )
        return info, photo if self.keep_location else photo.without_location()

    def photo_facts(self, path: Path) -> PhotoFacts:
        """What the file at ``path`` says of the photo, as it is recorded (the location
        dropped under PIXTAG_METADATA_LOCATION=drop)."""
        photo = read_file(path)
        return photo if self.keep_location else photo.without_location()

    def keywords(self, photo: PhotoFacts, sha256: str) -> tuple[str, ...]:
        """The tags ``photo``'s keywords make (normalised as every tag; a keyword that is
        no valid tag is left out); the file's unreadable metadata, logged once."""
        if photo.warnings:
            log.warning("metadata of %s partly unreadable: %s", sha256, "; ".join(photo.warnings))
        if not self.keyword_tags:
            return ()
        tags: list[str] = []
        for keyword in photo.keywords:
            try:
                tag = validation.normalise_tag(keyword)
            except ValueError:
                continue
            if tag not in tags:
                tags.append(tag)
        return tuple(tags)

    async def reserve(self, received: Received) -> tuple[int, str]:
        """A new image id, and the key its file is stored under."""
        try:
            async with self.db.cursor() as cur:
                image_id = await queries.reserve_image_id(cur)
        except BaseException:
            await received.spooled.discard()
            raise
        return image_id, keys.new_key(
            image_id, received.spooled.sha256, received.image.content_type
        )

    async def put(self, change: Change, received: Received, key: str) -> None:
        """Store ``received`` under ``key`` in ``change``; its spooled file goes either way."""
        try:
            await change.put(received.spooled.path, key, received.image.content_type)
        finally:
            await received.spooled.discard()

    async def attach(self, image_id: int, filename: str, received: Received) -> tuple[bool, str]:
        """Make ``received`` the file of an existing image; whether it replaced a file, and
        the image JSON."""
        key = keys.new_key(image_id, received.spooled.sha256, received.image.content_type)
        sha256 = received.spooled.sha256
        found = await self._fingerprint(received)
        try:
            async with self.change() as change:
                await self.put(change, received, key)
                cur = await change.begin()
                await self._refuse_held(cur, image_id, sha256, found)
                current = await queries.image_file(cur, image_id, lock=True)
                if current.filename != filename:
                    raise WrongFilename(image_id, filename, current.filename)
                change.drop(current.key)
                # Renditions of other bytes go with the old file; the new file's are queued.
                for stale in await renditions.forget(cur, image_id, keep=sha256):
                    change.drop(stale)
                if self.queue_renditions:
                    await renditions.queue_stored(cur, image_id, sha256)
                await similar.forget(cur, image_id)
                document = await queries.record_attachment(
                    cur, image_id, received.facts(key), media_url=self.media_url
                )
                await self._fingerprinted(cur, image_id, sha256, found)
        except CommitUnknown as unknown:
            document = await self.confirm(key, unknown)
        return current.key is not None, document

    async def create(
        self, received: Received, *, filename: str, tags: list[str], description: str = ""
    ) -> tuple[int, str]:
        """Create a record with ``received`` as its file; return its id and JSON."""
        found = await self._fingerprint(received)
        image_id, key = await self.reserve(received)
        try:
            async with self.change() as change:
                await self.put(change, received, key)
                cur = await change.begin()
                await self._refuse_held(cur, image_id, received.spooled.sha256, found)
                document = await self.record(
                    cur, image_id, received, key, filename, tags, description, found
                )
        except CommitUnknown as unknown:
            document = await self.confirm(key, unknown)
        return image_id, document

    async def fingerprint(self, received: Received) -> Fingerprint | None:
        """The spooled file's fingerprint, before it is stored (None if it does not decode);
        the spooled file goes if this fails."""
        try:
            return await asyncio.to_thread(fingerprint, received.spooled.path, self.budget)
        except Unreadable:
            return None
        except BaseException:
            await received.spooled.discard()
            raise

    async def _fingerprint(self, received: Received) -> Fingerprint | None:
        """With PIXTAG_DUPLICATES=refuse, the file's fingerprint before it is stored (its
        pixels are refused too); else None (a job takes it)."""
        return await self.fingerprint(received) if self.refuse_duplicates else None

    async def _refuse_held(
        self, cur: Any, image_id: int, sha256: str, found: Fingerprint | None
    ) -> None:
        """With PIXTAG_DUPLICATES=refuse: DuplicateFile (409) if another image holds these
        bytes, or a fingerprinted file of these pixels (the transaction then rolls back, and
        the new file goes)."""
        if self.refuse_duplicates:
            held = await similar.holding(cur, sha256, besides=image_id, lock=True)
            if held:
                raise DuplicateFile(held[0])
        if found is not None:
            same = await similar.holding_pixels(cur, found.pixels, besides=image_id)
            if same is not None:
                raise DuplicateFile(same, pixels=True)

    async def _fingerprinted(
        self, cur: Any, image_id: int, sha256: str, found: Fingerprint | None
    ) -> None:
        """In the transaction recording the file: its fingerprint and pairs if it was taken
        already (refuse mode: the next upload of these pixels sees it), else its job."""
        if found is not None:
            await similar.record_found(cur, image_id, sha256, found, DEFAULT_DISTANCE)
        elif self.queue_fingerprints:
            await similar.queue_stored(cur, image_id, sha256)

    async def record(
        self,
        cur: Any,
        image_id: int,
        received: Received,
        key: str,
        filename: str,
        tags: list[str],
        description: str = "",
        found: Fingerprint | None = None,
    ) -> str:
        """Insert the image that names ``key``, in the change's transaction; its JSON.
        ``found``: the file's fingerprint, if taken (else a job takes it)."""
        document = await queries.insert_image_with_attachment(
            cur,
            image_id,
            filename=filename,
            tags=tags,
            description=description,
            facts=received.facts(key),
            media_url=self.media_url,
        )
        if self.queue_renditions:
            await renditions.queue_stored(cur, image_id, received.spooled.sha256)
        await self._fingerprinted(cur, image_id, received.spooled.sha256, found)
        return document

    async def confirm(self, key: str, unknown: CommitUnknown) -> str:
        """After an unknown outcome: the image JSON if the row does name ``key`` (it did
        commit: the keys it stopped naming go now); else ``OutcomeUnknown``."""
        try:
            async with self.db.cursor() as cur:
                document = await queries.image_by_key(cur, key, media_url=self.media_url)
        except Exception:
            log.warning("could not check whether %s was recorded", key, exc_info=True)
            document = None
        if document is None:
            raise OutcomeUnknown() from unknown
        for dropped in unknown.dropped:
            await remove_key(self.storage, dropped)
        return document
