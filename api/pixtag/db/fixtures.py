"""The SQL fixtures loader: the only way the schema reaches a database.

Fixture files (``NNN_name.sql``) are applied in name order, each in its own
transaction, and recorded in a ledger with their sha256. A file that changed
after it was applied is refused: the ledger would no longer describe the
schema. The loader is synchronous (plain psycopg2): it runs before the server
accepts requests, or from the command line.
"""

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import psycopg2

# Two processes applying fixtures at once take turns on this lock.
ADVISORY_LOCK_KEY = 0x70697874  # "pixt"


class FixtureError(Exception):
    """A fixture could not be listed or applied; the message says why."""


class State(StrEnum):
    APPLIED = "applied"
    PENDING = "pending"
    CHANGED = "changed"
    MISSING = "missing"  # in the ledger, but the file is gone


@dataclass(frozen=True)
class Fixture:
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


type Ledger = dict[str, tuple[str, datetime]]


@dataclass(frozen=True)
class FixtureStatus:
    name: str
    state: State
    applied_at: datetime | None


def default_directory() -> Path:
    """Where the fixtures are: inside the installed package, else the source checkout."""
    packaged = Path(str(resources.files("pixtag") / "fixtures"))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "fixtures"


def discover(directory: Path) -> list[Fixture]:
    """The fixture files in ``directory``, in name order."""
    if not directory.is_dir():
        raise FixtureError(f"fixtures directory not found: {directory}")
    return [
        Fixture(path.name, path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.sql"))
    ]


@contextmanager
def _connect(dsn: str) -> Iterator[Any]:
    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS fixtures_ledger ("
                " name text PRIMARY KEY, sha256 text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
        yield conn
    finally:
        conn.close()


def _ledger(conn: Any) -> Ledger:
    with conn.cursor() as cur:
        cur.execute("SELECT name, sha256, applied_at FROM fixtures_ledger")
        return {name: (sha, at) for name, sha, at in cur.fetchall()}


def _statuses(
    fixtures: list[Fixture], ledger: dict[str, tuple[str, datetime]]
) -> list[FixtureStatus]:
    result = []
    for fixture in fixtures:
        if fixture.name not in ledger:
            result.append(FixtureStatus(fixture.name, State.PENDING, None))
        else:
            sha, at = ledger[fixture.name]
            state = State.APPLIED if sha == fixture.sha256 else State.CHANGED
            result.append(FixtureStatus(fixture.name, state, at))
    known = {f.name for f in fixtures}
    for name, (_, at) in sorted(ledger.items()):
        if name not in known:
            result.append(FixtureStatus(name, State.MISSING, at))
    return sorted(result, key=lambda s: s.name)


def status(dsn: str, directory: Path | None = None) -> list[FixtureStatus]:
    """Each fixture with its state: applied, pending, changed or missing."""
    fixtures = discover(directory or default_directory())
    with _connect(dsn) as conn:
        return _statuses(fixtures, _ledger(conn))


def apply(dsn: str, directory: Path | None = None, names: Iterable[str] = ()) -> list[str]:
    """Apply pending fixtures (or only ``names``) in name order; return the applied names."""
    fixtures = discover(directory or default_directory())
    wanted = set(names)
    unknown = wanted - {f.name for f in fixtures}
    if unknown:
        raise FixtureError(f"no such fixture: {', '.join(sorted(unknown))}")
    applied: list[str] = []
    with _connect(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        ledger = _ledger(conn)
        changed = [s.name for s in _statuses(fixtures, ledger) if s.state is State.CHANGED]
        if changed:
            raise FixtureError(
                f"fixture changed since it was applied: {', '.join(changed)};"
                " add a new fixture file instead of editing an applied one"
            )
        for fixture in fixtures:
            if fixture.name in ledger or (wanted and fixture.name not in wanted):
                continue
            _apply_one(conn, fixture)
            applied.append(fixture.name)
    return applied


def _apply_one(conn: Any, fixture: Fixture) -> None:
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute(fixture.sql)
            cur.execute(
                "INSERT INTO fixtures_ledger (name, sha256) VALUES (%s, %s)",
                (fixture.name, fixture.sha256),
            )
        conn.commit()
    except psycopg2.Error as error:
        conn.rollback()
        message = error.diag.message_primary or str(error).strip()
        raise FixtureError(f"{fixture.name}: {message}") from error
    finally:
        conn.autocommit = True


def reset(dsn: str) -> None:
    """Drop everything in the database's public schema, ledger included."""
    with _connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE")
        cur.execute("CREATE SCHEMA public")
