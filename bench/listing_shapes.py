"""First-chunk latency per query shape, with the plan PostgreSQL picks for the cursor."""

import json
import re
import statistics
import time
from typing import Any

import aiohttp
import aiopg
import psycopg2
from listing_data import shapes as shape_list
from listing_server import Server

from pixtag.db.stream import stream_transaction
from pixtag.images.queries import listing
from pixtag.search.filters import listing_filters


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


def _filters(query: dict[str, Any]) -> listing.ListingFilters:
    def many(name: str) -> list[str]:
        value = query.get(name, [])
        return list(value) if isinstance(value, list) else [value]

    return listing_filters(
        q=query.get("q"),
        tag=query.get("tag"),
        tags_all=many("tags_all"),
        tags_any=many("tags_any"),
        tags_none=many("tags_none"),
        sha256=None,
        after_id=query.get("after_id"),
        limit=query.get("limit"),
        after=None,
    )


async def _chosen(pool: Any, query: dict[str, Any], first: int) -> tuple[str, dict, dict]:
    """The listing's statement and the settings it picks, as the server would."""
    async with stream_transaction(pool, idle_timeout_ms=60_000, acquire_timeout_ms=60_000) as tx:
        statement, settings = await listing.prepare(tx, _filters(query), "/media", first)
    return statement.sql, statement.params, settings


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
    ("Index Scan Backward images_pkey", "PK walk back"),
    ("Index Scan images_created", "created walk"),
    ("Index Scan Backward images_created", "created walk back"),
]


async def shapes(api: Server, dsn: str, tags: dict[str, str], reps: int) -> list[dict]:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT min(image_id), max(image_id) FROM images")
    min_id, max_id = cur.fetchone()
    rows = []
    pool = await aiopg.create_pool(dsn, minsize=1, maxsize=1)
    async with aiohttp.ClientSession() as session:
        for name, query in shape_list(tags, max_id, min_id):
            first = min(1000, query["limit"]) if "limit" in query else 1000
            sql, params, chosen = await _chosen(pool, query, first)
            cur.execute(f"SELECT count(*) FROM ({sql}) AS s", params)
            count = cur.fetchone()[0]
            plan_default, fetch_default, _ = _plan(cur, sql, params, {})
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
    pool.close()
    await pool.wait_closed()
    conn.close()
    return rows
