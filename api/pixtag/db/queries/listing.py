"""The listing query: images in id order, filtered by tags or by file hash.

One static statement: an absent filter is bound as NULL and PostgreSQL folds
``NULL IS NULL OR ...`` away while planning (psycopg2 inlines the values), so
each request is planned with only the conditions it really has, and the GIN
index (tags) or the partial index (sha256) serves them.

Choosing the plan. A filtered, ordered stream has two candidate plans: walk
the primary key and test each row (first rows come quickly when matches are
dense, but a sparse or late-clustered filter reads most of the table first),
or collect the matches through an index and sort them (cost grows with the
number of matches, whatever their place). Inside a cursor PostgreSQL plans
for the first 10% of rows (``cursor_tuple_fraction``) assuming matches are
spread evenly, and with ``LIMIT`` it leans further towards the walk: measured
on 1M images (``bench/RESULTS.md``), a tag on 0.5% of them took 54-60 ms to
its first chunk along the key against 11 ms through the GIN index.

So ``planner_settings`` decides from PostgreSQL's own estimate of the number
of matches M among N images. Filling the first F rows costs about
``c_walk * F * N / M`` along the key and ``c_sort * M`` through the index;
they break even at ``M = sqrt(F * N * c_walk / c_sort)``, with
``c_walk / c_sort`` measured at about 0.11 (0.33 us per row walked against
3 us per row collected and sorted). Below that the primary-key walk is
switched off for this transaction only.

Above it the estimate says the walk fills a chunk quickly, but only if the
matches are spread out; a common tag on the newest ids only would make the
walk read most of the table first (230-250 ms for 2% of 1M images). So a
probe walks the first ``PROBE_ROWS`` rows (a few ms) and keeps the walk only
if they hold matches at the density it needs: F matches within
``WALK_BUDGET_ROWS`` rows.
"""

import json
import math
from typing import Any

WALK_TO_SORT_COST = 0.11
PROBE_ROWS = 20_000
WALK_BUDGET_ROWS = 100_000
NO_WALK = {"enable_indexscan": "off"}

FILTER = """
    (%(tags_all)s::text[] IS NULL OR i.tags @> %(tags_all)s::text[])
      AND (%(tags_any)s::text[] IS NULL OR i.tags && %(tags_any)s::text[])
      AND (%(sha256)s::text IS NULL OR i.sha256 = %(sha256)s::text)
"""
AFTER = "(%(after_id)s::bigint IS NULL OR i.image_id > %(after_id)s::bigint)"
WHERE = f"{FILTER} AND {AFTER}"

SELECT_IMAGES = f"""
    SELECT image_json(i, %(media_url)s)::text
    FROM images AS i
    WHERE {WHERE}
    ORDER BY i.image_id
    LIMIT %(limit)s::bigint
"""  # noqa: S608 - built from constant fragments; every value is bound

ESTIMATE_MATCHES = f"EXPLAIN (FORMAT JSON) SELECT 1 FROM images AS i WHERE {WHERE}"  # noqa: S608

# Matches among the first rows of the walk, stopping once there are enough.
PROBE_WALK = f"""
    SELECT count(*) FROM (
        SELECT 1 FROM (
            SELECT i.tags, i.sha256 FROM images AS i
            WHERE {AFTER}
            ORDER BY i.image_id
            LIMIT %(probe_rows)s
        ) AS i
        WHERE {FILTER}
        LIMIT %(needed)s
    ) AS found
"""  # noqa: S608 - built from constant fragments; every value is bound

# How many rows the probe had to walk at most (fewer: the walk is short anyway).
PROBE_LENGTH = f"""
    SELECT count(*) FROM (
        SELECT 1 FROM images AS i WHERE {AFTER} ORDER BY i.image_id LIMIT %(probe_rows)s
    ) AS walked
"""  # noqa: S608 - built from constant fragments; every value is bound

ESTIMATE_IMAGES = "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'images'::regclass"


def select_images(
    *,
    media_url: str | None,
    tags_all: list[str],
    tags_any: list[str],
    sha256: str | None,
    after_id: int | None,
    limit: int | None,
) -> tuple[str, dict[str, Any]]:
    """The statement and parameters listing the images that match every given filter."""
    return SELECT_IMAGES, {
        "media_url": media_url,
        "tags_all": tags_all or None,
        "tags_any": tags_any or None,
        "sha256": sha256,
        "after_id": after_id,
        "limit": limit,
    }


async def planner_settings(cur: Any, params: dict[str, Any], first_rows: int) -> dict[str, str]:
    """Settings for the listing's transaction: no primary-key walk unless it pays off."""
    if not (params["tags_all"] or params["tags_any"] or params["sha256"]):
        return {}
    await cur.execute(ESTIMATE_MATCHES, params)
    (plan,) = await cur.fetchone()
    if isinstance(plan, bytes | str):
        plan = json.loads(plan)
    matches = float(plan[0]["Plan"]["Plan Rows"])
    await cur.execute(ESTIMATE_IMAGES)
    (images,) = await cur.fetchone()
    if matches < math.sqrt(first_rows * float(images or 0) * WALK_TO_SORT_COST):
        return dict(NO_WALK)
    probe = {**params, "probe_rows": PROBE_ROWS}
    probe["needed"] = math.ceil(first_rows * PROBE_ROWS / WALK_BUDGET_ROWS)
    await cur.execute(PROBE_WALK, probe)
    (found,) = await cur.fetchone()
    if found >= probe["needed"]:
        return {}
    await cur.execute(PROBE_LENGTH, probe)
    (walked,) = await cur.fetchone()
    return {} if walked < PROBE_ROWS else dict(NO_WALK)
