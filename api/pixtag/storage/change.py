"""The storage rule as one block: put new files, commit the rows, remove by the outcome.

Every write that stores or stops naming a file (an upload, a rendition, a
capture, a processing result, a deletion) reads the same, top to bottom::

    async with Change(db, storage) as change:
        await change.put(path, key, content_type)  # before the rows name it
        cur = await change.begin()
        ...                                         # rows that name ``key``
        change.drop(old_key)                        # a key the rows stop naming

When the block ends, the transaction commits (or rolls back on an error), and
what is removed follows how the COMMIT ended:

- committed: the dropped keys go (nothing names them any more);
- rolled back: the put keys go (nothing ever named them);
- unknown (the connection was lost, or the task cancelled, while COMMIT was
  in flight): nothing is removed, and the block raises ``CommitUnknown``
  (a cancellation stays a cancellation).

A record therefore never names a missing or partly written file. A removal
that fails, or a crash between the COMMIT and the removal, leaves a key no
row names, for ``pixtag.storage.sweeper``, whose only truth is the database.
"""

import asyncio
import logging
from pathlib import Path
from types import TracebackType
from typing import Any

from pixtag.db.database import Database
from pixtag.db.transaction import Outcome, Transaction
from pixtag.storage.backend import Storage

log = logging.getLogger(__name__)


class CommitUnknown(Exception):
    """The connection was lost while the change was committed: it may or may not have been;
    no file was removed."""

    def __init__(self, stored: list[str], dropped: list[str]) -> None:
        super().__init__(f"the outcome of the change storing {stored or 'nothing'} is unknown")
        self.stored = stored
        # What the change stopped naming: to remove once it is known to have committed.
        self.dropped = dropped


async def remove_key(storage: Storage, key: str) -> None:
    """Remove a key no committed row names; a failure only leaves work for the sweeper."""
    try:
        await asyncio.shield(storage.delete(key))
    except Exception:
        log.warning("could not remove %s; the sweeper will", key, exc_info=True)


class Change:
    """One write transaction, with the files it stores and the files it stops naming."""

    def __init__(self, db: Database, storage: Storage, what: str | None = None) -> None:
        self._db = db
        self._what = what
        self._storage = storage
        self._transaction: Transaction | None = None
        self._stored: list[str] = []
        self._dropped: list[str] = []

    async def __aenter__(self) -> "Change":
        return self

    async def put(self, path: Path, key: str, content_type: str) -> None:
        """Store the file at ``path`` under ``key``; it stays only if the change commits."""
        self._stored.append(key)
        await self._storage.put(path, key, content_type)

    async def begin(self) -> Any:
        """Open the transaction (after the files are stored); the cursor to write with."""
        assert self._transaction is None, "a change has one transaction"
        transaction = self._db.transaction()
        cur = await transaction.__aenter__()  # no connection, no BEGIN: it cleaned up itself
        self._transaction = transaction
        return cur

    def drop(self, key: str | None) -> None:
        """Remove ``key`` once the change is known to have committed (None: nothing)."""
        if key is not None:
            self._dropped.append(key)

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        failure = error
        outcome = Outcome.COMMITTED if kind is None else Outcome.ROLLED_BACK
        try:
            if self._transaction is not None:
                await self._transaction.__aexit__(kind, error, traceback)
        except BaseException as commit_error:
            failure = commit_error
        finally:
            if self._transaction is not None:
                outcome = self._transaction.outcome
        if outcome is Outcome.COMMITTED:
            for key in self._dropped:
                await remove_key(self._storage, key)
        elif outcome is Outcome.ROLLED_BACK:
            for key in self._stored:
                await remove_key(self._storage, key)
        else:
            what = self._what or f"recording {', '.join(self._stored)}"
            log.warning("the outcome of %s is unknown; nothing removed", what)
            if isinstance(failure, Exception):
                raise CommitUnknown(self._stored, self._dropped) from failure
        if failure is not None and failure is not error:
            raise failure
