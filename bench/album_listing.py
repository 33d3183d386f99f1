"""Listing an album of 100,000 images, beside the image listing, on one database.

Run by hand (a few minutes on two cores):

    .venv/bin/python bench/album_listing.py [--images 200000] [--album 100000] [--rounds 9]

It seeds ``--images`` image records with tags on a fresh embedded PostgreSQL,
puts every other one (``--album`` of them) in a manual album in a shuffled
order, starts ``pixtag serve`` as its own process, and measures, alternating
the shapes round by round: the first chunk of ``GET /albums/{id}/images`` (a
chunk of 100: the time to the first body bytes) and of ``GET /images`` for a
tag on as many images (the reference), and the whole of each listing as NDJSON
(images per second). Medians are reported.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import aiohttp  # noqa: E402
from descriptions import execute  # noqa: E402
from listing_server import Server  # noqa: E402

from pixtag.db import fixtures  # noqa: E402
from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402

SEED = """
    INSERT INTO images (filename, tags)
    SELECT 'img_' || g || '.jpg',
           CASE WHEN g %% 2 = 0 THEN ARRAY['even', 't' || g %% 100] ELSE ARRAY['odd'] END
    FROM generate_series(1, %(images)s) AS g
"""
ALBUM = """
    WITH a AS (INSERT INTO albums (name) VALUES ('big') RETURNING album_id)
    INSERT INTO album_images (album_id, image_id, position)
    SELECT a.album_id, i.image_id, row_number() OVER (ORDER BY random()) * 65536
    FROM a, (SELECT image_id FROM images WHERE image_id %% 2 = 0 LIMIT %(album)s) AS i
"""


async def first_chunk(session: aiohttp.ClientSession, url: str) -> float:
    started = time.perf_counter()
    async with session.get(url, params={"chunk_size": "100", "limit": "100"}) as resp:
        assert resp.status == 200, await resp.text()
        await resp.content.readany()
        seconds = time.perf_counter() - started
        await resp.read()
    return seconds


async def whole(session: aiohttp.ClientSession, url: str) -> tuple[float, int]:
    """Seconds to read the whole listing as NDJSON, and its images."""
    started = time.perf_counter()
    rows = 0
    async with session.get(url, headers={"Accept": "application/x-ndjson"}) as resp:
        assert resp.status == 200, await resp.text()
        async for line in resp.content:
            rows += line != b"\n"
    return time.perf_counter() - started, rows


async def measure(api: Server, rounds: int) -> dict[str, list[float]]:
    shapes = {
        "album first chunk": f"{api.url}/albums/1/images",
        "image listing first chunk (tag=even)": f"{api.url}/images?tag=even",
    }
    wholes = {
        "album, whole": f"{api.url}/albums/1/images",
        "image listing, whole (tag=even)": f"{api.url}/images?tag=even",
    }
    results: dict[str, list[float]] = {name: [] for name in [*shapes, *wholes]}
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for url in shapes.values():
            await first_chunk(session, url)
        for n in range(rounds):
            order = list(shapes.items()) if n % 2 == 0 else list(shapes.items())[::-1]
            for name, url in order:
                results[name].append(await first_chunk(session, url))
        for n in range(max(3, rounds // 3)):
            order = list(wholes.items()) if n % 2 == 0 else list(wholes.items())[::-1]
            for name, url in order:
                seconds, rows = await whole(session, url)
                results[name].append(rows / seconds)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200_000)
    parser.add_argument("--album", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        Path(tmp).chmod(0o755)  # the embedded server runs as its own user
        server = EmbeddedPostgres.start(Path(tmp) / "postgres")
        try:
            dsn = server.uri()
            fixtures.apply(dsn)
            execute(dsn, "ALTER TABLE images DISABLE TRIGGER images_apply_tag_rules")
            execute(dsn, SEED, {"images": args.images})
            execute(dsn, "ALTER TABLE images ENABLE TRIGGER images_apply_tag_rules")
            execute(dsn, "SELECT fold_tag_counts(1000000)")
            execute(dsn, ALBUM, {"album": args.album})
            execute(dsn, "VACUUM ANALYZE")
            with Server(dsn, Path(tmp) / "data") as api:
                results = asyncio.run(measure(api, args.rounds))
        finally:
            server.stop()
    print(f"\n{args.images:,} images, an album of {args.album:,} in shuffled order:\n")
    print("| listing | median |")
    print("|---|---|")
    for name, samples in results.items():
        unit = "images/s" if "whole" in name else "ms"
        value = statistics.median(samples) * (1 if "whole" in name else 1000)
        print(f"| {name} | {value:,.1f} {unit} |")


if __name__ == "__main__":
    main()
