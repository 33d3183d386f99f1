"""Shared by the listing tests: records created through the API, raw SQL for bulk data."""

import json

from pixtag import keys
from tests.support.processes import sql

CATALOGUE = [
    ("a.jpg", ["canon", "jpeg", "sea"]),
    ("b.jpg", ["nikon", "jpeg"]),
    ("c.png", ["canon", "png", "sea", "sky"]),
    ("d.jpg", []),
    ("e.jpg", ["sony", "jpeg", "sky"]),
    ("f.gif", ["canon", "gif"]),
    ("g.jpg", ["nikon", "sea"]),
]


async def create_catalogue(client) -> list[dict]:
    """Create the catalogue through POST /images; return the created documents."""
    created = []
    for filename, tags in CATALOGUE:
        resp = await client.post("/images", json={"filename": filename, "tags": tags})
        assert resp.status == 201
        created.append(await resp.json())
    return created


def bulk_insert(database_url: str, count: int, tags_per_image: int = 40) -> None:
    """Insert ``count`` large records fast, so a stream outgrows the socket buffers."""
    sql(
        database_url,
        "INSERT INTO images (filename, tags)"
        " SELECT 'bulk_' || g || '.jpg',"
        "  ARRAY(SELECT 'bulk-tag-' || g || '-' || t FROM generate_series(1, %s) AS t)"
        " FROM generate_series(1, %s) AS g",
        (tags_per_image, count),
    )


def backends(database_url: str) -> list[tuple]:
    """Backends of the test database other than this one, with their state."""
    return sql(
        database_url,
        "SELECT pid, state, query FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND backend_type = 'client backend'",
    )


def pool_is_whole(client) -> bool:
    """Every connection the pool opened is back in it."""
    pool = client.server.app[keys.DATABASE].pool
    return pool.size == pool.freesize


def chunks_of(body: list) -> tuple[list[list[dict]], dict]:
    """Split a listing document into its chunks and its totals object."""
    *chunks, totals = body
    return chunks, totals


def flat(body: list) -> list[dict]:
    chunks, _ = chunks_of(body)
    return [image for chunk in chunks for image in chunk]


def ndjson_lines(text: str) -> list[dict]:
    assert text.endswith("\n") or text == ""
    return [json.loads(line) for line in text.splitlines()]
