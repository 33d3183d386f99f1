"""Rendering with libvips (pyvips, whose wheel bundles the library): the fast path.

``thumbnail`` decodes only what the box needs (JPEG shrink-on-load, PNG
streamed line by line), so a rendition costs less time and memory than with
Pillow: about 1.7x faster, and a 12-megapixel PNG takes a quarter of the
memory (bench/RESULTS.md, "Renditions"). It applies the EXIF orientation and
reads an animation's first page by itself; ``keep="icc"`` drops every
metadata block but the colour profile. Its operation cache is off: a server
renders each source once, and the cache would only hold decoded images.
"""

from pathlib import Path

import pyvips  # type: ignore[import-untyped]  # ships no types

from pixtag.renditions.presets import Preset

pyvips.cache_set_max(0)
pyvips.cache_set_max_mem(0)
# One libvips thread per rendering thread: PIXTAG_RENDITION_WORKERS bounds the CPU it takes.
pyvips.concurrency_set(1)

# What the bundled libvips reads well (BMP and ICO need ImageMagick, which it lacks: Pillow's).
TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff"})
SAVE = {"webp": {"Q": 80}, "jpeg": {"Q": 82, "optimize_coding": True}, "png": {}}

Error = pyvips.Error


def render(source: Path, preset: Preset) -> tuple[bytes, int, int]:
    """The encoded rendition of ``source`` and its width and height."""
    image = pyvips.Image.thumbnail(str(source), preset.size, height=preset.size, size="down")
    if image.hasalpha() and not preset.alpha:
        image = image.flatten(background=[255, 255, 255])
    data = image.write_to_buffer(f".{preset.format}", keep="icc", **SAVE[preset.format])
    return data, image.width, image.height
