"""The reference of a create's PostgreSQL cost: the original service's own write.

An aiohttp app on an aiopg pool that answers ``POST /images`` (a JSON body
``{"filename", "tags"}``) as the original service does: one
``INSERT ... RETURNING`` into the original schema, here the scratch table
``seed_images`` (``image_id serial primary key, filename varchar(255), tags
text[] not null default '{}'`` and a GIN index on ``tags``) in the same
database as pixtag's own tables. Same rows, same client path (wrk, HTTP,
aiohttp, aiopg), so the PostgreSQL CPU per request of the two differs only by
what each statement costs the server.

    python bench/requests_seed_insert.py PORT DSN
"""

import json
import sys

import aiopg
from aiohttp import web

SCHEMA = """
    CREATE TABLE IF NOT EXISTS seed_images (
        image_id serial PRIMARY KEY,
        filename varchar(255),
        tags text[] NOT NULL DEFAULT '{}'
    );
    CREATE INDEX IF NOT EXISTS seed_images_tags ON seed_images USING gin (tags);
"""
# The same rows as pixtag's table holds, so both indexes are of the same size.
COPY_ROWS = "INSERT INTO seed_images (filename, tags) SELECT filename, tags FROM images"
INSERT = (
    "INSERT INTO seed_images (filename, tags) VALUES (%s, %s) RETURNING image_id, filename, tags"
)
POOL = web.AppKey("pool", aiopg.Pool)


def prepare(dsn: str) -> None:
    """Create and fill the scratch table (once per database)."""
    import psycopg2

    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('seed_images') IS NOT NULL")
        (exists,) = cur.fetchone()
        cur.execute(SCHEMA)
        if not exists:
            cur.execute(COPY_ROWS)
    conn.close()


async def create(request: web.Request) -> web.Response:
    body = json.loads(await request.read())
    async with request.app[POOL].acquire() as conn, conn.cursor() as cur:
        await cur.execute(INSERT, (body["filename"], body.get("tags", [])))
        image_id, filename, tags = await cur.fetchone()
    return web.json_response({"image_id": image_id, "filename": filename, "tags": tags}, status=201)


def create_app(dsn: str) -> web.Application:
    async def pool_ctx(app: web.Application):  # type: ignore[no-untyped-def]
        async with aiopg.create_pool(dsn, minsize=1, maxsize=10) as pool:
            app[POOL] = pool
            yield

    app = web.Application()
    app.cleanup_ctx.append(pool_ctx)
    app.router.add_post("/images", create)
    app.router.add_get("/images/{image_id}", lambda request: web.json_response({}))
    return app


if __name__ == "__main__":
    web.run_app(create_app(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), print=None)
