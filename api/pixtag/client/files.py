"""Local file work for the client: which files are images, their sha256, saving downloads.

Reading and writing files runs in threads, so a folder import keeps its
uploads flowing while files are hashed, and a download never stalls the
connection it reads from.
"""

import asyncio
import contextlib
import hashlib
import os
import secrets
from collections.abc import AsyncIterable
from functools import cache
from pathlib import Path

from PIL import Image as PILImage

from pixtag.client.errors import ClientError

HASH_BLOCK = 1024 * 1024


@cache
def image_extensions() -> frozenset[str]:
    """File extensions of the formats Pillow can open (the server identifies files with it)."""
    PILImage.init()
    return frozenset(
        ext.lower() for ext, fmt in PILImage.registered_extensions().items() if fmt in PILImage.OPEN
    )


def find_images(root: Path) -> list[Path]:
    """Image files under ``root``, recursively and sorted; hidden files and folders are skipped."""
    return scan(root)[0]


def scan(root: Path) -> tuple[list[Path], list[Path]]:
    """The image files under ``root`` (as ``find_images``) and the other files beside them."""
    if not root.is_dir():
        raise ClientError(f"{root} is not a directory")
    extensions = image_extensions()
    images: list[Path] = []
    others: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder, name)
            if name.startswith(".") or not path.is_file():
                continue
            (images if path.suffix.lower() in extensions else others).append(path)
    return images, others


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


async def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes, the same digest the server stores."""
    return await asyncio.to_thread(_sha256, path)


async def save(chunks: AsyncIterable[bytes], dest: Path, *, sha256: str | None = None) -> int:
    """Write a download to ``dest`` atomically and return its size.

    The bytes go to a temporary file beside ``dest`` and replace it only once
    complete and, when ``sha256`` is given, verified: an interrupted or
    corrupted download never leaves a partial file under the real name.
    """
    # Mode "x" creates the file with the user's umask, like any file they save.
    partial = dest.with_name(f".pixtag-{secrets.token_hex(8)}.part")
    try:
        file = await asyncio.to_thread(partial.open, "xb")
    except OSError as error:
        raise ClientError(f"cannot write {dest}: {error.strerror or error}") from None
    digest, size = hashlib.sha256(), 0
    try:
        try:
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                await asyncio.to_thread(file.write, chunk)
        finally:
            await asyncio.to_thread(file.close)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise ClientError(f"the downloaded file does not match its sha256 {sha256}")
        await asyncio.to_thread(os.replace, partial, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            await asyncio.to_thread(partial.unlink)
        raise
    return size
