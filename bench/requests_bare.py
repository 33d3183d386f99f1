"""The ceiling of the per-request benchmark: a bare aiohttp app answering a fixed small JSON.

No database, no validation, no middleware: what aiohttp itself costs per
request on this machine under the same wrk load. It answers any path, so the
point-read script runs against it unchanged.

    python bench/requests_bare.py PORT
"""

import sys

from aiohttp import web

# About the size of a point read's document (an image with an attachment).
BODY = (
    b'{"image_id":123456,"filename":"img_123456.jpg","tags":["t1","t12","t480"],'
    b'"created_at":"2026-01-02T10:17:36Z","attachment":{"url":"/media/123456/'
    b'0123456789abcdef-fedcba9876543210.jpg","content_type":"image/jpeg","size":124456,'
    b'"sha256":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",'
    b'"width":640,"height":480,"uploaded_at":"2026-01-02T00:00:00Z"}}'
)


async def answer(request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None)
