"""Exact tag counts, read as the folded count plus the pending changes, and the fold.

The count triggers append changes to ``tag_count_batches`` instead of
updating ``tags`` (fixture 016: one row per statement and change, with
the array of the tags it changes; the view ``tag_count_changes`` has a row
per tag): no writer holds a count row's lock until its commit. A tag's exact
count is ``tags.image_count`` plus the sum of its pending changes; a tag
whose exact count is zero is hidden. The pending rows are few (the fold
empties them every second) and have no index by tag: a reader sums them
once, into a map it looks tags up in.

The most used tags matching a prefix stay one short index walk. With N the
number of tags matching the prefix whose pending changes sum below zero,
the top ``2 * limit + N`` by folded count hold at least ``limit`` tags
whose count cannot have fallen; any tag left out that has no pending
increase has an exact count no higher than its folded one, so it comes
after those ``limit`` (ties go by name, the same way). A tag left out with
a pending increase has a folded count no higher than the last of the top,
so it is a candidate only if its increase can lift it from there to the
``limit``-th count: under a stream of creates nearly every pending tag is
an increase, far from the top, and this leaves them out without looking
each one up (the extra ``limit`` rows of the top widen that gap).
"""

from typing import Any

# A subquery of (tag, image_count): the tags matching the LIKE pattern bound as
# ``{pattern}`` (NULL: every tag), most used first by exact count, then in byte
# order, at most ``{limit}`` of them (NULL: all). Both are bound, so psycopg2
# inlines them and PostgreSQL plans for the actual pattern (walking tags_prefix
# or tags_by_count).
EXACT_TOP = """
    WITH pending AS (
        SELECT tag, sum(change)::bigint AS change FROM tag_count_changes
        WHERE ({pattern}::text IS NULL OR tag LIKE {pattern}::text)
        GROUP BY tag
    ), pending_map AS (
        SELECT coalesce(jsonb_object_agg(tag, change), '{}'::jsonb) AS m FROM pending
    ), falling AS (
        SELECT count(*) AS n FROM pending WHERE change < 0
    ), top AS (
        -- Two branches, one run: with no count falling (the common case) the
        -- limit is a constant, and PostgreSQL picks the walk that suits it.
        SELECT * FROM (
            SELECT tag, image_count FROM tags
            WHERE ({pattern}::text IS NULL OR tag LIKE {pattern}::text)
            ORDER BY image_count DESC, tag COLLATE "C"
            LIMIT 2 * {limit}::bigint
        ) AS steady WHERE (SELECT n FROM falling) = 0
        UNION ALL
        SELECT * FROM (
            SELECT tag, image_count FROM tags
            WHERE ({pattern}::text IS NULL OR tag LIKE {pattern}::text)
            ORDER BY image_count DESC, tag COLLATE "C"
            LIMIT 2 * {limit}::bigint + (SELECT n FROM falling)
        ) AS widened WHERE (SELECT n FROM falling) > 0
    ), top_exact AS (
        -- Pending changes of the top tags looked up in the map, not by a join with
        -- ``pending``: the change table is a queue, its statistics often "empty", and
        -- a join planned for that is quadratic.
        SELECT t.tag, t.image_count AS folded,
            coalesce((SELECT (m ->> t.tag)::bigint FROM pending_map), 0) AS change
        FROM top AS t
    ), bar AS (
        -- floor: the limit-th folded count of the top tags that cannot have fallen
        -- (NULL: every increase is a candidate); ceiling: the highest folded count
        -- of a tag left out of the top (0 when none has a row).
        SELECT
            CASE WHEN {limit}::bigint IS NOT NULL THEN (
                SELECT folded FROM top_exact WHERE change >= 0
                ORDER BY folded DESC OFFSET {limit}::bigint - 1 LIMIT 1
            ) END AS floor,
            CASE WHEN count(*) < 2 * {limit}::bigint + (SELECT n FROM falling) THEN 0
                ELSE greatest(min(folded), 0) END AS ceiling
        FROM top_exact
    ), candidates AS (
        SELECT tag, folded, change FROM top_exact
        UNION ALL
        SELECT r.tag, coalesce((SELECT t.image_count FROM tags AS t WHERE t.tag = r.tag), 0),
            r.change
        FROM (
            SELECT p.tag, p.change FROM pending AS p, bar
            WHERE p.change > 0
              AND (bar.floor IS NULL OR p.change + bar.ceiling >= bar.floor)
              AND NOT EXISTS (SELECT FROM top WHERE top.tag = p.tag)
            OFFSET 0  -- filtered first, then looked up
        ) AS r
    )
    SELECT tag, folded + change AS image_count
    FROM candidates
    WHERE folded + change > 0
    ORDER BY 2 DESC, tag COLLATE "C"
    LIMIT {limit}::bigint
"""

# The exact count of the tag bound as ``{tag}`` (0 when no image holds it).
EXACT_COUNT = """
    (coalesce((SELECT image_count FROM tags WHERE tag = {tag}), 0)
     + coalesce((SELECT sum(change) FROM tag_count_batches WHERE tags @> ARRAY[{tag}::text]), 0)
    )::bigint
"""

# One process folds at a time (the lock is the statement's transaction's): the others
# get -1 and leave the work to it rather than compete for the same rows.
FOLD = """
    SELECT CASE WHEN pg_try_advisory_xact_lock(hashtext('pixtag tag count fold'))
                THEN fold_tag_counts(%(max_rows)s) ELSE -1 END
"""

# Outside a transaction (autocommit); a table another vacuum holds is skipped.
VACUUM = "VACUUM (SKIP_LOCKED) tag_count_batches"


def exact_top(pattern: str, limit: str) -> str:
    """``EXACT_TOP`` with the names of its bound pattern and limit (``%(name)s`` each)."""
    return EXACT_TOP.replace("{pattern}", pattern).replace("{limit}", limit)


def exact_count(tag: str) -> str:
    """``EXACT_COUNT`` with the name of its bound tag (``%(name)s`` or a column)."""
    return EXACT_COUNT.replace("{tag}", tag)


async def fold(cur: Any, max_rows: int) -> int:
    """Fold up to ``max_rows`` pending count changes into ``tags``; return how many, or -1
    when another process is folding."""
    await cur.execute(FOLD, {"max_rows": max_rows})
    (folded,) = await cur.fetchone()
    return int(folded)


async def vacuum(cur: Any) -> None:
    """Reclaim the change rows folds have deleted (a queue's dead rows)."""
    await cur.execute(VACUUM)
