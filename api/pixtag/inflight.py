"""Which requests are in flight, so a graceful shutdown knows when they are done."""

import asyncio

from aiohttp import web
from aiohttp.typedefs import Handler


class InFlight:
    """Counts the requests being handled; its ``middleware`` keeps the count."""

    def __init__(self) -> None:
        self.count = 0
        # Set once shutdown began: each response then closes its connection.
        self.draining = False
        self._idle = asyncio.Event()
        self._idle.set()

    async def idle(self) -> None:
        """Return once no request is being handled."""
        await self._idle.wait()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.count += 1
        self._idle.clear()
        try:
            response = await handler(request)
            if self.draining:
                response.force_close()
            return response
        finally:
            self.count -= 1
            if not self.count:
                self._idle.set()
