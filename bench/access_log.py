"""Cost of the access log on a point read: aiohttp's logger, pixtag's, and none.

Starts a fresh embedded PostgreSQL with one image, then three servers on it,
each a separate process logging to a file as ``pixtag serve`` does (same
format, INFO): ``aiohttp`` (aiohttp's default ``AccessLogger``, what
``pixtag serve`` used before), ``pixtag`` (``pixtag.logs.AccessLog``, the
default now) and ``off`` (``PIXTAG_ACCESS_LOG=false``). Each run drives
every server in turn (the order rotates) with ``wrk`` on ``GET /images/1``
and reads the server's CPU time from ``/proc`` before and after: the figure
is server CPU microseconds per request, plus requests per second.

    .venv/bin/python bench/access_log.py [--runs 7] [--seconds 5] [--connections 8]
"""

import argparse
import asyncio
import logging
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

VARIANTS = ("aiohttp", "pixtag", "off")
TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.port, args.database_url))
    else:
        bench(args.runs, args.seconds, args.connections)


async def serve(variant: str, port: int, database_url: str) -> None:
    """One server, as ``pixtag serve`` runs it, with the access logger ``variant`` names."""
    from aiohttp import web

    from pixtag import logs, runner
    from pixtag.app import create_app
    from pixtag.settings import Settings

    if variant == "aiohttp":
        logging.basicConfig(level=logging.INFO, format=logs.LOG_FORMAT)  # as before
    else:
        logs.configure()  # as pixtag serve does now
    settings = Settings(
        database_url=database_url,
        data_dir=Path(tempfile.mkdtemp(prefix="pixtag-bench-")),
        sweep_interval=0,
        access_log=variant != "off",
    )
    if variant == "aiohttp":
        app_runner = web.AppRunner(create_app(settings))  # run_app's defaults
    else:
        app_runner = runner.runner(settings)
    await app_runner.setup()
    await web.TCPSite(app_runner, "127.0.0.1", port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await app_runner.cleanup()


def bench(runs: int, seconds: int, connections: int) -> None:
    from pixtag.db import fixtures
    from pixtag.db.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        server = EmbeddedPostgres.start(Path(tmp) / "cluster")
        try:
            dsn = server.uri()
            fixtures.apply(dsn)
            servers = {variant: start(variant, dsn, Path(tmp)) for variant in VARIANTS}
            try:
                measure(servers, runs, seconds, connections)
            finally:
                for proc, _ in servers.values():
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
        finally:
            server.stop()


def start(variant: str, dsn: str, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    log = (tmp / f"{variant}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", variant, "--port", str(port), "--database-url", dsn],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            body = b'{"filename": "a.jpg", "tags": ["bench"]}'
            request = urllib.request.Request(
                f"{url}/images", data=body, headers={"Content-Type": "application/json"}
            )
            urllib.request.urlopen(request, timeout=5).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise
            time.sleep(0.1)
    return proc, port


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure(
    servers: dict[str, tuple[subprocess.Popen[bytes], int]],
    runs: int,
    seconds: int,
    connections: int,
) -> None:
    cpu: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    rate: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for run in range(runs):
        order = VARIANTS[run % 3 :] + VARIANTS[: run % 3]
        for variant in order:
            proc, port = servers[variant]
            before = cpu_seconds(proc.pid)
            out = subprocess.run(
                [
                    "wrk",
                    "-t1",
                    f"-c{connections}",
                    f"-d{seconds}s",
                    f"http://127.0.0.1:{port}/images/1",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            used = cpu_seconds(proc.pid) - before
            requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
            if "Non-2xx" in out:
                raise AssertionError(out)
            cpu[variant].append(used / requests * 1e6)
            rate[variant].append(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)))  # type: ignore[union-attr]
            print(
                f"run {run + 1} {variant:8} {cpu[variant][-1]:7.1f} us/request"
                f" {rate[variant][-1]:8.0f} requests/s",
                flush=True,
            )
    base = statistics.median(cpu["off"])
    print(f"\nmedians over {runs} runs ({seconds} s, {connections} connections each):")
    for variant in VARIANTS:
        used = statistics.median(cpu[variant])
        print(
            f"{variant:8} {used:7.1f} us/request  {statistics.median(rate[variant]):8.0f}"
            f" requests/s  logging: {used - base:5.1f} us ({(used - base) / used:.0%} of the"
            " request's CPU)"
        )


if __name__ == "__main__":
    main()
