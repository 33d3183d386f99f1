"""The rungs of the duplicate ladder for one file: synchronous, run in a worker thread.

*Same bytes* is the file's sha256, recorded by the ingest. *Same pixels* is
a sha256 of the decoded first frame, orientation applied, as RGBA rows (its
size first): a re-save with other metadata, a lossless re-encode (PNG to
lossless WebP) or the EXIF orientation written out give the same digest.
*Same picture* is a DCT perceptual hash (imagehash's ``phash``: a greyscale
reduction, its DCT, the lowest frequencies against their median) of the
oriented image, at two sizes: 64 bits (8x8 of a 32x32 DCT), searched by an
index, and 256 bits (16x16 of a 64x64 DCT), which confirms a match: resized,
re-compressed or slightly edited copies land within a few bits of each other
on both, different pictures rarely on both at once (bench/RESULTS.md,
"Similar images": the distances, and why these hashes).
"""

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from pixtag.imaging import MemoryBudget

# Rows hashed at a time: the decoded copy is read a band at a time, not copied whole.
_BAND = 256
# A JPEG is decoded for the perceptual hash at the smallest scale still this large.
_HASH_DRAFT = 512


@dataclass(frozen=True)
class Fingerprint:
    pixels: bytes  # sha256 of the decoded, oriented pixels
    phash: int  # 64 bits, as PostgreSQL's signed bigint
    detail: str  # the 256-bit hash, as PostgreSQL's bit(256) reads it ("0101...")


class Unreadable(Exception):
    """The file could not be decoded."""


def fingerprint(path: Path, budget: MemoryBudget | None = None) -> Fingerprint:
    """The same-pixels digest and the perceptual hash of the image in ``path``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                # The oriented RGBA copy and the source at once, at most.
                share = width * height * 4 * 2
                if budget is None:
                    pixels = _pixels(image)
                else:
                    with budget.hold(share):
                        pixels = _pixels(image)
            with Image.open(path) as image:
                phash, detail = _phashes(image)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise Unreadable(str(error)) from None
    return Fingerprint(pixels, phash, detail)


def _pixels(image: Image.Image) -> bytes:
    image.seek(0)
    oriented = ImageOps.exif_transpose(image) or image
    rgba = oriented if oriented.mode == "RGBA" else oriented.convert("RGBA")
    del oriented
    digest = hashlib.sha256(f"{rgba.width}x{rgba.height}\n".encode())
    for top in range(0, rgba.height, _BAND):
        digest.update(rgba.crop((0, top, rgba.width, min(top + _BAND, rgba.height))).tobytes())
    return digest.digest()


def _phashes(image: Image.Image) -> tuple[int, str]:
    import imagehash  # with numpy and scipy: loaded by the first fingerprint, not at start

    image.seek(0)
    if image.format == "JPEG":
        image.draft("RGB" if image.mode not in ("L", "CMYK") else image.mode, (_HASH_DRAFT,) * 2)
    oriented = ImageOps.exif_transpose(image) or image
    if oriented.mode in ("RGBA", "LA", "PA") or "transparency" in oriented.info:
        # Transparent pixels count as white, as a viewer on a white page shows them.
        rgba = oriented.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        oriented = flat
    value = int(str(imagehash.phash(oriented)), 16)
    detail = "".join("1" if bit else "0" for bit in imagehash.phash(oriented, 16).hash.flat)
    return (value - (1 << 64) if value >= 1 << 63 else value), detail


def distance(a: int, b: int) -> int:
    """Bits that differ between two perceptual hashes."""
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()
