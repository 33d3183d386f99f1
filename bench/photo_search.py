"""Benchmark of the photo-metadata searches (``taken:``, ``camera:``, ``lens:``, ``iso:``,
``focal:``, ``width:``, ``orientation:``, ``has:location``, ``near:``, ``sort:taken``) on 1M
images.

Run by hand, not in CI (several minutes on two cores):

    .venv/bin/python bench/photo_search.py [--rows 1000000] [--rounds 15]

It seeds ``--rows`` images on a fresh embedded PostgreSQL, each with five
Zipf-like tags ``t<k>``; 70% of them are photos with metadata as the ingest
writes it: one of 60 cameras and 120 lenses (Zipf-like), an ISO speed
(mostly low, 2% at 25,600 and above), a focal length, a date taken between
2005 and 2026 (more recent years more likely), and for half of the photos a
GPS position near one of 300 places (Zipf-like: Paris is the most common,
some places have a few dozen photos), pixels of common sizes (portrait,
landscape, rarely square). It starts ``pixtag serve`` as its own process and
times the first chunk of ``GET /images`` (until the first body bytes) for
each search shape, alternated round by round; medians are reported, with a
tag filter of each frequency class as the reference in the same run.
"""

import argparse
import asyncio
import os
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
from pixtag.search import queries as search  # noqa: E402
from pixtag.search.grammar import parse  # noqa: E402
from pixtag.search.terms import Tag  # noqa: E402

# A Zipf-like pick from 1..n: floor(exp(random() * ln(n))).
SEED = """
    INSERT INTO images (image_id, filename, tags, content_type, size, sha256, width, height,
                        uploaded_at, storage_key, taken_at, metadata)
    OVERRIDING SYSTEM VALUE
    SELECT g, 'img_' || g || '.jpg',
           ARRAY(SELECT DISTINCT 't' || floor(exp(random() * ln(20000)))::int
                 FROM generate_series(1, 5) WHERE g > 0),
           'image/jpeg', 1000, md5(g::text) || md5(g::text), s.w, s.h, now(),
           g || '/' || left(md5(g::text), 16) || '-' || right(md5(g::text), 16) || '.jpg',
           CASE WHEN p.photo THEN timestamp '2005-01-01'
                + (sqrt(random()) * 22 * 365.25) * interval '1 day' END,
           CASE WHEN p.photo THEN json_build_object(
               'camera', json_build_object('make', 'Maker' || (p.camera %% 7),
                                           'model', 'Model ' || p.camera),
               'lens', 'Lens ' || p.lens || 'mm',
               'exposure', json_build_object(
                   'iso', CASE WHEN random() < 0.02 THEN 25600 + 100 * floor(random() * 10)
                               ELSE 100 * floor(exp(random() * ln(64))) END,
                   'focal_length', 10 + floor(random() * 190)),
               'location', CASE WHEN random() < 0.5 THEN json_build_object(
                   'latitude', -60 + (p.place * 37) %% 130 + random() * 0.05,
                   'longitude', -170 + (p.place * 71) %% 340 + random() * 0.05) END
           ) END
    FROM generate_series(1, %(rows)s) AS g
    CROSS JOIN LATERAL (SELECT random() < 0.7 AS photo,
                               floor(exp(random() * ln(60)))::int AS camera,
                               floor(exp(random() * ln(120)))::int AS lens,
                               floor(exp(random() * ln(300)))::int AS place,
                               random() AS r WHERE g > 0) AS p
    CROSS JOIN LATERAL (SELECT CASE WHEN p.r < 0.6 THEN 6000 WHEN p.r < 0.95 THEN 4000
                                    WHEN p.r < 0.999 THEN 1200 ELSE 3000 END AS w,
                               CASE WHEN p.r < 0.6 THEN 4000 WHEN p.r < 0.95 THEN 6000
                                    WHEN p.r < 0.999 THEN 900 ELSE 3000 END AS h) AS s
"""


def place(n: int) -> str:
    """The centre of place ``n`` as the seed puts it, a ``near:`` within 5 km of it."""
    return f"{-60 + (n * 37) % 130 + 0.025},{-170 + (n * 71) % 340 + 0.025}"


SHAPES = [
    ("tag common (t2), reference", {"tag": "t2"}),
    ("tag medium (t100), reference", {"tag": "t100"}),
    ("tag rare (t10000), reference", {"tag": "t10000"}),
    ("taken:2024-05 (a month)", {"q": "taken:2024-05"}),
    ("taken:2012 (an old year)", {"q": "taken:2012"}),
    ("taken:2010-06-01..2010-06-03", {"q": "taken:2010-06-01..2010-06-03"}),
    ("sort:taken", {"q": "sort:taken"}),
    ("sort:-taken", {"q": "sort:-taken"}),
    ("t100 sort:-taken", {"q": "t100 sort:-taken"}),
    ("camera: common (model 1)", {"q": 'camera:"maker1 model 1"'}),
    ("camera: rare (model 59)", {"q": 'camera:"maker3 model 59"'}),
    ("camera: a prefix (maker2)", {"q": "camera:maker2"}),
    ("lens: rare (lens 117)", {"q": 'lens:"lens 117mm"'}),
    ("iso:>3200", {"q": "iso:>3200"}),
    ("iso:>=25600 (rare)", {"q": "iso:>=25600"}),
    ("focal:24..70", {"q": "focal:24..70"}),
    ("width:>=6000", {"q": "width:>=6000"}),
    ("width:<2000 (rare)", {"q": "width:<2000"}),
    ("orientation:portrait", {"q": "orientation:portrait"}),
    ("orientation:square (rare)", {"q": "orientation:square"}),
    ("has:location", {"q": "has:location"}),
    ("-has:location", {"q": "-has:location"}),
    ("near: the most common place, 5 km", {"q": f"near:{place(1)},5km"}),
    ("near: a rare place, 5 km", {"q": f"near:{place(290)},5km"}),
    ("near: nowhere (mid-ocean), 50 km", {"q": "near:-45,-140,50km"}),
    ("near: 2,000 km (a continent)", {"q": "near:10,10,2000km"}),
    ("camera: common, taken:2024", {"q": 'camera:"maker1 model 1" taken:2024'}),
    ("iso:>3200 t100 sort:-taken", {"q": "iso:>3200 t100 sort:-taken"}),
]


async def first_chunk(session: aiohttp.ClientSession, url: str, params: dict[str, str]) -> float:
    """Seconds to the first body bytes of a listing of 100 (a page: the stream then ends,
    and its slot is free for the next request)."""
    started = time.perf_counter()
    async with session.get(url, params={**params, "chunk_size": "100", "limit": "100"}) as resp:
        assert resp.status == 200, await resp.text()
        await resp.content.readany()
        seconds = time.perf_counter() - started
        await resp.read()
    return seconds


async def measure(api: Server, rounds: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name, _ in SHAPES}
    async with aiohttp.ClientSession() as session:
        for _, params in SHAPES:  # warm-up
            await first_chunk(session, f"{api.url}/images", params)
        for n in range(rounds):
            order = SHAPES if n % 2 == 0 else SHAPES[::-1]
            for name, params in order:
                results[name].append(await first_chunk(session, f"{api.url}/images", params))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        Path(tmp).chmod(0o755)  # the embedded server runs as its own user
        server = EmbeddedPostgres.start(Path(tmp) / "postgres")
        try:
            dsn = server.uri()
            fixtures.apply(dsn)
            print(f"seeding {args.rows:,} images ...", flush=True)
            started = time.perf_counter()
            execute(dsn, "ALTER TABLE images DISABLE TRIGGER images_apply_tag_rules")
            execute(dsn, SEED, {"rows": args.rows})
            execute(dsn, "ALTER TABLE images ENABLE TRIGGER images_apply_tag_rules")
            execute(
                dsn,
                "SELECT setval(pg_get_serial_sequence('images', 'image_id'), %(rows)s)",
                {"rows": args.rows},
            )
            execute(dsn, "SELECT fold_tag_counts(1000000)")
            execute(dsn, "VACUUM ANALYZE")
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
            counts = count_matches(dsn)
            with Server(dsn, Path(tmp) / "data") as api:
                results = asyncio.run(measure(api, args.rounds))
        finally:
            server.stop()
    print(f"\nload before: {load_before}, after: {os.getloadavg()}")
    print(f"\n{args.rows:,} images, first chunk (100 images), median of {args.rounds} rounds:\n")
    print("| search | matches | first chunk, ms |")
    print("|---|---|---|")
    for name, samples in results.items():
        print(f"| {name} | {counts[name]:,} | {statistics.median(samples) * 1000:.1f} |")


def count_matches(dsn: str) -> dict[str, int]:
    """How many images each shape matches, counted by the condition the listing writes."""
    counts = {}
    for name, params in SHAPES:
        term = parse(params["q"]).term if "q" in params else Tag(params["tag"])
        values: dict[str, object] = {}
        condition = search.condition(term, search.Resolution(), values)
        sql = f"SELECT count(*) FROM images AS i WHERE {condition.sql}"
        counts[name] = execute(dsn, sql, values)[0][0]
    return counts


if __name__ == "__main__":
    main()
