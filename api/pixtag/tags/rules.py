"""Changing the tag rules, then bringing the stored images in line, in batches.

A change is one short transaction: it takes the rules lock, checks for
cycles and for images that would exceed 100 tags, and writes the rule. From
its commit on, the rules trigger (fixture 007) applies it to every write.
The images already stored are then rewritten synchronously, ``BATCH_SIZE``
at a time, each batch its own transaction: no long lock on all images, and
readers never wait (they read the row versions from before). The counts stay
exact all along, since every batch is an ordinary UPDATE of images.

Before the first batch, the work waits for the transactions writing images
when the rule was committed (``LOCK TABLE images IN SHARE MODE``, released at
once: new writers queue behind it only for that wait): one of them may still
write the old tag, after the batches have passed its row. Statements that
start after the rule's commit see it. If the process dies part-way, the
rule is in force for new writes and sending the same request again
finishes the rewrite (every step is idempotent).

A rename is an alias from the old name to the new one, applied, then
removed (unless kept): the trigger does the replacing and the merging.
"""

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiopg
import psycopg2.errors

from pixtag.db.queries import tags as queries
from pixtag.db.transaction import Transaction
from pixtag.errors import Conflict, NotFound
from pixtag.tags.models import AliasApplied, ImplicationApplied, TagRenamed

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
# Bounds a rule change's transaction and each batch (lock waits included).
RULE_TIMEOUT_MS = 30_000


async def _change[T](pool: aiopg.Pool, work: Callable[[Any], Awaitable[T]]) -> T:
    """``work(cur)`` in one transaction holding the rules lock."""

    async def locked(cur: Any) -> T:
        await cur.execute(queries.LOCK_RULES)
        result: T = await work(cur)
        return result

    return await Transaction(pool, timeout_ms=RULE_TIMEOUT_MS).run(locked)


async def _wait_for_old_writers(pool: aiopg.Pool) -> None:
    try:
        await Transaction(pool, timeout_ms=RULE_TIMEOUT_MS).run(queries.wait_for_writers)
    except psycopg2.errors.LockNotAvailable:
        log.warning("a write to images outlasted the wait for it; applying the tag rule anyway")


async def apply_to_images(pool: aiopg.Pool, tags: list[str]) -> int:
    """Rewrite, in batches, every stored image holding one of ``tags``; return how many."""
    await _wait_for_old_writers(pool)
    total, after = 0, 0
    while True:
        count, last = await Transaction(pool, timeout_ms=RULE_TIMEOUT_MS).run(
            partial(queries.apply_batch, tags=tags, after=after, size=BATCH_SIZE)
        )
        total += count
        if count < BATCH_SIZE or last is None:
            return total
        after = last


async def _refuse_overflow(cur: Any, holding: list[str], tag: str) -> None:
    """Conflict when an image holding one of ``holding`` would get more than 100 tags once
    ``tag`` and what it implies are added."""
    await cur.execute("SELECT cardinality(expand_tags(ARRAY[%(tag)s]))", {"tag": tag})
    (added,) = await cur.fetchone()
    found = await queries.overflowing_image(cur, holding, int(added))
    if found:
        image_id, count = found
        raise Conflict(f"Image <{image_id}> would have {count} tags: at most 100 are allowed")


async def set_alias(pool: aiopg.Pool, alias: str, target: str) -> AliasApplied:
    """Make ``alias`` stand for ``target`` (an alias given is resolved) and apply it."""
    if alias == target:
        raise Conflict(f"Alias cycle: {alias} -> {alias}")

    async def work(cur: Any) -> tuple[str, bool]:
        resolved = await queries.target_of(cur, target) or target
        if resolved == alias:
            raise Conflict(f"Alias cycle: {alias} -> {target} -> {alias}")
        await cur.execute("SELECT 1 FROM tag_implications WHERE tag = %(t)s", {"t": alias})
        moved = await cur.fetchone() is not None
        await queries.make_alias(cur, alias, resolved)
        if moved:
            await _refuse_overflow(cur, [resolved], resolved)
        return resolved, moved

    resolved, moved = await _change(pool, work)
    # The target's images gain the implications the alias had.
    updated = await apply_to_images(pool, [alias, resolved] if moved else [alias])
    return AliasApplied(alias=alias, target=resolved, images_updated=updated)


async def delete_alias(pool: aiopg.Pool, alias: str) -> None:
    """Remove an alias; images keep the target they were given."""
    await _change(pool, lambda cur: queries.delete_alias(cur, alias))


async def set_implication(pool: aiopg.Pool, tag: str, implies: str) -> ImplicationApplied:
    """Make ``tag`` imply ``implies`` (aliases resolved) and apply it."""

    async def work(cur: Any) -> tuple[str, str]:
        source = await queries.target_of(cur, tag) or tag
        implied = await queries.target_of(cur, implies) or implies
        if source == implied:
            raise Conflict(f"Implication cycle: {tag} -> {implies} means {source} -> {source}")
        await queries.add_implication(cur, source, implied)
        await _refuse_overflow(cur, [source], implied)
        return source, implied

    source, implied = await _change(pool, work)
    updated = await apply_to_images(pool, [source])
    return ImplicationApplied(tag=source, implies=implied, images_updated=updated)


async def delete_implication(pool: aiopg.Pool, tag: str, implies: str) -> None:
    """Remove an implication; images keep the tags it gave them."""
    await _change(pool, lambda cur: queries.delete_implication(cur, tag, implies))


async def rename(pool: aiopg.Pool, tag: str, to: str, *, keep_alias: bool) -> TagRenamed:
    """Rename ``tag`` to ``to`` on every image and rule; merge when ``to`` exists."""
    if tag == to:
        raise Conflict(f"Tag <{tag}> already has that name")

    async def work(cur: Any) -> tuple[str, bool]:
        target = await queries.target_of(cur, tag)
        if target is not None:
            raise Conflict(f"Tag <{tag}> is an alias of <{target}>: rename <{target}> instead")
        await cur.execute(queries.SELECT_TAG, {"tag": tag})
        if await cur.fetchone() is None:
            raise NotFound(f"Tag <{tag}> is not found")
        resolved = await queries.target_of(cur, to) or to
        if resolved == tag:
            # `to` was an alias of this very tag: it becomes its name.
            await queries.delete_alias(cur, to)
            resolved = to
        await cur.execute("SELECT 1 FROM tag_implications WHERE tag = %(t)s", {"t": tag})
        moved = await cur.fetchone() is not None
        await queries.make_alias(cur, tag, resolved)
        if moved:
            await _refuse_overflow(cur, [tag, resolved], resolved)
        return resolved, moved

    resolved, moved = await _change(pool, work)
    updated = await apply_to_images(pool, [tag, resolved] if moved else [tag])
    if not keep_alias:
        await delete_alias(pool, tag)
    return TagRenamed(tag=tag, to=resolved, images_updated=updated, alias_kept=keep_alias)
