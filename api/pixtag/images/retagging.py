"""Bulk tagging, batch by batch, with a report that says how far it got.

The images are selected by a search (the ``q`` language) or by ids, and
changed in batches (``queries.bulk_tags``), each its own transaction. A
batch that fails stops the run: the answer names it and the ids it held,
and says that the batches before it are kept. Tags are normalised as on
create (by the request model) and resolved through ``tag_aliases``, with
the search's own tags, in one lookup.
"""

from dataclasses import dataclass
from typing import Any

import psycopg2

from pixtag.db.database import Database
from pixtag.errors import DomainError
from pixtag.images.queries import bulk_tags
from pixtag.search import grammar
from pixtag.search import queries as search
from pixtag.search.terms import EVERYTHING, Term


@dataclass
class Report:
    changed: int = 0
    batches: int = 0


class BatchFailed(DomainError):
    """A batch was refused (409: e.g. an image would pass 100 tags) or lost (503)."""

    def __init__(self, report: Report, batch: int, ids: list[int], error: Exception) -> None:
        conflict = isinstance(error, psycopg2.IntegrityError | psycopg2.DataError)
        self.status = 409 if conflict else 503
        reason = error.diag.message_primary if isinstance(error, psycopg2.Error) else None
        super().__init__(
            f"batch {batch} failed ({reason or type(error).__name__}) and changed nothing;"
            f" the {report.batches} batches before it are kept ({report.changed} images changed)"
        )
        self.extensions = {
            "changed": report.changed,
            "batches": report.batches,
            "failed_batch": batch,
            "failed_ids": ids,
        }


async def retag(
    db: Database,
    *,
    query: str | None,
    ids: list[int] | None,
    add: list[str],
    remove: list[str],
    batch_size: int,
    timeout_ms: int,
) -> Report:
    """Add and remove tags on the selected images, batch by batch; the report."""
    term: Term = grammar.parse(query, ("body", "query")).term if query is not None else EVERYTHING
    report = Report()
    async with db.cursor(timeout_ms) as cur:

        async def fetch(sql: str, values: dict[str, Any]) -> list[tuple[Any, ...]]:
            await cur.execute(sql, values)
            return list(await cur.fetchall())

        term, resolution = await search.compile_term(
            fetch, term, with_size=False, also=[*add, *remove]
        )
        params: dict[str, Any] = {
            "add": list(dict.fromkeys(resolution.targets.get(t, t) for t in add)),
            "remove": list(dict.fromkeys(resolution.targets.get(t, t) for t in remove)),
            "size": batch_size,
            "last": 0,
        }
        if ids is not None:
            params["ids"] = ids
            condition = bulk_tags.BY_IDS
        else:
            condition = search.condition(term, resolution, params).sql
        while True:
            try:
                changed = await bulk_tags.retag_batch(cur, condition, params)
            except psycopg2.Error as error:
                failed = await _failed_ids(cur, condition, params)
                raise BatchFailed(report, report.batches + 1, failed, error) from None
            if not changed:
                return report
            report.changed += len(changed)
            report.batches += 1
            params["last"] = changed[-1]


async def _failed_ids(cur: Any, condition: str, params: dict[str, Any]) -> list[int]:
    try:
        return await bulk_tags.batch_ids(cur, condition, params)
    except psycopg2.Error:
        return []  # the connection is gone too: the report still names the batch
