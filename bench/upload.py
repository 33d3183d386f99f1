"""Upload throughput against a hash+copy baseline, and server memory during a 40 MiB upload.

Starts a real ``pixtag serve`` (embedded PostgreSQL, a temporary data
directory) as a separate process, uploads 1, 10 and 40 MiB images through
``POST /images/{id}/attachment/{filename}`` and times each request from the
first byte sent to the response read. The baseline, in the same run and on
the same disk (the server's media directory), does the disk work an upload
needs with no HTTP at all: read the same file, sha256 it, write it to a
temporary file, rename; once without and once with the fsync the server
does before its rename. The ratios are upload / baseline throughput.

While the 40 MiB uploads run, the server's RSS is sampled from /proc every
2 ms; growth is the peak minus the RSS just before the request.

It runs once per storage backend: local disk, then S3 on a SeaweedFS server
started on loopback ports for the run (the same server the tests use).

With ``--against DIR`` (a checkout of another commit, e.g. from ``git
worktree add``), that tree's server runs beside this one on local storage,
the two taking turns upload for upload, and the throughput ratio is printed.

    make bench-upload            # or: .venv/bin/python bench/upload.py [--runs N] [--storage s3]
    git worktree add /tmp/base HEAD~1 && .venv/bin/python bench/upload.py --against /tmp/base
"""

import argparse
import asyncio
import hashlib
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from tests.support.s3_server import create_bucket, run_seaweed

MIB = 1024 * 1024
SIZES_MIB = (1, 10, 40)


def make_png(path: Path, mib: int) -> int:
    """An uncompressed PNG of random pixels, about ``mib`` MiB; return its size."""
    width = 1024
    height = mib * MIB // (width * 3)
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(
        path, format="PNG", compress_level=0
    )
    return path.stat().st_size


def baseline(source: Path, directory: Path, *, fsync: bool) -> float:
    """Seconds to hash and copy ``source`` into ``directory`` (``fsync``: as the server does)."""
    start = time.perf_counter()
    digest = hashlib.sha256()
    temp = directory / ".baseline.tmp"
    with source.open("rb") as src, temp.open("wb") as dst:
        while chunk := src.read(MIB):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        if fsync:
            os.fsync(dst.fileno())
    # A new name each time, like an upload to a new image (ext4 flushes data
    # when a rename replaces an existing file, which would skew the baseline).
    target = directory / "baseline.png"
    os.replace(temp, target)
    elapsed = time.perf_counter() - start
    digest.hexdigest()
    target.unlink()
    return elapsed


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class RssSampler:
    """The peak RSS of a process while a block runs, sampled by a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(0.002)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes(self.pid))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(http: aiohttp.ClientSession, proc: asyncio.subprocess.Process) -> None:
    for _ in range(1200):
        if proc.returncode is not None:
            raise RuntimeError("the server exited")
        try:
            async with http.get("/images/1") as resp:
                if resp.status in (200, 404):
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def upload(http: aiohttp.ClientSession, source: Path, size: int) -> float:
    """Seconds for one attachment upload of ``source`` (record created beforehand, untimed)."""
    async with http.post("/images", json={"filename": "bench.png"}) as resp:
        image_id = (await resp.json())["image_id"]
    with source.open("rb") as file:
        form = aiohttp.FormData()
        form.add_field("image", file, filename="bench.png", content_type="image/png")
        start = time.perf_counter()
        async with http.post(f"/images/{image_id}/attachment/bench.png", data=form) as resp:
            body = await resp.json()
        elapsed = time.perf_counter() - start
    assert resp.status == 201, body
    assert body["attachment"]["size"] == size
    return elapsed


@dataclass
class Server:
    """A running ``pixtag serve`` under test, and what was measured on it."""

    label: str
    proc: asyncio.subprocess.Process
    http: aiohttp.ClientSession
    data_dir: Path
    uploads: dict[int, list[float]] = field(default_factory=dict)
    growth: list[int] = field(default_factory=list)


async def main(runs: int, storages: list[str], against: Path | None) -> None:
    for storage in storages:
        print(f"\n### storage: {storage}\n")
        with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
            if storage == "local":
                await bench(Path(tmp), runs, {}, against)
                continue
            with run_seaweed(Path(tmp) / "seaweed") as s3:
                create_bucket(s3, "bench")
                env = {
                    "PIXTAG_STORAGE": "s3://bench/uploads",
                    "PIXTAG_S3_ENDPOINT_URL": s3.endpoint_url,
                    "PIXTAG_S3_ACCESS_KEY_ID": s3.access_key_id,
                    "PIXTAG_S3_SECRET_ACCESS_KEY": s3.secret_access_key,
                }
                await bench(Path(tmp), runs, env, None)


async def start(label: str, work: Path, env: dict[str, str], stack: AsyncExitStack) -> Server:
    """A server with its own data directory; ``env`` may point PYTHONPATH at another tree."""
    data_dir = work / label.replace(" ", "-") / "data"
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "pixtag", "serve", "--host", "127.0.0.1"),
        *("--port", str(port), "--data-dir", str(data_dir)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, **env},
    )

    async def stop() -> None:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)

    stack.push_async_callback(stop)
    timeout = aiohttp.ClientTimeout(total=300)
    http = aiohttp.ClientSession(f"http://127.0.0.1:{port}", timeout=timeout)
    await stack.enter_async_context(http)
    await wait_ready(http, proc)
    return Server(label, proc, http, data_dir)


async def bench(work: Path, runs: int, env: dict[str, str], against: Path | None) -> None:
    async with AsyncExitStack() as stack:
        servers = [await start("this tree", work, env, stack)]
        if against is not None:
            baseline_env = {**env, "PYTHONPATH": str(against / "api")}
            servers.append(await start(f"baseline {against.name}", work, baseline_env, stack))
        await report(servers, work, runs)


async def report(servers: list[Server], work: Path, runs: int) -> None:
    # The baseline writes where the first server receives files (its spool directory).
    media = servers[0].data_dir / "media"
    if not media.is_dir():
        media = servers[0].data_dir / "incoming"
        media.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {runs} runs per size, medians")
    plain: dict[int, list[float]] = {}
    synced: dict[int, list[float]] = {}
    sizes: dict[int, int] = {}
    for mib in SIZES_MIB:
        source = work / f"{mib}mib.png"
        sizes[mib] = size = make_png(source, mib)
        for server in servers:
            await upload(server.http, source, size)  # warm-up
            server.uploads[mib] = []
        plain[mib], synced[mib] = [], []
        for run in range(runs):
            # Each measurement starts with no dirty pages left by the previous one.
            os.sync()
            plain[mib].append(baseline(source, media, fsync=False))
            os.sync()
            synced[mib].append(baseline(source, media, fsync=True))
            # Servers alternate which goes first, run after run.
            for server in servers[run % 2 :] + servers[: run % 2]:
                os.sync()
                pid = server.proc.pid
                before = rss_bytes(pid)
                with RssSampler(pid) as sampler:
                    server.uploads[mib].append(await upload(server.http, source, size))
                if mib == SIZES_MIB[-1]:
                    server.growth.append(sampler.peak - before)
    for server in servers:
        print(f"\n{server.label}:\n")
        print("| file | upload | hash+copy | ratio | hash+copy+fsync | ratio |")
        print("|---|---|---|---|---|---|")
        for mib in SIZES_MIB:
            size = sizes[mib]
            up, base, base_sync = (
                size / statistics.median(t) / MIB
                for t in (server.uploads[mib], plain[mib], synced[mib])
            )
            print(
                f"| {size / MIB:.1f} MiB | {up:.0f} MiB/s | {base:.0f} MiB/s | {up / base:.2f}x"
                f" | {base_sync:.0f} MiB/s | {up / base_sync:.2f}x |"
            )
        growth = server.growth
        print(
            f"\nserver RSS growth during a {SIZES_MIB[-1]} MiB upload: median"
            f" {statistics.median(growth) / MIB:.1f} MB, max {max(growth) / MIB:.1f} MB"
            f" (RSS before the last: {rss_bytes(server.proc.pid) / MIB:.0f} MB)"
        )
    if len(servers) == 2:
        print()
        for mib in SIZES_MIB:
            new, old = (statistics.median(server.uploads[mib]) for server in servers)
            print(f"{mib} MiB: this tree / baseline throughput = {old / new:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--storage", choices=["local", "s3"], action="append")
    parser.add_argument(
        "--against",
        type=Path,
        help="a checkout of another commit (git worktree) whose server runs beside this one"
        " (local storage), alternating upload for upload",
    )
    args = parser.parse_args()
    against = args.against.resolve() if args.against else None
    asyncio.run(main(args.runs, args.storage or ["local", "s3"], against))
