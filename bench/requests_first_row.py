"""Time to the first row of a small filtered listing, over HTTP, one request at a time.

Each request is timed from just before it is sent to the arrival of the
first body bytes, and to the arrival of the bytes that complete the first
image (the first JSON object of the body, found by counting braces outside
strings). The whole body is then read and checked: it must hold every
matching image, so that a fast error is never taken for a fast listing.
"""

import json
import time

import aiohttp


class FirstObject:
    """Fed a JSON text piece by piece, says when its first object is complete."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escaped = False

    def feed(self, data: bytes) -> bool:
        for byte in data:
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif byte == 0x5C:  # backslash
                    self.escaped = True
                elif byte == 0x22:  # quote
                    self.in_string = False
            elif byte == 0x22:
                self.in_string = True
            elif byte == 0x7B:  # {
                self.depth += 1
            elif byte == 0x7D:  # }
                self.depth -= 1
                if self.depth == 0:
                    return True
        return False


async def time_one(http: aiohttp.ClientSession, path: str, expected: int) -> tuple[float, float]:
    """Milliseconds to the first body byte and to the first complete image."""
    first_byte = first_image = None
    scanner = FirstObject()
    body = bytearray()
    start = time.perf_counter()
    async with http.get(path) as resp:
        async for chunk in resp.content.iter_any():
            arrived = time.perf_counter()
            if first_byte is None:
                first_byte = arrived - start
            if first_image is None and scanner.feed(chunk):
                first_image = arrived - start
            body += chunk
    if resp.status != 200:
        raise RuntimeError(f"GET {path}: {resp.status} {bytes(body[:200])!r}")
    document = json.loads(body)
    images = sum(len(chunk) for chunk in document[:-1])
    if images != expected or document[-1].get("totalImages") != expected:
        raise RuntimeError(f"GET {path}: {images} images, expected {expected}")
    if first_byte is None or first_image is None:
        raise RuntimeError(f"GET {path}: no image in the body")
    return first_byte * 1000, first_image * 1000


async def measure(
    urls: dict[str, str], path: str, expected: int, reps: int
) -> dict[str, list[tuple[float, float]]]:
    """``reps`` timed requests per server, the servers taking turns (a, b, b, a, ...)."""
    labels = list(urls)
    timings: dict[str, list[tuple[float, float]]] = {label: [] for label in labels}
    # Uncompressed, like with like (gzip is requests_gzip's measurement).
    identity = {"Accept-Encoding": "identity"}
    sessions = {label: aiohttp.ClientSession(url, headers=identity) for label, url in urls.items()}
    try:
        for label in labels:  # warm-up: connection open, plan cached, pages read
            for _ in range(3):
                await time_one(sessions[label], path, expected)
        for rep in range(reps):
            for label in labels if rep % 2 == 0 else labels[::-1]:
                timings[label].append(await time_one(sessions[label], path, expected))
    finally:
        for session in sessions.values():
            await session.close()
    return timings
