"""Benchmark of the gallery's first page on a large collection, in headless Chromium.

Run by hand, not in CI (about a minute for 100,000 rows on two cores):

    .venv/bin/python bench/gallery.py [--rows 100000] [--loads 15]

It seeds ``--rows`` images with Zipf-like tags (``requests_data``; half of
them carry an attachment), writes real JPEG files for the newest 200 ids that
have one (the first pages' thumbnails), starts ``pixtag serve`` on it as a
separate process and opens ``/gallery`` ``--loads`` times, each in a fresh
browser context (no cache), timing from the navigation to:

* the grid showing its first tiles: the page's own ``performance.mark``, set
  as it appends them (the listing came back and was rendered), and the same
  as Playwright sees it from outside (its polling adds to it);
* the browser's first contentful paint (``performance`` paint entry);
* every thumbnail in the first screen loaded (what the eye calls "ready").

Then the same with a search (a common tag and a negated one). Requests to any
other origin are blocked and counted: there must be none.
"""

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import psycopg2  # noqa: E402
import requests_data  # noqa: E402
from listing_server import Server  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from pixtag.db import fixtures  # noqa: E402
from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VISIBLE_THUMBS_LOADED = """
    () => {
      const shown = [...document.querySelectorAll('#grid img')].filter(
        (img) => img.getBoundingClientRect().top < innerHeight);
      return shown.length > 0 && shown.every((img) => img.complete && img.naturalWidth > 0);
    }
"""

TIMELINE = """
    () => [["document", 0, performance.getEntriesByType('navigation')[0].responseEnd],
           ...performance.getEntriesByType('resource')
             .filter((e) => !e.name.includes('/renditions/') && !e.name.includes('/media/'))
             .map((e) => [e.name, e.startTime, e.responseEnd]),
           ["grid shown", performance.getEntriesByName('pixtag:grid')[0].startTime, 0]]
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


def write_files(dsn: str, media: Path, count: int) -> None:
    """Real JPEGs behind the newest ``count`` attachments (the seed names keys, not files)."""
    rows = execute(
        dsn,
        "SELECT image_id, storage_key FROM images WHERE storage_key IS NOT NULL"
        f" ORDER BY image_id DESC LIMIT {int(count)}",
    )
    for image_id, key in rows:
        buffer = io.BytesIO()
        shade = int(str(image_id)[-2:]) * 2
        Image.new("RGB", (640, 480), (shade, 120, 255 - shade)).save(buffer, "JPEG")
        path = media / str(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(buffer.getvalue())


def measure(browser: object, url: str, loads: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {
        "grid shown (page's own mark)": [],
        "first tile seen by Playwright": [],
        "first contentful paint": [],
        "thumbs": [],
    }
    elsewhere: list[str] = []
    origin = url.split("/gallery")[0]
    for _ in range(loads):
        context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith(origin + "/")
                else (elsewhere.append(route.request.url), route.abort())
            ),
        )
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_selector("#grid > li")
        times["first tile seen by Playwright"].append(time.perf_counter() - started)
        mark = page.evaluate("performance.getEntriesByName('pixtag:grid')[0].startTime")
        times["grid shown (page's own mark)"].append(mark / 1000)
        timeline = page.evaluate(TIMELINE)
        page.wait_for_function(VISIBLE_THUMBS_LOADED, timeout=30_000)
        times["thumbs"].append(time.perf_counter() - started)
        fcp = page.evaluate(
            "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null"
        )
        if fcp is not None:
            times["first contentful paint"].append(fcp / 1000)
        context.close()
    assert not elsewhere, f"requests beyond the server: {elsewhere}"
    print(f"timeline of the last load of {url} (ms from navigation start):")
    for name, start, end in timeline:
        print(f"  {start:7.0f} {end:7.0f}  {name.removeprefix(origin)}")
    return times


def report(name: str, times: dict[str, list[float]]) -> None:
    for what, samples in times.items():
        if not samples:
            continue
        ordered = sorted(samples)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        print(
            f"| {name}: {what} | {statistics.median(samples) * 1000:.0f} | {p90 * 1000:.0f}"
            f" | {max(samples) * 1000:.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=15, help="page loads per case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        Path(tmp).chmod(0o755)  # the embedded server runs as its own user
        server = EmbeddedPostgres.start(Path(tmp) / "postgres")
        try:
            dsn = server.uri()
            fixtures.apply(dsn)
            started = time.perf_counter()
            execute(dsn, "ALTER TABLE images DISABLE TRIGGER images_apply_tag_rules")
            requests_data.seed(dsn, args.rows)
            execute(dsn, "ALTER TABLE images ENABLE TRIGGER images_apply_tag_rules")
            execute(dsn, "VACUUM ANALYZE tags")
            print(f"seeded {args.rows:,} images in {time.perf_counter() - started:.0f} s")
            data = Path(tmp) / "data"
            write_files(dsn, data / "media", 200)
            with Server(dsn, data) as api, sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                measure(browser, f"{api.url}/gallery", 2)  # warm the server's pool and plans
                newest = measure(browser, f"{api.url}/gallery", args.loads)
                searched = measure(browser, f"{api.url}/gallery?q=t1%20-t2", args.loads)
                browser.close()
        finally:
            server.stop()
    print(f"\n{args.rows:,} images, {args.loads} loads per case, fresh context each\n")
    print("| page, until | median ms | p90 ms | max ms |\n|---|---:|---:|---:|")
    report("/gallery (newest first)", newest)
    report("/gallery?q=t1 -t2", searched)


if __name__ == "__main__":
    main()
