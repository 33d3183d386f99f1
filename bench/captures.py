"""Capture throughput against ``pixtag import`` of the same files, and server RSS meanwhile.

One run: 1,000 distinct ~100 KB PNGs (random pixels) are written to a
temporary folder and served over HTTP by a local aiohttp origin (a thread of
this process). Then, each against a fresh database and data directory on one
embedded PostgreSQL and a real ``pixtag serve`` process:

- import: ``pixtag import DIR --jobs N`` (one upload request per file);
- capture: ``POST /captures/batch`` with the 1,000 URLs, timed until the
  server's queue is empty and every capture is done (N jobs at a time:
  ``PIXTAG_JOBS_CONCURRENCY=N``).

Each phase's server RSS is sampled every 20 ms (from /proc, via psutil):
first, peak and last. The ratio is captures/s over imported files/s
(target >= 0.7).

    .venv/bin/python bench/captures.py [--files 1000] [--jobs 4] [--runs 1]
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import psutil
from aiohttp import web
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from pixtag.db.embedded import EmbeddedPostgres
from tests.support.processes import ServeProcess, pixtag_env, run_pixtag, sql

SIDE = 184  # 184 x 184 x 3 bytes, uncompressed: about 100 KB


def make_files(folder: Path, count: int) -> int:
    """``count`` distinct PNGs of random pixels; their total size."""
    folder.mkdir(parents=True)
    total = 0
    for n in range(count):
        path = folder / f"img-{n:05}.png"
        pixels = os.urandom(SIDE * SIDE * 3)
        Image.frombytes("RGB", (SIDE, SIDE), pixels).save(path, format="PNG", compress_level=0)
        total += path.stat().st_size
    return total


@contextmanager
def origin(folder: Path) -> Iterator[str]:
    """A static file server for ``folder`` on 127.0.0.1, in a thread; yields its URL."""
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        app = web.Application()
        app.router.add_static("/", folder)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["url"] = f"http://127.0.0.1:{runner.addresses[0][1]}"
        stop = asyncio.Event()
        holder["stop"] = stop
        holder["loop"] = asyncio.get_running_loop()
        ready.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    ready.wait(30)
    try:
        yield str(holder["url"])
    finally:
        loop: asyncio.AbstractEventLoop = holder["loop"]  # type: ignore[assignment]
        loop.call_soon_threadsafe(holder["stop"].set)  # type: ignore[attr-defined]
        thread.join(30)


class RssSampler:
    """The RSS of a process, every 20 ms, in a thread."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.samples.append(self.process.memory_info().rss)
            except psutil.Error:
                return

    def __enter__(self) -> "RssSampler":
        self.samples.append(self.process.memory_info().rss)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        mib = [s / 2**20 for s in self.samples]
        return f"first {mib[0]:.0f} MiB, peak {max(mib):.0f} MiB, last {mib[-1]:.0f} MiB"


def server(tmp: Path, name: str, dsn: str, jobs: int) -> ServeProcess:
    env = pixtag_env(
        PIXTAG_CAPTURE_ALLOW="127.0.0.1/32",
        PIXTAG_JOBS_CONCURRENCY=str(jobs),
        PIXTAG_JOBS_POLL_INTERVAL="0.5",
        PIXTAG_ACCESS_LOG="false",
        PIXTAG_SWEEP_INTERVAL="0",
    )
    args = ("--data-dir", str(tmp / f"data-{name}"), "--database-url", dsn)
    return ServeProcess(*args, log=tmp / f"{name}.log", env=env)


def fresh_database(postgres: EmbeddedPostgres, name: str) -> str:
    sql(postgres.uri(), f"DROP DATABASE IF EXISTS {name}")
    sql(postgres.uri(), f"CREATE DATABASE {name}")
    return postgres.uri(name)


def time_import(tmp: Path, dsn: str, folder: Path, jobs: int) -> tuple[float, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    with server(tmp, "import", dsn, jobs) as api:
        api.start()
        with RssSampler(api.proc.pid) as rss:  # type: ignore[union-attr]
            started = time.perf_counter()
            result = run_pixtag(
                "import", str(folder), "--jobs", str(jobs), "--url", api.url, timeout=3600
            )
            elapsed = time.perf_counter() - started
        assert result.returncode == 0, result.stdout + result.stderr
        api.stop()
    return elapsed, rss.summary()


async def capture_all(base: str, urls: list[str]) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/captures/batch", json={"urls": urls}) as resp:
            assert resp.status == 202, await resp.text()
        while True:
            async with http.get(f"{base}/captures/switch") as resp:
                state = await resp.json()
            if state["queued"] == 0 and state["running"] == 0:
                return
            await asyncio.sleep(0.05)


def time_captures(tmp: Path, dsn: str, urls: list[str], jobs: int) -> tuple[float, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    with server(tmp, "capture", dsn, jobs) as api:
        api.start()
        with RssSampler(api.proc.pid) as rss:  # type: ignore[union-attr]
            started = time.perf_counter()
            asyncio.run(capture_all(api.url, urls))
            elapsed = time.perf_counter() - started
        done = sql(dsn, "SELECT status, count(*) FROM jobs GROUP BY status")
        assert done == [("done", len(urls))], done
        api.stop()
    return elapsed, rss.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-captures-") as scratch:
        tmp = Path(scratch)
        folder = tmp / "files"
        total = make_files(folder, options.files)
        print(f"{options.files} files, {total / options.files / 1024:.0f} KiB each on average")
        postgres = EmbeddedPostgres.start(tmp / "postgres")
        ratios = []
        try:
            with origin(folder) as url:
                urls = [f"{url}/{path.name}" for path in sorted(folder.iterdir())]
                for run in range(1, options.runs + 1):
                    imported, import_rss = time_import(
                        tmp / f"run{run}-import",
                        fresh_database(postgres, f"bench_import_{run}"),
                        folder,
                        options.jobs,
                    )
                    captured, capture_rss = time_captures(
                        tmp / f"run{run}-capture",
                        fresh_database(postgres, f"bench_capture_{run}"),
                        urls,
                        options.jobs,
                    )
                    ratio = imported / captured
                    ratios.append(ratio)
                    n = options.files
                    print(
                        f"run {run}: import  {n / imported:7.1f} files/s  server RSS {import_rss}"
                    )
                    print(
                        f"run {run}: capture {n / captured:7.1f} files/s  server RSS {capture_rss}"
                    )
                    print(f"run {run}: captures / import = {ratio:.2f} (target >= 0.7)")
        finally:
            postgres.stop()
        if len(ratios) > 1:
            print(f"median ratio {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
