"""What fingerprinting costs an upload: 24-megapixel JPEGs uploaded with and without it.

Run by hand (about two minutes on two cores):

    .venv/bin/python bench/similar_upload.py [--uploads 12]

Two ``pixtag serve`` (each its own embedded PostgreSQL and data directory),
one with ``PIXTAG_SIMILAR_INDEX=true`` (the default) and one with ``false``,
take turns: each upload is a 6000x4000 JPEG (a photograph enlarged, about
5 MB, its bytes changed per upload), sent as ``POST /images`` multipart and
timed from the first byte sent to the answer read. The fingerprint is a
background job, so the indexed server's uploads also compete with the
fingerprints of the uploads before them: a batch, as people upload. Reported:
the median upload time of each server, their ratio, and how long the last
fingerprint took to land after the batch.
"""

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import aiohttp  # noqa: E402
import skimage.data  # noqa: E402
from PIL import Image  # noqa: E402
from upload import start  # noqa: E402


def photo(seed: int) -> bytes:
    with Image.open(Path(skimage.data.__file__).parent / "astronaut.png") as image:
        big = image.convert("RGB").resize((6000, 4000), Image.Resampling.BICUBIC)
    big.putpixel((seed % 6000, 0), (seed % 256, 0, 0))
    buffer = io.BytesIO()
    big.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


async def timed_upload(http: aiohttp.ClientSession, data: bytes, n: int) -> float:
    form = aiohttp.FormData()
    form.add_field("meta", f'{{"filename": "p{n}.jpg"}}', content_type="application/json")
    form.add_field("image", data, filename=f"p{n}.jpg", content_type="image/jpeg")
    started = time.perf_counter()
    async with http.post("/images", data=form) as resp:
        await resp.read()
        assert resp.status == 201, resp.status
    return time.perf_counter() - started


async def main(uploads: int) -> None:
    files = [photo(n) for n in range(uploads * 2 + 2)]
    median = statistics.median(map(len, files))
    print(f"{len(files)} JPEGs of 6000x4000, median {median:,.0f} bytes")
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        async with AsyncExitStack() as stack:
            on = await start("index on", Path(tmp), {"PIXTAG_SIMILAR_INDEX": "true"}, stack)
            off = await start("index off", Path(tmp), {"PIXTAG_SIMILAR_INDEX": "false"}, stack)
            times: dict[str, list[float]] = {"index on": [], "index off": []}
            for server in (on, off):  # warm: connections, imports, the first fingerprint
                await timed_upload(server.http, files.pop(), 0)
            for n in range(uploads):
                for server in (on, off) if n % 2 == 0 else (off, on):
                    times[server.label].append(await timed_upload(server.http, files.pop(), n))
            batch_end = time.perf_counter()
            while True:  # the fingerprints of the batch landing
                async with on.http.get("/similar/index") as resp:
                    progress = await resp.json()
                if progress["pending"] == 0:
                    break
                await asyncio.sleep(0.2)
            settled = time.perf_counter() - batch_end
    on_median = statistics.median(times["index on"])
    off_median = statistics.median(times["index off"])
    print(f"\n| server | median upload, ms | of {uploads} uploads, alternated |")
    print("|---|---|---|")
    print(f"| PIXTAG_SIMILAR_INDEX=false | {off_median * 1000:.0f} | |")
    print(f"| PIXTAG_SIMILAR_INDEX=true | {on_median * 1000:.0f} | {on_median / off_median:.2f}x |")
    print(
        f"\nfingerprints indexed: {progress['indexed']} of {progress['with_file']},"
        f" the last {settled:.1f} s after the batch"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=12)
    asyncio.run(main(parser.parse_args().uploads))
