"""What every storage backend offers: the one small interface the rest of pixtag uses.

A backend stores immutable objects under keys (``pixtag.storage.keys``):
``put`` never overwrites, so a key, once written, always holds the same
bytes. Nothing here knows the database; ``pixtag.images.ingest`` decides
when to put and when to delete, and ``pixtag.storage.sweeper`` decides what
is left over.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class StoredObject:
    """A key found in storage, with when it was last written (seconds since the epoch)."""

    key: str
    modified: float
    size: int


class Storage(Protocol):
    """A place for stored files: the local media directory or an S3 bucket."""

    @property
    def description(self) -> str:
        """What start-up logs: where files go (no secrets)."""
        ...

    @property
    def media_url(self) -> str | None:
        """The public prefix of keys in image JSON; None when files are reached only through
        the API's redirect (to a signed URL)."""
        ...

    @property
    def root(self) -> Path | None:
        """The directory the files live in on this machine (local storage); else None."""
        ...

    @property
    def urls_expire(self) -> bool:
        """Whether the URLs ``url`` hands out expire (signed or presigned)."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file of ``key`` on this machine, when files live here; else None."""
        ...

    @property
    def spool_dir(self) -> Path:
        """A local directory for files being received (on the media file system for ``local``)."""
        ...

    async def put(self, spooled: Path, key: str, content_type: str) -> None:
        """Store the complete file ``spooled`` under ``key``; durable when it returns.

        Raise ``FileExistsError`` rather than overwrite an existing key. The
        spooled file is left in place (its owner removes it).
        """
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        ...

    async def url(self, key: str, *, filename: str, content_type: str) -> str:
        """Where a client fetches the bytes of ``key`` (the 302's Location)."""
        ...

    def objects(self) -> AsyncIterator[StoredObject]:
        """Every stored key (temporary and incomplete objects excluded)."""
        ...

    def read(self, key: str) -> AsyncIterator[bytes]:
        """The bytes of ``key`` in chunks; raise ``FileNotFoundError`` when it is missing."""
        ...

    async def sweep_incomplete(self, cutoff: float) -> list[str]:
        """Remove what interrupted writes left (older than ``cutoff``); return what went."""
        ...

    async def close(self) -> None:
        """Release connections and clients."""
        ...
