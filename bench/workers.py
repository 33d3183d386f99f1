"""CPU per request, server and PostgreSQL, for `pixtag serve --workers 1` and `--workers 2`.

    make bench-workers [ARGS="--rows 100000 --duration 5 --runs 3"]
    .venv/bin/python bench/workers.py [--rows N] [--duration S] [--runs R] [--write]

One embedded PostgreSQL, one database seeded with ``--rows`` images
(``requests_data``). wrk (-t1 -c32, ``--duration`` seconds a measurement)
drives, the servers taking turns in alternated order for ``--runs`` rounds:

* point reads (``GET /images/{id}``, random ids): pixtag with 1 and with 2
  workers, the bare aiohttp handler (``requests_bare``), the stack's
  ceiling and the reference of the server's CPU per request, and the floor
  of a point read on this stack (``requests_bare_db``: a plain handler, an
  aiopg pool and pixtag's prepared statement, nothing else);
* JSON creates (``POST /images``): pixtag with 1 and with 2 workers, and the
  original service's own write (``requests_seed_insert``: the same rows into
  its schema, in a scratch table of the same database, through the same
  client path), the reference of PostgreSQL's CPU per create.

Server CPU counts the server process and its children (a supervisor's
workers); PostgreSQL CPU counts the postmaster and its children only (its
own processes, never one whose command line merely names it). Both are read
from /proc before and after each run. Medians are reported, with the ratios
the targets are stated in.
"""

import argparse
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import psycopg2  # noqa: E402
import requests_data  # noqa: E402
import requests_seed_insert  # noqa: E402
import requests_wrk  # noqa: E402
from requests_servers import Process, Tree, bare_app  # noqa: E402

from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402

THIS_TREE = Path(__file__).resolve().parents[1]
RESULTS = THIS_TREE / "bench" / "RESULTS.md"
BEGIN = "<!-- bench-workers: written by `bench/workers.py --write`; begin -->"
END = "<!-- bench-workers: end -->"


def pixtag(tree: Tree, dsn: str, work: Path, workers: int) -> Process:
    args = [sys.executable, "-m", "pixtag", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    args += ["--workers", str(workers), "--data-dir", str(work / f"data-{workers}")]
    args += ["--database-url", dsn]
    return Process(f"pixtag, {workers} worker{'s' if workers > 1 else ''}", args, tree.env,
                   work / f"pixtag-{workers}.log")  # fmt: skip


def bare_db(dsn: str, work: Path) -> Process:
    script = Path(__file__).with_name("requests_bare_db.py")
    return Process(
        "aiohttp + aiopg, no app",
        [sys.executable, str(script), "{port}", dsn],
        dict(os.environ),
        work / "bare-db.log",
    )


def seed_insert(dsn: str, work: Path) -> Process:
    script = Path(__file__).with_name("requests_seed_insert.py")
    return Process(
        "original's INSERT",
        [sys.executable, str(script), "{port}", dsn],
        dict(os.environ),
        work / "seed-insert.log",
    )


def measure(
    groups: dict[str, list[Process]], work: Path, rows: int, duration: int, runs: int, pg: int
) -> dict[str, dict[str, list[requests_wrk.Figures]]]:
    scenarios = requests_wrk.scenarios(work, rows)
    results: dict[str, dict[str, list[requests_wrk.Figures]]] = {}
    for name, servers in groups.items():
        results[name] = {server.label: [] for server in servers}
        for server in servers:
            requests_wrk.run(server.url, scenarios[name], max(1, duration // 5))
        for run in range(runs):
            for server in servers if run % 2 == 0 else servers[::-1]:
                figures = requests_wrk.run(
                    server.url, scenarios[name], duration, server.process.pid, pg
                )
                results[name][server.label].append(figures)
                server_us, pg_us = figures.per_request_us()
                print(
                    f"  {name:6} run {run + 1} {server.label:22} {figures.requests_per_s:8,.0f}"
                    f" req/s  server {server_us:5.0f} us  PostgreSQL {pg_us:5.0f} us",
                    flush=True,
                )
    return results


def medians(figures: list[requests_wrk.Figures]) -> tuple[float, float, float]:
    return (
        statistics.median(f.requests_per_s for f in figures),
        statistics.median(f.per_request_us()[0] for f in figures),
        statistics.median(f.per_request_us()[1] for f in figures),
    )


def render(results: dict[str, dict[str, list[requests_wrk.Figures]]], args: argparse.Namespace,
           commit: str) -> str:  # fmt: skip
    lines = [
        f"Commit {commit}; {args.rows:,} images; wrk -t{requests_wrk.THREADS}"
        f" -c{requests_wrk.CONNECTIONS}, {args.duration} s per run, {args.runs} alternated runs,"
        f" medians; {os.cpu_count()} CPUs; load average before: "
        f"{os.getloadavg()[0]:.1f}.",
        "",
        "| load | server | req/s | server CPU per request | PostgreSQL CPU per request |",
        "|---|---|---:|---:|---:|",
    ]
    table = {name: {label: medians(f) for label, f in by.items()} for name, by in results.items()}
    for name, by in table.items():
        for label, (rate, server_us, pg_us) in by.items():
            row = f"| {name} | {label} | {rate:,.0f} | {server_us:.0f} µs | {pg_us:.0f} µs |"
            lines.append(row)
    read, create = table["read"], table["create"]
    bare = read["bare aiohttp"][1]
    reference = create["original's INSERT"][2]
    lines += ["", "Ratios (the targets of `pixtag serve --workers`):", ""]
    for label in ("pixtag, 1 worker", "pixtag, 2 workers"):
        lines.append(
            f"- {label}: server CPU per point read **{read[label][1] / bare:.2f}x** the bare"
            f" handler's; PostgreSQL CPU per JSON create **{create[label][2] / reference:.2f}x**"
            f" the original's INSERT; point-read PostgreSQL CPU {read[label][2]:.0f} µs."
        )
    return "\n".join(lines)


def write(text: str) -> None:
    content = RESULTS.read_text(encoding="utf-8")
    block = f"{BEGIN}\n\n{text}\n\n{END}"
    if BEGIN in content:
        head, rest = content.split(BEGIN, 1)
        content = head + block + rest.split(END, 1)[1]
    else:
        content = content.rstrip("\n") + "\n\n## Workers (bench/workers.py)\n\n" + block + "\n"
    RESULTS.write_text(content, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk measurement")
    parser.add_argument("--runs", type=int, default=3, help="alternated measurements per server")
    parser.add_argument("--write", action="store_true", help="record the results in RESULTS.md")
    parser.add_argument("--only", choices=["read", "create"], help="one load only (no report)")
    args = parser.parse_args()
    tree = Tree("this tree", THIS_TREE)
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # the embedded server runs as its own user
        postgres = EmbeddedPostgres.start(work / "postgres")
        try:
            conn = psycopg2.connect(postgres.uri())
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("CREATE DATABASE bench_workers")
            conn.close()
            dsn = postgres.uri("bench_workers")
            tree.apply_fixtures(dsn)
            print(f"seeding {args.rows:,} images ...", flush=True)
            requests_data.seed(dsn, args.rows)
            requests_seed_insert.prepare(dsn)
            with ExitStack() as stack:
                one = stack.enter_context(pixtag(tree, dsn, work, 1))
                two = stack.enter_context(pixtag(tree, dsn, work, 2))
                bare = stack.enter_context(bare_app(work))
                seed = stack.enter_context(seed_insert(dsn, work))
                floor = stack.enter_context(bare_db(dsn, work))
                groups = {"read": [bare, floor, one, two], "create": [seed, one, two]}
                if args.only:
                    groups = {args.only: groups[args.only]}
                results = measure(
                    groups,
                    work,
                    args.rows,
                    args.duration,
                    args.runs,
                    postgres.pid,
                )
        finally:
            postgres.stop()
    if args.only:
        return
    text = render(results, args, tree.commit + (" (modified)" if tree.dirty else ""))
    print("\n" + text)
    if args.write:
        write(text)
        print("written to bench/RESULTS.md")


if __name__ == "__main__":
    main()
