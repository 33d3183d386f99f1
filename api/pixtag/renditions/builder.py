"""Building renditions: once per image, preset and file, even with many servers asking at once.

Two layers keep a rendition from being built twice. In a process, callers
asking for the same one share one build (a future). Across processes, the
build holds a PostgreSQL advisory lock named by image, preset and source
sha256, on a connection of its own (closed at the end, so a crash or a
cancellation never leaves the lock held), and looks again once it has the
lock: the second server finds the first one's rendition.

A build follows the storage rule of ``pixtag.images.ingest``: the new file
goes under a new key, the row is switched in one transaction, and the key it
replaced is removed after the commit (an unknown outcome removes nothing; the
sweeper, which knows rendition keys, cleans up). Decoding and encoding run
on a bounded thread pool, never on the event loop.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from dataclasses import dataclass, field

from pixtag.errors import DomainError, NotFound
from pixtag.images.ingest import Ingest
from pixtag.imaging import MemoryBudget
from pixtag.pacing import Pacer
from pixtag.renditions import queries
from pixtag.renditions.presets import Preset
from pixtag.renditions.render import Rendered, Unrenderable, render
from pixtag.storage import keys, spool

log = logging.getLogger(__name__)

# A file replaced while its rendition was built: build again for the new file, a few times.
MAX_STALE = 3


class UnknownPreset(NotFound):
    def __init__(self, name: str, presets: list[str]) -> None:
        super().__init__(f"There is no rendition preset {name!r}; presets: {', '.join(presets)}")


class RenditionFailed(DomainError):
    """The stored file could not be rendered."""

    status = 422


class Stale(Exception):
    """The image's file changed while its rendition was built."""


@dataclass(frozen=True)
class Ready:
    """A rendition that is recorded and stored."""

    key: str
    content_type: str
    filename: str
    size: int


@dataclass
class Builder:
    """Finds or builds renditions for this process."""

    ingest: Ingest
    presets: dict[str, Preset]
    eager: tuple[str, ...]
    executor: Executor
    workers: int
    pacer: Pacer
    budget: MemoryBudget
    _flights: dict[tuple[int, str, bool], "asyncio.Future[Ready]"] = field(default_factory=dict)
    _slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(self.workers)

    def preset(self, name: str) -> Preset:
        """The preset ``name``; UnknownPreset (404) if none."""
        try:
            return self.presets[name]
        except KeyError:
            raise UnknownPreset(name, list(self.presets)) from None

    async def start_rebuild(self, preset: str | None, rebuild_all: bool) -> tuple[int, str]:
        """Queue a rebuild of one preset (or every one) for every image: missing renditions,
        or all of them with ``rebuild_all``; its id and JSON."""
        presets = [self.preset(preset).name] if preset is not None else list(self.presets)
        async with self.ingest.db.cursor() as cur:
            rebuild_id = await queries.start_rebuild(cur, presets, rebuild_all)
            document = await queries.rebuild_json(cur, rebuild_id)
        assert document is not None  # just inserted
        return rebuild_id, document

    async def url(self, image_id: int, name: str) -> str:
        """Where the rendition is fetched (the redirect's Location), built first if missing."""
        ready = await self.ensure(image_id, self.preset(name))
        stem = ready.filename.rsplit(".", 1)[0] or "image"
        ext = keys.EXTENSIONS[ready.content_type]
        return await self.ingest.storage.url(
            ready.key, filename=f"{stem}.{name}.{ext}", content_type=ready.content_type
        )

    async def ensure(
        self, image_id: int, preset: Preset, *, force: bool = False, background: bool = False
    ) -> Ready:
        """The rendition of the image's current file, built if missing (or again, ``force``);
        ``background``: the rendering, if this call starts it, is paced background work."""
        flight_key = (image_id, preset.name, force)
        flight = self._flights.get(flight_key)
        if flight is None:
            flight = asyncio.ensure_future(self._ensure(image_id, preset, force, background))
            self._flights[flight_key] = flight
            flight.add_done_callback(lambda done: self._landed(flight_key, done))
        # Shielded: a caller that goes away does not cancel the others' build.
        return await asyncio.shield(flight)

    async def in_background(self, image_id: int, preset: Preset, *, force: bool = False) -> Ready:
        """``ensure`` for a job: it waits its turn while requests are being answered, and its
        rendering counts as background work. (A client asking for the same rendition
        meanwhile builds it at once; the job then finds it built.)"""
        await self.pacer.wait()
        return await self.ensure(image_id, preset, force=force, background=True)

    def _landed(self, flight_key: tuple[int, str, bool], done: "asyncio.Future[Ready]") -> None:
        self._flights.pop(flight_key, None)
        if not done.cancelled():
            done.exception()  # retrieved: every caller may have gone

    async def _ensure(self, image_id: int, preset: Preset, force: bool, background: bool) -> Ready:
        for _ in range(MAX_STALE):
            async with self.ingest.db.cursor() as cur:
                source = await queries.source(cur, image_id, preset.name)
            ready = _ready(image_id, source)
            if ready is not None and not force:
                return ready
            try:
                return await self._locked_build(image_id, preset, source, force, background)
            except Stale:
                continue
        raise RenditionFailed(f"Image <{image_id}>'s file kept changing; try again")

    async def _locked_build(
        self, image_id: int, preset: Preset, source: queries.Source, force: bool, background: bool
    ) -> Ready:
        assert source.sha256 is not None  # _ready checked there is a file
        name = queries.lock_name(image_id, preset.name, source.sha256)
        async with self._slots, self.ingest.db.connect() as conn, conn.cursor() as cur:
            await queries.lock(cur, name)
            if not force:
                again = await queries.source(cur, image_id, preset.name)
                if again.sha256 != source.sha256:
                    raise Stale()
                ready = _ready(image_id, again)
                if ready is not None:
                    return ready  # built by another server while this one waited
            return await self._build(image_id, preset, source, background)
            # The lock goes with the connection.

    async def _build(
        self, image_id: int, preset: Preset, source: queries.Source, background: bool
    ) -> Ready:
        assert source.key is not None
        assert source.sha256 is not None
        assert source.content_type is not None
        with self.pacer.timed() if background else contextlib.nullcontext():
            rendered = await self._render(source.key, source.content_type, preset)
        storage = self.ingest.storage
        spooled = await spool.receive(_once(rendered.data), storage.spool_dir, len(rendered.data))
        key = keys.new_key(image_id, spooled.sha256, rendered.content_type)
        built = queries.Built(
            key,
            rendered.content_type,
            spooled.size,
            spooled.sha256,
            rendered.width,
            rendered.height,
        )
        async with self.ingest.change() as change:
            try:
                await change.put(spooled.path, key, rendered.content_type)
            finally:
                await spooled.discard()
            cur = await change.begin()
            recorded, previous = await queries.record(
                cur, image_id, preset.name, source.sha256, built
            )
            if not recorded:
                raise Stale()  # the image's file changed meanwhile: nothing is recorded
            change.drop(previous)
        return Ready(key, rendered.content_type, source.filename, spooled.size)

    async def _render(self, key: str, content_type: str, preset: Preset) -> Rendered:
        storage = self.ingest.storage
        loop = asyncio.get_running_loop()
        try:
            path = storage.local_path(key)
            if path is not None:
                return await loop.run_in_executor(
                    self.executor, render, path, preset, content_type, self.budget
                )
            spooled = await spool.receive(storage.read(key), storage.spool_dir, 1 << 62)
            try:
                return await loop.run_in_executor(
                    self.executor, render, spooled.path, preset, content_type, self.budget
                )
            finally:
                await spooled.discard()
        except FileNotFoundError:
            raise Stale() from None  # replaced, and its file removed, meanwhile
        except Unrenderable as error:
            raise RenditionFailed(f"The image's file could not be rendered: {error}") from None


def _ready(image_id: int, source: queries.Source) -> Ready | None:
    if source.key is None or source.sha256 is None:
        raise NotFound(f"Image <{image_id}> has no file yet")
    if source.rendition_key is None or source.rendition_type is None:
        return None
    return Ready(
        source.rendition_key, source.rendition_type, source.filename, source.rendition_size or 0
    )


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
