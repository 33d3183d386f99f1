"""Rendition presets: a name, the box the rendition fits in, and the format it is encoded in.

Read from ``PIXTAG_RENDITION_PRESETS`` (``thumb:320:webp,preview:1600:webp``);
this module is the one place that spelling is known.
"""

import re
from dataclasses import dataclass

# Format -> the Content-Type a rendition is stored and served with.
FORMATS = {"webp": "image/webp", "jpeg": "image/jpeg", "png": "image/png"}
NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
MAX_SIZE = 8192


@dataclass(frozen=True)
class Preset:
    """A rendition fits ``size`` x ``size`` (never enlarged), encoded as ``format``."""

    name: str
    size: int
    format: str

    @property
    def content_type(self) -> str:
        return FORMATS[self.format]

    @property
    def original(self) -> bool:
        """The source's own format and pixels (``STRIPPED``), not a resized copy."""
        return self.format == "original"

    @property
    def alpha(self) -> bool:
        """Whether the format keeps transparency."""
        return self.format != "jpeg"


# Not configured but always there: the file itself without its metadata
# (pixtag.metadata.stripping), what a share with strip_metadata sends.
STRIPPED = Preset("stripped", 0, "original")
RESERVED = frozenset({STRIPPED.name})


def parse(specs: tuple[str, ...]) -> tuple[Preset, ...]:
    """Presets from ``NAME:SIZE:FORMAT`` strings; ValueError names the bad one."""
    presets = []
    for spec in specs:
        name, _, rest = spec.partition(":")
        size, _, fmt = rest.partition(":")
        if not NAME.fullmatch(name) or not size.isdigit() or fmt not in FORMATS:
            raise ValueError(
                f"rendition preset {spec!r} is not NAME:SIZE:FORMAT"
                f" (a lower-case name, pixels, one of {', '.join(FORMATS)})"
            )
        if name in RESERVED:
            raise ValueError(f"rendition preset {spec!r}: {name!r} is the server's own")
        if not 1 <= int(size) <= MAX_SIZE:
            raise ValueError(f"rendition preset {spec!r}: size must be 1 to {MAX_SIZE}")
        presets.append(Preset(name, int(size), fmt))
    if len({p.name for p in presets}) != len(presets):
        raise ValueError("rendition presets must have distinct names")
    return tuple(presets)
