"""Background image work yields to requests.

Thumbnails built by jobs, rebuilds and processing tasks compete with
requests for the same CPUs, and lowering their threads' priority is not
enough on a small machine: a batch of 200 thumbnails took point reads to
half their rate (bench/RESULTS.md, "Renditions"). So while the server
answers requests, each piece of background work is followed by a pause
that keeps it to ``share`` of the time: work that took d seconds holds the
next piece back for d * (1 - share) / share. As soon as no request has
started since the last look, the pause ends and background work goes at
full speed. A rendition a client is waiting for is not background work and
is never held back.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from pixtag.inflight import InFlight

# How often a held-back piece looks whether requests are still coming.
LOOK_EVERY = 0.05


class Pacer:
    """Paces this process's background work against its requests (``InFlight``)."""

    def __init__(self, in_flight: InFlight, share: float) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], not {share}")
        self.in_flight = in_flight
        self.pause_per_second = (1 - share) / share
        self._free_at = 0.0
        self._seen = in_flight.started
        self._busy_at = -LOOK_EVERY

    def busy(self, now: float) -> bool:
        """Whether a request is being handled, or one started within the last look's span."""
        started = self.in_flight.started
        if self.in_flight.count or started != self._seen:
            self._seen = started
            self._busy_at = now
        return now - self._busy_at < LOOK_EVERY

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for background work's turn, then time the work done inside."""
        loop = asyncio.get_running_loop()
        while (wait := self._free_at - loop.time()) > 0 and self.busy(loop.time()):
            await asyncio.sleep(min(wait, LOOK_EVERY))
        start = loop.time()
        try:
            yield
        finally:
            now = loop.time()
            self._free_at = max(self._free_at, now) + (now - start) * self.pause_per_second
