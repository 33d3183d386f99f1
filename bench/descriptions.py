"""Benchmark of ``text:`` searches (descriptions and filenames) on 1M images.

Run by hand, not in CI (several minutes on two cores):

    .venv/bin/python bench/descriptions.py [--rows 1000000] [--rounds 15]

It seeds ``--rows`` images on a fresh embedded PostgreSQL, each with five
Zipf-like tags ``t<k>`` and a description of eight Zipf-like words ``w<k>``
(both from 20,000: ``w1`` is in about half the descriptions, ``w10000`` in a
few dozen), starts ``pixtag serve`` as its own process, and times the first
chunk of ``GET /images`` (the time until the first body bytes arrive) for
``text:`` terms of each frequency, a phrase, a prefix, a word with a tag,
and, as the reference in the same run, a tag filter of similar frequency.
Shapes are alternated round by round; medians are reported.
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
import psycopg2  # noqa: E402
from listing_server import Server  # noqa: E402

from pixtag.db import fixtures  # noqa: E402
from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402

SEED = """
    INSERT INTO images (filename, tags, description)
    SELECT 'img_' || g || '.jpg',
           ARRAY(SELECT DISTINCT 't' || floor(exp(random() * ln(20000)))::int
                 FROM generate_series(1, 5) WHERE g > 0),
           (SELECT string_agg('w' || floor(exp(random() * ln(20000)))::int, ' ')
            FROM generate_series(1, 8) WHERE g > 0)
    FROM generate_series(1, %(rows)s) AS g
"""
SHAPES = [
    ("text: rare word (w10000)", {"q": "text:w10000"}),
    ("tag rare (t10000), reference", {"tag": "t10000"}),
    ("text: medium word (w100)", {"q": "text:w100"}),
    ("tag medium (t100), reference", {"tag": "t100"}),
    ("text: common word (w2)", {"q": "text:w2"}),
    ("tag common (t2), reference", {"tag": "t2"}),
    ('text: phrase "w1 w2"', {"q": 'text:"w1 w2"'}),
    ("text: prefix w1234*", {"q": "text:w1234*"}),
    ("text: medium word and a medium tag", {"q": "text:w100 t100"}),
    ("text: filename word (img_77)", {"q": "text:img_77.jpg"}),
]


def execute(dsn: str, statement: str, params: dict[str, object] | None = None) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


async def first_chunk(session: aiohttp.ClientSession, url: str, params: dict[str, str]) -> float:
    started = time.perf_counter()
    async with session.get(url, params={**params, "chunk_size": "100"}) as resp:
        assert resp.status == 200, await resp.text()
        await resp.content.readany()
        seconds = time.perf_counter() - started
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
            execute(dsn, "SELECT fold_tag_counts(1000000)")
            execute(dsn, "VACUUM ANALYZE")
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
            counts = {
                word: execute(
                    dsn,
                    "SELECT count(*) FROM images AS i WHERE"
                    " image_words(i.filename, i.description) @@ plainto_tsquery('simple', %(w)s)",
                    {"w": word},
                )[0][0]
                for word in ("w2", "w100", "w10000")
            }
            with Server(dsn, Path(tmp) / "data") as api:
                results = asyncio.run(measure(api, args.rounds))
        finally:
            server.stop()
    print(f"\nload before: {load_before}, after: {os.getloadavg()}")
    print(f"matches: {counts}")
    print(f"\n{args.rows:,} images, first chunk (100 images), median of {args.rounds} rounds:\n")
    print("| search | first chunk, ms |")
    print("|---|---|")
    for name, samples in results.items():
        print(f"| {name} | {statistics.median(samples) * 1000:.1f} |")


if __name__ == "__main__":
    main()
