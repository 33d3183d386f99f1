"""What an uploaded file is, decided from its bytes (never from the client's headers).

Pillow reads only the header here (``Image.open`` is lazy), so a huge file
costs no decoding. Only raster formats that browsers display are accepted,
and HEIC/HEIF (what phones shoot; renditions make them viewable anywhere):
vector and scriptable formats (SVG, EPS, WMF) and exotic ones are refused.

Pillow opens HEIF through pillow-heif's plugin, registered here at import:
every server module that opens images with Pillow imports this one first
(``register``), so they all read the same formats.
"""

import ctypes
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pillow_heif
from PIL import Image, UnidentifiedImageError

from pixtag.errors import PayloadTooLarge, UnsupportedMediaType

# Pillow format name -> the Content-Type the file is stored and served with.
ACCEPTED = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # a JPEG with extra pictures (cameras); Pillow names it apart
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "AVIF": "image/avif",
    # pillow-heif names both HEIF; the brand in the file tells HEIC (HEVC inside) apart.
    "HEIF": "image/heif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
    "ICO": "image/vnd.microsoft.icon",
}
# Plugins Pillow may try: MPO is produced by the JPEG plugin, not opened by name.
_OPENERS = [name for name in ACCEPTED if name != "MPO"]

HEIF_TYPES = frozenset({"image/heic", "image/heif"})

REFUSED = (
    "The file is not an image of an accepted type"
    " (JPEG, PNG, GIF, WebP, AVIF, HEIC, HEIF, BMP, TIFF, ICO)"
)


def register() -> None:
    """Let Pillow open HEIC/HEIF (idempotent; done once at import)."""
    pillow_heif.register_heif_opener()


register()


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def identify(path: Path, max_pixels: int, max_side: int | None = None) -> ImageInfo:
    return identify_and(path, max_pixels, max_side, lambda image: None)[0]


def identify_and[T](
    path: Path, max_pixels: int, max_side: int | None, then: Callable[[Image.Image], T]
) -> tuple[ImageInfo, T]:
    """Identify the image in ``path`` from its header.

    Raise UnsupportedMediaType when it is not an accepted image, and
    PayloadTooLarge when it has more than ``max_pixels`` pixels (a
    decompression bomb: small on disk, huge once decoded) or a side longer
    than ``max_side`` pixels (an absurd strip that no resizer handles sanely).
    """
    too_many = PayloadTooLarge(f"The image has more than {max_pixels} pixels")
    try:
        with warnings.catch_warnings():
            # Pillow's own bound warns, then fails, at a fixed size; ours is the setting.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path, formats=_OPENERS) as image:
                content_type = ACCEPTED.get(image.format or "")
                if content_type == "image/heif" and image.get_format_mimetype() in HEIF_TYPES:
                    content_type = image.get_format_mimetype()
                width, height = image.size
                # What else is read while the file is open (it must not raise).
                extra = then(image)
    except Image.DecompressionBombError:
        raise too_many from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise UnsupportedMediaType(REFUSED) from None
    if content_type is None or width < 1 or height < 1:
        raise UnsupportedMediaType(REFUSED)
    if width * height > max_pixels:
        raise too_many
    if max_side is not None and max(width, height) > max_side:
        raise PayloadTooLarge(
            f"The image is {width}x{height} pixels: a side is longer than {max_side} pixels"
        )
    return ImageInfo(content_type, width, height), extra


# Bytes Pillow keeps per pixel by mode: one band in a byte, "I;16" in two, every other mode
# (RGB included: Pillow pads it to four) in four.
_ONE_BYTE = frozenset({"1", "L", "P"})


def decoded_size(image: Image.Image) -> int:
    """The bytes ``image`` takes once decoded, from its header alone."""
    width, height = image.size
    per_pixel = 1 if image.mode in _ONE_BYTE else 2 if image.mode.startswith("I;16") else 4
    return width * height * per_pixel


class MemoryBudget:
    """Decoded pixels that image work in this process holds at once (``PIXTAG_IMAGE_MEMORY``),
    shared by the threads that decode: a task waits until its share is free, and one larger
    than the whole budget waits to run alone (an image the ingest accepted is never refused
    for its size here). Tasks enter in the order they asked: a small one never overtakes a
    large one waiting for room, so a stream of thumbnails cannot starve a large task. After
    each task, memory the allocator kept is returned to the system."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.used = 0
        self.waiting = 0  # tasks waiting for their share
        self._changed = threading.Condition()
        self._issued = 0  # tickets handed out, in the order tasks asked
        self._serving = 0  # the ticket whose turn it is to enter

    @contextmanager
    def hold(self, nbytes: int) -> Iterator[None]:
        with self._changed:
            ticket = self._issued
            self._issued += 1
            self.waiting += 1
            self._changed.wait_for(
                lambda: (
                    ticket == self._serving and (self.used == 0 or self.used + nbytes <= self.total)
                )
            )
            self.waiting -= 1
            self._serving += 1
            self.used += nbytes
            self._changed.notify_all()  # the next in line may fit too
        try:
            yield
        finally:
            with self._changed:
                self.used -= nbytes
                self._changed.notify_all()
            release_memory()


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc: nothing to ask
    return trim


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Hand the heap's free pages back to the system (glibc keeps freed image buffers)."""
    if _TRIM is not None:
        _TRIM(0)
