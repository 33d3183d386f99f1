"""The listing query: images in id order, filtered by tags or by file hash.

One static statement: an absent filter is bound as NULL and PostgreSQL folds
``NULL IS NULL OR ...`` away while planning (psycopg2 inlines the values), so
each request is planned with only the conditions it really has, and the GIN
index (tags) or the partial index (sha256) serves them.

Planner settings, measured on 1M images (``bench/listing.py``): inside a
cursor PostgreSQL plans for the first ``cursor_tuple_fraction`` of the rows
(default 0.1), which makes a walk along the primary key look cheap for any
tag it believes common enough. For a tag of ~0.5% frequency that walk reads
~200k rows to fill the first chunk (60-75 ms), where a GIN bitmap plus a sort
of the few thousand matches takes 15 ms; a keyset page late in the id range
hits the same trap (48 ms instead of 1.4 ms). At 0.3 the planner keeps the
primary-key walk for the unfiltered listing and for tags common enough to
fill a chunk within a few thousand rows, and switches to the bitmap below
that; no shape of the benchmark exceeds 16 ms to its first chunk.
"""

from typing import Any

PLANNER = {"cursor_tuple_fraction": "0.3"}

SELECT_IMAGES = """
    SELECT image_json(i, %(media_url)s)::text
    FROM images AS i
    WHERE (%(tags_all)s::text[] IS NULL OR i.tags @> %(tags_all)s::text[])
      AND (%(tags_any)s::text[] IS NULL OR i.tags && %(tags_any)s::text[])
      AND (%(sha256)s::text IS NULL OR i.sha256 = %(sha256)s::text)
      AND (%(after_id)s::bigint IS NULL OR i.image_id > %(after_id)s::bigint)
    ORDER BY i.image_id
    LIMIT %(limit)s::bigint
"""


def select_images(
    *,
    media_url: str,
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
