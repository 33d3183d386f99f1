"""Per-request benchmark: this tree against a baseline commit, side by side, on the same data.

    make bench-requests [BASE=<rev>] [ARGS="--rows 20000 --duration 3 --runs 1"]
    git worktree add --detach /tmp/base <rev>
    .venv/bin/python bench/requests.py --against /tmp/base [--rows N] [--duration S] [--runs R]

One embedded PostgreSQL holds two databases, each built by its own tree's
fixtures loader and seeded with the same ``--rows`` images
(``requests_data``). Each tree's ``pixtag serve`` runs on its own database,
and wrk (-t1 -c32, ``--duration`` seconds a measurement) drives in turn:

* ``GET /images/{id}`` with random ids among the seeded ones;
* ``POST /images`` with a JSON body;
* ``POST /images`` multipart: ``meta`` (JSON) then ``image`` (a 100 KB PNG).

Each measurement is taken ``--runs`` times, the servers taking turns
(baseline, this tree, this tree, baseline, ...); medians are reported with
the ratios this tree / baseline. A bare aiohttp app answering a fixed small
JSON (``requests_bare``) is measured in the same runs under the same load:
the ceiling. Before the wrk runs (on the data as seeded) ``GET
/images?tag=sparse`` (300 matches) is timed ``--reps`` times per server, one
request at a time, to the first body byte and to the first complete image
(``requests_first_row``), and a listing of ``--gzip-limit`` images is read whole ``--gzip-reps``
times per server, as it is and gzipped by this tree (``requests_gzip``): rows/s
and bytes on the wire. Every response is checked (status, or the
listing's count): a run with errors fails.

The full listing against ``COPY`` and its memory are measured by
``bench/listing.py``. With ``--write`` the results replace the delimited
section of ``bench/RESULTS.md``.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import psycopg2  # noqa: E402
import requests_data  # noqa: E402
import requests_first_row  # noqa: E402
import requests_gzip  # noqa: E402
import requests_report  # noqa: E402
import requests_wrk  # noqa: E402
from requests_servers import Process, Tree, bare_app, pixtag_serve  # noqa: E402

from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402

THIS_TREE = Path(__file__).resolve().parents[1]


def prepare(postgres: EmbeddedPostgres, trees: list[Tree], rows: int) -> dict[str, str]:
    """A database per tree, built by its fixtures and seeded alike; return their URLs."""
    conn = psycopg2.connect(postgres.uri())
    conn.autocommit = True
    dsns = {}
    with conn.cursor() as cur:
        for number, tree in enumerate(trees):
            cur.execute(f"CREATE DATABASE bench_{number}")
            dsns[tree.label] = postgres.uri(f"bench_{number}")
    conn.close()
    for tree in trees:
        tree.apply_fixtures(dsns[tree.label])
    print(f"seeding {rows:,} images into each database ...", flush=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(len(trees)) as pool:
        sums = list(pool.map(lambda tree: requests_data.seed(dsns[tree.label], rows), trees))
    if any(checksum != sums[0] for checksum in sums):
        raise RuntimeError(f"the databases differ after seeding: {sums}")
    print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    return dsns


def measure_wrk(
    servers: list[Process],
    bare: Process,
    work: Path,
    rows: int,
    duration: int,
    runs: int,
    postgres: int,
) -> dict[str, dict[str, list[requests_wrk.Figures]]]:
    """Every wrk scenario, the servers taking turns; the bare app beside the point reads."""
    results: dict[str, dict[str, list[requests_wrk.Figures]]] = {}
    warm_up = max(1, duration // 5)
    for name, scenario in requests_wrk.scenarios(work, rows).items():
        ceiling = [bare] if name == "read" else []
        results[name] = {server.label: [] for server in [*ceiling, *servers]}
        for server in [*ceiling, *servers]:
            requests_wrk.run(server.url, scenario, warm_up)
        for run in range(runs):
            for server in [*ceiling, *(servers if run % 2 == 0 else servers[::-1])]:
                # Each starts with no dirty pages left by the one before (multipart writes files).
                os.sync()
                figures = requests_wrk.run(
                    server.url, scenario, duration, server.process.pid, postgres
                )
                results[name][server.label].append(figures)
                print(
                    f"  {name:9} run {run + 1} {server.label:12}"
                    f" {figures.requests_per_s:9,.0f} req/s  p99 {figures.p99_ms:7.2f} ms"
                    " CPU per request: server %.0f us, PostgreSQL %.0f us"
                    % figures.per_request_us(),
                    flush=True,
                )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="a checkout of the baseline")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk measurement")
    parser.add_argument("--runs", type=int, default=3, help="alternated measurements per server")
    parser.add_argument("--reps", type=int, default=50, help="small-listing requests per server")
    parser.add_argument("--gzip-reps", type=int, default=3, help="whole listings per variant")
    parser.add_argument("--gzip-limit", type=int, default=100_000, help="images in each")
    parser.add_argument("--write", action="store_true", help="record the results in RESULTS.md")
    args = parser.parse_args()
    trees = [Tree("baseline", args.against.resolve()), Tree("this tree", THIS_TREE)]
    setup = requests_report.Setup.describe(trees, args)
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # the embedded server runs as its own user
        postgres = EmbeddedPostgres.start(work / "postgres")
        try:
            dsns = prepare(postgres, trees, args.rows)
            setup.postgres = requests_report.server_version(dsns[trees[0].label])
            print(setup.header(), flush=True)
            with ExitStack() as stack:
                servers = [stack.enter_context(pixtag_serve(t, dsns[t.label], work)) for t in trees]
                bare = stack.enter_context(bare_app(work))
                # The listing first, on the data as seeded (the creates add rows and files).
                urls = {server.label: server.url for server in servers}
                path = f"/images?tag={requests_data.SPARSE_TAG}"
                first = asyncio.run(
                    requests_first_row.measure(urls, path, requests_data.SPARSE_COUNT, args.reps)
                )
                limit = min(args.gzip_limit, args.rows)
                whole = asyncio.run(requests_gzip.measure(urls, limit, args.gzip_reps))
                wrk = measure_wrk(
                    servers, bare, work, args.rows, args.duration, args.runs, postgres.pid
                )
        finally:
            postgres.stop()
    text = requests_report.render(
        setup,
        wrk,
        first,
        [
            *requests_gzip.table(whole, min(args.gzip_limit, args.rows)),
            "",
            *requests_gzip.level_table(next(iter(whole.values()))[0].sample),
        ],
    )
    print("\n" + text)
    if args.write:
        requests_report.write(THIS_TREE / "bench" / "RESULTS.md", text)
        print("written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
