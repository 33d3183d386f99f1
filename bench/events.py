"""What events cost: point reads and creates on this tree against the commit before events,
in the same run, and how soon a follower of the feed is told of a commit.

Run by hand (two or three minutes on two cores):

    .venv/bin/python bench/events.py [--rounds 6] [--base 32eede3]

``--base`` is checked out as a git worktree (the commit before events); two
``pixtag serve`` (each its own embedded PostgreSQL and data directory), this
tree and the base, and a third on this tree with a consumer following its
feed all along (its writers then notify at each commit), take turns round
after round (the order alternating):
``GET /images/{id}`` of random stored images, then ``POST /images`` of JSON
records with tags, each by 8 concurrent clients. Reported per server: the
median over rounds of requests per second, and of the CPU its processes (the
server and its own PostgreSQL) used per request, with their ratios to the
base. Every create on this tree writes its event (a trigger, an insert into
``events``, a NOTIFY at commit); reads write nothing.

Then the follower: a client long-polls ``GET /events?wait=30`` from its
cursor while 4 writers create images as fast as they can and one more
creates one every 50 ms, timing each of those from the moment its request
is sent (before its commit: an upper bound) to the moment the follower holds
its event. Reported: median, p95 and the largest of those delays.
"""

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import aiohttp  # noqa: E402
from metadata_upload import cpu_seconds  # noqa: E402
from upload import Server, start  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 8
REQUESTS = 1600  # per round and kind, over the clients
SEEDED = 2000


async def seed(server: Server) -> None:
    for n in range(SEEDED // 100):
        await asyncio.gather(*(create(server.http, f"seed-{n}-{k}.jpg") for k in range(100)))


async def create(http: aiohttp.ClientSession, filename: str) -> None:
    body = {"filename": filename, "tags": ["bench", f"t{random.randrange(50)}", "photo"]}
    async with http.post("/images", json=body) as resp:
        await resp.read()
        assert resp.status == 201, resp.status


async def read(http: aiohttp.ClientSession) -> None:
    async with http.get(f"/images/{random.randrange(1, SEEDED + 1)}") as resp:
        await resp.read()
        assert resp.status == 200, resp.status


async def round_of(server: Server, kind: str, n: int) -> tuple[float, float]:
    """Requests per second and CPU seconds per request of one round."""
    per_client = REQUESTS // CLIENTS

    async def client(c: int) -> None:
        for k in range(per_client):
            if kind == "read":
                await read(server.http)
            else:
                await create(server.http, f"r{n}-{c}-{k}.jpg")

    before = sum(cpu_seconds(server))  # the server's and its PostgreSQL's
    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(CLIENTS)))
    took = time.perf_counter() - started
    used = sum(cpu_seconds(server)) - before
    done = per_client * CLIENTS
    return done / took, used / done


async def watch(server: Server, stop: asyncio.Event) -> None:
    """A consumer following the feed, as long as the rounds last."""
    async with server.http.get("/events", params={"after": "now"}) as resp:
        cursor = resp.headers["Pixtag-Cursor"]
    while not stop.is_set():
        params = {"after": cursor, "wait": "5", "limit": "10000"}
        async with server.http.get("/events", params=params) as resp:
            await resp.read()
            cursor = resp.headers["Pixtag-Cursor"]


async def follower(server: Server, samples: int) -> list[float]:
    """Delays from a request's send to its event in a follower's hands."""
    async with server.http.get("/events", params={"after": "now"}) as resp:
        cursor = resp.headers["Pixtag-Cursor"]
    sent: dict[str, float] = {}
    told: dict[str, float] = {}
    stop = asyncio.Event()
    all_told = asyncio.Event()

    async def follow() -> None:
        nonlocal cursor
        while not stop.is_set():
            params = {"after": cursor, "wait": "30", "types": "image.created"}
            async with server.http.get("/events", params=params) as resp:
                text = await resp.text()
                cursor = resp.headers["Pixtag-Cursor"]
            now = time.perf_counter()
            for line in text.splitlines():
                told.setdefault(json.loads(line)["data"]["filename"], now)
            if len(sent) == samples and set(sent) <= set(told):
                all_told.set()

    async def load(w: int) -> None:
        k = 0
        while not stop.is_set():
            await create(server.http, f"load-{w}-{k}.jpg")
            k += 1

    async def timed() -> None:
        for k in range(samples):
            name = f"timed-{k}.jpg"
            sent[name] = time.perf_counter()
            await create(server.http, name)
            await asyncio.sleep(0.05)

    tasks = [asyncio.ensure_future(follow())]
    tasks += [asyncio.ensure_future(load(w)) for w in range(4)]
    await timed()
    await asyncio.wait_for(all_told.wait(), 60)
    stop.set()
    await asyncio.gather(*tasks)
    return [told[name] - sent[name] for name in sent]


async def measure(work: Path, tree: Path, base: str, rounds: int) -> None:
    quiet = {"PIXTAG_RENDITION_EAGER": "", "PIXTAG_SIMILAR_INDEX": "false",
             "PIXTAG_ACCESS_LOG": "false"}  # fmt: skip
    async with AsyncExitStack() as stack:
        runs = [
            (f"base {base}", await start(f"base {base}", work,
                                         {**quiet, "PYTHONPATH": str(tree / "api")}, stack)),
            ("this tree", await start("this tree", work, quiet, stack)),
            ("this tree, followed", await start("this tree followed", work, quiet, stack)),
        ]  # fmt: skip
        for _, server in runs:
            await seed(server)
        # A reader waiting on the third all along: its writers notify at every commit.
        watching = asyncio.Event()
        watcher = asyncio.ensure_future(watch(runs[2][1], watching))
        rates: dict[tuple[str, str], list[float]] = {}
        cpus: dict[tuple[str, str], list[float]] = {}
        for n in range(rounds):
            for kind in ("read", "create"):
                for label, server in runs if n % 2 == 0 else runs[::-1]:
                    rate, cpu = await round_of(server, kind, n)
                    rates.setdefault((label, kind), []).append(rate)
                    cpus.setdefault((label, kind), []).append(cpu)
        print(f"\n{rounds} rounds of {REQUESTS} requests by {CLIENTS} clients, medians")
        print("| server | requests | req/s | ratio | CPU per request, ms | ratio |")
        print("|---|---|---|---|---|---|")
        for kind in ("read", "create"):
            base_rate = statistics.median(rates[(runs[0][0], kind)])
            base_cpu = statistics.median(cpus[(runs[0][0], kind)])
            for label, _ in runs:
                rate = statistics.median(rates[(label, kind)])
                cpu = statistics.median(cpus[(label, kind)])
                print(
                    f"| {label} | {kind} | {rate:,.0f} | {rate / base_rate:.2f}x"
                    f" | {cpu * 1000:.2f} | {cpu / base_cpu:.2f}x |"
                )
        watching.set()
        await watcher
        delays = sorted(await follower(runs[1][1], 200))
        p95 = delays[int(len(delays) * 0.95) - 1]
        print(
            f"\nfollower: {len(delays)} commits under 4 writers: median"
            f" {statistics.median(delays) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms,"
            f" max {delays[-1] * 1000:.0f} ms (from the request's send)"
        )


def main(rounds: int, base: str) -> None:
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        tree = Path(tmp) / "base"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", str(tree), base], check=True, capture_output=True)
        try:
            asyncio.run(measure(Path(tmp), tree, base, rounds))
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], check=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--base", default="32eede3")
    arguments = parser.parse_args()
    main(arguments.rounds, arguments.base)
