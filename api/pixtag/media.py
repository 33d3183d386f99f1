"""The media tree as the server sees it: public URLs, files safe to serve, start-up sweep."""

import asyncio
import fcntl
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from pixtag import keys
from pixtag.errors import NotFound
from pixtag.storage import TEMP_PREFIX


def public_url(media_url: str, image_id: int, filename: str) -> str:
    """The URL of a stored file (the same as the ``url`` PostgreSQL renders in image JSON)."""
    return f"{media_url}/{int(image_id)}/{quote(filename, safe='')}"


def served_file(media_dir: Path, path: Path) -> os.stat_result:
    """Stat a regular file inside the media root; symlinks and anything else are NotFound."""
    root = media_dir.resolve()
    try:
        st = path.lstat()
        inside = path.parent.resolve(strict=True) == root / path.parent.name
    except OSError:
        raise NotFound("No such file") from None
    if not inside or not stat.S_ISREG(st.st_mode):
        raise NotFound("No such file")
    return st


def sweep_stale(media_dir: Path) -> list[Path]:
    """Remove temporary files no live process holds (left by a crash); return them."""
    removed = []
    for temp in media_dir.glob(f"*/{TEMP_PREFIX}*"):
        try:
            fd = os.open(temp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # an upload in progress in another process
        finally:
            os.close(fd)
        temp.unlink(missing_ok=True)
        removed.append(temp)
    return removed


async def media_ctx(app: web.Application) -> AsyncIterator[None]:
    """Create the media root and sweep what a killed server left behind."""
    media_dir = app[keys.SETTINGS].media_dir
    await asyncio.to_thread(media_dir.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(sweep_stale, media_dir)
    yield
