"""The client's one exception type, and how HTTP and transport failures become it.

Every failure surfaces as a ``ClientError`` whose message is one readable
line: the server's problem+json ``detail`` when there is one, otherwise what
went wrong on the way (unreachable server, a response cut short). The CLI
prints that line; scripts using the client catch one exception type.
"""

import json

import aiohttp
from yarl import URL


class ClientError(Exception):
    """A failure worth one line to the user."""


class ServerError(ClientError):
    """The server answered with an error status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


async def server_error(resp: aiohttp.ClientResponse) -> ServerError:
    """The error in a response: problem+json ``detail`` (or ``error``), else the status line."""
    detail = f"HTTP {resp.status} {resp.reason or ''}".strip()
    try:
        body = json.loads(await resp.read())
    except (ValueError, aiohttp.ClientError):
        body = None
    if isinstance(body, dict):
        text = body.get("detail") or body.get("error")
        if isinstance(text, str) and text:
            detail = text
    return ServerError(resp.status, detail)


def connection_error(base: URL, url: URL, error: aiohttp.ClientError) -> ClientError:
    """A readable line for a transport failure."""
    if isinstance(error, aiohttp.ClientConnectorError):
        os_error = error.os_error
        reason = (
            "connection refused"
            if isinstance(os_error, ConnectionRefusedError)
            else os_error.strerror or str(os_error)
        )
        return ClientError(f"cannot reach the pixtag server at {base}: {reason}")
    if isinstance(error, aiohttp.ClientPayloadError):
        return ClientError(f"the response from {url} was cut short: {error}")
    return ClientError(f"request to {url} failed: {error or type(error).__name__}")
