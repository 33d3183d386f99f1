"""Renditions benchmark: Pillow against libvips for thumbnails, the preview's format, and a
batch of thumbnails built by a server while it answers point reads.

    .venv/bin/python bench/renditions.py libs [--rounds 5]
    .venv/bin/python bench/renditions.py batch [--images 200] [--rounds 2] [--duration 10]

``libs``: the same inputs (two 24-megapixel JPEGs, two 4000x3000 PNGs) are
made into a 320x320 WebP thumbnail by Pillow (pixtag's
``render_with_pillow``, JPEG draft decoding) and by libvips (pixtag's
``pixtag.renditions.vips``: ``thumbnail``, shrink-on-load), each image in a fresh subprocess so that
its peak RSS is its own; the libraries take turns, ``--rounds`` times, and
medians are reported. Then the preview (1600x1600) encoded as WebP and as
JPEG: time and bytes.

``batch``: ``pixtag serve`` on an embedded PostgreSQL with ``--images``
stored photos (3000x2000 JPEGs) and no eager renditions. wrk reads random
images (``GET /images/{id}``, 4 connections) for ``--duration`` seconds
while nothing else runs, then while ``POST /renditions/rebuild`` builds a
thumbnail of every image; taking turns, ``--rounds`` times. Reported:
requests/s, p50 and p99 of the point reads, and thumbnails per second.
"""

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

THUMB = 320


def make_inputs(directory: Path) -> list[Path]:
    """Detailed inputs: fractal structure in colour with a little sensor-like noise (a flat
    colour or a gradient would flatter the codecs)."""
    made = []
    for n in range(2):
        for size, fmt in (((6000, 4000), "JPEG"), ((4000, 3000), "PNG")):
            path = directory / f"in-{n}-{size[0]}x{size[1]}.{fmt.lower()}"
            picture = detailed(size, n)
            if fmt == "JPEG":
                picture.save(path, format=fmt, quality=90)
            else:
                picture.save(path, format=fmt, compress_level=6)
            made.append(path)
    return made


def detailed(size: tuple[int, int], seed: int) -> "Image.Image":
    from PIL import Image

    extent = (-2.2 + 0.1 * seed, -1.2, 1.0, 1.2)
    bands = [Image.effect_mandelbrot(size, extent, quality) for quality in (60, 120, 240)]
    picture = Image.merge("RGB", bands)
    return Image.blend(picture, Image.effect_noise(size, 30 + seed).convert("RGB"), 0.15)


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: reset by exec, unlike getrusage's, inherited from the
    parent that forked it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(library: str, path: str) -> None:
    """In a subprocess: one thumbnail; print seconds and peak RSS (MB) before and after."""
    from pixtag.renditions.presets import Preset

    preset = Preset("thumb", THUMB, "webp")
    if library == "pillow":
        from pixtag.renditions.render import render_with_pillow

        before = peak_rss_mb()
        start = time.perf_counter()
        data = render_with_pillow(Path(path), preset).data
    else:
        from pixtag.renditions import vips

        before = peak_rss_mb()
        start = time.perf_counter()
        data, _, _ = vips.render(Path(path), preset)
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    print(
        json.dumps({"seconds": seconds, "rss_before": before, "rss_peak": peak, "bytes": len(data)})
    )


def libs(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_inputs(Path(tmp))
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for r in range(rounds):
            order = ["pillow", "pyvips"] if r % 2 == 0 else ["pyvips", "pillow"]
            for path in inputs:
                for library in order:
                    out = subprocess.run(
                        [sys.executable, __file__, "one", library, str(path)],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    kind = "24 MP JPEG" if path.suffix == ".jpeg" else "4000x3000 PNG"
                    results.setdefault((library, kind), []).append(json.loads(out.stdout))
        print(f"load average before/after: {os.getloadavg()}")
        print("| library | input | median ms | peak RSS MB | RSS for the work MB | bytes |")
        print("|---|---|---:|---:|---:|---:|")
        for (library, kind), runs in sorted(results.items(), key=lambda x: (x[0][1], x[0][0])):
            ms = statistics.median(r["seconds"] for r in runs) * 1000
            peak = statistics.median(r["rss_peak"] for r in runs)
            work = statistics.median(r["rss_peak"] - r["rss_before"] for r in runs)
            size = statistics.median(r["bytes"] for r in runs)
            print(f"| {library} | {kind} | {ms:.0f} | {peak:.0f} | {work:.0f} | {size:.0f} |")
        preview_formats(inputs[0], rounds)


def preview_formats(path: Path, rounds: int) -> None:
    """The preview (1600) of a 24 MP JPEG encoded as WebP and as JPEG."""
    from PIL import Image

    with Image.open(path) as image:
        image.draft("RGB", (1600, 1600))
        image = image.convert("RGB")
        image.thumbnail((1600, 1600), Image.Resampling.LANCZOS, reducing_gap=3.0)
    print("\n| preview format | median encode ms | bytes |")
    print("|---|---:|---:|")
    for fmt, options in (("WEBP", {"quality": 80, "method": 4}), ("JPEG", {"quality": 82})):
        times, size = [], 0
        for _ in range(rounds):
            buffer = io.BytesIO()
            start = time.perf_counter()
            image.save(buffer, format=fmt, **options)
            times.append(time.perf_counter() - start)
            size = len(buffer.getvalue())
        print(f"| {fmt} | {statistics.median(times) * 1000:.0f} | {size} |")


def batch(images: int, rounds: int, duration: int, share: str | None) -> None:
    import requests_wrk
    from requests_servers import free_port

    from pixtag.db import fixtures
    from pixtag.db.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        postgres = EmbeddedPostgres.start(work / "pg")
        try:
            dsn = postgres.uri()
            fixtures.apply(dsn)
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTAG_")}
            env.update(
                PYTHONPATH=str(Path(__file__).resolve().parents[1] / "api"),
                PIXTAG_RENDITION_EAGER="",
                PIXTAG_ACCESS_LOG="false",
                PIXTAG_SWEEP_INTERVAL="0",
            )
            if share is not None:
                env["PIXTAG_BACKGROUND_SHARE"] = share
            args = [sys.executable, "-m", "pixtag", "serve", "--host", "127.0.0.1"]
            args += ["--port", str(port), "--data-dir", str(work / "data"), "--database-url", dsn]
            log = (work / "serve.log").open("w")
            server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                base = f"http://127.0.0.1:{port}"
                wait_ready(base)
                photo = io.BytesIO()
                picture = detailed((3000, 2000), 0)
                picture.save(photo, format="JPEG", quality=90)
                for n in range(images):
                    upload(base, photo.getvalue(), f"p{n}.jpg")
                rows = []
                for r in range(rounds):
                    for loaded in [False, True] if r % 2 == 0 else [True, False]:
                        rows.append(measure(base, images, duration, loaded, requests_wrk))
                        row = rows[-1]
                        print(
                            f"  {'batch' if loaded else 'idle'}: {row['rps']:.0f} req/s,"
                            f" p99 {row['p99']:.2f} ms, load {os.getloadavg()[0]:.1f}",
                            flush=True,
                        )
                print(f"load average: {os.getloadavg()}")
                print(f"PIXTAG_BACKGROUND_SHARE: {share or 'default'}")
                print(
                    "| while | req/s | p50 ms | p99 ms | thumbnails/s during reads | whole batch |"
                )
                print("|---|---:|---:|---:|---:|---:|")
                for loaded in (False, True):
                    mine = [row for row in rows if row["loaded"] == loaded]
                    rate = statistics.median(row["rps"] for row in mine)
                    p50 = statistics.median(row["p50"] for row in mine)
                    p99 = statistics.median(row["p99"] for row in mine)
                    thumbs = [row["thumbs_per_s"] for row in mine if row["thumbs_per_s"]]
                    per_s = f"{statistics.median(thumbs):.1f}" if thumbs else "-"
                    during = [row["during"] for row in mine if row["during"] is not None]
                    while_reads = f"{statistics.median(during):.1f}" if during else "-"
                    label = f"{images} thumbnails built" if loaded else "idle"
                    figures = f"{rate:.0f} | {p50:.2f} | {p99:.2f} | {while_reads} | {per_s}"
                    print(f"| {label} | {figures} |")
            finally:
                server.terminate()
                server.wait(timeout=60)
                log.close()
        finally:
            postgres.stop()


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/health/ready", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


def upload(base: str, data: bytes, filename: str) -> None:
    boundary = "bench-renditions-3c1f"
    meta = json.dumps({"filename": filename, "tags": ["bench"]}).encode()
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n'
        f"Content-Type: application/json\r\n\r\n".encode()
        + meta
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="x"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{base}/images",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        assert resp.status == 201


def measure(base: str, images: int, duration: int, loaded: bool, requests_wrk) -> dict:
    started = time.perf_counter()
    progress = None
    if loaded:
        request = urllib.request.Request(
            f"{base}/renditions/rebuild",
            data=json.dumps({"preset": "thumb", "all": True}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as resp:
            progress = base + resp.headers["Location"]
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(
        requests_wrk.CHECK_STATUS % {"expected": 200} + requests_wrk.POINT_READ % {"rows": images}
    )
    out = subprocess.run(
        ["/usr/bin/wrk", "-t1", "-c4", f"-d{duration}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    script.unlink()
    assert "unexpected_status 0" in out, out
    thumbs_per_s = during = None
    if progress is not None:
        with urllib.request.urlopen(progress, timeout=60) as resp:
            during = json.loads(resp.read())["done"] / duration
        while True:
            with urllib.request.urlopen(progress, timeout=60) as resp:
                body = json.loads(resp.read())
            if body["finished"]:
                break
            time.sleep(1.0)  # seldom: each look is a request, and requests hold the batch back
        assert body["done"] == images, body
        thumbs_per_s = images / (time.perf_counter() - started)
        if time.perf_counter() - started > duration * 1.5:
            print(f"note: the batch outlasted the read run ({time.perf_counter() - started:.1f} s)")
    return {
        "loaded": loaded,
        "rps": float(_field(out, r"Requests/sec:\s+([\d.]+)")),
        "p50": _latency(out, "50%"),
        "p99": _latency(out, "99%"),
        "thumbs_per_s": thumbs_per_s,
        "during": during,
    }


def _field(text: str, pattern: str) -> str:
    import re

    match = re.search(pattern, text)
    assert match, text
    return match.group(1)


def _latency(text: str, percentile: str) -> float:
    value = _field(text, rf"{percentile}\s+([\d.]+\w+)")
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * scale
    raise ValueError(value)


# image_json as fixture 003 left it (its composite type without renditions): the "before".
BEFORE = """
CREATE TYPE image_doc_before AS (
    image_id bigint, filename text, tags text[], created_at text, attachment attachment_doc
);
CREATE FUNCTION image_json_before(i images, media_url text) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT row_to_json(ROW(
        i.image_id, i.filename, i.tags, utc_iso(i.created_at),
        CASE WHEN i.content_type IS NULL THEN NULL ELSE ROW(
            CASE WHEN media_url IS NOT NULL AND i.storage_key IS NOT NULL
                 THEN media_url || '/' || i.storage_key
                 ELSE coalesce(media_url || '/' || i.image_id,
                               '/images/' || i.image_id || '/attachment')
                      || '/' || i.filename END,
            i.content_type, i.size, i.sha256, i.width, i.height, utc_iso(i.uploaded_at)
        )::attachment_doc END
    )::image_doc_before)
$$;
"""


def point_sql(rows: int, calls: int, rounds: int) -> None:
    """Database time of one image's JSON, before and after the renditions field."""
    import random

    import psycopg2

    from pixtag.db import fixtures
    from pixtag.db.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory() as tmp:
        postgres = EmbeddedPostgres.start(Path(tmp) / "pg")
        try:
            dsn = postgres.uri()
            fixtures.apply(dsn)
            conn = psycopg2.connect(dsn)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(
                    "INSERT INTO images (filename, tags, content_type, size, sha256, width, height,"
                    " storage_key, uploaded_at)"
                    " SELECT 'p' || n || '.jpg', ARRAY['t' || n %% 100], 'image/jpeg', 1000,"
                    " md5(n::text) || md5(n::text), 3000, 2000,"
                    " n || '/' || substr(md5(n::text), 1, 16) || '-'"
                    " || substr(md5(n::text), 17, 16)"
                    " || '.jpg', now() FROM generate_series(1, %s) AS n",
                    (rows,),
                )
                # Every image has its thumbnail; half of them their preview too.
                cur.execute(
                    "INSERT INTO renditions (image_id, preset, source_sha256, storage_key,"
                    " content_type, size, sha256, width, height)"
                    " SELECT i.image_id, p.preset, i.sha256, i.image_id || '/' ||"
                    " substr(md5(p.preset || i.image_id), 1, 16) || '-' ||"
                    " substr(md5(i.image_id || p.preset), 1, 16) || '.webp', 'image/webp', 100,"
                    " i.sha256, 320, 213"
                    " FROM images AS i, (VALUES ('thumb'), ('preview')) AS p(preset)"
                    " WHERE p.preset = 'thumb' OR i.image_id % 2 = 0"
                )
                cur.execute("DELETE FROM jobs")
                cur.execute("VACUUM ANALYZE")
                cur.execute(BEFORE)
                timings: dict[str, list[float]] = {"before": [], "after": []}
                scans: dict[str, list[float]] = {"before": [], "after": []}
                probes: dict[str, list[float]] = {"before": [], "after": []}
                ids = [random.randint(1, rows) for _ in range(calls)]
                for r in range(rounds):
                    order = ["before", "after"] if r % 2 == 0 else ["after", "before"]
                    for label in order:
                        function = "image_json_before" if label == "before" else "image_json"
                        statement = (
                            f"SELECT {function}(i, '/media')::text FROM images AS i"
                            " WHERE image_id = %s"
                        )
                        start = time.perf_counter()
                        for image_id in ids:
                            cur.execute(statement, (image_id,))
                            cur.fetchone()
                        timings[label].append((time.perf_counter() - start) / calls * 1e6)
                        # The whole collection rendered, as a listing does (database time only).
                        start = time.perf_counter()
                        cur.execute(
                            f"SELECT sum(length({function}(i, '/media')::text)) FROM images AS i"
                        )
                        scans[label].append((time.perf_counter() - start) * 1000)
                        # The same ids in one query: the function's cost without round trips.
                        start = time.perf_counter()
                        cur.execute(
                            f"SELECT sum(length({function}(i, '/media')::text))"
                            " FROM unnest(%s::bigint[]) AS k(id)"
                            " JOIN images AS i ON i.image_id = k.id",
                            (ids,),
                        )
                        probes[label].append((time.perf_counter() - start) / calls * 1e6)
                print(f"load average: {os.getloadavg()}")
                print(
                    f"| image_json, {rows} rows | point read: median us per query, client round"
                    f" trip | {calls} ids in one query: median us per row | all rows: median ms |"
                )
                print("|---|---:|---:|---:|")
                for label, runs in timings.items():
                    point = statistics.median(runs)
                    batch = statistics.median(probes[label])
                    scan = statistics.median(scans[label])
                    print(f"| {label} | {point:.0f} | {batch:.1f} | {scan:.0f} |")
            conn.close()
        finally:
            postgres.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("libs").add_argument("--rounds", type=int, default=5)
    one_parser = sub.add_parser("one")
    one_parser.add_argument("library")
    one_parser.add_argument("path")
    b = sub.add_parser("batch")
    b.add_argument("--images", type=int, default=200)
    b.add_argument("--rounds", type=int, default=2)
    b.add_argument("--duration", type=int, default=10)
    b.add_argument("--share", help="PIXTAG_BACKGROUND_SHARE for the server (default: its own)")
    q = sub.add_parser("pointsql")
    q.add_argument("--rows", type=int, default=20000)
    q.add_argument("--calls", type=int, default=5000)
    q.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    if args.command == "one":
        one(args.library, args.path)
    elif args.command == "libs":
        libs(args.rounds)
    elif args.command == "pointsql":
        point_sql(args.rows, args.calls, args.rounds)
    else:
        batch(args.images, args.rounds, args.duration, args.share)


if __name__ == "__main__":
    main()
