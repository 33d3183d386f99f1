"""The data set of the per-request benchmark, seeded alike into databases of different schemas.

Each database is built by its own tree's fixtures, so the columns may differ
between the two commits compared (a tree with fixture 003 has
``storage_key``, older ones do not). The rows are the same in both: ids
1..N in order, a fixed clock, Zipf-like tags as in ``listing_data`` drawn
after ``setseed`` (so both databases get the very same tags), half of the
images with an attachment, and the tag ``sparse`` on exactly 300 images
spread evenly over the ids (the small filtered listing). Rows with a file
are given a key where the schema has one, so that no server finds rows to
move to keys when it starts. The table's own indexes are dropped while the
rows go in and built again from their definitions (a bulk GIN build is
cheaper than maintaining the index row by row).
"""

from typing import Any

import psycopg2

SPARSE_TAG = "sparse"
SPARSE_COUNT = 300
DISTINCT_TAGS = 20_000

# Every column the benchmark knows how to fill, with its value for image ``g``.
EXPRESSIONS = {
    "filename": "'img_' || g || '.jpg'",
    "tags": """ARRAY(SELECT DISTINCT 't' || floor(exp(random() * ln(%(distinct)s)))::int
                     FROM generate_series(1, 4 + g %% 3) WHERE g > 0)
               || CASE WHEN g %% %(step)s = 0 AND g / %(step)s <= %(sparse)s
                       THEN ARRAY[%(sparse_tag)s] ELSE '{}' END""",
    "created_at": "timestamptz '2026-01-01 00:00:00Z' + g * interval '1 second'",
    "content_type": "CASE WHEN g %% 2 = 0 THEN 'image/jpeg' END",
    "size": "CASE WHEN g %% 2 = 0 THEN 1000 + g END",
    "sha256": "CASE WHEN g %% 2 = 0 THEN md5(g::text) || md5((-g)::text) END",
    "width": "CASE WHEN g %% 2 = 0 THEN 640 END",
    "height": "CASE WHEN g %% 2 = 0 THEN 480 END",
    "uploaded_at": "CASE WHEN g %% 2 = 0 THEN timestamptz '2026-01-02 00:00:00Z' END",
    # The shape fixture 003 checks: <image_id>/<16 hex>-<16 hex>.<ext>
    "storage_key": """CASE WHEN g %% 2 = 0
                      THEN g || '/' || left(md5(g::text), 16) || '-'
                           || left(md5((-g)::text), 16) || '.jpg' END""",
}

COLUMNS = """
    SELECT column_name, is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'
    FROM information_schema.columns
    WHERE table_schema = 'public' AND table_name = 'images'
"""

# Indexes other than those of constraints: dropped while seeding, built again after (faster).
INDEXES = """
    SELECT indexname, indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename = 'images'
      AND indexname NOT IN (SELECT conname FROM pg_constraint
                            WHERE conrelid = 'public.images'::regclass)
"""

# What must be equal in both databases (timestamps are fixed, so they count too).
CHECKSUM = """
    SELECT count(*), min(image_id), max(image_id),
           md5(string_agg(image_id || filename || tags::text || created_at::text
                          || coalesce(sha256, ''), ',' ORDER BY image_id))
    FROM images
"""


def insert_statement(columns: dict[str, bool]) -> str:
    """The INSERT filling the columns this schema has; refuse one it requires and we do not know."""
    unknown = [name for name, required in columns.items() if required and name not in EXPRESSIONS]
    if unknown:
        raise RuntimeError(f"images has required columns the benchmark cannot fill: {unknown}")
    names = [name for name in EXPRESSIONS if name in columns]
    values = ",\n           ".join(EXPRESSIONS[name] for name in names)
    return f"""
    INSERT INTO images ({", ".join(names)})
    SELECT {values}
    FROM generate_series(1, %(rows)s) AS g
    ORDER BY g
    """  # column names come from EXPRESSIONS, values are bound


def seed(dsn: str, rows: int) -> tuple[Any, ...]:
    """Insert ``rows`` images into an empty database; return the checksum of what was written."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(COLUMNS)
            columns = dict(cur.fetchall())
            cur.execute("SET synchronous_commit = off")
            cur.execute("SET maintenance_work_mem = '256MB'")
            cur.execute("SELECT setseed(0.5)")
            params = {
                "rows": rows,
                "distinct": DISTINCT_TAGS,
                "step": max(rows // SPARSE_COUNT, 1),
                "sparse": SPARSE_COUNT,
                "sparse_tag": SPARSE_TAG,
            }
            cur.execute(INDEXES)
            indexes = cur.fetchall()
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            cur.execute(insert_statement(columns), params)
            for _, definition in indexes:
                cur.execute(definition)
            cur.execute("VACUUM ANALYZE images")
            cur.execute(CHECKSUM)
            checksum = cur.fetchone()
    finally:
        conn.close()
    if checksum[:3] != (rows, 1, rows):
        raise RuntimeError(f"expected ids 1..{rows}, found {checksum[:3]}")
    return tuple(checksum)
