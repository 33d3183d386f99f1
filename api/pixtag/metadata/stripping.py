"""A file's pixels without what it says of the photo: EXIF, XMP, IPTC, comments, text.

What a share with ``strip_metadata`` sends (built once per file, as a
rendition). Synchronous, run in a worker thread.

- **JPEG**: the segments are copied as they are, the compressed image data
  untouched (no re-encoding): APP0 (JFIF), APP2 ICC profiles and APP14
  (Adobe's colour transform) are kept, every other APPn (EXIF, XMP, IPTC,
  MPF's extra images), COM and anything after the end of the image dropped.
- **PNG**: the chunks that draw the image (and its colour, transparency,
  animation and pixel size) are kept, every other one (``eXIf``, ``tEXt``,
  ``zTXt``, ``iTXt`` with XMP, ``tIME``, private chunks) dropped.
- **WebP**: ``EXIF`` and ``XMP `` chunks (and unknown ones) dropped, the
  extended header's flags corrected.
- **GIF**: comment and application extensions (XMP) dropped but the
  animation loop's.
- Anything else (TIFF, HEIC, AVIF, BMP, ICO...) is written as PNG (every
  frame: an animated PNG), lossless: the same decoded pixels.

The EXIF orientation is the one fact kept (a minimal EXIF of that one tag),
so the photo still stands the right way up; nothing else of EXIF remains.
"""

import io
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence

ORIENTATION = 0x0112


class Unstrippable(Exception):
    """The file could not be read as the format it was stored as."""


@dataclass(frozen=True)
class Stripped:
    data: bytes
    content_type: str
    width: int
    height: int


def strip(path: Path, content_type: str) -> Stripped:
    """The file at ``path`` without its metadata; ``Unstrippable`` if it cannot be read."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                orientation = _orientation(image)
                if content_type not in _LOSSLESS:
                    return Stripped(_as_png(image), "image/png", width, height)
        data = path.read_bytes()
        return Stripped(_LOSSLESS[content_type](data, orientation), content_type, width, height)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, SyntaxError, IndexError, struct.error) as error:
        raise Unstrippable(f"the stored file could not be read: {error}") from None


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(ORIENTATION)
    except Exception:  # a broken EXIF: as stored
        return 1
    return value if isinstance(value, int) and 2 <= value <= 8 else 1


def _exif(orientation: int) -> bytes:
    """A TIFF-structured EXIF of one tag, the orientation (without the ``Exif\\0\\0`` head)."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return exif.tobytes()[6:]


def jpeg(data: bytes, orientation: int = 1) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    out = [b"\xff\xd8"]
    if orientation != 1:
        head = b"Exif\x00\x00" + _exif(orientation)
        out.append(b"\xff\xe1" + struct.pack(">H", len(head) + 2) + head)
    i = 2
    while i < len(data):
        if data[i] != 0xFF:
            raise ValueError(f"no JPEG marker at byte {i}")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:  # the end of the image: what follows is not the picture
            out.append(b"\xff\xd9")
            return b"".join(out)
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            out.append(data[i : i + 2])
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        end = i + 2 + length
        if length < 2 or end > len(data):
            raise ValueError("a JPEG segment runs past the end")
        if _keep_segment(marker, data[i + 4 : end]):
            out.append(data[i:end])
        i = end
        if marker == 0xDA:  # start of scan: the compressed data runs to the next marker
            scan = i
            while True:
                i = data.find(b"\xff", i)
                if i < 0 or i + 1 >= len(data):
                    raise ValueError("the JPEG ends inside its image data")
                following = data[i + 1]
                if following == 0 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    i += 1 if following == 0xFF else 2
                    continue
                break
            out.append(data[scan:i])
    raise ValueError("the JPEG has no end")


def _keep_segment(marker: int, body: bytes) -> bool:
    if marker == 0xFE:  # a comment
        return False
    if not 0xE0 <= marker <= 0xEF:  # tables, frames, scans: the picture itself
        return True
    return (
        (marker == 0xE0 and body[:5] in (b"JFIF\x00", b"JFXX\x00"))
        or (marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00"))
        or (marker == 0xEE and body.startswith(b"Adobe"))
    )


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What draws the image: critical chunks, colour, transparency, animation, pixel size.
PNG_KEEP = frozenset(
    {
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT",
        b"sRGB", b"cICP", b"mDCV", b"cLLI", b"bKGD", b"hIST", b"pHYs", b"sPLT", b"acTL",
        b"fcTL", b"fdAT",
    }
)  # fmt: skip


def png(data: bytes, orientation: int = 1) -> bytes:
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    out = [PNG_SIGNATURE]
    i = len(PNG_SIGNATURE)
    while i < len(data):
        (length,) = struct.unpack(">I", data[i : i + 4])
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > len(data):
            raise ValueError("a PNG chunk runs past the end")
        if kind in (b"IDAT", b"acTL") and orientation != 1:
            out.append(_png_chunk(b"eXIf", _exif(orientation)))
            orientation = 1
        if kind in PNG_KEEP:
            out.append(data[i:end])
        i = end
        if kind == b"IEND":
            return b"".join(out)
    raise ValueError("the PNG has no end")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


WEBP_KEEP = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"})
_WEBP_EXIF_FLAG, _WEBP_XMP_FLAG = 0x08, 0x04


def webp(data: bytes, orientation: int = 1) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    chunks: list[bytes] = []
    i = 12
    extended = False
    while i + 8 <= len(data):
        kind = data[i : i + 4]
        (length,) = struct.unpack("<I", data[i + 4 : i + 8])
        end = i + 8 + length + (length & 1)
        if i + 8 + length > len(data):
            raise ValueError("a WebP chunk runs past the end")
        chunk = data[i:end]
        if kind == b"VP8X":
            extended = True
            flags = chunk[8] & ~(_WEBP_EXIF_FLAG | _WEBP_XMP_FLAG)
            if orientation != 1:
                flags |= _WEBP_EXIF_FLAG
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        if kind in WEBP_KEEP:
            chunks.append(chunk)
        i = end
    if orientation != 1 and extended:
        body = _exif(orientation)
        chunks.append(b"EXIF" + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1))
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def gif(data: bytes, orientation: int = 1) -> bytes:
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise ValueError("not a GIF")
    flags = data[10]
    i = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    out = [data[:i]]
    while i < len(data):
        block = data[i]
        if block == 0x3B:  # the trailer
            out.append(b";")
            return b"".join(out)
        if block == 0x21:  # an extension: label, then sub-blocks
            label = data[i + 1]
            end = _sub_blocks(data, i + 2)
            keep = label in (0xF9, 0x01)  # graphic control, plain text
            if label == 0xFF:  # application: only the animation loop's
                keep = data[i + 3 : i + 14] in (b"NETSCAPE2.0", b"ANIMEXTS1.0")
            if keep:
                out.append(data[i:end])
            i = end
        elif block == 0x2C:  # an image: descriptor, local colour table, LZW data
            local = data[i + 9]
            start = i + 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            end = _sub_blocks(data, start + 1)
            out.append(data[i:end])
            i = end
        else:
            raise ValueError(f"unknown GIF block {block:#x}")
    raise ValueError("the GIF has no end")


def _sub_blocks(data: bytes, i: int) -> int:
    """The index after the sub-blocks starting at ``i`` (and their terminator)."""
    while True:
        size = data[i]
        i += 1 + size
        if size == 0:
            return i


_PNG_MODES = frozenset({"1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"})


def _as_png(image: Image.Image) -> bytes:
    """Every frame of ``image`` as PNG, its pixels as they are (orientation as a tag)."""
    orientation = _orientation(image)
    frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    for n, frame in enumerate(frames):
        if frame.mode not in _PNG_MODES:  # CMYK, YCbCr, floats: the nearest PNG holds
            alpha = "A" in frame.getbands() or "transparency" in frame.info
            frames[n] = frame = frame.convert("RGBA" if alpha else "RGB")
        kept = ("transparency", "duration")
        frame.info = {key: frame.info[key] for key in kept if key in frame.info}
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if orientation != 1:
        options["exif"] = b"Exif\x00\x00" + _exif(orientation)
    if "icc_profile" in image.info:
        options["icc_profile"] = image.info["icc_profile"]
    if len(frames) > 1:
        options |= {"save_all": True, "append_images": frames[1:]}
    frames[0].save(buffer, format="PNG", **options)
    return buffer.getvalue()


_LOSSLESS = {"image/jpeg": jpeg, "image/png": png, "image/webp": webp, "image/gif": gif}
LOSSLESS_TYPES = frozenset(_LOSSLESS)
