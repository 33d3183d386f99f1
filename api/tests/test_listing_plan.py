"""The listing's plan choice: selective filters skip the primary-key walk, dense ones keep it."""

import aiopg
import pytest

from pixtag.db.queries import listing
from tests.processes import sql


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


async def settings_for(database_url: str, first_rows: int = 1000, **filters) -> dict:
    query = {"tags_all": [], "tags_any": [], "sha256": None, "after_id": None, "limit": None}
    query.update(filters)
    _, params = listing.select_images(media_url="/media", **query)
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        return await listing.planner_settings(cur, params, first_rows)


async def plan_of(database_url: str, settings: dict, **filters) -> str:
    query = {"tags_all": [], "tags_any": [], "sha256": None, "after_id": None, "limit": None}
    query.update(filters)
    statement, params = listing.select_images(media_url="/media", **query)
    async with aiopg.connect(database_url) as conn, conn.cursor() as cur:
        await cur.execute("BEGIN")
        for name, value in settings.items():
            await cur.execute("SELECT set_config(%s, %s, true)", (name, value))
        await cur.execute("EXPLAIN DECLARE c NO SCROLL CURSOR FOR " + statement, params)
        plan = "\n".join(row[0] for row in await cur.fetchall())
        await cur.execute("ROLLBACK")
    return plan


async def test_unfiltered_listing_keeps_the_planner_defaults(populated):
    assert await settings_for(populated) == {}
    assert "images_pkey" in await plan_of(populated, {})


async def test_selective_tag_turns_the_primary_key_walk_off(populated):
    chosen = await settings_for(populated, tags_all=["sparse"])
    assert chosen == {"enable_indexscan": "off"}
    plan = await plan_of(populated, chosen, tags_all=["sparse"])
    assert "images_tags_gin" in plan
    assert "Index Scan using images_pkey" not in plan


async def test_dense_tag_keeps_the_primary_key_walk(populated):
    assert await settings_for(populated, tags_any=["dense"]) == {}


async def test_selective_sha256_turns_the_primary_key_walk_off(populated):
    assert await settings_for(populated, sha256="0" * 64) == {"enable_indexscan": "off"}


async def test_a_small_first_page_keeps_the_walk_for_a_medium_tag(populated):
    # 1 image in 16 matches: a chunk of 1000 is cheaper sorted from the index,
    # a keyset page of 10 is found after ~160 rows of the walk.
    assert await settings_for(populated, 1000, tags_all=["medium"]) == {"enable_indexscan": "off"}
    assert await settings_for(populated, 10, tags_all=["medium"]) == {}


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
    assert await settings_for(clustered, tags_all=["spread"]) == {}


async def test_common_tag_only_on_the_newest_ids_skips_the_walk(clustered):
    # As common as 'spread', but the walk would read 20000 rows before the first match.
    assert await settings_for(clustered, tags_all=["late"]) == {"enable_indexscan": "off"}
    plan = await plan_of(clustered, {"enable_indexscan": "off"}, tags_all=["late"])
    assert "Index Scan using images_pkey" not in plan
    assert "Sort" in plan


async def test_keyset_page_past_the_gap_keeps_the_walk(clustered):
    assert await settings_for(clustered, 100, tags_all=["late"], after_id=19000, limit=100) == {}
