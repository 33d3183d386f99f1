"""Database cost of rendering image JSON: fixture 003's ``image_json`` against 002's.

Seeds a fresh embedded PostgreSQL with ``--rows`` images of the listing
benchmark's data set (``listing_data``: half with a file, under a key),
defines 002's function beside 003's as ``image_json_002``, and times
``SELECT sum(length(f(i, '/media')::text))`` over every row with each,
alternated ``--runs`` times; prints the medians.

    .venv/bin/python bench/image_json.py [--rows 300000] [--runs 7]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import listing_data
import psycopg2

from pixtag.db import fixtures
from pixtag.db.embedded import EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[1]


def main(rows: int, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        server = EmbeddedPostgres.start(Path(tmp) / "cluster")
        try:
            run(server.uri(), rows, runs)
        finally:
            server.stop()


def run(dsn: str, rows: int, runs: int) -> None:
    fixtures.apply(dsn)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    for statement in listing_data.SEED:
        cur.execute(statement, {"rows": rows, "distinct": 20000, "fresh": 300, "burst": rows // 50})
    cur.execute(listing_data.ANALYZE)
    sql = (ROOT / "fixtures" / "002_image_json_composite.sql").read_text()
    body = sql[sql.index("CREATE OR REPLACE FUNCTION image_json(") :]
    cur.execute(
        body.replace("CREATE OR REPLACE FUNCTION image_json(", "CREATE FUNCTION image_json_002(")
    )

    def timed(function: str) -> float:
        start = time.perf_counter()
        cur.execute(f"SELECT sum(length({function}(i, '/media')::text)) FROM images AS i")
        cur.fetchone()
        return time.perf_counter() - start

    old, new = [], []
    for _ in range(runs):
        old.append(timed("image_json_002"))
        new.append(timed("image_json"))
    o, n = statistics.median(old), statistics.median(new)
    print(f"{rows} images, {runs} alternated runs, medians")
    print(f"| image_json 002 | {o * 1000:.0f} ms |")
    print(f"| image_json 003 | {n * 1000:.0f} ms |")
    print(f"003 / 002: {n / o:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    main(args.rows, args.runs)
