"""Benchmark of the streamed listing (GET /images) on a fresh embedded database.

Run by hand, not in CI (a few minutes on two cores):

    .venv/bin/python bench/listing.py [--rows 1000000] [--runs 3] [--reps 7]

It seeds ``--rows`` images (see ``listing_data``) into a new embedded
PostgreSQL, starts ``pixtag serve`` on it as a separate process, and measures
in the same run:

* the full listing over HTTP against ``COPY (<the same SELECT>) TO STDOUT``
  read by ``psql`` (same rows, same rendering, same order), alternating the
  two ``--runs`` times: rows/s, MB/s and their ratio; ``COPY`` of the plain
  ``row_to_json(i)`` row is reported too, as PostgreSQL's cheapest emission;
* the server's peak RSS growth during a full stream (sampled every 5 ms);
* time to first byte and to the first complete chunk for every filter shape,
  tag frequency and keyset page, ``--reps`` times each (p50/p95), next to the
  plan PostgreSQL picks for the cursor (``EXPLAIN DECLARE``) and the time of
  the first ``FETCH`` with the default ``cursor_tuple_fraction`` and with the
  listing's own planner settings.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import listing_data  # noqa: E402
import listing_full  # noqa: E402
import listing_shapes  # noqa: E402
import psycopg2  # noqa: E402
from listing_server import Server  # noqa: E402

from pixtag.db import fixtures  # noqa: E402
from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402


def seed(dsn: str, rows: int) -> dict[str, str]:
    """Fill the database; return the tag picked for each frequency class."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for statement in listing_data.SEED:
            cur.execute(
                statement, {"rows": rows, "distinct": 20000, "fresh": 300, "burst": rows // 50}
            )
        cur.execute(listing_data.ANALYZE)
        cur.execute(listing_data.PICK_TAG, {"candidates": listing_data.candidates()})
        counts = dict(cur.fetchall())
    conn.close()
    picked = {}
    for name, share in listing_data.FREQUENCY.items():
        picked[name] = min(counts, key=lambda t: abs(counts[t] / rows - share) / share)
        print(f"  {name:6} tag {picked[name]}: {counts[picked[name]]} images", flush=True)
    return picked


def report_full(results: list[dict[str, float]], rows: int) -> None:
    med = {key: statistics.median(r[key] for r in results) for key in results[0]}
    print("\n## Full listing (medians of", len(results), "runs)\n")
    print("| path | seconds | rows/s | MB/s |\n|---|---:|---:|---:|")
    for key, label in (
        ("http", "GET /images over HTTP, read by curl"),
        ("http_ndjson", "GET /images, NDJSON, read by curl"),
        ("copy", "COPY (same SELECT, image_json) TO STDOUT, psql"),
        ("copy_row", "COPY (SELECT row_to_json(i) ...) TO STDOUT, psql"),
    ):
        seconds, size = med[key], med[key + "_bytes"]
        print(f"| {label} | {seconds:.2f} | {rows / seconds:,.0f} | {size / seconds / 1e6:.1f} |")
    ratios = [r["copy"] / r["http"] for r in results]
    ratios_row = [r["copy_row"] / r["http"] for r in results]
    print(
        f"\nHTTP / COPY same rows: median {statistics.median(ratios):.2f}x"
        f" (runs: {', '.join(f'{x:.2f}' for x in ratios)})"
    )
    print(f"HTTP / COPY row_to_json: median {statistics.median(ratios_row):.2f}x")
    print(
        f"Server peak RSS growth during a full stream: median {med['rss_mb']:.1f} MB"
        f" (max {max(r['rss_mb'] for r in results):.1f} MB)"
    )
    print(f"Full listing TTFB: median {med['ttfb_ms']:.1f} ms")


def report_shapes(rows: list[dict[str, object]]) -> None:
    print("\n## First chunk per shape (ms; p50/p95 over HTTP; first FETCH in the database)\n")
    print(
        "| shape | images | TTFB p50 | first chunk p50 | p95 | FETCH default | FETCH listing"
        " | plan: default -> listing |\n|---|---:|---:|---:|---:|---:|---:|---|"
    )
    for r in rows:
        print(
            f"| {r['name']} | {r['count']} | {r['ttfb']:.1f} | {r['p50']:.1f} | {r['p95']:.1f}"
            f" | {r['fetch_default']:.1f} | {r['fetch_tuned']:.1f}"
            f" | {r['plan_default']} -> {r['plan_tuned']} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="full-listing runs (median)")
    parser.add_argument("--reps", type=int, default=7, help="requests per shape")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        Path(tmp).chmod(0o755)  # the embedded server runs as its own user
        server = EmbeddedPostgres.start(Path(tmp) / "postgres")
        try:
            dsn = server.uri()
            fixtures.apply(dsn)
            print(f"seeding {args.rows:,} images ...", flush=True)
            started = time.perf_counter()
            tags = seed(dsn, args.rows)
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
            with Server(dsn, Path(tmp) / "data") as api:
                full = asyncio.run(listing_full.full_listing(api, dsn, args.runs))
                shape_rows = asyncio.run(listing_shapes.shapes(api, dsn, tags, args.reps))
        finally:
            server.stop()
    print(f"\n# Listing benchmark: {args.rows:,} images\n")
    report_full(full, args.rows)
    report_shapes(shape_rows)


if __name__ == "__main__":
    main()
