"""The floor of a point read on pixtag's stack: aiohttp, an aiopg pool, one prepared statement.

No middleware, no validation, no access log, no view class: a plain
handler that takes a pooled connection, runs the same prepared statement as
pixtag's point read (``image_json`` of one row) and answers its text. What a
point read must cost on this stack whatever the application does; the
difference to pixtag's own is the application's share.

    python bench/requests_bare_db.py PORT DSN
"""

import sys

import aiopg
import uvloop
from aiohttp import web

POOL = web.AppKey("pool", aiopg.Pool)
PREPARE = "PREPARE point AS SELECT image_json(i, $1)::text FROM images AS i WHERE i.image_id = $2"


async def read(request: web.Request) -> web.Response:
    image_id = int(request.match_info["image_id"])
    async with request.app[POOL].acquire() as conn, conn.cursor() as cur:
        if not getattr(conn, "prepared", False):
            await cur.execute(PREPARE)
            conn.prepared = True
        await cur.execute("EXECUTE point(%s, %s)", ("/media", image_id))
        row = await cur.fetchone()
    if row is None:
        raise web.HTTPNotFound()
    return web.Response(text=row[0], content_type="application/json")


def create_app(dsn: str) -> web.Application:
    async def pool_ctx(app: web.Application):  # type: ignore[no-untyped-def]
        async with aiopg.create_pool(dsn, minsize=1, maxsize=10) as pool:
            app[POOL] = pool
            yield

    app = web.Application()
    app.cleanup_ctx.append(pool_ctx)
    app.router.add_get("/images/{image_id}", read)
    return app


if __name__ == "__main__":
    web.run_app(
        create_app(sys.argv[2]),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        print=None,
        access_log=None,
        loop=uvloop.new_event_loop(),
    )
