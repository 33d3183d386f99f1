"""Similar images on a million: the answer of ``GET /images/{id}/similar``, and a fingerprint.

Run by hand, not in CI (about two minutes on two cores, most of it filling
the table):

    .venv/bin/python bench/similar_speed.py [--images 1000000] [--asks 300]

A fresh embedded PostgreSQL gets ``--images`` images with fingerprints:
random 64- and 256-bit hashes, and, for one image in twenty, a near copy of
one of 500 popular pictures (a burst or re-saves: within 0 to 10 bits of it),
so the index meets crowded chunks as a real library has them, then VACUUM
ANALYZE (autovacuum's work on a table that size). ``pixtag
serve`` (its own process) is then asked, one request at a time, alternately
for ``/images/{id}/similar`` (default ``max_distance`` 14, and 15), the
review queue's first page, a listing by ``q=similar:ID`` and, as the
reference, ``/images/{id}`` (a point read), of random ids. Reported:
median and p95 latency of each, and their ratio. Last, the time to
fingerprint a 24-megapixel JPEG in this process (what a fingerprint job
costs, and so the backfill's rate on one thread).
"""

import argparse
import asyncio
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import aiohttp  # noqa: E402
import psycopg2  # noqa: E402
from listing_server import Server  # noqa: E402
from PIL import Image  # noqa: E402

from pixtag.db import fixtures  # noqa: E402
from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402
from pixtag.similar.hashing import fingerprint  # noqa: E402

FILL = """
    INSERT INTO images (filename, content_type, size, sha256, width, height, uploaded_at)
    SELECT 'f' || n || '.jpg', 'image/jpeg', 1000, md5(n::text) || md5((-n)::text), 10, 10, now()
    FROM generate_series(1, %(count)s) AS n;
    -- Files "stored" under keys (none is on disk: the benchmark reads no file).
    UPDATE images
    SET storage_key = image_id || '/' || left(sha256, 16) || '-' || right(sha256, 16) || '.jpg';
    INSERT INTO image_fingerprints (image_id, sha256, pixels, phash, detail)
    SELECT image_id, sha256, decode(sha256, 'hex'),
           CASE WHEN image_id %% 20 = 0
                THEN (SELECT phash FROM popular WHERE k = image_id / 20 %% 500)
                     # (1::bigint << (image_id %% 64)::int) # (1::bigint << (image_id %% 7)::int)
                ELSE ('x' || substr(md5(image_id::text || 'p'), 1, 16))::bit(64)::bigint END,
           ('x' || md5(image_id::text || 'a') || md5(image_id::text || 'b'))::bit(256)
    FROM images;
"""
# The review queue of those bursts: every two copies of one popular picture are a pair
# (within 4 bits of each other), about 2.5 million pairs.
PAIRS = """
    INSERT INTO duplicate_pairs (low, high, match, distance)
    SELECT a.image_id, b.image_id, 'perceptual',
           bit_count((a.phash # b.phash)::bit(64))
    FROM image_fingerprints AS a
    JOIN image_fingerprints AS b
      ON b.image_id > a.image_id AND b.image_id % 20 = 0
     AND b.image_id / 20 % 500 = a.image_id / 20 % 500
    WHERE a.image_id % 20 = 0;
"""
POPULAR = """
    CREATE TEMP TABLE popular AS
    SELECT k, ('x' || substr(md5(k::text || 'popular'), 1, 16))::bit(64)::bigint AS phash
    FROM generate_series(0, 499) AS k;
"""


async def timed(session: aiohttp.ClientSession, url: str) -> float:
    started = time.perf_counter()
    async with session.get(url) as resp:
        await resp.read()
        assert resp.status == 200, resp.status
    return time.perf_counter() - started


async def ask(url: str, count: int, asks: int) -> dict[str, list[float]]:
    rng = random.Random(1)
    names = [
        "/images/{}",
        "/images/{}/similar",
        "/images/{}/similar?max_distance=15",
        "/duplicates?limit=50",
        "/images?q=similar:{}&limit=50",
    ]
    times: dict[str, list[float]] = {name: [] for name in names}
    async with aiohttp.ClientSession(url) as session:
        for name in names:  # warm: connections, plans, caches
            for _ in range(20):
                await timed(session, name.format(rng.randint(1, count)))
        for n in range(asks):
            order = names if n % 2 == 0 else names[::-1]
            for name in order:
                times[name].append(await timed(session, name.format(rng.randint(1, count))))
    return times


def fingerprint_time() -> float:
    image = Image.effect_noise((6000, 4000), 40).convert("RGB")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jpg"
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        path.write_bytes(buffer.getvalue())
        fingerprint(path)  # warm: imports
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            fingerprint(path)
            runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--asks", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        Path(tmp).chmod(0o755)
        server = EmbeddedPostgres.start(Path(tmp) / "postgres")
        try:
            fixtures.apply(server.uri())
            started = time.perf_counter()
            conn = psycopg2.connect(server.uri())
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(POPULAR)
                cur.execute(FILL, {"count": args.images})
                cur.execute(PAIRS)
                # What autovacuum does to a table this size soon after: the visibility map
                # the index-only scans rely on, and the statistics.
                cur.execute("VACUUM ANALYZE images, image_fingerprints")
            conn.close()
            print(f"filled {args.images:,} images in {time.perf_counter() - started:.0f} s")
            os.environ["PIXTAG_SIMILAR_INDEX"] = "false"
            data = Path(tmp) / "data"
            data.mkdir()
            with Server(server.uri(), data) as api:
                times = asyncio.run(ask(api.url, args.images, args.asks))
        finally:
            server.stop()
    reference = times["/images/{}"]
    print(f"\n| request ({args.asks} each, alternated) | median, ms | p95, ms | p95 / point read |")
    print("|---|---|---|---|")
    for name, runs in times.items():
        p95 = statistics.quantiles(runs, n=20)[-1]
        ref95 = statistics.quantiles(reference, n=20)[-1]
        print(
            f"| `{name}` | {statistics.median(runs) * 1000:.1f} | {p95 * 1000:.1f} |"
            f" {p95 / ref95:.1f} |"
        )
    print(f"\nfingerprint of a 24-megapixel JPEG: {fingerprint_time() * 1000:.0f} ms")


if __name__ == "__main__":
    main()
