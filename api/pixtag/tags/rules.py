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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg2.errors

from pixtag.db.database import Database
from pixtag.errors import Conflict, NotFound
from pixtag.tags.models import AliasApplied, ImplicationApplied, TagRenamed
from pixtag.tags.queries import tags as queries

log = logging.getLogger(__name__)

BATCH_SIZE = 2000
# Bounds a rule change's transaction and each batch (lock waits included).
RULE_TIMEOUT_MS = 30_000


@asynccontextmanager
async def _rules_change(db: Database) -> AsyncIterator[Any]:
    """One transaction holding the rules lock; its cursor."""
    async with db.transaction(RULE_TIMEOUT_MS) as cur:
        await queries.lock_rules(cur)
        yield cur


async def _wait_for_old_writers(db: Database) -> None:
    try:
        async with db.transaction(RULE_TIMEOUT_MS) as cur:
            await queries.wait_for_writers(cur)
    except psycopg2.errors.LockNotAvailable:
        log.warning("a write to images outlasted the wait for it; applying the tag rule anyway")


async def apply_to_images(db: Database, tags: list[str]) -> int:
    """Rewrite, in batches, every stored image holding one of ``tags``; return how many."""
    await _wait_for_old_writers(db)
    total, after = 0, 0
    while True:
        async with db.transaction(RULE_TIMEOUT_MS) as cur:
            count, last = await queries.apply_batch(cur, tags=tags, after=after, size=BATCH_SIZE)
        total += count
        if count < BATCH_SIZE or last is None:
            return total
        after = last


async def _refuse_overflow(cur: Any, holding: list[str], tag: str) -> None:
    """Conflict when an image holding one of ``holding`` would get more than 100 tags once
    ``tag`` and what it implies are added."""
    added = await queries.expanded_size(cur, tag)
    found = await queries.overflowing_image(cur, holding, added)
    if found:
        image_id, count = found
        raise Conflict(f"Image <{image_id}> would have {count} tags: at most 100 are allowed")


async def set_alias(db: Database, alias: str, target: str) -> AliasApplied:
    """Make ``alias`` stand for ``target`` (an alias given is resolved) and apply it."""
    if alias == target:
        raise Conflict(f"Alias cycle: {alias} -> {alias}")
    async with _rules_change(db) as cur:
        resolved = await queries.target_of(cur, target) or target
        if resolved == alias:
            raise Conflict(f"Alias cycle: {alias} -> {target} -> {alias}")
        moved = await queries.implies_any(cur, alias)
        await queries.make_alias(cur, alias, resolved)
        if moved:
            await _refuse_overflow(cur, [resolved], resolved)
    # The target's images gain the implications the alias had.
    updated = await apply_to_images(db, [alias, resolved] if moved else [alias])
    return AliasApplied(alias=alias, target=resolved, images_updated=updated)


async def delete_alias(db: Database, alias: str) -> None:
    """Remove an alias; images keep the target they were given."""
    async with _rules_change(db) as cur:
        await queries.delete_alias(cur, alias)


async def set_implication(db: Database, tag: str, implies: str) -> ImplicationApplied:
    """Make ``tag`` imply ``implies`` (aliases resolved) and apply it."""
    async with _rules_change(db) as cur:
        source = await queries.target_of(cur, tag) or tag
        implied = await queries.target_of(cur, implies) or implies
        if source == implied:
            raise Conflict(f"Implication cycle: {tag} -> {implies} means {source} -> {source}")
        await queries.add_implication(cur, source, implied)
        await _refuse_overflow(cur, [source], implied)
    updated = await apply_to_images(db, [source])
    return ImplicationApplied(tag=source, implies=implied, images_updated=updated)


async def delete_implication(db: Database, tag: str, implies: str) -> None:
    """Remove an implication; images keep the tags it gave them."""
    async with _rules_change(db) as cur:
        await queries.delete_implication(cur, tag, implies)


async def rename(db: Database, tag: str, to: str, *, keep_alias: bool) -> TagRenamed:
    """Rename ``tag`` to ``to`` on every image and rule; merge when ``to`` exists."""
    if tag == to:
        raise Conflict(f"Tag <{tag}> already has that name")
    async with _rules_change(db) as cur:
        target = await queries.target_of(cur, tag)
        if target is not None:
            raise Conflict(f"Tag <{tag}> is an alias of <{target}>: rename <{target}> instead")
        if not await queries.exists(cur, tag):
            raise NotFound(f"Tag <{tag}> is not found")
        resolved = await queries.target_of(cur, to) or to
        if resolved == tag:
            # `to` was an alias of this very tag: it becomes its name.
            await queries.delete_alias(cur, to)
            resolved = to
        merged = await queries.exists(cur, resolved)
        moved = await queries.implies_any(cur, tag)
        await queries.make_alias(cur, tag, resolved)
        if moved:
            await _refuse_overflow(cur, [tag, resolved], resolved)
        await queries.record_renamed(cur, tag, resolved, merged=merged)
    updated = await apply_to_images(db, [tag, resolved] if moved else [tag])
    if not keep_alias:
        await delete_alias(db, tag)
    return TagRenamed(tag=tag, to=resolved, images_updated=updated, alias_kept=keep_alias)
