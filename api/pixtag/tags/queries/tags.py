"""Tags: counts, autocomplete, one tag's rules, and the statements that change the rules.

The counts live in ``tags`` and ``tag_count_batches`` (kept by triggers on
images, fixtures 005 and 016; read exact through ``tag_counts``); the
rules in ``tag_aliases`` and ``tag_implications``, applied to every written
row by a trigger (fixture 007). Changing a rule is one short transaction
here; bringing the images already stored in line is ``apply_batch``, run
again and again by ``pixtag.tagrules`` until nothing is left.
"""

from contextlib import AbstractAsyncContextManager
from typing import Any

from pixtag.db.chunks import Chunks, declared, small_result
from pixtag.db.database import Database
from pixtag.errors import Conflict, NotFound
from pixtag.tags.queries import counts as tag_counts

# Rule changes take this lock first, so two of them never check for a cycle
# against a graph the other is changing.
LOCK_RULES = "SELECT pg_advisory_xact_lock(hashtext('pixtag tag rules'))"

# row_to_json: compact, like the images' JSON. A plain subquery scan keeps its order.
SELECT_TAGS = f"""
    SELECT row_to_json(r)::text FROM ({tag_counts.exact_top("%(pattern)s", "%(limit)s")}) AS r
"""  # noqa: S608 - constant fragments; values bound

# The named tags (at most 100) with their exact counts, most used first, those starting
# with the pattern if one is bound; a name no image holds is left out.
SELECT_NAMED = f"""
    SELECT row_to_json(r)::text FROM (
        SELECT named.tag, {tag_counts.exact_count("named.tag")} AS image_count
        FROM (SELECT DISTINCT unnest(%(names)s::text[]) AS tag) AS named
        WHERE %(pattern)s::text IS NULL OR named.tag LIKE %(pattern)s::text
    ) AS r
    WHERE r.image_count > 0
    ORDER BY r.image_count DESC, r.tag COLLATE "C"
    LIMIT %(limit)s
"""  # noqa: S608 - constant fragments; values bound

SELECT_TAG = f"""
    SELECT row_to_json(r)::text FROM (
        SELECT %(tag)s::text AS tag,
            {tag_counts.exact_count("%(tag)s")} AS image_count,
            (SELECT target FROM tag_aliases WHERE alias = %(tag)s) AS alias_of,
            ARRAY(SELECT alias FROM tag_aliases WHERE target = %(tag)s
                  ORDER BY alias COLLATE "C") AS aliases,
            ARRAY(SELECT implies FROM tag_implications WHERE tag = %(tag)s
                  ORDER BY implies COLLATE "C") AS implies,
            ARRAY(SELECT tag FROM tag_implications WHERE implies = %(tag)s
                  ORDER BY tag COLLATE "C") AS implied_by
    ) AS r
    WHERE r.image_count > 0
       OR EXISTS (SELECT 1 FROM tag_aliases WHERE alias = %(tag)s OR target = %(tag)s)
       OR EXISTS (SELECT 1 FROM tag_implications WHERE tag = %(tag)s OR implies = %(tag)s)
"""  # noqa: S608 - constant fragments; values bound

RESOLVE = "SELECT resolve_tag_aliases(%(all)s::text[]), resolve_tag_aliases(%(any)s::text[])"

TARGET_OF = "SELECT target FROM tag_aliases WHERE alias = %(tag)s"

# The tag's aliases follow it to its target; its implications move there too
# (an implication of a tag on itself is dropped).
MAKE_ALIAS = """
    UPDATE tag_aliases SET target = %(target)s WHERE target = %(alias)s;
    INSERT INTO tag_aliases (alias, target) VALUES (%(alias)s, %(target)s)
        ON CONFLICT (alias) DO UPDATE SET target = excluded.target, created_at = now();
    INSERT INTO tag_implications (tag, implies)
        SELECT CASE WHEN tag = %(alias)s THEN %(target)s ELSE tag END,
               CASE WHEN implies = %(alias)s THEN %(target)s ELSE implies END
        FROM tag_implications
        WHERE (tag = %(alias)s OR implies = %(alias)s)
          AND NOT (tag = %(alias)s AND implies = %(target)s)
          AND NOT (tag = %(target)s AND implies = %(alias)s)
        ON CONFLICT DO NOTHING;
    DELETE FROM tag_implications WHERE tag = %(alias)s OR implies = %(alias)s;
"""

DELETE_ALIAS = "DELETE FROM tag_aliases WHERE alias = %(alias)s RETURNING target"

INSERT_IMPLICATION = """
    INSERT INTO tag_implications (tag, implies) VALUES (%(tag)s, %(implies)s)
    ON CONFLICT DO NOTHING
"""

DELETE_IMPLICATION = """
    DELETE FROM tag_implications WHERE tag = %(tag)s AND implies = %(implies)s RETURNING tag
"""

# The shortest chain of implications from `start` back to `start`, if any.
FIND_CYCLE = """
    WITH RECURSIVE walk(tag, path) AS (
        SELECT implies, ARRAY[tag, implies] FROM tag_implications WHERE tag = %(start)s
        UNION ALL
        SELECT i.implies, w.path || i.implies
        FROM walk AS w JOIN tag_implications AS i ON i.tag = w.tag
        WHERE w.tag <> %(start)s AND NOT i.implies = ANY (w.path[2:])
    )
    SELECT path FROM walk WHERE tag = %(start)s ORDER BY cardinality(path) LIMIT 1
"""

# An image the rules would give more than 100 tags (found before the rule is kept).
OVERFLOWING_IMAGE = """
    SELECT i.image_id, cardinality(expand_tags(i.tags))
    FROM images AS i
    WHERE i.tags && %(tags)s::text[]
      AND cardinality(i.tags) >= 100 - %(added)s
      AND cardinality(expand_tags(i.tags)) > 100
    LIMIT 1
"""

# Rewrites (by the rules trigger) the next batch of images holding one of `tags`.
APPLY_BATCH = """
    WITH batch AS (
        SELECT i.image_id FROM images AS i
        WHERE i.tags && %(tags)s::text[] AND i.image_id > %(after)s
        ORDER BY i.image_id
        LIMIT %(size)s
        FOR UPDATE
    ), rewritten AS (
        UPDATE images AS i SET tags = i.tags FROM batch
        WHERE i.image_id = batch.image_id
        RETURNING i.image_id
    )
    SELECT count(*), max(image_id) FROM rewritten
"""

# Waits for every transaction writing images (they hold ROW EXCLUSIVE) to end;
# released at once by the caller's commit.
WAIT_FOR_WRITERS = "LOCK TABLE images IN SHARE MODE"
EXPANDED_SIZE = "SELECT cardinality(expand_tags(ARRAY[%(tag)s]))"
IMPLIES_ANY = "SELECT 1 FROM tag_implications WHERE tag = %(tag)s"


def prefix_pattern(prefix: str | None) -> str | None:
    """A LIKE pattern for the tags starting with ``prefix`` (its wildcards escaped)."""
    if not prefix:
        return None
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def open_tags(
    db: Database,
    *,
    prefix: str | None,
    limit: int | None,
    chunk_size: int,
    names: list[str] | None = None,
) -> AbstractAsyncContextManager[Chunks]:
    """The tags, most used first, optionally by prefix, streamed; or only those ``names``
    (a few: one statement)."""
    params = {"pattern": prefix_pattern(prefix), "limit": limit}
    if names:
        return small_result(db, SELECT_NAMED, {**params, "names": names})
    if limit is not None and limit <= chunk_size:
        # An autocomplete: one chunk at most, so one statement, no cursor.
        return small_result(db, SELECT_TAGS, params)
    return declared(db, SELECT_TAGS, params, chunk_size=chunk_size)


async def tag_json(cur: Any, tag: str) -> str:
    """One tag with its count and rules as JSON; NotFound when nothing knows it."""
    await cur.execute(SELECT_TAG, {"tag": tag})
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"Tag <{tag}> is not found")
    return str(row[0])


async def resolve_aliases(
    cur: Any, tags_all: list[str], tags_any: list[str]
) -> tuple[list[str], list[str]]:
    """Both filter lists with each alias replaced by its target, in one round trip."""
    await cur.execute(RESOLVE, {"all": tags_all, "any": tags_any})
    resolved_all, resolved_any = await cur.fetchone()
    return list(dict.fromkeys(resolved_all)), list(dict.fromkeys(resolved_any))


async def target_of(cur: Any, tag: str) -> str | None:
    """The tag an alias stands for, or None when ``tag`` is no alias."""
    await cur.execute(TARGET_OF, {"tag": tag})
    row = await cur.fetchone()
    return None if row is None else str(row[0])


async def find_cycle(cur: Any, start: str) -> list[str] | None:
    """A chain of implications leading from ``start`` back to it, if there is one."""
    await cur.execute(FIND_CYCLE, {"start": start})
    row = await cur.fetchone()
    return None if row is None else list(row[0])


async def make_alias(cur: Any, alias: str, target: str) -> None:
    """Make ``alias`` stand for ``target`` (a tag, not an alias); refuse an implication cycle."""
    await cur.execute(MAKE_ALIAS, {"alias": alias, "target": target})
    cycle = await find_cycle(cur, target)
    if cycle:
        raise Conflict(
            f"Making <{alias}> an alias of <{target}> would close a cycle of implications: "
            + " -> ".join(cycle)
        )


async def delete_alias(cur: Any, alias: str) -> None:
    """Remove an alias; NotFound when there is none."""
    await cur.execute(DELETE_ALIAS, {"alias": alias})
    if await cur.fetchone() is None:
        raise NotFound(f"Tag <{alias}> is not an alias")


async def add_implication(cur: Any, tag: str, implies: str) -> None:
    """Record that ``tag`` implies ``implies``; Conflict if that closes a cycle."""
    await cur.execute(INSERT_IMPLICATION, {"tag": tag, "implies": implies})
    cycle = await find_cycle(cur, tag)
    if cycle:
        raise Conflict("That implication would close a cycle: " + " -> ".join(cycle))


async def delete_implication(cur: Any, tag: str, implies: str) -> None:
    """Remove one implication; NotFound when there is none."""
    await cur.execute(DELETE_IMPLICATION, {"tag": tag, "implies": implies})
    if await cur.fetchone() is None:
        raise NotFound(f"Tag <{tag}> does not imply <{implies}>")


async def overflowing_image(cur: Any, tags: list[str], added: int) -> tuple[int, int] | None:
    """An image holding one of ``tags`` that the rules would give more than 100 tags."""
    await cur.execute(OVERFLOWING_IMAGE, {"tags": tags, "added": added})
    row = await cur.fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


async def apply_batch(cur: Any, tags: list[str], after: int, size: int) -> tuple[int, int | None]:
    """Re-apply the rules to the next ``size`` images holding one of ``tags`` after id ``after``;
    return how many were rewritten and the last id."""
    await cur.execute(APPLY_BATCH, {"tags": tags, "after": after, "size": size})
    count, last = await cur.fetchone()
    return int(count), None if last is None else int(last)


async def wait_for_writers(cur: Any) -> None:
    """Return once every transaction that was writing images has ended."""
    await cur.execute(WAIT_FOR_WRITERS)


async def lock_rules(cur: Any) -> None:
    """Take the rules lock for the rest of the transaction."""
    await cur.execute(LOCK_RULES)


async def expanded_size(cur: Any, tag: str) -> int:
    """How many tags ``tag`` stands for with everything it implies."""
    await cur.execute(EXPANDED_SIZE, {"tag": tag})
    (size,) = await cur.fetchone()
    return int(size)


async def implies_any(cur: Any, tag: str) -> bool:
    """Whether ``tag`` implies another tag."""
    await cur.execute(IMPLIES_ANY, {"tag": tag})
    return await cur.fetchone() is not None


async def exists(cur: Any, tag: str) -> bool:
    """Whether anything knows ``tag`` (an image, a count, a rule)."""
    await cur.execute(SELECT_TAG, {"tag": tag})
    return await cur.fetchone() is not None


# A rename's event, in the rule's transaction (the images' own events follow, batch by batch).
RENAMED = """
    SELECT emit_event(CASE WHEN %(merged)s THEN 'tag.merged' ELSE 'tag.renamed' END,
                      jsonb_build_object('tag', %(tag)s::text, 'to', %(to)s::text))
"""


async def record_renamed(cur: Any, tag: str, to: str, *, merged: bool) -> None:
    await cur.execute(RENAMED, {"tag": tag, "to": to, "merged": merged})


# The tags most often found with a tag, among a bounded sample of its images (read through
# the GIN index on tags, or the table when the tag is common enough that a scan finds the
# sample sooner): the tag an alias stands for, its exact count, how many images were read.
RELATED = f"""
    WITH source AS (
        SELECT coalesce((SELECT target FROM tag_aliases WHERE alias = %(tag)s), %(tag)s::text)
               AS tag
    ), sample AS (
        SELECT i.tags FROM images AS i
        WHERE i.tags @> ARRAY[(SELECT tag FROM source)]
        LIMIT %(sample)s
    ), together AS (
        SELECT t AS tag, count(*) AS images
        FROM sample, unnest(sample.tags) AS t
        WHERE t <> (SELECT tag FROM source)
        GROUP BY t
        ORDER BY images DESC, t COLLATE "C"
        LIMIT %(limit)s
    )
    SELECT (SELECT tag FROM source),
           {tag_counts.exact_count("(SELECT tag FROM source)")},
           (SELECT count(*) FROM sample),
           coalesce((SELECT json_agg(json_build_object('tag', tag, 'images', images)
                                     ORDER BY images DESC, tag COLLATE "C")
                     FROM together), '[]')::text
"""  # noqa: S608 - constant fragments; values bound


async def related(cur: Any, tag: str, *, sample: int, limit: int) -> tuple[str, int, int, str]:
    """The tag (an alias resolved), its image count, the images sampled, and its related
    tags as JSON; NotFound when no image holds it."""
    await cur.execute(RELATED, {"tag": tag, "sample": sample, "limit": limit})
    name, count, sampled, found = await cur.fetchone()
    if not count:
        raise NotFound(f"Tag <{tag}> is not found on any image")
    return str(name), int(count), int(sampled), str(found)
