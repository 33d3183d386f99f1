"""Storage keys: one per stored file, never reused, so a URL can be cached forever.

A key is ``<image_id>/<sha256 prefix>-<random>.<ext>``: the image's folder,
what the bytes are (the first 16 hex digits of their sha256), a random part
that makes each stored file's key unique even when the same bytes are stored
again, and the extension of the type identified from the bytes, so that a
server typing files by name (nginx) serves the right type. The random part
matters: a replacement removes the old key after its commit, and a key that
could be reused might be removed just after another upload wrote it again.
"""

import re
import secrets

# The extension each accepted type is stored under (pixtag.imaging.ACCEPTED).
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/avif": "avif",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/bmp": "bmp",
    "image/tiff": "tif",
    "image/vnd.microsoft.icon": "ico",
}

NAME_PATTERN = re.compile(r"[0-9a-f]{16}-[0-9a-f]{16}\.(?:" + "|".join(EXTENSIONS.values()) + ")")


def new_key(image_id: int, sha256: str, content_type: str) -> str:
    """A fresh key for a file of ``image_id`` with these bytes and this type."""
    return f"{int(image_id)}/{sha256[:16]}-{secrets.token_hex(8)}.{EXTENSIONS[content_type]}"


def is_key_name(name: str) -> bool:
    """Whether ``name`` has the shape of a key's last segment (a cheap check before any lookup)."""
    return NAME_PATTERN.fullmatch(name) is not None
