"""The per-request benchmark's report: setup, tables, ratios against targets, RESULTS.md section."""

import argparse
import datetime
import os
import platform
import statistics
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import psycopg2
from requests_servers import Tree
from requests_wrk import CONNECTIONS, THREADS, Figures

BEGIN = "<!-- bench-requests: written by `bench/requests.py --write`; begin -->"
END = "<!-- bench-requests: end -->"

# name: (label, target ratio of this tree's req/s to the baseline's)
REQUESTS = {
    "read": ("GET /images/{random id}", 2.0),
    "create": ("POST /images (JSON)", 1.5),
    "multipart": ("POST /images multipart (meta, 100 KB PNG)", 1.5),
}
FIRST_ROW_TARGET = 0.5  # this tree's time / the baseline's, at most


@dataclass
class Setup:
    """What a reader needs to reproduce or weigh a run."""

    baseline: Tree
    this: Tree
    args: argparse.Namespace
    machine: str
    postgres: str = "?"

    @classmethod
    def describe(cls, trees: list[Tree], args: argparse.Namespace) -> "Setup":
        model = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as cpuinfo:
                model = next(ln.split(":", 1)[1].strip() for ln in cpuinfo if "model name" in ln)
        except (OSError, StopIteration):
            pass
        return cls(trees[0], trees[1], args, f"{os.cpu_count()} CPUs ({model})")

    def command(self) -> str:
        a = self.args
        flags = f"--rows {a.rows} --duration {a.duration} --runs {a.runs} --reps {a.reps}"
        flags += f" --gzip-reps {a.gzip_reps} --gzip-limit {a.gzip_limit}"
        return f'make bench-requests BASE={self.baseline.commit} ARGS="{flags}"'

    def header(self) -> str:
        a = self.args
        trees = ", ".join(
            f"{t.label} {t.commit}{' with uncommitted changes' if t.dirty else ''}"
            for t in (self.this, self.baseline)
        )
        return (
            f"{trees}. {a.rows:,} images; wrk -t{THREADS} -c{CONNECTIONS}, {a.duration} s a"
            f" measurement, {a.runs} alternated runs (medians); {a.reps} listing requests"
            f" per server.\n{self.machine}; Python {platform.python_version()}, aiohttp"
            f" {version('aiohttp')}, PostgreSQL {self.postgres}."
        )


def server_version(dsn: str) -> str:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            return str(cur.fetchone()[0]).split()[0]
    finally:
        conn.close()


def verdict(ratio: float, target: float, *, at_most: bool = False) -> str:
    met = ratio <= target if at_most else ratio >= target
    return f"{'<=' if at_most else '>='} {target}x: {'met' if met else 'not met'}"


def wrk_table(setup: Setup, wrk: dict[str, dict[str, list[Figures]]]) -> list[str]:
    old, new = setup.baseline.label, setup.this.label
    lines = [
        f"| request | {old} req/s | {new} req/s | ratio | {old} p99 | {new} p99 | p99 ratio"
        " | target |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    spread, share = [], []
    bare = wrk["read"]["bare aiohttp"]
    bare_rate = statistics.median(f.requests_per_s for f in bare)
    for name, (label, target) in REQUESTS.items():
        rate = {k: statistics.median(f.requests_per_s for f in wrk[name][k]) for k in (old, new)}
        p99 = {k: statistics.median(f.p99_ms for f in wrk[name][k]) for k in (old, new)}
        ratio = rate[new] / rate[old]
        lines.append(
            f"| {label} | {rate[old]:,.0f} | {rate[new]:,.0f} | **{ratio:.2f}x**"
            f" | {p99[old]:.1f} ms | {p99[new]:.1f} ms | {p99[new] / p99[old]:.2f}x"
            f" | {verdict(ratio, target)} |"
        )
        rates = {k: ", ".join(f"{f.requests_per_s:,.0f}" for f in wrk[name][k]) for k in (old, new)}
        runs = "; ".join(f"{k} {v}" for k, v in rates.items())
        spread.append(f"{name}: {runs}")
        share.append(f"{label} {rate[old] / bare_rate:.2f} / {rate[new] / bare_rate:.2f}")
    cpu = []
    for name, (label, _) in REQUESTS.items():
        sides = []
        for key in (old, new):
            server = statistics.median(f.per_request_us()[0] for f in wrk[name][key])
            postgres = statistics.median(f.per_request_us()[1] for f in wrk[name][key])
            sides.append((server, postgres))
        (s_old, p_old), (s_new, p_new) = sides
        cpu.append(
            f"| {label} | {s_old:,.0f} us | {s_new:,.0f} us | {s_new / s_old:.2f}x"
            f" | {p_old:,.0f} us | {p_new:,.0f} us | {p_new / p_old:.2f}x"
            f" | {(s_new + p_new) / (s_old + p_old):.2f}x |"
        )
    bare_cpu = statistics.median(f.per_request_us()[0] for f in bare)
    bare_p99 = statistics.median(f.p99_ms for f in bare)
    lines += [
        "",
        f"Ceiling, a bare aiohttp app answering a fixed small JSON (`bench/requests_bare.py`)"
        f" under the same load: {bare_rate:,.0f} req/s, p99 {bare_p99:.1f} ms. Share of it"
        f" ({old} / {new}): {'; '.join(share)}.",
        "",
        f"req/s of each run: {' | '.join(spread)}.",
        "",
        f"| CPU per request (medians) | {old} server | {new} server | ratio"
        f" | {old} PostgreSQL | {new} PostgreSQL | ratio | both, ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *cpu,
        "",
        f"The bare aiohttp app: {bare_cpu:,.0f} us of server CPU per request.",
    ]
    return lines


def first_row_table(setup: Setup, first: dict[str, list[tuple[float, float]]]) -> list[str]:
    old, new = setup.baseline.label, setup.this.label
    lines = [
        f"| GET /images?tag=sparse (300 images), one request at a time | {old} p50 | p95"
        f" | {new} p50 | p95 | ratio (p50) | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for index, label in enumerate(("first body byte", "first complete image")):
        p50, p95 = {}, {}
        for key in (old, new):
            values = [timing[index] for timing in first[key]]
            p50[key] = statistics.median(values)
            p95[key] = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
        ratio = p50[new] / p50[old]
        target = verdict(ratio, FIRST_ROW_TARGET, at_most=True)
        lines.append(
            f"| {label} | {p50[old]:.2f} ms | {p95[old]:.2f} ms | {p50[new]:.2f} ms"
            f" | {p95[new]:.2f} ms | **{ratio:.2f}x** | {target} |"
        )
    return lines


def render(
    setup: Setup,
    wrk: dict[str, dict[str, list[Figures]]],
    first: dict[str, list[tuple[float, float]]],
    whole: list[str],
) -> str:
    """The results as markdown: header, command, the tables (``whole``: the gzip one)."""
    today = datetime.date.today().isoformat()
    lines = [
        f"### {today}: {setup.this.commit} against {setup.baseline.commit}",
        "",
        setup.header(),
        "",
        "```sh",
        setup.command(),
        "```",
        "",
        *wrk_table(setup, wrk),
        "",
        *first_row_table(setup, first),
        "",
        *whole,
        "",
        "The full listing (>= 0.95x `COPY` of the same SELECT, flat memory) is measured by"
        " `bench/listing.py` (`make bench-listing`); see Listing.",
    ]
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    """Replace the delimited section of ``path`` with ``text`` (append it if there is none)."""
    content = path.read_text(encoding="utf-8")
    block = f"{BEGIN}\n\n{text}\n\n{END}"
    if BEGIN in content and END in content:
        head, rest = content.split(BEGIN, 1)
        content = head + block + rest.split(END, 1)[1]
    else:
        content = content.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(content, encoding="utf-8")
