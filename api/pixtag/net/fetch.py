"""Opening a URL a client gave: checked, redirect by redirect, with timeouts.

One ``Fetcher`` per process holds an aiohttp session whose connector
resolves through ``CheckedResolver`` (no DNS cache, no proxy from the
environment), so every connection goes to an address that passed the
policy. Redirects are followed here, not by aiohttp, so each new URL is
checked too; at most ``MAX_REDIRECTS``. Timeouts: connecting, each read (a
server that stops sending), and the caller bounds the whole download
(a server that drips a byte now and then).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from yarl import URL

from pixtag.net.guard import CheckedResolver, Policy, Refused

MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "pixtag-capture/1"


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    total: float


class Fetcher:
    """GET requests under a policy; ``open`` it in a cleanup_ctx and ``close`` it after."""

    def __init__(self, policy: Policy, timeouts: Timeouts, *, connections: int = 32) -> None:
        self.policy = policy
        self.timeouts = timeouts
        self.connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        connector = aiohttp.TCPConnector(
            resolver=CheckedResolver(self.policy),
            use_dns_cache=False,
            limit=self.connections,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=self.timeouts.connect, sock_read=self.timeouts.read
            ),
            trust_env=False,  # no proxy from the environment: it would resolve names itself
            headers={"User-Agent": USER_AGENT},
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    @asynccontextmanager
    async def get(self, url: str) -> AsyncIterator[aiohttp.ClientResponse]:
        """The final response to GET ``url`` after the redirects, each hop checked.

        Raises ``Refused`` for a URL or address the policy refuses, or too many
        redirects; aiohttp's errors and ``TimeoutError`` pass through.
        """
        assert self._session is not None, "Fetcher.open() first"
        current = URL(url)
        for _ in range(MAX_REDIRECTS + 1):
            self.policy.check_url(current)
            response = await self._session.get(current, allow_redirects=False)
            location = response.headers.get("Location")
            if response.status not in REDIRECTS or location is None:
                try:
                    yield response
                finally:
                    response.release()
                return
            response.release()
            current = current.join(URL(location))
        raise Refused("too_many_redirects", f"more than {MAX_REDIRECTS} redirects")

    @asynccontextmanager
    async def post(
        self, url: str, data: bytes, headers: dict[str, str]
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """The response to one POST of ``data`` to ``url``: a redirect is the answer, not
        followed. Raises ``Refused`` as ``get`` does."""
        assert self._session is not None, "Fetcher.open() first"
        target = URL(url)
        self.policy.check_url(target)
        response = await self._session.post(
            target, data=data, headers=headers, allow_redirects=False
        )
        try:
            yield response
        finally:
            response.release()
