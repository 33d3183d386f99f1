"""An origin server for capture tests: a real aiohttp server in a thread of its own.

It serves what a capture meets on the web: images (distinct bytes per
name), real photographs at a given scale (the same picture at other sizes),
error statuses, 500s and 429s that clear after a few tries, a slow drip,
redirect chains, a redirect to a refused address, an oversized file with and
without Content-Length, a non-image, and images held back until the test
releases them. Running in its own thread, it serves sync tests (real
``pixtag serve`` processes) and async ones alike; ``hits`` counts the
requests per path.
"""

import asyncio
import collections
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from tests.support.helpers import image_bytes, noisy_png, photo, picture


class Origin:
    def __init__(self) -> None:
        self.hits: collections.Counter[str] = collections.Counter()
        self.port = 0
        self.big = noisy_png((300, 300))  # ~270 KB
        self.held = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._count])
        app.router.add_get("/img/{name}", self._image)
        app.router.add_get("/photo/{percent:[1-9][0-9]?}/{name}", self._photo)
        app.router.add_get("/status/{code}", self._status)
        app.router.add_get("/flaky/{fails}/{name}", self._flaky)
        app.router.add_get("/busy/{name}", self._busy)
        app.router.add_get("/drip", self._drip)
        app.router.add_get("/redirect/{hops}/{name}", self._redirect)
        app.router.add_get("/to-metadata", self._to_metadata)
        app.router.add_get("/big", self._big)
        app.router.add_get("/big-chunked", self._big_chunked)
        app.router.add_get("/text", self._text)
        app.router.add_get("/held/{name}", self._held)
        return app

    @web.middleware
    async def _count(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        self.hits[request.path] += 1
        return await handler(request)

    async def _image(self, request: web.Request) -> web.Response:
        return web.Response(body=picture(request.match_info["name"]), content_type="image/png")

    async def _photo(self, request: web.Request) -> web.Response:
        """A scikit-image photograph (``astronaut.png``), scaled, as a JPEG."""
        scale = int(request.match_info["percent"]) / 100
        data = photo(request.match_info["name"], "JPEG", scale=scale, quality=85)
        return web.Response(body=data, content_type="image/jpeg")

    async def _status(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="no")

    async def _flaky(self, request: web.Request) -> web.Response:
        if self.hits[request.path] <= int(request.match_info["fails"]):
            return web.Response(status=503, text="later")
        return await self._image(request)

    async def _busy(self, request: web.Request) -> web.Response:
        if self.hits[request.path] == 1:
            return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")
        return await self._image(request)

    async def _drip(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        await resp.prepare(request)
        data = image_bytes()
        for byte in data * 100:
            await resp.write(bytes([byte]))
            await asyncio.sleep(0.05)
        return resp

    async def _redirect(self, request: web.Request) -> web.Response:
        hops = int(request.match_info["hops"])
        name = request.match_info["name"]
        target = f"/img/{name}" if hops <= 1 else f"/redirect/{hops - 1}/{name}"
        raise web.HTTPFound(target)

    async def _to_metadata(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    async def _big(self, request: web.Request) -> web.Response:
        return web.Response(body=self.big, content_type="image/png")

    async def _big_chunked(self, request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for start in range(0, len(self.big), 16384):
            await resp.write(self.big[start : start + 16384])
        return resp

    async def _text(self, request: web.Request) -> web.Response:
        return web.Response(text="<html>not an image</html>", content_type="image/png")

    async def _held(self, request: web.Request) -> web.Response:
        await asyncio.to_thread(self.held.wait)
        return await self._image(request)


@contextmanager
def run_origin() -> Iterator[Origin]:
    origin = Origin()
    started = threading.Event()
    stop: list[asyncio.Event] = []

    async def serve() -> None:
        runner = web.AppRunner(origin.app(), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        origin.port = runner.addresses[0][1]
        stop.append(asyncio.Event())
        started.set()
        await stop[0].wait()
        await runner.cleanup()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield origin
    finally:
        origin.held.set()
        loop.call_soon_threadsafe(stop[0].set)
        thread.join(10)
        loop.close()
