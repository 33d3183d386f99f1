"""The full listing with and without the cursor's read-ahead, over HTTP, alternating.

    python bench/listing_read_ahead.py [--rows 300000] [--runs 7]

Seeds ``--rows`` images (``listing_data``) into a new embedded PostgreSQL,
serves the app in this process (so ``listing.READ_AHEAD`` can be switched
between runs), and times ``curl`` reading the whole ``GET /images`` (JSON
and NDJSON), the two modes taking turns; medians are printed.
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
import psycopg2  # noqa: E402
from aiohttp import web  # noqa: E402

from pixtag.app import create_app  # noqa: E402
from pixtag.db import fixtures  # noqa: E402
from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402
from pixtag.images.queries import listing  # noqa: E402
from pixtag.settings import Settings  # noqa: E402


async def curl(url: str, accept: str) -> float:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        "curl", "-sf", "-o", "/dev/null", "-H", f"Accept: {accept}", url
    )
    if await proc.wait() != 0:
        raise RuntimeError(f"curl {url} failed")
    return time.perf_counter() - started


async def measure(dsn: str, data: Path, runs: int) -> dict[tuple[bool, str], list[float]]:
    app = create_app(Settings(database_url=dsn, data_dir=data))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}/images"
    times: dict[tuple[bool, str], list[float]] = {}
    try:
        await curl(url, "application/json")  # warm the pool and the caches
        for run in range(runs):
            for ahead in (True, False) if run % 2 == 0 else (False, True):
                listing.READ_AHEAD = ahead
                for accept in ("application/json", "application/x-ndjson"):
                    times.setdefault((ahead, accept), []).append(await curl(url, accept))
    finally:
        await runner.cleanup()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        Path(tmp).chmod(0o755)
        server = EmbeddedPostgres.start(Path(tmp) / "postgres")
        try:
            dsn = server.uri()
            fixtures.apply(dsn)
            conn = psycopg2.connect(dsn)
            conn.autocommit = True
            with conn.cursor() as cur:
                for statement in listing_data.SEED:
                    cur.execute(
                        statement, {"rows": args.rows, "distinct": 20000, "fresh": 300, "burst": 1}
                    )
                cur.execute(listing_data.ANALYZE)
            conn.close()
            (Path(tmp) / "data").mkdir()
            times = asyncio.run(measure(dsn, Path(tmp) / "data", args.runs))
        finally:
            server.stop()
    print(f"\nFull listing of {args.rows:,} images, {args.runs} alternated runs (median s):\n")
    print("| body | read-ahead | no read-ahead | ratio |\n|---|---:|---:|---:|")
    for accept in ("application/json", "application/x-ndjson"):
        on, off = (statistics.median(times[(a, accept)]) for a in (True, False))
        print(f"| {accept} | {on:.2f} | {off:.2f} | {off / on:.2f}x |")


if __name__ == "__main__":
    main()
