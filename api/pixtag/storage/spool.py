"""Receiving a file: streamed into a local temporary file while it is hashed and counted.

Every stored file starts here, whatever its source (an upload, later a
download) and its backend. The temporary file lives in the backend's spool
directory and is held under ``flock`` from creation until it is removed, so
the sweeper removes only the leftovers of a dead process, never the file of
a live one sharing the same directory.
"""

import asyncio
import errno
import fcntl
import hashlib
import os
import threading
import time
from collections.abc import AsyncIterable
from dataclasses import dataclass, field
from pathlib import Path

from pixtag.errors import InsufficientStorage, PayloadTooLarge

TEMP_PREFIX = ".upload-"
# Bytes handed to the writer thread at a time: large enough to keep thread
# hops rare, small enough that an upload holds about two of them in memory.
BATCH_SIZE = 1024 * 1024


class _Sink:
    """A temporary file being written, hashed and counted by worker threads."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{TEMP_PREFIX}{os.urandom(8).hex()}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
        fd = os.open(self.path, flags, 0o644)
        # O_CREAT's mode is masked by the umask; a proxy serving the media
        # volume as another user must still be able to read the file.
        os.fchmod(fd, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self.file = os.fdopen(fd, "wb", buffering=0)
        self.sha256 = hashlib.sha256()
        self.written = 0
        self.lock = threading.Lock()

    def feed(self, data: bytes) -> None:
        with self.lock:
            if not self.file.closed:
                self.sha256.update(data)
                # An unbuffered write may take only part of the bytes (a file system that
                # is nearly full, a file size limit): the rest is written again, and the
                # next attempt raises the file system's error (ENOSPC) instead.
                rest = memoryview(data)
                while rest:
                    taken = self.file.write(rest)
                    if not taken:
                        raise OSError(errno.EIO, "the temporary file took no bytes")
                    rest = rest[taken:]
                    self.written += taken

    def finish(self) -> None:
        """Flush to disk, so that a stored copy is never a truncated file after a crash; and
        check the file holds every byte fed."""
        with self.lock:
            os.fsync(self.file.fileno())
            on_disk = os.fstat(self.file.fileno()).st_size
            if on_disk != self.written:
                raise OSError(errno.EIO, f"{on_disk} of {self.written} bytes in the file")

    def discard(self) -> None:
        with self.lock:
            self.file.close()
            self.path.unlink(missing_ok=True)

    def complete(self, data: bytes) -> None:
        """The last bytes, then ``finish``: one trip to a worker thread for both."""
        self.feed(data)
        self.finish()


@dataclass(frozen=True)
class Spooled:
    """A complete file waiting in its temporary file (locked until ``discard``)."""

    path: Path
    size: int
    sha256: str
    _sink: _Sink = field(repr=False)

    async def discard(self) -> None:
        """Remove the temporary file (shielded: it goes even when the request is cancelled)."""
        await asyncio.shield(asyncio.to_thread(self._sink.discard))


async def receive(source: AsyncIterable[bytes], spool_dir: Path, max_size: int) -> Spooled:
    """Stream ``source`` into a temporary file in ``spool_dir`` while hashing and counting it.

    Raise PayloadTooLarge as soon as ``max_size`` is passed; on any failure
    (the client gone included) the temporary file is removed.
    """
    # The file is created in a worker thread while the body goes on arriving; a
    # file that fits in one batch (most images) is then written and flushed in
    # one more trip to a thread.
    creating: asyncio.Future[_Sink] | None = None
    sink: _Sink | None = None
    pending: asyncio.Task[None] | None = None
    try:
        size = 0
        batch: list[bytes] = []
        batched = 0
        async for chunk in source:
            if creating is None:
                creating = asyncio.ensure_future(asyncio.to_thread(_Sink, spool_dir))
            size += len(chunk)
            if size > max_size:
                raise PayloadTooLarge(f"The file is larger than {max_size} bytes")
            batch.append(chunk)
            batched += len(chunk)
            if batched >= BATCH_SIZE:
                # One write in flight while the next batch is read from the source.
                if pending is not None:
                    await pending
                if sink is None:
                    sink = await asyncio.shield(creating)
                pending = asyncio.create_task(asyncio.to_thread(sink.feed, b"".join(batch)))
                batch, batched = [], 0
        if pending is not None:
            await pending
        if creating is None:  # an empty source
            creating = asyncio.ensure_future(asyncio.to_thread(_Sink, spool_dir))
        sink = await asyncio.shield(creating)
        await asyncio.to_thread(sink.complete, b"".join(batch))
    except BaseException as error:
        if pending is not None:
            pending.cancel()
            # Its own failure, if any, is superseded by this one.
            pending.add_done_callback(lambda task: task.cancelled() or task.exception())
        # Shielded: the temporary file goes even when the request is cancelled.
        if creating is not None:
            await asyncio.shield(_discard(creating))
        if isinstance(error, OSError):
            raise storage_error(error) from None
        raise
    return Spooled(sink.path, size, sink.sha256.hexdigest(), sink)


async def _discard(creating: "asyncio.Future[_Sink]") -> None:
    """Remove the temporary file once it is created (if it could be)."""
    try:
        sink = await creating
    except BaseException:
        return
    await asyncio.to_thread(sink.discard)


def storage_error(error: OSError) -> Exception:
    """A full disk (or a file over the file system's size limit) is the client's 507; any
    other OSError stays what it is."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return InsufficientStorage("There is no space left to store the file")
    return error


# A file is created a moment before its owner locks it: one this young may
# be unlocked yet alive.
MIN_AGE = 1.0


def sweep(spool_dir: Path) -> list[Path]:
    """Remove temporary files no live process holds (left by a crash); return them."""
    removed = []
    for temp in spool_dir.glob(f"{TEMP_PREFIX}*"):
        try:
            fd = os.open(temp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if time.time() - os.fstat(fd).st_mtime < MIN_AGE:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a file being received by another process
        finally:
            os.close(fd)
        temp.unlink(missing_ok=True)
        removed.append(temp)
    return removed
