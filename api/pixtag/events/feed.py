"""Reading the feed: pages of events after a position, waiting for the next ones.

A reader names where it is (``after``: an event's id); a page holds the
events after it that the reader may see (its scope, the types asked), and
the position it read up to, which may lie past its last event (events of
other types were read past). With ``wait``, an empty page waits for the
next commit: while a process has readers waiting, its ``Bell`` looks for a
newer event every ``WATCH_EVERY`` seconds (one probe of the events' index
for all of them) and wakes them when there is one. Writers send no NOTIFY:
PostgreSQL serialises the commits of transactions that notify, which made
concurrent creates a third slower while a reader followed (bench/RESULTS.md,
"Events"). Events committed but held back by an older transaction still
running are looked for again until it ends.
"""

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass

from pixtag.db.database import Database
from pixtag.errors import BadRequest, Gone
from pixtag.events import queries
from pixtag.events.models import POSITION_PATTERN
from pixtag.events.queries import START, Position

log = logging.getLogger(__name__)

# Events one statement reads; a page reads on while they were all of other types.
SCAN = 1000
# How often events held back are looked for again, and the longest wait without a look
# (a notification lost with the listener's connection).
HELD_BACK_POLL = 0.05
LONGEST_WAIT = 1.0
# How often a process with readers waiting looks for a newer event.
WATCH_EVERY = 0.05


class Bell:
    """Wakes the readers of this process waiting for events: a reader takes a ticket before
    it reads, then waits on it (a ring between the read and the wait is not lost). While any
    waits, one task looks for a newer event and rings when it finds one."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._event = asyncio.Event()
        self._waiting = 0
        self._watcher: asyncio.Task[None] | None = None

    def ring(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    def ticket(self) -> asyncio.Event:
        return self._event

    async def wait(self, ticket: asyncio.Event, seconds: float) -> bool:
        """Whether it rang within ``seconds``."""
        self._waiting += 1
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch(), name="events-watch")
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(seconds, 0)):
                    await ticket.wait()
        finally:
            self._waiting -= 1
        return ticket.is_set()

    async def _watch(self) -> None:
        newest: queries.Position | None = None
        while self._waiting:
            try:
                async with self.db.cursor() as cur:
                    found = await queries.newest(cur)
            except Exception as error:  # the readers look again within LONGEST_WAIT anyway
                log.debug("events: looking for new events failed: %s", error)
            else:
                if found != newest:
                    newest = found
                    self.ring()
            await asyncio.sleep(WATCH_EVERY)

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher


class PositionExpired(Gone):
    """Events after the reader's position were removed by the retention."""

    def __init__(self, after: Position, restart: Position) -> None:
        super().__init__(
            f"Events after {after} are no longer kept (PIXTAG_EVENT_RETENTION): read the"
            f" current state (GET /images), then follow from after={restart}"
        )
        self.extensions = {"restart_after": str(restart)}


@dataclass(frozen=True)
class Page:
    lines: list[str]
    position: Position


def parse_position(value: str, where: str = "after") -> Position:
    match = re.fullmatch(POSITION_PATTERN, value)
    if match is None:
        raise BadRequest(f"{where}: not an event id (as 1234-5): {value[:40]!r}")
    return Position(int(match[1]), int(match[2]))


async def start(db: Database, after: str | None) -> Position:
    """Where a reader starts: the position given (410 when events after it are gone),
    ``now`` (the latest event), or, given none, the oldest event kept."""
    async with db.cursor() as cur:
        if after == "now":
            return await queries.latest(cur)
        pruned = await queries.pruned(cur)
    if after is None:
        return pruned or START
    position = parse_position(after)
    if pruned is not None and (position.xid, position.seq) < (pruned.xid, pruned.seq):
        raise PositionExpired(position, pruned)
    return position


async def read_page(
    db: Database, after: Position, *, types: list[str], admin: bool, limit: int
) -> Page:
    """The events after ``after`` the reader sees, up to ``limit``, and where it read to."""
    lines: list[str] = []
    position = after
    while len(lines) < limit:
        async with db.cursor() as cur:
            rows = await queries.read(cur, position, types=types, admin=admin, scan=SCAN)
        for row in rows:
            position = row.position
            if row.visible:
                lines.append(row.document)
                if len(lines) == limit:
                    break
        if len(rows) < SCAN:
            break
    return Page(lines, position)


async def next_page(
    db: Database,
    bell: Bell,
    after: Position,
    *,
    types: list[str],
    admin: bool,
    limit: int,
    wait: float,
) -> Page:
    """A page, waiting up to ``wait`` seconds for one that is not empty."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        ticket = bell.ticket()
        page = await read_page(db, after, types=types, admin=admin, limit=limit)
        remaining = deadline - loop.time()
        if page.lines or remaining <= 0:
            return page
        after = page.position
        async with db.cursor() as cur:
            held = await queries.held_back(cur, after)
        await bell.wait(ticket, min(remaining, HELD_BACK_POLL if held else LONGEST_WAIT))
