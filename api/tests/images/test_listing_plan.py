"""The listing's plan choice: selective filters skip the walk along the order, dense keep it."""

import aiopg
import pytest

from pixtag.db.stream import stream_transaction
from pixtag.images.queries import listing
from pixtag.search.grammar import parse
from pixtag.search.terms import from_parameters
from tests.support.processes import sql


@pytest.fixture
def populated(database_url: str) -> str:
    """5000 images tagged 'dense', one in 16 'medium', the newest 3 'sparse'; analysed."""
    sql(
        database_url,
        "INSERT INTO images (filename, tags)"
        " SELECT 'p' || g || '.jpg', array_remove(ARRAY['dense',"
        "  CASE WHEN g %% 16 = 0 THEN 'medium' END,"
        "  CASE WHEN g > 4997 THEN 'sparse' END], NULL)"
        " FROM generate_series(1, 5000) AS g",
    )
    sql(database_url, "ANALYZE images")
    return database_url


def filters_of(
    q: str = "",
    tags_all: tuple[str, ...] = (),
    tags_any: tuple[str, ...] = (),
    **rest,
) -> listing.ListingFilters:
    query = parse(q)
    term = from_parameters(list(tags_all), list(tags_any), [])
    if q:
        term = query.term
    return listing.ListingFilters(term=term, sort=query.sort or "id", **rest)


async def chosen(database_url: str, first_rows: int = 1000, **filters) -> tuple[dict, str]:
    """The settings the listing picks, and the plan PostgreSQL then makes of its cursor."""
    pool = await aiopg.create_pool(database_url, minsize=1, maxsize=1)
    try:
        async with stream_transaction(pool, idle_timeout_ms=5000, acquire_timeout_ms=5000) as tx:
            statement, settings = await listing.prepare(
                tx, filters_of(**filters), "/media", first_rows
            )
            for name, value in settings.items():
                await tx.query("SELECT set_config(%(n)s, %(v)s, true)", {"n": name, "v": value})
            rows = await tx.query(
                "EXPLAIN DECLARE c NO SCROLL CURSOR FOR " + statement.sql, statement.params
            )
            return settings, "\n".join(bytes(r[0]).decode() for r in rows)
    finally:
        pool.close()
        await pool.wait_closed()


async def test_unfiltered_listing_keeps_the_planner_defaults(populated):
    settings, plan = await chosen(populated)
    assert settings == {}
    assert "images_pkey" in plan


async def test_selective_tag_turns_the_primary_key_walk_off(populated):
    settings, plan = await chosen(populated, tags_all=("sparse",))
    assert settings == {"enable_indexscan": "off"}
    assert "images_tags_gin" in plan
    assert "Index Scan using images_pkey" not in plan


async def test_dense_tag_keeps_the_primary_key_walk(populated):
    settings, plan = await chosen(populated, tags_any=("dense",))
    assert settings == listing.WALK  # taken, whatever PostgreSQL's own estimate says
    assert "Index Scan using images_pkey" in plan


async def test_selective_sha256_turns_the_primary_key_walk_off(populated):
    assert (await chosen(populated, sha256="0" * 64))[0] == {"enable_indexscan": "off"}


async def test_a_small_first_page_keeps_the_walk_for_a_medium_tag(populated):
    # 1 image in 16 matches: a chunk of 1000 is cheaper sorted from the index,
    # a keyset page of 10 is found after ~160 rows of the walk.
    assert (await chosen(populated, 1000, tags_all=("medium",)))[0] == {"enable_indexscan": "off"}
    assert (await chosen(populated, 10, tags_all=("medium",)))[0] == listing.WALK


async def test_a_negation_alone_keeps_the_walk(populated):
    settings, plan = await chosen(populated, q="-sparse sort:-created")
    assert settings == {}
    assert "images_created" in plan


async def test_a_rare_tag_newest_first_is_sorted_from_the_gin_index(populated):
    settings, plan = await chosen(populated, q="sparse -medium sort:-created")
    assert settings == {"enable_indexscan": "off"}
    assert "images_tags_gin" in plan
    assert "images_created" not in plan


@pytest.fixture
def clustered(database_url: str) -> str:
    """25000 images: 'spread' on one in five, 'late' on the newest 5000 only; analysed."""
    sql(
        database_url,
        "INSERT INTO images (filename, tags)"
        " SELECT 'c' || g || '.jpg', array_remove(ARRAY["
        "  CASE WHEN g %% 5 = 0 THEN 'spread' END,"
        "  CASE WHEN g > 20000 THEN 'late' END], NULL)"
        " FROM generate_series(1, 25000) AS g",
    )
    sql(database_url, "ANALYZE images")
    return database_url


async def test_common_tag_spread_out_keeps_the_walk(clustered):
    assert (await chosen(clustered, tags_all=("spread",)))[0] == listing.WALK


async def test_common_tag_only_on_the_newest_ids_skips_the_walk(clustered):
    # As common as 'spread', but the walk would read 20000 rows before the first match.
    settings, plan = await chosen(clustered, tags_all=("late",))
    assert settings == {"enable_indexscan": "off"}
    assert "Index Scan using images_pkey" not in plan
    assert "Sort" in plan


async def test_common_tag_on_the_newest_ids_newest_first_keeps_the_walk(clustered):
    assert (await chosen(clustered, q="late sort:-id"))[0] == listing.WALK


async def test_keyset_page_past_the_gap_keeps_the_walk(clustered):
    assert (await chosen(clustered, 100, tags_all=("late",), after_id=19000, limit=100))[
        0
    ] == listing.WALK
