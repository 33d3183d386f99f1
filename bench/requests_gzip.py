"""The full listing with and without gzip: rows/s and bytes on the wire.

``GET /images?limit=N`` (the first ``--gzip-limit`` seeded images, default
chunks) is read whole, one request at a time, ``reps`` times per server and encoding, taking turns:
the baseline as it answers ``Accept-Encoding: identity``, this tree the same
(the uncompressed path must not get slower), and this tree with
``Accept-Encoding: gzip``. The client counts the bytes as they arrive and
does not decompress while the clock runs; afterwards the body is
decompressed and its totals checked, so an error or a truncated stream is
never taken for a fast one. ``level_table`` times zlib's levels on the
first 1,000 images of that listing, compressed as the server compresses a
chunk: the level is chosen from it.
"""

import json
import statistics
import time
import zlib
from dataclasses import dataclass

import aiohttp

IDENTITY = "identity"
GZIP = "gzip"


@dataclass(frozen=True)
class Transfer:
    seconds: float
    wire_bytes: int
    body_bytes: int
    sample: bytes = b""  # the first 1,000 images' JSON (one default chunk)


async def read_one(
    http: aiohttp.ClientSession, encoding: str, expected: int, gzipped: bool
) -> Transfer:
    """Read the whole listing once; check it; return its time and sizes."""
    wire = bytearray()
    start = time.perf_counter()
    headers = {"Accept-Encoding": encoding}
    async with http.get("/images", params={"limit": str(expected)}, headers=headers) as resp:
        async for chunk in resp.content.iter_any():
            wire += chunk
        seconds = time.perf_counter() - start
        coding = resp.headers.get("Content-Encoding")
    if resp.status != 200:
        raise RuntimeError(f"GET /images: {resp.status} {bytes(wire[:200])!r}")
    if (coding == "gzip") != gzipped:
        raise RuntimeError(f"GET /images with {encoding}: Content-Encoding {coding}")
    body = zlib.decompress(bytes(wire), 31) if gzipped else bytes(wire)
    totals = json.loads(body[body.rindex(b",{") + 1 : -1])
    if totals.get("totalImages") != expected:
        raise RuntimeError(f"GET /images: {totals}, expected {expected} images")
    first_chunk = body[1 : body.index(b"],[") + 1] if b"],[" in body else b""
    return Transfer(seconds, len(wire), len(body), first_chunk)


async def measure(
    urls: dict[str, str], expected: int, reps: int
) -> dict[tuple[str, str], list[Transfer]]:
    """(server, encoding) -> transfers; the last server is the one that compresses."""
    variants = [(label, IDENTITY) for label in urls] + [(list(urls)[-1], GZIP)]
    results: dict[tuple[str, str], list[Transfer]] = {variant: [] for variant in variants}
    # auto_decompress off: the bytes counted are the bytes sent.
    sessions = {
        label: aiohttp.ClientSession(url, auto_decompress=False) for label, url in urls.items()
    }
    try:
        for label, encoding in variants:  # warm-up: pages read, plans cached
            await read_one(sessions[label], encoding, expected, encoding == GZIP)
        for rep in range(reps):
            for label, encoding in variants if rep % 2 == 0 else variants[::-1]:
                transfer = await read_one(sessions[label], encoding, expected, encoding == GZIP)
                results[(label, encoding)].append(transfer)
                print(
                    f"  listing   run {rep + 1} {label:12} {encoding:8}"
                    f" {expected / transfer.seconds:11,.0f} rows/s"
                    f" {transfer.wire_bytes / 1e6:8.1f} MB on the wire",
                    flush=True,
                )
    finally:
        for session in sessions.values():
            await session.close()
    return results


def table(results: dict[tuple[str, str], list[Transfer]], rows: int) -> list[str]:
    """Medians of rows/s and the bytes on the wire, each against the baseline's identity."""
    (base, _), *_ = results
    base_rate = rows / statistics.median(t.seconds for t in results[(base, IDENTITY)])
    base_bytes = statistics.median(t.wire_bytes for t in results[(base, IDENTITY)])
    lines = [
        f"| GET /images?limit={rows} (read whole) | Accept-Encoding | rows/s | ratio"
        " | bytes on the wire | ratio | wire MB/s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (label, encoding), transfers in results.items():
        seconds = statistics.median(t.seconds for t in transfers)
        wire = statistics.median(t.wire_bytes for t in transfers)
        lines.append(
            f"| {label} | {encoding} | {rows / seconds:,.0f} | {rows / seconds / base_rate:.2f}x"
            f" | {wire / 1e6:,.1f} MB | {wire / base_bytes:.2f}x | {wire / seconds / 1e6:.1f} |"
        )
    return lines


def level_table(sample: bytes, levels: tuple[int, ...] = (1, 3, 6, 9)) -> list[str]:
    """zlib's levels on one listing chunk, compressed and sync-flushed as the server does."""
    if not sample:
        return ["(no whole chunk of 1,000 images to time gzip levels on: raise --gzip-limit)"]
    lines = [
        f"| gzip level, one chunk of 1,000 images ({len(sample):,} bytes) | MB/s in"
        " | compressed size |",
        "|---|---:|---:|",
    ]
    for level in levels:
        rounds, started = 0, time.perf_counter()
        while time.perf_counter() - started < 1.0:
            compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
            out = compressor.compress(sample) + compressor.flush(zlib.Z_SYNC_FLUSH)
            rounds += 1
        rate = len(sample) * rounds / (time.perf_counter() - started) / 1e6
        lines.append(f"| {level} | {rate:,.1f} | {len(out) / len(sample):.3f} |")
    return lines
