"""Exact tag counts, read as the folded count plus the pending changes, and the fold.

The count triggers append changes to ``tag_count_changes`` instead of
updating ``tags`` (fixture 016): no writer holds a count row's lock until
its commit. A tag's exact count is ``tags.image_count`` plus the sum of its
pending changes; a tag whose exact count is zero is hidden.

The most used tags matching a prefix stay one index walk: with D the number
of distinct tags with changes pending that match the prefix, the top
``limit + D`` by folded count, together with those pending tags, hold the
top ``limit`` by exact count. Any tag left out has no pending change (its
exact count is its folded count) and comes after at least ``limit`` kept
tags that have none either, in the same order.
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
    ), candidates AS (
        SELECT tag FROM (
            SELECT tag FROM tags
            WHERE ({pattern}::text IS NULL OR tag LIKE {pattern}::text)
            ORDER BY image_count DESC, tag COLLATE "C"
            LIMIT {limit}::bigint + (SELECT count(*) FROM pending)
        ) AS top
        UNION
        SELECT tag FROM pending
    )
    SELECT c.tag, coalesce(t.image_count, 0) + coalesce(p.change, 0) AS image_count
    FROM candidates AS c
    LEFT JOIN tags AS t ON t.tag = c.tag
    LEFT JOIN pending AS p ON p.tag = c.tag
    WHERE coalesce(t.image_count, 0) + coalesce(p.change, 0) > 0
    ORDER BY 2 DESC, c.tag COLLATE "C"
    LIMIT {limit}::bigint
"""

# The exact count of the tag bound as ``{tag}`` (0 when no image holds it).
EXACT_COUNT = """
    (coalesce((SELECT image_count FROM tags WHERE tag = {tag}), 0)
     + coalesce((SELECT sum(change) FROM tag_count_changes WHERE tag = {tag}), 0))::bigint
"""

FOLD = "SELECT fold_tag_counts(%(max_rows)s)"


def exact_top(pattern: str, limit: str) -> str:
    """``EXACT_TOP`` with the names of its bound pattern and limit (``%(name)s`` each)."""
    return EXACT_TOP.replace("{pattern}", pattern).replace("{limit}", limit)


def exact_count(tag: str) -> str:
    """``EXACT_COUNT`` with the name of its bound tag (``%(name)s`` or a column)."""
    return EXACT_COUNT.replace("{tag}", tag)


async def fold(cur: Any, max_rows: int) -> int:
    """Fold up to ``max_rows`` pending count changes into ``tags``; return how many."""
    await cur.execute(FOLD, {"max_rows": max_rows})
    (folded,) = await cur.fetchone()
    return int(folded)
