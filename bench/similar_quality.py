"""Near-duplicate quality of the perceptual hash, on real photographs.

Run by hand (half a minute; needs scikit-image, a test dependency, for its
sample photographs):

    .venv/bin/python bench/similar_quality.py

The photographs scikit-image ships (listed in PHOTOS) are stored as PNG
originals, and each gets variants as people make them: resized to 50% and
25%, JPEG at quality 40 and 95, lossy WebP, lossless WebP, PNG re-saved with
EXIF added, EXIF orientation (the pixels turned, the tag turning them back),
cropped 5% on each side, brightness +10%. Every file is fingerprinted with
``pixtag.similar.hashing.fingerprint`` (what the server computes), and a pair
is called similar as the server does: the same pixels, or the 64-bit hashes
within the threshold (and, as the server requires, the 256-bit hashes within
``DETAIL_MAX``). Reported:

- per variant kind, the share whose pixel digest equals the original's
  (the same-pixels rung: every lossless or metadata-only variant must match);
- as more negatives, the 200 faces of scikit-image's LFW subset;
- per distance threshold, the recall of the variants (original to variant
  within the threshold) per kind and overall, and the precision over every
  pair of files within it (a pair of two different photographs, or of their
  variants, is a false match).
"""

import io
import itertools
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api")]

import numpy as np  # noqa: E402
import skimage.data  # noqa: E402
from PIL import Image, ImageEnhance  # noqa: E402

from pixtag.similar.hashing import Fingerprint, distance, fingerprint  # noqa: E402
from pixtag.similar.queries import DETAIL_MAX  # noqa: E402

# The photographs among scikit-image's sample files (not its drawings and test charts).
PHOTOS = [
    "astronaut.png", "camera.png", "coffee.png", "chelsea.png", "rocket.jpg",
    "hubble_deep_field.jpg", "moon.png", "retina.jpg", "coins.png", "motorcycle_left.png",
    "gravel.png", "brick.png", "grass.png", "page.png", "text.png", "ihc.png", "cell.png",
    "microaneurysms.png", "clock_motion.png", "color.png",
]  # fmt: skip
LOSSLESS = {"webp_lossless", "png_exif", "exif_rotated"}


def variants(original: Image.Image) -> dict[str, bytes]:
    def save(image: Image.Image, fmt: str, **options: object) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **options)
        return buffer.getvalue()

    rgb = original.convert("RGB")
    w, h = original.size
    exif = Image.Exif()
    exif[0x010F] = "Camera"  # Make
    turned = Image.Exif()
    turned[0x0112] = 6  # orientation: turn 90 degrees clockwise to show
    return {
        "resize_50": save(original.resize((w // 2, h // 2), Image.Resampling.LANCZOS), "PNG"),
        "resize_25": save(original.resize((w // 4, h // 4), Image.Resampling.LANCZOS), "PNG"),
        "jpeg_q40": save(rgb, "JPEG", quality=40),
        "jpeg_q95": save(rgb, "JPEG", quality=95),
        "webp_lossy": save(original, "WEBP", quality=80),
        "webp_lossless": save(original, "WEBP", lossless=True),
        "png_exif": save(original, "PNG", exif=exif.tobytes(), compress_level=9),
        "exif_rotated": save(original.transpose(Image.Transpose.ROTATE_90), "PNG", exif=turned),
        "crop_5": save(original.crop((w // 20, h // 20, w - w // 20, h - h // 20)), "PNG"),
        "bright_10": save(ImageEnhance.Brightness(rgb).enhance(1.1), "PNG"),
    }


def load(name: str) -> Image.Image:
    with Image.open(Path(skimage.data.__file__).parent / name) as image:
        return image.convert("RGB") if image.mode not in ("L", "RGB") else image.copy()


def matches(a: Fingerprint, b: Fingerprint, threshold: int, confirm: bool) -> bool:
    """Whether the server would call ``b`` similar to ``a`` within ``threshold``."""
    if a.pixels == b.pixels:
        return True
    if distance(a.phash, b.phash) > threshold:
        return False
    return not confirm or detail_distance(a, b) <= DETAIL_MAX


def detail_distance(a: Fingerprint, b: Fingerprint) -> int:
    return sum(x != y for x, y in zip(a.detail, b.detail, strict=True))


def main() -> None:
    items: list[tuple[str, str, Fingerprint]] = []  # photo, kind, fingerprint
    with tempfile.TemporaryDirectory() as tmp:
        for name in PHOTOS:
            original = load(name)
            files = {"original": _png(original), **variants(original)}
            for kind, data in files.items():
                path = Path(tmp) / f"{name}-{kind}"
                path.write_bytes(data)
                items.append((name, kind, fingerprint(path)))
        # More negatives: the 200 faces of scikit-image's LFW subset (25x25 greyscale,
        # enlarged to 100x100), different people alike in pose and framing.
        faces = np.load(Path(skimage.data.__file__).parent / "lfw_subset.npy")
        for index, face in enumerate(faces):
            image = Image.fromarray((face * 255).astype(np.uint8)).resize((100, 100))
            path = Path(tmp) / f"face{index}.png"
            path.write_bytes(_png(image))
            items.append((f"face{index}", "face", fingerprint(path)))
    originals = {name: found for name, kind, found in items if kind == "original"}
    kinds = sorted({kind for _, kind, _ in items if kind not in ("original", "face")})
    print(
        f"{len(PHOTOS)} photographs, {len(items)} files (200 of them faces),"
        f" {len(kinds)} variant kinds\n"
    )
    print("| variant | same pixels as the original | 64-bit distance: median, max |")
    print("|---|---|---|")
    for kind in kinds:
        rows = [(found, originals[n]) for n, k, found in items if k == kind]
        same = sum(found.pixels == o.pixels for found, o in rows)
        dists = sorted(distance(found.phash, o.phash) for found, o in rows)
        print(f"| {kind} | {same}/{len(rows)} | {dists[len(dists) // 2]}, {dists[-1]} |")
    pairs = list(itertools.combinations(items, 2))
    print(f"\npairs: {len(pairs)}, of different pictures: {sum(a[0] != b[0] for a, b in pairs)}")
    for confirm in (False, True):
        rule = f"and the 256-bit within {DETAIL_MAX}" if confirm else "64-bit alone"
        print(f"\n{rule}:\n")
        print("| threshold | " + " | ".join(kinds) + " | recall | precision |")
        print("|---" * (len(kinds) + 3) + "|")
        for threshold in range(0, 17, 2 if not confirm else 1):
            recalls = []
            for kind in kinds:
                rows = [(f, originals[n]) for n, k, f in items if k == kind]
                hits = sum(matches(o, f, threshold, confirm) for f, o in rows)
                recalls.append(hits / len(rows))
            matched = [a[0] == b[0] for a, b in pairs if matches(a[2], b[2], threshold, confirm)]
            precision = sum(matched) / len(matched) if matched else 1.0
            overall = sum(recalls) / len(recalls)
            cells = " | ".join(f"{r:.2f}" for r in recalls)
            print(f"| {threshold} | {cells} | {overall:.3f} | {precision:.3f} |")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


if __name__ == "__main__":
    main()
