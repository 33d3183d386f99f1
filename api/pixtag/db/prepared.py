"""Hot statements prepared once per connection, then executed by name.

PostgreSQL plans every statement it is sent; for the point read's
``SELECT image_json(i, ...)`` (an inlined SQL function) planning costs
0.11-0.18 ms, more than the execution. psycopg2 has no protocol-level
prepare, so this uses SQL ``PREPARE``/``EXECUTE``: a ``Statement`` is
written like any other query (``%(name)s`` parameters); the first time a
connection runs it, it is prepared on that connection (one round trip,
once per pooled connection), and from then on only ``EXECUTE name(...)``
is sent, whose plan PostgreSQL caches after a few runs.

A connection whose prepared statements are gone (``DISCARD ALL`` or
``DEALLOCATE`` by someone else) answers ``EXECUTE`` with "prepared
statement does not exist": its record here is forgotten, and outside a
transaction the statement is prepared again and run once more; inside one
the transaction has already failed, and the error goes up like any other
(the next use prepares again). A schema change needs nothing: PostgreSQL
re-plans a prepared statement when an object it uses changes.
"""

import re
import weakref
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions

PARAMETER = re.compile(r"%\((\w+)\)s|%%")
_NAMES: set[str] = set()
# aiopg connection -> the names prepared on it (forgotten with the connection).
_PREPARED: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Statement:
    """A query with ``%(name)s`` parameters, run as a prepared statement."""

    name: str
    prepare: str  # PREPARE <name> AS <the query with $1, $2 ...>
    execute: str  # EXECUTE <name>(%(a)s, %(b)s ...), interpolated by psycopg2


def statement(name: str, sql: str) -> Statement:
    """Declare a prepared statement; ``name`` must be unique in the process."""
    full = f"pixtag_{name}"
    if full in _NAMES:
        raise ValueError(f"a prepared statement is already called {name!r}")
    _NAMES.add(full)
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] is None:
            return "%"  # PREPARE is sent without parameters: no escaping
        if match[1] not in order:
            order.append(match[1])
        return f"${order.index(match[1]) + 1}"

    body = PARAMETER.sub(number, sql)
    arguments = ", ".join(f"%({key})s" for key in order)
    return Statement(
        full,
        f"PREPARE {full} AS {body}",
        f"EXECUTE {full}({arguments})" if order else f"EXECUTE {full}",
    )


async def execute(cur: Any, stmt: Statement, params: dict[str, Any] | None = None) -> None:
    """Run ``stmt`` on the aiopg cursor ``cur``, preparing it on its connection if need be;
    fetch the rows from ``cur`` as usual."""
    conn = cur.connection
    prepared = _PREPARED.get(conn)
    if prepared is None:
        prepared = _PREPARED[conn] = set()
    if stmt.name not in prepared:
        await cur.execute(stmt.prepare)
        prepared.add(stmt.name)
    try:
        await cur.execute(stmt.execute, params)
    except psycopg2.errors.InvalidSqlStatementName:
        prepared.clear()  # whatever removed this one removed the others too
        idle = psycopg2.extensions.TRANSACTION_STATUS_IDLE
        if conn.closed or conn.raw.get_transaction_status() != idle:
            raise
        await cur.execute(stmt.prepare)
        prepared.add(stmt.name)
        await cur.execute(stmt.execute, params)
