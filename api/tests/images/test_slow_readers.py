"""Slow readers of GET /images against a real `pixtag serve`: they cannot starve the rest.

Each reader is a real socket with a small receive buffer, reading the listing
a little at a time: the server's writes keep making some progress, so no idle
bound ever fires. The stream cap keeps connections for everything else, the
minimum transfer rate ends each slow stream, and a request that finds every
slot taken is refused with a 503 rather than left waiting.
"""

import contextlib
import http.client
import json
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import quote

import pytest

from tests.support.listing import backends, bulk_insert
from tests.support.processes import ServeProcess, pixtag_env, wait_until

# About 15 MB of listing: far more than every socket buffer between server and reader.
IMAGES = 15_000
READERS = 11  # more than the default cap (pool of 10, less 2)
READ_RATE = 32 * 1024  # bytes per second each slow reader takes
MIN_RATE = 1024 * 1024  # the server's floor for the test: far above READ_RATE
READER_DEADLINE = 60.0  # no reader lasts longer, whatever happens
END_OF_CHUNKS = b"0\r\n\r\n"


@dataclass
class Outcome:
    status: int = 0
    headers: dict[str, str] | None = None
    body: bytes = b""
    complete: bool = False  # a listing ended by its terminating chunk
    ended: bool = False  # the server closed or reset the connection
    seconds: float = 0.0


def slow_read(port: int, started: threading.Event, rate: int, header: str = "") -> Outcome:
    """GET /images on a socket with a small receive buffer, taking ``rate`` bytes a second
    (0: reading nothing once the headers are in); ``header``: one more, as ``Name: value``."""
    outcome = Outcome()
    begin = time.monotonic()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(READER_DEADLINE)
        sock.connect(("127.0.0.1", port))
        extra = f"{header}\r\n".encode() if header else b""
        sock.sendall(
            b"GET /images HTTP/1.1\r\nHost: pixtag\r\nAccept: application/json\r\n"
            + extra
            + b"\r\n"
        )
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(4096)
        head, _, rest = data.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        outcome.status = int(status_line.split()[1])
        outcome.headers = {k.lower(): v.strip() for k, v in (x.split(":", 1) for x in lines)}
        started.set()
        if outcome.status != 200:
            length = int(outcome.headers["content-length"])
            while len(rest) < length:
                rest += sock.recv(4096)
            outcome.body = rest
            outcome.seconds = time.monotonic() - begin
            return outcome
        tail = rest[-len(END_OF_CHUNKS) :]
        deadline = begin + READER_DEADLINE
        while time.monotonic() < deadline:
            if rate == 0:
                # Read nothing; only look, now and then, whether the server gave up.
                sock.settimeout(0.5)
                try:
                    if sock.recv(1, socket.MSG_PEEK) == b"":
                        outcome.ended = True
                        break
                except TimeoutError:
                    continue
                except ConnectionResetError:
                    outcome.ended = True
                    break
                continue
            try:
                piece = sock.recv(2048)
            except ConnectionResetError:
                outcome.ended = True
                break
            if not piece:
                outcome.ended = True
                break
            tail = (tail + piece)[-len(END_OF_CHUNKS) :]
            time.sleep(len(piece) / rate)  # the pace of a slow client
        outcome.complete = tail == END_OF_CHUNKS
        outcome.seconds = time.monotonic() - begin
    return outcome


def get(port: int, path: str, **headers: str) -> tuple[int, float, bytes]:
    """One request on a fresh connection; its status, how long it took, and the body."""
    begin = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        return resp.status, time.monotonic() - begin, resp.read()
    finally:
        conn.close()


@pytest.mark.heavy
def test_slow_readers_get_no_more_than_their_slots_and_point_reads_are_still_answered(
    tmp_path, database_url
):
    bulk_insert(database_url, IMAGES)
    # Refused after 1 s of waiting for a slot: long before any slow stream can be cut
    # (5 s of grace), so the three refusals cannot race a slot coming free.
    # Every reader comes from one address: here one client may take every slot, to show
    # the bound on all of them (test_stream_fairness.py shows each client's share).
    env = pixtag_env(
        PIXTAG_STREAM_MIN_RATE=str(MIN_RATE),
        PIXTAG_POOL_TIMEOUT_MS="1000",
        PIXTAG_SWEEP_INTERVAL="0",
        PIXTAG_MAX_STREAMS_PER_CLIENT="1000",
    )
    serve = ServeProcess(
        "--database-url",
        database_url,
        "--data-dir",
        str(tmp_path / "data"),
        log=tmp_path / "serve.log",
        env=env,
    )
    with serve, ThreadPoolExecutor(READERS) as pool:
        serve.start()
        started = [threading.Event() for _ in range(READERS)]
        # Ten read slowly, one reads nothing at all.
        rates = [READ_RATE] * (READERS - 1) + [0]
        readers = [
            pool.submit(slow_read, serve.port, event, rate)
            for event, rate in zip(started, rates, strict=True)
        ]
        wait_until(lambda: all(e.is_set() for e in started), within=30, what="every answer")

        # Every stream slot is taken by a slow reader: point reads are still answered.
        streaming = [r for r in readers if not r.done()]
        assert len(streaming) >= 8
        for _ in range(20):
            status, seconds, body = get(serve.port, "/images/1")
            assert status == 200, body
            assert json.loads(body)["image_id"] == 1
            assert seconds < 3
        assert not all(r.done() for r in streaming)

        outcomes = [r.result(timeout=READER_DEADLINE + 10) for r in readers]

    refused = [o for o in outcomes if o.status == 503]
    served = [o for o in outcomes if o.status == 200]
    # The default cap leaves two of the ten pooled connections to everything else.
    assert len(served) == 8, [o.status for o in outcomes]
    assert len(refused) == READERS - 8
    for outcome in refused:
        assert outcome.headers is not None
        assert outcome.headers["content-type"].startswith("application/problem+json")
        assert outcome.headers["retry-after"] == "1"
        problem = json.loads(outcome.body)
        assert problem["status"] == 503
        assert problem["detail"] == "Too many listings are being streamed at once; try again"
    # The minimum rate ended each slow stream: an incomplete transfer, long before
    # the 15 MB could have been read at that pace (about 8 minutes).
    for outcome in served:
        assert outcome.ended
        assert not outcome.complete
        assert outcome.seconds < READER_DEADLINE
    assert "aborted: too slow a reader" in serve.output()
    # Nothing is left holding a transaction open.
    assert "idle in transaction" not in [state for _pid, state, _q in backends(database_url)]


def test_a_stalled_reader_is_cut_within_the_grace_whatever_the_kernel_buffers(
    tmp_path, database_url
):
    """The minimum rate (the default, 128 KB/s after 5 s) counts what the client took, not
    what the kernel holds for it: a reader that stops after the headers is cut within
    seconds of the grace, not once megabytes of socket buffers would have been read."""
    bulk_insert(database_url, IMAGES)
    env = pixtag_env(PIXTAG_SWEEP_INTERVAL="0")
    args = ("--database-url", database_url, "--data-dir", str(tmp_path / "data"))
    with ServeProcess(*args, log=tmp_path / "serve.log", env=env) as serve:
        serve.start()
        with socket.create_connection(("127.0.0.1", serve.port)) as sock:
            sock.sendall(b"GET /images HTTP/1.1\r\nHost: pixtag\r\n\r\n")
            assert sock.recv(12) == b"HTTP/1.1 200"
            # Read nothing more until the server gives up on this reader.
            wait_until(
                lambda: "aborted: too slow a reader" in serve.output(), within=60, what="the cut"
            )
            received = b""
            with contextlib.suppress(ConnectionResetError):
                while piece := sock.recv(1 << 16):
                    received += piece
        assert not received.endswith(END_OF_CHUNKS)  # an incomplete transfer
    seconds = float(
        re.search(r"too slow a reader \(\d+ bytes taken in ([\d.]+) s\)", serve.output())[1]
    )
    assert seconds < 10, seconds  # 5 s of grace, then the little it took


ATTACKER = "203.0.113.7"
NEIGHBOUR = "198.51.100.9"
# Ten prefixes and forty negated tags: the most one q may ask.
PATHOLOGICAL = (
    " or ".join(f"b{n}*" for n in range(10)) + " " + " ".join(f"-x{n}" for n in range(40))
)


@pytest.mark.heavy
def test_one_client_with_slow_readers_and_heavy_queries_cannot_stop_another_s_listing(
    tmp_path, database_url
):
    """Twenty slow readers and ten of the heaviest queries from one client, at once: the
    other client's listing and point reads are answered within 2 s."""
    bulk_insert(database_url, IMAGES)
    env = pixtag_env(
        PIXTAG_STREAM_MIN_RATE=str(MIN_RATE),
        PIXTAG_SWEEP_INTERVAL="0",
        PIXTAG_TRUSTED_PROXIES="127.0.0.1/32",
    )
    args = ("--database-url", database_url, "--data-dir", str(tmp_path / "data"))
    serve = ServeProcess(*args, log=tmp_path / "serve.log", env=env)
    attacker = {"X-Forwarded-For": ATTACKER}
    with serve, ThreadPoolExecutor(32) as pool:
        serve.start()
        started = [threading.Event() for _ in range(20)]
        readers = [
            pool.submit(slow_read, serve.port, event, READ_RATE, f"X-Forwarded-For: {ATTACKER}")
            for event in started
        ]
        queries = [
            pool.submit(get, serve.port, f"/images?q={quote(PATHOLOGICAL)}", **attacker)
            for _ in range(10)
        ]
        wait_until(lambda: all(e.is_set() for e in started), within=30, what="every answer")

        for path in ("/images?limit=100", "/images/1", "/images?tag=bulk-tag-7-3"):
            status, seconds, body = get(serve.port, path, **{"X-Forwarded-For": NEIGHBOUR})
            assert status == 200, body
            assert seconds < 2, (path, seconds)
        outcomes = [r.result(timeout=READER_DEADLINE + 10) for r in readers]
        answers = [q.result(timeout=60) for q in queries]

    # The attacker held at most its share (half the eight slots); the rest of its streams
    # were refused at once, and its heavy queries were answered or refused, never hung.
    assert sum(o.status == 200 for o in outcomes) <= 4
    assert {o.status for o in outcomes} <= {200, 429}
    assert {status for status, _, _ in answers} <= {200, 429}
