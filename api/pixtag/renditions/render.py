"""Rendering one rendition: synchronous, run in a worker thread.

libvips renders the types it reads well (``pixtag.renditions.vips``: faster,
and lighter on memory); Pillow the others (BMP, ICO, AVIF), or every type
where pyvips cannot be loaded. What every rendition gets, either way: the
EXIF orientation applied (a phone's portrait photo stands upright), no
metadata (EXIF with its GPS position, XMP, comments: only the colour
profile is kept), the first frame of an animation, and transparency where
the format keeps it (WebP, PNG; JPEG gets a white background). With Pillow
a JPEG is decoded at a reduced scale (``Image.draft``): a 24-megapixel
photo is read at 1/8 of its size for a thumbnail.
"""

import functools
import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from PIL import Image, ImageOps

from pixtag.imaging import MemoryBudget
from pixtag.metadata import stripping
from pixtag.renditions.presets import Preset


@functools.cache
def _vips() -> ModuleType | None:
    """libvips, loaded on the first rendition (not by every import of the app: the CLI's)."""
    try:
        from pixtag.renditions import vips
    except (ImportError, OSError):  # no libvips for this platform: Pillow renders everything
        return None
    return vips


QUALITY = {"webp": 80, "jpeg": 82}


class Unrenderable(Exception):
    """The stored file could not be decoded (truncated, corrupt)."""


@dataclass(frozen=True)
class Rendered:
    data: bytes
    content_type: str
    width: int
    height: int


def render(
    source: Path, preset: Preset, content_type: str, budget: MemoryBudget | None = None
) -> Rendered:
    """The rendition of the image in ``source`` (of ``content_type``) for ``preset``, decoded
    within ``budget`` (the share ``cost`` estimates)."""
    if preset.original:
        return _stripped(source, content_type, budget)
    if budget is None:
        return _render_any(source, preset, content_type)
    with budget.hold(cost(source, preset, content_type)):
        return _render_any(source, preset, content_type)


# Of the decoded size, what a rendition holds at its peak (bench/RESULTS.md, "Image memory",
# renditions of 81-megapixel files): libvips decodes JPEG (shrink-on-load), PNG and WebP
# (scaled decoding) a part at a time, about an eighth of the whole; a GIF or TIFF frame
# whole; Pillow holds the decoded image and its converted and reduced copies.
_STREAMED = frozenset({"image/jpeg", "image/png", "image/webp"})
_PILLOW_COPIES = 4


def cost(source: Path, preset: Preset, content_type: str) -> int:
    """The bytes rendering ``source`` holds at its peak, estimated from its header."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                width, height = image.size
                jpeg = image.format == "JPEG"
    except FileNotFoundError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return 0  # not readable: the rendering fails at once and holds nothing
    rgba = width * height * 4
    vips = _vips()
    if vips is not None and content_type in vips.TYPES:
        return rgba // 8 if content_type in _STREAMED else rgba
    if jpeg:  # Image.draft: decoded at 1/2, 1/4 or 1/8 when the box allows
        scale = 1
        while scale < 8 and min(width, height) // (scale * 2) >= preset.size:
            scale *= 2
        return rgba // (scale * scale) * 2
    return rgba * _PILLOW_COPIES


def _stripped(source: Path, content_type: str, budget: MemoryBudget | None) -> Rendered:
    """``STRIPPED``: the file without its metadata; a type written anew as PNG decodes first."""
    decoded = 0
    try:
        if content_type not in stripping.LOSSLESS_TYPES:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(source) as image:
                    frames = getattr(image, "n_frames", 1)
                    decoded = image.width * image.height * 4 * 2 * frames
        if budget is None or not decoded:
            done = stripping.strip(source, content_type)
        else:
            with budget.hold(decoded):
                done = stripping.strip(source, content_type)
    except FileNotFoundError:
        raise  # removed (a replacement): not the file's fault
    except (stripping.Unstrippable, OSError, ValueError, Image.DecompressionBombError) as error:
        raise Unrenderable(str(error)) from None
    return Rendered(done.data, done.content_type, done.width, done.height)


def _render_any(source: Path, preset: Preset, content_type: str) -> Rendered:
    vips = _vips()
    if vips is not None and content_type in vips.TYPES:
        try:
            data, width, height = vips.render(source, preset)
        except vips.Error as error:
            if not source.exists():
                raise FileNotFoundError(source) from None  # removed (a replacement)
            raise Unrenderable(f"the stored file could not be decoded: {error}") from None
        return Rendered(data, preset.content_type, width, height)
    return render_with_pillow(source, preset)


def render_with_pillow(source: Path, preset: Preset) -> Rendered:
    """The rendition of ``source`` made by Pillow."""
    try:
        with warnings.catch_warnings():
            # The ingest admitted the file under PIXTAG_MAX_IMAGE_PIXELS already.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source) as image:
                return _render(image, preset)
    except FileNotFoundError:
        raise  # removed (a replacement): not the file's fault
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise Unrenderable(f"the stored file could not be decoded: {error}") from None


def _render(image: Image.Image, preset: Preset) -> Rendered:
    image.seek(0)  # an animation's first frame
    box = (preset.size, preset.size)
    icc = image.info.get("icc_profile")
    if image.format == "JPEG":
        # Decode at the smallest 1/2, 1/4, 1/8 scale still at least as large as the box.
        image.draft("RGB" if image.mode not in ("L", "CMYK") else image.mode, box)
    oriented = ImageOps.exif_transpose(image) or image
    out = _mode_for(oriented, preset)
    out.thumbnail(box, Image.Resampling.LANCZOS, reducing_gap=3.0)
    out.info = {}  # EXIF (GPS), XMP, comments: none of it goes along
    buffer = io.BytesIO()
    options: dict[str, object] = {}
    if icc:
        options["icc_profile"] = icc
    if preset.format in QUALITY:
        options["quality"] = QUALITY[preset.format]
    if preset.format == "webp":
        options["method"] = 4
    out.save(buffer, format=preset.format.upper(), **options)
    return Rendered(buffer.getvalue(), preset.content_type, out.width, out.height)


def _mode_for(image: Image.Image, preset: Preset) -> Image.Image:
    """RGB, or RGBA when the image has transparency and the format keeps it."""
    transparent = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    )
    if not transparent:
        return image.convert("RGB") if image.mode != "RGB" else image
    rgba = image.convert("RGBA")
    if preset.alpha:
        return rgba
    flat = Image.new("RGB", rgba.size, "white")
    flat.paste(rgba, mask=rgba.getchannel("A"))
    return flat
