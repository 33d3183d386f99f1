"""An album of 1 GiB downloaded as one zip through its share link: the server's memory stays
flat, and the zip is complete.

Run by hand (a few minutes on two cores, 2 GiB of disk):

    .venv/bin/python bench/album_zip.py [--files 100] [--megabytes 10.8]

It uploads ``--files`` PNGs of random pixels (incompressible, about
``--megabytes`` each: 1 GiB by default) to ``pixtag serve`` in its own process
(local storage, an embedded PostgreSQL), puts them in an album, shares it
(``strip_metadata`` false: the zip's own cost, not the building of copies
without metadata), and downloads ``/s/{token}/download`` to a file while
sampling the server's resident memory every 20 ms. Reported: its RSS before,
the peak during the download, the growth, the zip's size and rate, and
that every entry's sha256 is the uploaded file's.
"""

import argparse
import asyncio
import hashlib
import io
import json
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import aiohttp  # noqa: E402
import numpy  # noqa: E402
import psutil  # noqa: E402
from listing_server import Server  # noqa: E402
from PIL import Image  # noqa: E402

from pixtag.db import fixtures  # noqa: E402
from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402


def noise_png(seed: int, megabytes: float) -> bytes:
    side = int((megabytes * 1_000_000 / 3) ** 0.5)
    pixels = numpy.random.default_rng(seed).integers(0, 256, (side, side, 3), dtype=numpy.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


async def run(api: Server, files: int, megabytes: float, work: Path) -> None:
    digests = []
    timeout = aiohttp.ClientTimeout(total=3600)
    async with aiohttp.ClientSession(api.url, timeout=timeout) as http:
        ids = []
        for n in range(files):
            data = noise_png(n, megabytes)
            digests.append(hashlib.sha256(data).hexdigest())
            form = aiohttp.FormData()
            form.add_field("meta", json.dumps({"filename": f"noise-{n:03}.png"}),
                           content_type="application/json")  # fmt: skip
            form.add_field("image", data, filename=f"noise-{n:03}.png", content_type="image/png")
            async with http.post("/images", data=form) as resp:
                assert resp.status == 201, await resp.text()
                ids.append((await resp.json())["image_id"])
        total = sum(p.stat().st_size for p in (api.data_dir / "media").rglob("*") if p.is_file())
        async with http.post("/albums", json={"name": "noise"}) as resp:
            album = await resp.json()
        async with http.post(f"/albums/{album['album_id']}/images", json={"ids": ids}) as resp:
            assert resp.status == 200
        async with http.post(
            f"/albums/{album['album_id']}/shares", json={"strip_metadata": False}
        ) as resp:
            share = await resp.json()
        process = psutil.Process(api.process.pid)
        before = process.memory_info().rss
        peak = before
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.02):
                peak = max(peak, process.memory_info().rss)

        sampler = threading.Thread(target=sample)
        sampler.start()
        target = work / "album.zip"
        started = time.perf_counter()
        try:
            async with http.get(f"{share['url']}/download") as resp:
                assert resp.status == 200, await resp.text()
                with target.open("wb") as out:
                    async for chunk in resp.content.iter_chunked(1 << 20):
                        out.write(chunk)
        finally:
            seconds = time.perf_counter() - started
            done.set()
            sampler.join()
    size = target.stat().st_size
    with zipfile.ZipFile(target) as archive:
        found = []
        for name in archive.namelist():
            digest = hashlib.sha256()
            with archive.open(name) as entry:
                while block := entry.read(1 << 20):
                    digest.update(block)
            found.append(digest.hexdigest())
    assert found == digests, "the zip's files differ from the uploads"
    mib = 1 << 20
    print(f"\n{files} files, {total / mib:,.0f} MiB stored; the zip {size / mib:,.0f} MiB")
    print("| server RSS before | peak during the download | growth | rate |")
    print("|---|---|---|---|")
    print(
        f"| {before / mib:.1f} MiB | {peak / mib:.1f} MiB | {(peak - before) / mib:.1f} MiB"
        f" | {size / mib / seconds:,.0f} MiB/s |"
    )
    print(f"\nevery entry's sha256 is its upload's: {len(found)} of {files}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--megabytes", type=float, default=10.8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        Path(tmp).chmod(0o755)
        server = EmbeddedPostgres.start(Path(tmp) / "postgres")
        try:
            dsn = server.uri()
            fixtures.apply(dsn)
            env = {"PIXTAG_RENDITION_EAGER": "", "PIXTAG_SIMILAR_INDEX": "false"}
            with Server(dsn, Path(tmp) / "data", env=env) as api:
                asyncio.run(run(api, args.files, args.megabytes, Path(tmp)))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
