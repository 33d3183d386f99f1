"""The Pillow side of processing: decode a stored image, apply one algorithm, encode the result.

Runs in a worker thread (``pixtag.processing.job`` hands it to a bounded
pool): decoding and resampling hold the CPU for a while. Decoding respects
the same pixel bound as uploads (``pixtag.imaging``), checked from the
header before any pixel is decoded, and the result's size is checked before
it is computed. The EXIF orientation is applied first, so a crop's box and a
flip's direction mean what the viewer sees; metadata (EXIF, XMP, comments)
is not carried over, only the colour profile. The result keeps the source's
format where Pillow can write it, else it is PNG. Of an animated image, only
the first frame is processed.
"""

import io
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from pixtag.imaging import ACCEPTED, MemoryBudget, decoded_size
from pixtag.jobs.errors import Permanent

# Formats a result is written in (MPO, a camera JPEG, is written as JPEG), with their extension.
WRITTEN = {
    "JPEG": ".jpg",
    "MPO": ".jpg",
    "PNG": ".png",
    "GIF": ".gif",
    "WEBP": ".webp",
    "AVIF": ".avif",
    "BMP": ".bmp",
    "TIFF": ".tif",
}
_OPENERS = [name for name in ACCEPTED if name != "MPO"]
# Modes each written format takes as they are; others are converted (alpha kept where it can).
_MODES = {
    "JPEG": {"L", "RGB", "CMYK"},
    "BMP": {"1", "L", "P", "RGB", "RGBA"},
    "GIF": {"1", "L", "P"},
}


@dataclass(frozen=True)
class Output:
    """An encoded result."""

    data: bytes
    extension: str
    same_format: bool


def _fail(code: str, message: str) -> Permanent:
    return Permanent(code, message)


def _open(path: Path, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path, formats=_OPENERS)
    except Image.DecompressionBombError:
        raise _fail("too_large", f"the image has more than {max_pixels} pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _fail("not_an_image", "the source file is not an image Pillow can read") from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise _fail("too_large", f"the image has more than {max_pixels} pixels")
    return image


def _rotated_size(width: int, height: int, degrees: float) -> tuple[int, int]:
    angle = math.radians(degrees)
    cos, sin = abs(math.cos(angle)), abs(math.sin(angle))
    return math.ceil(width * cos + height * sin), math.ceil(width * sin + height * cos)


def _check_result(size: tuple[int, int], max_pixels: int) -> None:
    if size[0] * size[1] > max_pixels:
        raise _fail(
            "too_large",
            f"the result ({size[0]}x{size[1]}) would have more than {max_pixels} pixels",
        )


def apply(
    image: Image.Image, algorithm: str, params: dict[str, Any], max_pixels: int
) -> Image.Image:
    """``algorithm`` with ``params`` (already validated) on an oriented, loaded image."""
    width, height = image.size
    if algorithm == "resize":
        size = (params["width"], params["height"])
        _check_result(size, max_pixels)
        return image.resize(size, Image.Resampling.LANCZOS)
    if algorithm == "thumbnail":
        box = (
            (params["size"], params["size"])
            if "size" in params
            else (params["width"], params["height"])
        )
        copy = image.copy()
        copy.thumbnail(box, Image.Resampling.LANCZOS)
        return copy
    if algorithm == "flip":
        if params.get("direction", "horizontal") == "horizontal":
            return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    if algorithm == "rotate":
        return _rotate(
            image, float(params["degrees"]), bool(params.get("expand", True)), max_pixels
        )
    if algorithm == "grayscale":
        return image.convert("LA" if _has_alpha(image) else "L")
    if algorithm == "crop":
        left, top, w, h = params["left"], params["top"], params["width"], params["height"]
        if left + w > width or top + h > height:
            raise _fail(
                "crop_out_of_bounds",
                f"the crop box (left {left}, top {top}, {w}x{h}) does not fit in the image"
                f" ({width}x{height})",
            )
        return image.crop((left, top, left + w, top + h))
    raise _fail("unknown_algorithm", f"no algorithm named {algorithm!r}")


def _rotate(image: Image.Image, degrees: float, expand: bool, max_pixels: int) -> Image.Image:
    turns = {
        90.0: Image.Transpose.ROTATE_90,
        180.0: Image.Transpose.ROTATE_180,
        270.0: Image.Transpose.ROTATE_270,
    }
    normal = degrees % 360
    if normal == 0:
        return image.copy()
    if normal in turns:
        return image.transpose(turns[normal])
    if expand:
        _check_result(_rotated_size(*image.size, normal), max_pixels)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    return image.rotate(normal, Image.Resampling.BICUBIC, expand=expand)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _for_format(image: Image.Image, fmt: str) -> Image.Image:
    modes = _MODES.get(fmt)
    if modes is None or image.mode in modes:
        return image
    if fmt == "GIF":
        return image.convert("P", palette=Image.Palette.ADAPTIVE)
    if fmt == "BMP" or not image.mode.startswith("L"):
        return image.convert("RGBA" if fmt == "BMP" and _has_alpha(image) else "RGB")
    return image.convert("L")


# Decoded copies a task holds at its peak: the source, the oriented or converted image and
# the result (bench/RESULTS.md, "Image memory").
COPIES = 3


def process(
    path: Path,
    algorithm: str,
    params: dict[str, Any],
    max_pixels: int,
    budget: MemoryBudget | None = None,
) -> Output:
    """Decode ``path``, apply ``algorithm`` and encode the result, within ``budget``."""
    with _open(path, max_pixels) as image:
        if budget is None:
            return _process(image, algorithm, params, max_pixels)
        with budget.hold(decoded_size(image) * COPIES):
            return _process(image, algorithm, params, max_pixels)


def _process(image: Image.Image, algorithm: str, params: dict[str, Any], max_pixels: int) -> Output:
    source_format = "JPEG" if image.format == "MPO" else (image.format or "")
    icc = image.info.get("icc_profile")
    try:
        image.load()
        oriented = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError):
        raise _fail("decode_failed", "the source file could not be decoded") from None
    image.close()  # the oriented copy is what the operation reads: the source's pixels go now
    result = apply(oriented, algorithm, params, max_pixels)
    del oriented
    same = source_format in WRITTEN and source_format in Image.SAVE
    fmt = source_format if same else "PNG"
    result = _for_format(result, fmt)
    keep = result.info.get("transparency")
    result.info = (
        {} if keep is None else {"transparency": keep}
    )  # no EXIF, XMP or comments into the result
    options: dict[str, Any] = {"icc_profile": icc} if icc else {}
    if fmt in ("JPEG", "WEBP", "AVIF"):
        options["quality"] = 90
    buffer = io.BytesIO()
    result.save(buffer, format=fmt, **options)
    return Output(buffer.getvalue(), WRITTEN[fmt], same)
