"""wrk runs of the per-request benchmark: the Lua scripts, the request bodies, the parsed figures.

Each script counts the responses whose status is not the expected one (a
``response`` hook, per wrk thread) and prints the total when wrk is done; a
run with any such response, or any socket error, fails: a benchmark of error
responses measures nothing.
"""

import io
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psutil
from PIL import Image

WRK = "/usr/bin/wrk"
THREADS = 1
CONNECTIONS = 32
BOUNDARY = "pixtag-bench-boundary-7f3a9c"
IMAGE_SIZE = 100 * 1024

# Shared by every script: count unexpected statuses per thread, add them up at the end.
CHECK_STATUS = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; first_bad = 0; math.randomseed(42) end
function response(status, headers, body)
  if status ~= %(expected)d then
    bad = bad + 1
    if first_bad == 0 then first_bad = status end
  end
end
function done(summary, latency, requests)
  local total, first = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("bad")
    if first == 0 then first = thread:get("first_bad") end
  end
  io.write(string.format("unexpected_status %%d first %%d\\n", total, first))
end
"""

POINT_READ = """
function request() return wrk.format("GET", "/images/" .. math.random(1, %(rows)d)) end
"""

STATIC_POST = """
local file = io.open("%(body)s", "rb")
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "%(content_type)s"
"""


@dataclass(frozen=True)
class Scenario:
    """One wrk load: its name and its script (which knows the status it expects)."""

    name: str
    script: Path


@dataclass(frozen=True)
class Figures:
    requests_per_s: float
    p99_ms: float
    requests: int = 0
    # CPU seconds of the run: the server process, and PostgreSQL's processes.
    server_cpu: float = 0.0
    postgres_cpu: float = 0.0

    def per_request_us(self) -> tuple[float, float]:
        """Server and PostgreSQL CPU microseconds per request."""
        n = max(self.requests, 1)
        return self.server_cpu * 1e6 / n, self.postgres_cpu * 1e6 / n


def noisy_png(size: int) -> bytes:
    """A real PNG of random pixels, uncompressed, of about ``size`` bytes."""
    side = int((size / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        buffer, format="PNG", compress_level=0
    )
    return buffer.getvalue()


def multipart_body(meta: dict[str, object], image: bytes) -> bytes:
    """``meta`` (JSON) then ``image``, as one multipart/form-data body."""
    return b"".join(
        [
            f"--{BOUNDARY}\r\n".encode(),
            b'Content-Disposition: form-data; name="meta"\r\n',
            b"Content-Type: application/json\r\n\r\n",
            json.dumps(meta).encode(),
            f"\r\n--{BOUNDARY}\r\n".encode(),
            b'Content-Disposition: form-data; name="image"; filename="bench.png"\r\n',
            b"Content-Type: image/png\r\n\r\n",
            image,
            f"\r\n--{BOUNDARY}--\r\n".encode(),
        ]
    )


def scenarios(work: Path, rows: int) -> dict[str, Scenario]:
    """Write the scripts and bodies into ``work``; return the scenarios by name."""
    meta = {"filename": "bench.png", "tags": ["bench", "wrk"]}
    bodies = {
        "create": (json.dumps(meta).encode(), "application/json"),
        "multipart": (
            multipart_body(meta, noisy_png(IMAGE_SIZE)),
            f"multipart/form-data; boundary={BOUNDARY}",
        ),
    }
    scripts = {"read": CHECK_STATUS % {"expected": 200} + POINT_READ % {"rows": rows}}
    for name, (body, content_type) in bodies.items():
        path = work / f"{name}.body"
        path.write_bytes(body)
        post = STATIC_POST % {"body": path, "content_type": content_type}
        scripts[name] = CHECK_STATUS % {"expected": 201} + post
    result = {}
    for name, text in scripts.items():
        script = work / f"{name}.lua"
        script.write_text(text)
        result[name] = Scenario(name, script)
    return result


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse(output: str) -> Figures:
    """Requests/s and p99 from ``wrk --latency`` output; raise on errors it reports."""
    bad = re.search(r"unexpected_status (\d+) first (\d+)", output)
    if bad is None:
        raise RuntimeError(f"wrk printed no status count:\n{output}")
    if int(bad[1]):
        raise RuntimeError(f"{bad[1]} responses with an unexpected status (first: {bad[2]})")
    sockets = re.search(r"Socket errors: (.*)", output)
    if sockets:
        raise RuntimeError(f"wrk socket errors: {sockets[1]}")
    count = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    if rate is None or p99 is None or count is None:
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    return Figures(float(rate[1]), float(p99[1]) * UNITS_MS[p99[2]], int(count[1]))


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of these processes so far (0 for one that is gone)."""
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def tree(pid: int) -> list[int]:
    """A process and its children (a supervisor's workers, a postmaster's backends)."""
    if not pid:
        return []
    return [pid, *(child.pid for child in psutil.Process(pid).children())]


def run(url: str, scenario: Scenario, duration: int, server: int = 0, postgres: int = 0) -> Figures:
    """One wrk run of ``scenario`` against the server at ``url``; with the pids of the
    server and of the postmaster, the CPU time each side spent meanwhile (each with its
    children: a supervisor's workers, the postmaster's backends)."""

    def postgres_pids() -> list[int]:
        return tree(postgres)

    server_pids = tree(server)
    pg_before = postgres_pids()
    before = cpu_seconds(server_pids), cpu_seconds(pg_before)
    command = [
        WRK,
        *("-t", str(THREADS), "-c", str(CONNECTIONS), "-d", f"{duration}s"),
        *("--timeout", "10s", "--latency", "-s", str(scenario.script)),
        f"{url}/images",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    # Backends that left during the run took their CPU time with them: pool
    # connections stay, so that is little.
    pg_after = sorted(set(pg_before) | set(postgres_pids()))
    after = cpu_seconds(sorted(set(server_pids) | set(tree(server)))), cpu_seconds(pg_after)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    figures = parse(done.stdout)
    return Figures(
        figures.requests_per_s,
        figures.p99_ms,
        figures.requests,
        after[0] - before[0],
        after[1] - before[1],
    )
