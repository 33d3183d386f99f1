"""Work that must not run twice at once, whatever the number of server processes: the storage
sweep, the tag count fold and the start-up migrations each take a lock across processes.

Each test holds the lock from a connection of its own, standing for another
worker in the middle of that work, and shows that the work then does not
run here; once the lock is free, it does.
"""

import asyncio
import threading

from pixtag import keys
from pixtag.db import fixtures
from pixtag.storage import sweeper
from pixtag.tags.folding import fold_pending
from tests.support.helpers import create_form, image_bytes, stored_files
from tests.support.processes import async_wait_until, connection, sql, wait_until


async def test_one_process_sweeps_at_a_time(client, settings):
    meta = {"filename": "orphan.png", "tags": []}
    resp = await client.post("/images", data=create_form(meta, image_bytes()))
    assert resp.status == 201
    sql(settings.database_url, "DELETE FROM images")  # its file is now named by no row
    db, storage = client.app[keys.DATABASE], client.app[keys.STORAGE]
    assert len(await stored_files(settings)) == 1

    with connection(settings.database_url, autocommit=True) as other, other.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(hashtextextended('pixtag storage sweep', 0))")
        assert await sweeper.sweep(db, storage, grace=0) is None  # another process sweeps
        assert len(await stored_files(settings)) == 1
    report = await sweeper.sweep(db, storage, grace=0)
    assert report is not None
    assert len(report.orphans) == 1
    assert await stored_files(settings) == {}


async def test_one_process_folds_tag_counts_at_a_time(client, database_url):
    sql(database_url, "INSERT INTO images (filename, tags) VALUES ('a.png', '{sea,sky}')")
    db = client.app[keys.DATABASE]
    with connection(database_url) as other, other.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('pixtag tag count fold'))")
        assert await fold_pending(db) == 0  # another process is folding: left to it
        assert sql(database_url, "SELECT count(*) FROM tag_count_changes")[0][0] == 2
        other.rollback()
    assert await fold_pending(db) == 1
    assert sql(database_url, "SELECT tag, image_count FROM tags ORDER BY tag") == [
        ("sea", 1),
        ("sky", 1),
    ]


async def test_migrations_wait_for_the_process_applying_them(empty_database_url):
    applied: list[str] = []
    with connection(empty_database_url, autocommit=True) as other, other.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (fixtures.ADVISORY_LOCK_KEY,))
        applying = threading.Thread(
            target=lambda: applied.extend(fixtures.apply(empty_database_url))
        )
        applying.start()
        waiting = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND query LIKE 'SELECT pg_advisory_lock%%'"
        )
        await async_wait_until(
            lambda: sql(empty_database_url, waiting)[0][0] == 1,
            within=30,
            what="the second migration waiting for the lock",
        )
        assert not sql(empty_database_url, "SELECT to_regclass('images')")[0][0]
    await asyncio.to_thread(applying.join, 60)
    wait_until(lambda: not applying.is_alive(), within=1, what="the migration done")
    assert applied[0].startswith("001_")
    assert sql(empty_database_url, "SELECT to_regclass('images')")[0][0] == "images"
