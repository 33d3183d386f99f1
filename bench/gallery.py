"""Benchmark of the gallery on a large collection, in headless Chromium.

Run by hand, not in CI (two to three minutes for 100,000 rows on two cores):

    .venv/bin/python bench/gallery.py [--rows 100000] [--loads 15]

It seeds ``--rows`` images with Zipf-like tags (``requests_data``; half of
them carry an attachment), writes real JPEG photos-sized files (2400 px on
the long side, landscape, portrait and square, the rows' size, sha256 and
dimensions made to match) for the newest ``--files`` ids that have one, has
their thumbnails and previews built as uploads do (so the listing names
them), starts ``pixtag serve`` on it as a separate process and opens
``/gallery`` ``--loads`` times, each in a fresh browser context (no cache),
timing from the navigation to:

* the grid showing its first tiles: the page's own ``performance.mark``, set
  as it appends them (the listing came back and was rendered), and the same
  as Playwright sees it from outside (its polling adds to it);
* the browser's first contentful paint (``performance`` paint entry);
* the first thumbnail loaded (a capturing ``load`` listener on the page);
* every thumbnail in the first screen loaded (what the eye calls "ready").

Then the same with a search (a common tag and a negated one), and the
full-screen viewer: opened on the first tile (its preview fetched then: the
cold case), then ``--steps`` times the right arrow once the page's network
is idle (the next preview fetched ahead), timed in the page from the key
press to the frame in which the next picture is loaded in the viewer.
Requests to any other origin are blocked and counted: there must be none.
"""

import argparse
import hashlib
import io
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import psycopg2  # noqa: E402
import requests_data  # noqa: E402
from listing_server import Server  # noqa: E402
from PIL import Image  # noqa: E402
from playwright.sync_api import Browser, BrowserContext, Page, Route, sync_playwright  # noqa: E402

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
# Set before the page's own scripts: when the first grid thumbnail finished loading, and
# when the last key went down.
INSTRUMENT = """
    document.addEventListener('load', (event) => {
      const target = event.target;
      if (target.tagName === 'IMG' && target.closest('#grid') && !window.__firstThumb)
        window.__firstThumb = performance.now();
    }, true);
    addEventListener('keydown', () => { window.__keyAt = performance.now(); }, true);
"""
VISIBLE_THUMBS_LOADED = """
    () => {
      const shown = [...document.querySelectorAll('#grid img')].filter(
        (img) => img.getBoundingClientRect().top < innerHeight);
      return shown.length > 0 && shown.every((img) => img.complete && img.naturalWidth > 0);
    }
"""
# Watches, frame by frame, for the viewer to show image `id` loaded; sets __shownAt.
WATCH_VIEWER = """
    (id) => {
      window.__shownAt = 0;
      const check = () => {
        const img = document.getElementById('viewer-img');
        if (img.dataset.imageId === String(id) && img.src && img.complete && img.naturalWidth > 0)
          window.__shownAt = performance.now();
        else requestAnimationFrame(check);
      };
      check();
    }
"""

TIMELINE = """
    () => [["document", 0, performance.getEntriesByType('navigation')[0].responseEnd],
           ...performance.getEntriesByType('resource')
             .filter((e) => !e.name.includes('/renditions/') && !e.name.includes('/media/'))
             .map((e) => [e.name, e.startTime, e.responseEnd]),
           ["grid shown", performance.getEntriesByName('pixtag:grid')[0].startTime, 0]]
"""
# Landscape, portrait and square, as a camera roll mixes them.
SHAPES = [(2400, 1600), (1600, 2400), (2400, 1800), (1800, 1800), (2400, 1350)]


def execute(dsn: str, statement: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def photo(image_id: int) -> bytes:
    """A JPEG of a photo's size and weight: a gradient under noise, one shape of SHAPES."""
    width, height = SHAPES[image_id % len(SHAPES)]
    shade = image_id * 37 % 200
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    tint = Image.new("RGB", (width, height), (shade, 120, 255 - shade))
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    picture = Image.blend(Image.blend(base, tint, 0.5), noise, 0.25)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def write_files(dsn: str, media: Path, count: int) -> list[int]:
    """Real JPEGs behind the newest ``count`` attachments, their rows made to match."""
    rows = execute(
        dsn,
        "SELECT image_id, storage_key FROM images WHERE storage_key IS NOT NULL"
        " ORDER BY image_id DESC LIMIT %s",
        (count,),
    )
    for image_id, key in rows:
        data = photo(int(image_id))  # type: ignore[call-overload]
        path = media / str(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        width, height = SHAPES[int(image_id) % len(SHAPES)]  # type: ignore[call-overload]
        execute(
            dsn,
            "UPDATE images SET size = %s, sha256 = %s, width = %s, height = %s WHERE image_id = %s",
            (len(data), hashlib.sha256(data).hexdigest(), width, height, image_id),
        )
    return [int(image_id) for image_id, _ in rows]  # type: ignore[call-overload]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def build_renditions(url: str, ids: list[int]) -> None:
    """Have each thumbnail and preview built, as the background does after an upload."""
    opener = urllib.request.build_opener(NoRedirect)
    for image_id in ids:
        for preset in ("thumb", "preview"):
            try:
                opener.open(f"{url}/images/{image_id}/renditions/{preset}", timeout=120)
            except urllib.error.HTTPError as error:
                if error.code != 302:
                    raise


def new_page(browser: Browser, origin: str, elsewhere: list[str]) -> tuple[BrowserContext, Page]:
    """A fresh context (nothing cached) that blocks, and counts, requests to any other origin."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(INSTRUMENT)

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(origin + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_server)
    return context, context.new_page()


def measure(browser: Browser, url: str, loads: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {
        "grid shown (page's own mark)": [],
        "first tile seen by Playwright": [],
        "first contentful paint": [],
        "first thumbnail loaded": [],
        "thumbs": [],
    }
    elsewhere: list[str] = []
    origin = url.split("/gallery")[0]
    for _ in range(loads):
        context, page = new_page(browser, origin, elsewhere)
        started = time.perf_counter()
        page.goto(url, wait_until="commit")
        page.wait_for_selector("#grid > li")
        times["first tile seen by Playwright"].append(time.perf_counter() - started)
        mark = page.evaluate("performance.getEntriesByName('pixtag:grid')[0].startTime")
        times["grid shown (page's own mark)"].append(mark / 1000)
        timeline = page.evaluate(TIMELINE)
        page.wait_for_function(VISIBLE_THUMBS_LOADED, timeout=30_000)
        times["thumbs"].append(time.perf_counter() - started)
        times["first thumbnail loaded"].append(page.evaluate("window.__firstThumb") / 1000)
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


def measure_viewer(browser: Browser, url: str, loads: int, steps: int) -> dict[str, list[float]]:
    """The viewer opened on the first tile, then ``steps`` times the next image."""
    times: dict[str, list[float]] = {
        "opened, preview not fetched before": [],
        "next image, fetched ahead": [],
    }
    elsewhere: list[str] = []
    origin = url.split("/gallery")[0]
    for _ in range(loads):
        context, page = new_page(browser, origin, elsewhere)
        page.goto(url)
        page.wait_for_function(VISIBLE_THUMBS_LOADED, timeout=30_000)
        ids = page.eval_on_selector_all(
            "#grid > li.tile:has(.view)", "(items) => items.map((item) => Number(item.dataset.id))"
        )
        page.evaluate(WATCH_VIEWER, ids[0])
        clicked = page.evaluate(
            "() => { const t = performance.now();"
            " document.querySelector('#grid > li.tile .view').click(); return t; }"
        )
        page.wait_for_function("() => window.__shownAt > 0", timeout=30_000)
        times["opened, preview not fetched before"].append(
            (page.evaluate("window.__shownAt") - clicked) / 1000
        )
        for step in range(1, steps + 1):
            page.wait_for_load_state("networkidle")
            page.evaluate(WATCH_VIEWER, ids[step])
            page.keyboard.press("ArrowRight")
            page.wait_for_function("() => window.__shownAt > 0", timeout=30_000)
            shown = page.evaluate("window.__shownAt - window.__keyAt")
            times["next image, fetched ahead"].append(shown / 1000)
        context.close()
    assert not elsewhere, f"requests beyond the server: {elsewhere}"
    return times


def report(name: str, times: dict[str, list[float]]) -> None:
    for what, samples in times.items():
        if not samples:
            continue
        ordered = sorted(samples)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        print(
            f"| {name}: {what} | {statistics.median(samples) * 1000:.0f} | {p90 * 1000:.0f}"
            f" | {max(samples) * 1000:.0f} | {len(samples)} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=15, help="page loads per case")
    parser.add_argument("--files", type=int, default=200, help="newest images given a real file")
    parser.add_argument("--steps", type=int, default=5, help="viewer steps per load")
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
            ids = write_files(dsn, data / "media", args.files)
            with Server(dsn, data) as api, sync_playwright() as playwright:
                started = time.perf_counter()
                build_renditions(api.url, ids)
                print(f"built {len(ids) * 2} renditions in {time.perf_counter() - started:.0f} s")
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                measure(browser, f"{api.url}/gallery", 2)  # warm the server's pool and plans
                newest = measure(browser, f"{api.url}/gallery", args.loads)
                searched = measure(browser, f"{api.url}/gallery?q=t1%20-t2", args.loads)
                viewer = measure_viewer(browser, f"{api.url}/gallery", args.loads, args.steps)
                browser.close()
        finally:
            server.stop()
    print(f"\n{args.rows:,} images, {args.loads} loads per case, fresh context each\n")
    print("| page, until | median ms | p90 ms | max ms | samples |\n|---|---:|---:|---:|---:|")
    report("/gallery (newest first)", newest)
    report("/gallery?q=t1 -t2", searched)
    report("viewer", viewer)


if __name__ == "__main__":
    main()
