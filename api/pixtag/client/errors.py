"""The client's one exception type, and how HTTP and transport failures become it.

Every failure surfaces as a ``ClientError`` whose message is one readable
line: the server's problem+json ``detail`` when there is one, otherwise what
went wrong on the way (unreachable server, a response cut short). The CLI
prints that line; scripts using the client catch one exception type.
"""

import http.client
import json


class ClientError(Exception):
    """A failure worth one line to the user."""


class ServerError(ClientError):
    """The server answered with an error status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def server_error(resp: http.client.HTTPResponse) -> ServerError:
    """The error in a response: problem+json ``detail`` (or ``error``), else the status line."""
    detail = f"HTTP {resp.status} {resp.reason or ''}".strip()
    try:
        body = json.loads(resp.read())
    except (ValueError, OSError, http.client.HTTPException):
        body = None
    if isinstance(body, dict):
        text = body.get("detail") or body.get("error")
        if isinstance(text, str) and text:
            detail = text
    return ServerError(resp.status, detail)


def connection_error(base: str, url: str, error: Exception, *, connecting: bool) -> ClientError:
    """A readable line for a transport failure (``connecting``: before any byte was sent)."""
    if connecting and isinstance(error, OSError):
        if isinstance(error, ConnectionRefusedError):
            reason = "connection refused"
        else:
            reason = error.strerror or str(error) or type(error).__name__
        return ClientError(f"cannot reach the pixtag server at {base}: {reason}")
    if isinstance(error, TimeoutError):
        return ClientError(f"request to {url} timed out")
    if isinstance(error, http.client.IncompleteRead | ConnectionResetError):
        return ClientError(f"the response from {url} was cut short: {type(error).__name__}")
    return ClientError(f"request to {url} failed: {error or type(error).__name__}")
