"""Near-duplicate quality of the perceptual hash, on real photographs.

Run by hand (half a minute; needs scikit-image, a test dependency, for its
sample photographs):

    .venv/bin/python bench/similar_quality.py

The photographs scikit-image ships (listed in PHOTOS) are stored as PNG
originals, and each gets variants as people make them: resized to 50% and
25%, JPEG at quality 40 and 95, lossy WebP, lossless WebP, PNG re-saved with
EXIF added, EXIF orientation (the pixels turned, the tag turning them back),
cropped 5% on each side, brightness +10%. Every file is fingerprinted with
``pixtag.similar.hashing.fingerprint`` (what the server computes). Reported:

- per variant kind, the share whose pixel digest equals the original's
  (the same-pixels rung: every lossless or metadata-only variant must match);
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

import skimage.data  # noqa: E402
from PIL import Image, ImageEnhance  # noqa: E402

from pixtag.similar.hashing import distance, fingerprint  # noqa: E402

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


def main() -> None:
    items: list[tuple[str, str, int, bytes]] = []  # photo, kind, phash, pixels
    with tempfile.TemporaryDirectory() as tmp:
        for name in PHOTOS:
            original = load(name)
            files = {"original": _png(original), **variants(original)}
            for kind, data in files.items():
                path = Path(tmp) / f"{name}-{kind}"
                path.write_bytes(data)
                found = fingerprint(path)
                items.append((name, kind, found.phash, found.pixels))
    originals = {name: (phash, pixels) for name, kind, phash, pixels in items if kind == "original"}
    kinds = sorted({kind for _, kind, _, _ in items if kind != "original"})
    print(f"{len(PHOTOS)} photographs, {len(items)} files, {len(kinds)} variant kinds\n")
    print("| variant | same pixels as the original | distance: median, max |")
    print("|---|---|---|")
    for kind in kinds:
        rows = [(p, px, originals[n]) for n, k, p, px in items if k == kind]
        same = sum(px == o[1] for _, px, o in rows)
        dists = sorted(distance(p, o[0]) for p, _, o in rows)
        print(f"| {kind} | {same}/{len(rows)} | {dists[len(dists) // 2]}, {dists[-1]} |")
    pairs = [(a[0] == b[0], distance(a[2], b[2])) for a, b in itertools.combinations(items, 2)]
    negatives = [d for same, d in pairs if not same]
    print(
        f"\npairs: {len(pairs)}, of different photographs: {len(negatives)};"
        f" closest different pair: {min(negatives)} bits\n"
    )
    print("| threshold | " + " | ".join(kinds) + " | recall | precision |")
    print("|---" * (len(kinds) + 3) + "|")
    for threshold in range(0, 21, 2):
        recalls = []
        for kind in kinds:
            rows = [(p, originals[n][0]) for n, k, p, _ in items if k == kind]
            recalls.append(sum(distance(p, o) <= threshold for p, o in rows) / len(rows))
        matched = [same for same, d in pairs if d <= threshold]
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
