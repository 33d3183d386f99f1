"""Processes starting at once on a fresh database (workers) all get the one signing key."""

import threading

import psycopg2

from pixtag.auth.queries.tokens import SIGNING_KEY_SQL
from tests.support.processes import sql, wait_until


def test_a_start_that_waited_for_another_gets_the_secret_the_other_made(database_url):
    first, second = psycopg2.connect(database_url), psycopg2.connect(database_url)
    try:
        with first.cursor() as cur:
            cur.execute("DELETE FROM server_secrets WHERE name = 'race'")
            first.commit()
            cur.execute(SIGNING_KEY_SQL, {"name": "race", "secret": "made by the first"})
            assert cur.fetchone() == ("made by the first",)  # not committed yet
        got: list[object] = []

        def start() -> None:
            with second.cursor() as cur:
                cur.execute(SIGNING_KEY_SQL, {"name": "race", "secret": "made by the second"})
                got.append(cur.fetchone())
            second.commit()

        waiting = threading.Thread(target=start)
        waiting.start()
        # The second's insert waits for the first's row: let the first commit only then.
        wait_until(
            lambda: (
                sql(
                    database_url,
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE '%%server_secrets%%'",
                )
                == [(1,)]
            ),
            within=30,
            what="the second start to wait",
        )
        first.commit()
        waiting.join(30)
        assert got == [("made by the first",)]
    finally:
        first.close()
        second.close()
