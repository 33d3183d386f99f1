"""Files under the media root: streamed in, identified, moved into place atomically.

Both upload paths (attach to a record, create a record with its file) store
through this module, which knows nothing of the database: a caller receives a
``Received`` file into a hidden temporary beside its target, decides (under
its own lock) when to ``install`` it, and ``discard``s it on any failure.

A temporary file is held under ``flock`` from creation until it is renamed
or removed, so the start-up sweep (``pixtag.media``) removes only the
leftovers of a dead process, never the upload of a live one sharing the
same media directory.
"""

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from pixtag import imaging
from pixtag.errors import BadRequest, InsufficientStorage, PayloadTooLarge
from pixtag.validation import check_filename

TEMP_PREFIX = ".upload-"
# Bytes handed to the writer thread at a time: large enough to keep thread
# hops rare, small enough that an upload holds about two of them in memory.
BATCH_SIZE = 1024 * 1024
READ_SIZE = 256 * 1024


def target_path(media_dir: Path, image_id: int, filename: str) -> Path:
    """Where an image's file lives; refuse anything that is not one segment under the root."""
    try:
        check_filename(filename)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    root = media_dir.absolute()
    path = root / str(int(image_id)) / filename
    if path.parent.parent != root or not path.is_relative_to(root):
        raise BadRequest("filename must be one path segment")
    return path


class _Sink:
    """A temporary file being written, hashed and counted by worker threads."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / f"{TEMP_PREFIX}{os.urandom(8).hex()}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
        for attempt in range(3):
            directory.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, flags, 0o644)
                break
            except FileNotFoundError:
                # A refused first upload to the same image removed the empty directory.
                if attempt == 2:
                    raise
        # O_CREAT's mode is masked by the umask; a proxy serving the media
        # volume as another user must still be able to read the file.
        os.fchmod(fd, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.file = os.fdopen(fd, "wb", buffering=0)
        self.sha256 = hashlib.sha256()
        self.lock = threading.Lock()

    def feed(self, data: bytes) -> None:
        with self.lock:
            if not self.file.closed:
                self.sha256.update(data)
                self.file.write(data)

    def finish(self) -> None:
        """Flush to disk, so a crash after the rename never leaves a truncated file."""
        with self.lock:
            os.fsync(self.file.fileno())

    def install(self, target: Path) -> None:
        # Renamed while still open: the lock lasts until the file is in place.
        with self.lock:
            os.replace(self.path, target)
            self.file.close()

    def discard(self) -> None:
        with self.lock:
            self.file.close()
            self.path.unlink(missing_ok=True)
            remove_empty_dir(self.path.parent)

    def uninstall(self, target: Path) -> None:
        with self.lock:
            self.file.close()
            target.unlink(missing_ok=True)
            remove_empty_dir(target.parent)


@dataclass(frozen=True)
class Received:
    """A complete, identified upload waiting in its temporary file."""

    target: Path
    size: int
    sha256: str
    image: imaging.ImageInfo
    _sink: _Sink

    async def install(self) -> None:
        """Atomically put the file in place (readers see the old or the new file, whole)."""
        await asyncio.to_thread(self._sink.install, self.target)

    async def discard(self) -> None:
        """Remove the temporary file (shielded: it goes even when the request is cancelled)."""
        await asyncio.shield(asyncio.to_thread(self._sink.discard))

    async def uninstall(self) -> None:
        """Remove the installed file again (its record could not be created)."""
        await asyncio.shield(asyncio.to_thread(self._sink.uninstall, self.target))


async def receive(
    read_chunk: Callable[[int], Awaitable[bytes]], target: Path, max_size: int
) -> Received:
    """Stream a body part beside ``target`` while hashing and counting it; identify the image.

    Raise PayloadTooLarge as soon as ``max_size`` is passed and
    UnsupportedMediaType when the bytes are not an accepted image; on any
    failure (client gone included) the temporary file is removed.
    """
    sink = await asyncio.to_thread(_Sink, target.parent)
    pending: asyncio.Task[None] | None = None
    try:
        size = 0
        batch: list[bytes] = []
        batched = 0
        while chunk := await read_chunk(READ_SIZE):
            size += len(chunk)
            if size > max_size:
                raise PayloadTooLarge(f"The file is larger than {max_size} bytes")
            batch.append(chunk)
            batched += len(chunk)
            if batched >= BATCH_SIZE:
                # One write in flight while the next batch is read from the socket.
                if pending is not None:
                    await pending
                pending = asyncio.create_task(asyncio.to_thread(sink.feed, b"".join(batch)))
                batch, batched = [], 0
        if pending is not None:
            await pending
        await asyncio.to_thread(sink.feed, b"".join(batch))
        await asyncio.to_thread(sink.finish)
        info = await asyncio.to_thread(imaging.identify, sink.path)
    except BaseException as error:
        if pending is not None:
            pending.cancel()
            # Its own failure, if any, is superseded by this one.
            pending.add_done_callback(lambda task: task.cancelled() or task.exception())
        # Shielded: the temporary file goes even when the request is cancelled.
        await asyncio.shield(asyncio.to_thread(sink.discard))
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise InsufficientStorage("There is no space left to store the file") from None
        raise
    return Received(target, size, sink.sha256.hexdigest(), info, sink)


def remove_empty_dir(path: Path) -> None:
    """Remove an image directory left empty by a refused first upload."""
    with contextlib.suppress(OSError):  # not empty (another upload) or already gone
        path.rmdir()
