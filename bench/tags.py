"""Benchmark of the tags API on a fresh embedded database: autocomplete, creation, rename.

Run by hand, not in CI (a few minutes on two cores):

    .venv/bin/python bench/tags.py [--rows 1000000] [--rounds 5] [--creates 1000]

It seeds ``--rows`` images with Zipf-like tags from 20,000 (``requests_data``:
``t1`` is on about 30% of them), starts ``pixtag serve`` on it as a separate
process and measures, over HTTP:

* autocomplete, ``GET /tags?prefix=P&limit=20`` for prefixes of 2 to 5
  characters (and, apart, the 1-character prefix ``t`` that matches every
  tag): p50/p95/p99 of sequential requests;
* creation throughput, ``POST /images`` (JSON, five tags), 8 at a time, with
  the count trigger on insert enabled and disabled (``ALTER TABLE images
  DISABLE TRIGGER``: no count change recorded, so nothing to fold either),
  alternated ``--rounds`` times: medians and their ratio; the server folds
  the pending changes as configured (``PIXTAG_TAG_COUNT_FOLD_INTERVAL``);
* a rename of ``t1`` (30% of the images) into ``t2`` (a merge): its time,
  and the latency of point reads (``GET /images/{id}``) sent one after the
  other during it, against the same reads before it.
"""

import argparse
import asyncio
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
import requests_data  # noqa: E402
from listing_server import Server  # noqa: E402

from pixtag.db import fixtures  # noqa: E402
from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402

COUNT_TRIGGER = "images_count_inserted_tags"
RECOUNT = """
    BEGIN;
    LOCK TABLE tags, tag_count_batches IN EXCLUSIVE MODE;
    DELETE FROM tag_count_batches;
    DELETE FROM tags;
    INSERT INTO tags SELECT tag, count(*) FROM images, unnest(tags) AS tag GROUP BY tag;
    COMMIT
"""


def execute(dsn: str, statement: str) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def quantiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": ordered[-1] * 1000}


async def timed_get(session: aiohttp.ClientSession, url: str, **params: str) -> float:
    started = time.perf_counter()
    async with session.get(url, params=params) as resp:
        await resp.read()
        assert resp.status == 200, resp.status
    return time.perf_counter() - started


async def autocomplete(api: Server, reps: int) -> tuple[dict[str, float], dict[str, float]]:
    rng = random.Random(1)
    prefixes = ["t" + str(rng.randint(1, 20_000))[: rng.randint(1, 4)] for _ in range(reps)]
    async with aiohttp.ClientSession() as session:
        for prefix in prefixes[:50]:  # warm-up
            await timed_get(session, f"{api.url}/tags", prefix=prefix, limit="20")
        short = [
            await timed_get(session, f"{api.url}/tags", prefix=p, limit="20") for p in prefixes
        ]
        one = [
            await timed_get(session, f"{api.url}/tags", prefix="t", limit="20")
            for _ in range(reps // 4)
        ]
    return quantiles(short), quantiles(one)


async def creates(api: Server, count: int, concurrency: int = 8) -> float:
    """Images created per second, ``concurrency`` requests in flight."""
    rng = random.Random(count)
    bodies = [
        {"filename": "new.jpg", "tags": [f"t{rng.randint(1, 20_000)}" for _ in range(5)]}
        for _ in range(count)
    ]
    queue = iter(bodies)

    async def worker(session: aiohttp.ClientSession) -> None:
        for body in queue:
            async with session.post(f"{api.url}/images", json=body) as resp:
                await resp.read()
                assert resp.status == 201, resp.status

    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        return count / (time.perf_counter() - started)


async def throughput(api: Server, dsn: str, rounds: int, count: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"counted": [], "uncounted": []}
    await creates(api, count // 4)  # warm-up
    for n in range(rounds):
        order = ["counted", "uncounted"] if n % 2 == 0 else ["uncounted", "counted"]
        for mode in order:
            action = "ENABLE" if mode == "counted" else "DISABLE"
            execute(dsn, f"ALTER TABLE images {action} TRIGGER {COUNT_TRIGGER}")
            results[mode].append(await creates(api, count))
            print(f"  round {n + 1} {mode}: {results[mode][-1]:.0f} images/s", flush=True)
    execute(dsn, f"ALTER TABLE images ENABLE TRIGGER {COUNT_TRIGGER}")
    execute(dsn, RECOUNT)  # the disabled rounds left the counts behind
    return results


async def reads_until(api: Server, done: asyncio.Event, max_id: int) -> list[float]:
    rng = random.Random(2)
    samples = []
    async with aiohttp.ClientSession() as session:
        while not done.is_set():
            samples.append(await timed_get(session, f"{api.url}/images/{rng.randint(1, max_id)}"))
    return samples


async def rename(api: Server, max_id: int) -> tuple[float, dict[str, float], dict[str, float], str]:
    done = asyncio.Event()
    baseline_task = asyncio.create_task(reads_until(api, done, max_id))
    await asyncio.sleep(5)
    done.set()
    baseline = await baseline_task
    done = asyncio.Event()
    reads = asyncio.create_task(reads_until(api, done, max_id))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
        started = time.perf_counter()
        async with session.post(f"{api.url}/tags/t1/rename", json={"to": "t2"}) as resp:
            answer = await resp.text()
            assert resp.status == 200, answer
        seconds = time.perf_counter() - started
    done.set()
    return seconds, quantiles(baseline), quantiles(await reads), answer


def line(name: str, q: dict[str, float]) -> str:
    return f"| {name} | {q['p50']:.2f} | {q['p95']:.2f} | {q['p99']:.2f} | {q['max']:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5, help="alternated throughput rounds")
    parser.add_argument("--creates", type=int, default=1000, help="images per round")
    parser.add_argument("--reps", type=int, default=1000, help="autocomplete requests")
    parser.add_argument("--no-rename", action="store_true", help="skip the (long) rename")
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
            # No rule exists yet: the rules trigger would only cost time per row.
            execute(dsn, "ALTER TABLE images DISABLE TRIGGER images_apply_tag_rules")
            requests_data.seed(dsn, args.rows)
            execute(dsn, "ALTER TABLE images ENABLE TRIGGER images_apply_tag_rules")
            execute(dsn, "SELECT fold_tag_counts(1000000)")  # the seed's changes, before serving
            execute(dsn, "VACUUM ANALYZE tags")
            execute(dsn, "VACUUM ANALYZE tag_count_batches")
            seeded = time.perf_counter() - started
            ((tags, t1),) = execute(
                dsn, "SELECT count(*), (SELECT image_count FROM tags WHERE tag = 't1') FROM tags"
            )
            print(f"  seeded in {seeded:.0f} s: {tags} tags, t1 on {t1} images", flush=True)
            with Server(dsn, Path(tmp) / "data") as api:
                short, one = asyncio.run(autocomplete(api, args.reps))
                created = asyncio.run(throughput(api, dsn, args.rounds, args.creates))
                ((max_id,),) = execute(dsn, "SELECT max(image_id) FROM images")
                renamed = None
                if not args.no_rename:
                    renamed = asyncio.run(rename(api, int(max_id)))
                ((exact,),) = execute(
                    dsn,
                    "SELECT NOT EXISTS (SELECT tag, image_count FROM tag_counts"
                    " EXCEPT SELECT tag, count(*) FROM images, unnest(tags) AS tag GROUP BY tag)"
                    " AND (SELECT count(*) FROM tag_counts)"
                    " = (SELECT count(DISTINCT tag) FROM images, unnest(tags) AS tag)",
                )
        finally:
            server.stop()
    print(f"\n# Tags benchmark: {args.rows:,} images, {tags} tags (seeded in {seeded:.0f} s)\n")
    print("| requests | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|")
    print(line(f"autocomplete, prefixes of 2-5 characters ({args.reps})", short))
    print(line(f"autocomplete, prefix 't' = every tag ({args.reps // 4})", one))
    if renamed is not None:
        print(line("point reads before the rename", renamed[1]))
        print(line("point reads during the rename", renamed[2]))
    counted = statistics.median(created["counted"])
    uncounted = statistics.median(created["uncounted"])
    print(f"\nPOST /images, 8 in flight, medians of {args.rounds} alternated rounds:")
    print(
        f"with counts {counted:.0f}/s, without {uncounted:.0f}/s: ratio {counted / uncounted:.2f}"
    )
    ratios = [c / u for c, u in zip(created["counted"], created["uncounted"], strict=True)]
    print(f"per-round ratios: {', '.join(f'{r:.2f}' for r in ratios)}")
    if renamed is not None:
        print(f"\nrename t1 ({t1} images) into t2: {renamed[0]:.1f} s; answer {renamed[3]}")
    print(f"counts exact afterwards: {exact}")
    load = ", ".join(f"{x:.2f}" for x in load_before)
    print(f"load average before: {load}; after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
