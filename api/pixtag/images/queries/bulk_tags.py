"""Bulk tagging: add and remove tags on every image a search or a list of ids selects.

Each batch is one statement, so one transaction of its own: it picks the
next ``size`` images (in id order, past the last one done) that match and
that the change would really change, locks them, rewrites their tags and
returns their ids. A batch is all or nothing; the ones before it stay
committed. Locks are held for one batch only, never for the whole run. The
count triggers (fixture 005) keep ``tags`` exact as each batch commits.

Rewriting keeps the order of the tags an image has: removed tags drop out,
added ones it lacks are appended in the order given.
"""

from typing import Any

NEEDS_CHANGE = "(NOT i.tags @> %(add)s::text[] OR i.tags && %(remove)s::text[])"
BY_IDS = "i.image_id = ANY(%(ids)s::bigint[])"

SELECT_BATCH = """
    SELECT i.image_id FROM images AS i
    WHERE ({condition}) AND {needs_change} AND i.image_id > %(last)s::bigint
    ORDER BY i.image_id
    LIMIT %(size)s
"""

RETAG_BATCH = """
    WITH batch AS ({select} FOR UPDATE)
    UPDATE images AS i
    SET tags = ARRAY(
            SELECT t FROM unnest(i.tags) WITH ORDINALITY AS kept(t, n)
            WHERE NOT t = ANY(%(remove)s::text[]) ORDER BY n)
        || ARRAY(
            SELECT a FROM unnest(%(add)s::text[]) WITH ORDINALITY AS added(a, n)
            WHERE NOT a = ANY(i.tags) ORDER BY n)
    FROM batch
    WHERE i.image_id = batch.image_id
    RETURNING i.image_id
"""


def batch_select(condition: str) -> str:
    """The SELECT of a batch's ids under ``condition`` (SQL over ``images AS i``)."""
    return SELECT_BATCH.format(condition=condition, needs_change=NEEDS_CHANGE)


async def retag_batch(cur: Any, condition: str, params: dict[str, Any]) -> list[int]:
    """Change the next batch (its own transaction: the connection autocommits); its ids."""
    await cur.execute(RETAG_BATCH.format(select=batch_select(condition)), params)
    return sorted(int(row[0]) for row in await cur.fetchall())


async def batch_ids(cur: Any, condition: str, params: dict[str, Any]) -> list[int]:
    """The ids the next batch would change (to report a batch that failed)."""
    await cur.execute(batch_select(condition), params)
    return [int(row[0]) for row in await cur.fetchall()]
