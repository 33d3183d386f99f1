"""Prepared statements: prepared once per connection, and right when PostgreSQL forgot them."""

import aiopg
import psycopg2.errors
import pytest

from pixtag.db import prepared

SQUARE = prepared.statement("test_square", "SELECT %(n)s::int * %(n)s, 'a%%b' || %(s)s")
NOTHING = prepared.statement("test_nothing", "SELECT 'no parameters'")


async def names(cur: object) -> list[str]:
    await cur.execute("SELECT name FROM pg_prepared_statements ORDER BY name")  # type: ignore[attr-defined]
    return [row[0] for row in await cur.fetchall()]  # type: ignore[attr-defined]


def test_the_statement_is_numbered_once_per_name_and_percent_is_unescaped() -> None:
    assert SQUARE.prepare == "PREPARE pixtag_test_square AS SELECT $1::int * $1, 'a%b' || $2"
    assert SQUARE.execute == "EXECUTE pixtag_test_square(%(n)s, %(s)s)"
    assert NOTHING.execute == "EXECUTE pixtag_test_nothing"
    with pytest.raises(ValueError, match="already called"):
        prepared.statement("test_square", "SELECT 1")


async def test_prepared_on_first_use_then_only_executed(database_url: str) -> None:
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        assert await names(cur) == []
        await prepared.execute(cur, SQUARE, {"n": 7, "s": "c"})
        assert await cur.fetchone() == (49, "a%bc")
        await prepared.execute(cur, SQUARE, {"n": 3, "s": None})
        assert await cur.fetchone() == (9, None)
        await prepared.execute(cur, NOTHING)
        assert await cur.fetchone() == ("no parameters",)
        assert await names(cur) == ["pixtag_test_nothing", "pixtag_test_square"]
    # A new connection has none: it prepares its own.
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        assert await names(cur) == []
        await prepared.execute(cur, SQUARE, {"n": 2, "s": "d"})
        assert await cur.fetchone() == (4, "a%bd")


async def test_statements_discarded_under_the_connection_are_prepared_again(
    database_url: str,
) -> None:
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await prepared.execute(cur, SQUARE, {"n": 5, "s": ""})
        assert await cur.fetchone() == (25, "a%b")
        await cur.execute("DISCARD ALL")
        # Outside a transaction: prepared again and run, the caller sees nothing.
        await prepared.execute(cur, SQUARE, {"n": 6, "s": ""})
        assert await cur.fetchone() == (36, "a%b")
        await cur.execute("DEALLOCATE ALL")
        # Inside one, the transaction has failed: the error goes up ...
        await cur.execute("BEGIN")
        with pytest.raises(psycopg2.errors.InvalidSqlStatementName):
            await prepared.execute(cur, SQUARE, {"n": 1, "s": ""})
        await cur.execute("ROLLBACK")
        # ... and the next use prepares it again.
        await cur.execute("BEGIN")
        await prepared.execute(cur, SQUARE, {"n": 8, "s": ""})
        assert await cur.fetchone() == (64, "a%b")
        await cur.execute("COMMIT")
        assert await names(cur) == ["pixtag_test_square"]
