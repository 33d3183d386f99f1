"""Local file work for the client: which files are images, their sha256, saving downloads.

The server decides what a file is from its bytes; the client only picks
which files of a folder to send by their extension, from a fixed list of the
types the server accepts (``pixtag.imaging.ACCEPTED``; a test keeps the two
in step), so a client command never loads Pillow.
"""

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from pixtag.client.errors import ClientError

HASH_BLOCK = 1024 * 1024

# Extensions of the accepted types (JPEG, PNG, GIF, WebP, AVIF, BMP, TIFF, ICO, HEIC/HEIF).
IMAGE_EXTENSIONS = frozenset(
    {
        *(".jpg", ".jpeg", ".jpe", ".jfif", ".mpo", ".png", ".apng", ".gif", ".webp"),
        *(".avif", ".avifs", ".bmp", ".dib", ".tif", ".tiff", ".ico"),
        *(".heic", ".heics", ".heif", ".heifs", ".hif"),
    }
)


def image_extensions() -> frozenset[str]:
    """File extensions taken for images (lower case, with the dot)."""
    return IMAGE_EXTENSIONS


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


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes, the same digest the server stores."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def save(chunks: Iterable[bytes], dest: Path, *, sha256: str | None = None) -> int:
    """Write a download to ``dest`` atomically and return its size.

    The bytes go to a temporary file beside ``dest`` and replace it only once
    complete and, when ``sha256`` is given, verified: an interrupted or
    corrupted download never leaves a partial file under the real name.
    """
    # Mode "x" creates the file with the user's umask, like any file they save.
    partial = dest.with_name(f".pixtag-{secrets.token_hex(8)}.part")
    try:
        file = partial.open("xb")
    except OSError as error:
        raise ClientError(f"cannot write {dest}: {error.strerror or error}") from None
    digest, size = hashlib.sha256(), 0
    try:
        with file:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                file.write(chunk)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise ClientError(f"the downloaded file does not match its sha256 {sha256}")
        os.replace(partial, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return size
