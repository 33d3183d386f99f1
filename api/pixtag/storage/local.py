"""The local backend: files under ``<data-dir>/media``, one folder per image.

A key ``12/3f5a...-9a8b....png`` is the file ``media/12/3f5a...-9a8b....png``.
Files are received into ``media/.incoming`` (the same file system), then
hard-linked under their key: ``link`` never replaces an existing name, so a
key is never overwritten, and the directory is fsynced so the new name
survives a power cut before the database commit that refers to it.
"""

import asyncio
import contextlib
import os
import stat
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from pixtag.auth.signing import MediaSigner
from pixtag.storage import spool
from pixtag.storage.backend import StoredObject

INCOMING = ".incoming"
READ_SIZE = 256 * 1024


@dataclass(frozen=True)
class LocalStorage:
    """Files in a directory on this machine, served by ``/media`` (or nginx) under a URL prefix.

    With a ``signer`` (auth on, no anonymous reads) every URL is signed and
    expires, so the image JSON names the attachment's redirect instead of a
    permanent URL (``media_url`` is None, as with S3).
    """

    root: Path
    prefix: str
    signer: MediaSigner | None = None

    @property
    def media_url(self) -> str | None:
        return None if self.signer is not None else self.prefix

    @property
    def description(self) -> str:
        return f"local directory {self.root.absolute()}"

    @property
    def spool_dir(self) -> Path:
        return self.root / INCOMING

    @property
    def urls_expire(self) -> bool:
        return self.signer is not None

    def local_path(self, key: str) -> Path:
        return self.path(key)

    def path(self, key: str) -> Path:
        """The file of ``key``; refuse anything that is not ``<digits>/<plain name>``."""
        folder, _, name = key.partition("/")
        if not folder.isdigit() or not name or "/" in name or name.startswith("."):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / folder / name

    async def put(self, spooled: Path, key: str, content_type: str) -> None:
        try:
            await asyncio.to_thread(self._link, spooled, self.path(key))
        except OSError as error:
            raise spool.storage_error(error) from None

    def _link(self, spooled: Path, target: Path) -> None:
        for attempt in range(3):
            target.parent.mkdir(exist_ok=True)
            try:
                os.link(spooled, target)
                break
            except FileNotFoundError:
                # The sweeper removed the folder as it stood empty; make it again.
                if attempt == 2:
                    raise
        fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    async def url(self, key: str, *, filename: str, content_type: str) -> str:
        url = f"{self.prefix}/{key}"
        return url if self.signer is None else self.signer.sign(url)

    async def objects(self) -> AsyncIterator[StoredObject]:
        for found in await asyncio.to_thread(self._scan):
            yield found

    def _scan(self) -> list[StoredObject]:
        found = []
        for folder in self._folders():
            with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
                        continue
                    st = entry.stat(follow_symlinks=False)
                    # ctime too: a key hard-linked from an old file (a migration) is new.
                    found.append(
                        StoredObject(
                            f"{folder.name}/{entry.name}", max(st.st_mtime, st.st_ctime), st.st_size
                        )
                    )
        return found

    def _folders(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [
            Path(entry.path)
            for entry in os.scandir(self.root)
            if entry.name.isdigit() and entry.is_dir(follow_symlinks=False)
        ]

    async def read(self, key: str) -> AsyncIterator[bytes]:
        path = self.path(key)
        # Opened on the loop (an open reads no data): a cancellation while a thread opened
        # it would drop the open file unclosed.
        file = path.open("rb")
        try:
            while chunk := await asyncio.to_thread(file.read, READ_SIZE):
                yield chunk
        finally:
            file.close()

    async def sweep_incomplete(self, cutoff: float) -> list[str]:
        return await asyncio.to_thread(self._sweep_incomplete, cutoff)

    def _sweep_incomplete(self, cutoff: float) -> list[str]:
        """Temporary files left in image folders by versions before keys; folders left empty."""
        removed: list[str] = []
        for folder in self._folders():
            removed += [str(path.relative_to(self.root)) for path in spool.sweep(folder)]
            with contextlib.suppress(OSError):
                st = folder.stat()
                if stat.S_ISDIR(st.st_mode) and not any(folder.iterdir()):
                    folder.rmdir()
                    removed.append(f"{folder.name}/")
        return removed

    async def close(self) -> None:
        return None
