"""Server memory while processing huge images: six 9000x9000 GIFs flipped in one request.

Run by hand, not in CI (a minute or two on two cores):

    .venv/bin/python bench/image_memory.py [--rounds 2] [--work processing|renditions|both]

Each round starts ``pixtag serve`` (its own process, on a fresh embedded
PostgreSQL; eager renditions off, so only the processing decodes), uploads
six 9000x9000 GIFs (81 megapixels each, the most an upload may have is
89.5), lets one small task warm the processing threads up, then asks for
``flip`` of all six in one ``POST /processing`` and samples the server's RSS
every 20 ms until the six are done. Rounds alternate the default budget
(``PIXTAG_IMAGE_MEMORY_MB=256``) with one too large to ever make a task wait
(the behaviour before the budget); both return freed memory to the system.
Reported: peak RSS growth over the warm baseline, and the growth left after.
Target: peak growth under 300 MB with the default.

``--work renditions`` asks for the six thumbnails at once instead (built on
demand, two rendering threads); ``--work both`` asks for the six flips and
the six thumbnails together: renditions and processing share the budget.
"""

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import aiohttp  # noqa: E402
from listing_server import Server  # noqa: E402
from PIL import Image  # noqa: E402

from pixtag.db import fixtures  # noqa: E402
from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402

MB = 1024 * 1024
SIDE = 9000
BUDGETS = {"budget 256 MiB (default)": "256", "no budget (unbounded)": "1000000"}


def huge_gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("P", (SIDE, SIDE), 3).save(buffer, format="GIF")
    return buffer.getvalue()


async def upload(session: aiohttp.ClientSession, url: str, data: bytes, name: str) -> int:
    form = aiohttp.FormData()
    form.add_field("meta", f'{{"filename": "{name}"}}', content_type="application/json")
    form.add_field("image", data, filename=name, content_type="image/gif")
    async with session.post(f"{url}/images", data=form) as resp:
        assert resp.status == 201, await resp.text()
        return int((await resp.json())["image_id"])


async def run_tasks(session: aiohttp.ClientSession, url: str, ids: list[int]) -> list[int]:
    async with session.post(
        f"{url}/processing", json={"algorithm": "flip", "image_ids": ids}
    ) as resp:
        assert resp.status == 202, await resp.text()
        return list((await resp.json())["task_ids"])


async def finished(session: aiohttp.ClientSession, url: str, tasks: list[int]) -> bool:
    for task in tasks:
        async with session.get(f"{url}/processing/{task}") as resp:
            status = (await resp.json())["status"]
        if status not in ("finished", "error"):
            return False
        assert status == "finished", status
    return True


async def thumbnail(session: aiohttp.ClientSession, url: str, image_id: int) -> None:
    async with session.get(f"{url}/images/{image_id}/renditions/thumb") as resp:
        assert resp.status == 200, await resp.text()
        await resp.read()


async def round_(api: Server, gif: bytes, work: str) -> tuple[float, float, float]:
    async with aiohttp.ClientSession() as session:
        ids = [await upload(session, api.url, gif, f"huge{n}.gif") for n in range(6)]
        small = Image.new("RGB", (64, 64), "red")
        buffer = io.BytesIO()
        small.save(buffer, format="GIF")
        warm = await upload(session, api.url, buffer.getvalue(), "small.gif")
        tasks = await run_tasks(session, api.url, [warm])
        done = False
        while not done:  # a poll of the task's status, not a pause
            done = await finished(session, api.url, tasks)
        await thumbnail(session, api.url, warm)
        baseline = api.psutil.memory_info().rss
        peak = baseline
        tasks = await run_tasks(session, api.url, ids) if work != "renditions" else []
        thumbs = asyncio.gather(
            *(thumbnail(session, api.url, i) for i in (ids if work != "processing" else []))
        )
        started = time.perf_counter()
        done = False
        while not done:
            for _ in range(10):
                peak = max(peak, api.psutil.memory_info().rss)
                await asyncio.sleep(0.02)
            done = await finished(session, api.url, tasks) and thumbs.done()
        await thumbs
        seconds = time.perf_counter() - started
        after = api.psutil.memory_info().rss
    return (peak - baseline) / MB, (after - baseline) / MB, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--work", choices=("processing", "renditions", "both"), default="processing"
    )
    args = parser.parse_args()
    gif = huge_gif()
    print(f"the GIF: {SIDE}x{SIDE}, {len(gif):,} bytes", flush=True)
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in BUDGETS}
    os.environ["PIXTAG_RENDITION_EAGER"] = ""
    for n in range(args.rounds):
        order = list(BUDGETS) if n % 2 == 0 else list(BUDGETS)[::-1]
        for name in order:
            with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
                Path(tmp).chmod(0o755)
                server = EmbeddedPostgres.start(Path(tmp) / "postgres")
                try:
                    fixtures.apply(server.uri())
                    os.environ["PIXTAG_IMAGE_MEMORY_MB"] = BUDGETS[name]
                    with Server(server.uri(), Path(tmp) / "data") as api:
                        results[name].append(asyncio.run(round_(api, gif, args.work)))
                finally:
                    server.stop()
            peak, left, seconds = results[name][-1]
            print(
                f"  round {n + 1} {name}: peak +{peak:.0f} MB, after +{left:.0f} MB,"
                f" {seconds:.1f} s",
                flush=True,
            )
    print(f"\n| {args.work} | peak RSS growth, MB | growth left after, MB | all done, s |")
    print("|---|---|---|---|")
    for name, rows in results.items():
        peak = statistics.median(r[0] for r in rows)
        left = statistics.median(r[1] for r in rows)
        seconds = statistics.median(r[2] for r in rows)
        print(f"| {name} | {peak:.0f} | {left:.0f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
