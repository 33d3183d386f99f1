"""Background image work yields to requests.

Thumbnails built by jobs, rebuilds and processing tasks compete with
requests for the same CPUs, and lowering their threads' priority is not
enough on a small machine: libvips does the pixel work on threads of its
own, and a batch of 200 thumbnails took point reads to half their rate
(bench/RESULTS.md, "Renditions"). So while the server is busy answering
requests, each piece of background work is followed by a pause that keeps
it to ``share`` of the time: work that took d seconds holds the next piece
back for d * (1 - share) / share. Busy means the event loop, which does
every request's work in this process, spent at least ``BUSY`` of the time
since the last look working, or wanting to: its thread's time on a CPU and
its time waiting for one (Linux's ``/proc/thread-self/schedstat``), so that a
loop starved of CPU by a crowded machine does not look idle; a trickle of
requests (a health probe, one person browsing) does not make it so. As soon
as the loop is quieter, the pause ends and background work goes at full
speed. A rendition a client is
waiting for is not background work and is never held back.
"""

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator

# How often a held-back piece looks whether the server is still busy.
LOOK_EVERY = 0.05
# A look this many spans old is started again.
STALE = 4
# The event loop working this share of the time: requests are being answered.
BUSY = 0.2
SCHEDSTAT = "/proc/thread-self/schedstat"


def demand() -> float:
    """Seconds the calling thread has run on a CPU or waited on a run queue for one (its CPU
    time alone where the kernel does not say)."""
    try:
        with open(SCHEDSTAT, "rb") as stat:
            running, waiting, _ = stat.read().split()
    except (OSError, ValueError):
        return time.thread_time()
    return (int(running) + int(waiting)) / 1e9


class Pacer:
    """Paces this process's background work against the requests its event loop answers.

    Used from the event loop's thread only: its CPU time is the loop's.
    """

    def __init__(self, share: float) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], not {share}")
        self.pause_per_second = (1 - share) / share
        self._free_at = 0.0
        self._looked_at = time.monotonic()
        self._loop_cpu = demand()
        self._busy = False

    def busy(self) -> bool:
        """Whether the event loop worked at least ``BUSY`` of the time since the last look.

        A look older than a few spans says nothing of now: a new one starts, and the
        server counts as busy until it is done (one span later).
        """
        now = time.monotonic()
        span = now - self._looked_at
        if span > STALE * LOOK_EVERY:
            self._looked_at, self._loop_cpu, self._busy = now, demand(), True
        elif span >= LOOK_EVERY:
            cpu = demand()
            self._busy = (cpu - self._loop_cpu) / span >= BUSY
            self._looked_at, self._loop_cpu = now, cpu
        return self._busy

    async def wait(self) -> None:
        """Return when background work may go on: the pause is over, or the server is not busy."""
        while (wait := self._free_at - time.monotonic()) > 0 and self.busy():  # noqa: ASYNC110
            await asyncio.sleep(min(wait, LOOK_EVERY))  # the loop's CPU time has no event

    def spent(self, seconds: float) -> None:
        """Background work took ``seconds``: the pause after it grows by its share."""
        now = time.monotonic()
        self._free_at = max(self._free_at, now) + seconds * self.pause_per_second

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        """Count the block as background work done."""
        start = time.monotonic()
        try:
            yield
        finally:
            self.spent(time.monotonic() - start)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for background work's turn, then count the block as its work."""
        await self.wait()
        with self.timed():
            yield


# Threads of background image work (renditions, fingerprints) yield the CPU to the event
# loop: a batch of thumbnails may take longer, point reads keep their latency
# (bench/RESULTS.md, "Renditions").
NICENESS = 10


def lower_priority() -> None:
    """Run this worker thread (and the threads it starts) at a lower priority."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: as it is
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
