"""The media tree as the API sees it: URLs of stored files, and files safe to serve."""

import os
import stat
from pathlib import Path
from urllib.parse import quote

from pixtag.errors import NotFound


def attachment_path(image_id: int, filename: str) -> str:
    """The API path of an image's file (the same as the ``url`` PostgreSQL renders without a
    public media URL)."""
    return f"/images/{int(image_id)}/attachment/{quote(filename, safe='')}"


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
