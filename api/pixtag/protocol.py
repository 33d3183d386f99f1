"""Requests aiohttp answers before the application sees them, answered as problem+json.

aiohttp's HTTP parser refuses some requests itself (an unknown method, a
malformed request line or header, ``Content-Encoding: br``, both
``Content-Length`` and ``Transfer-Encoding``), and its ``RequestHandler``
answers them with a text/plain body holding the parser's message, which
quotes the request: whatever a client sends is echoed back. No middleware
or signal sees these requests (aiohttp 3.14 has no hook for them), so the
runner builds its server with ``ProblemServer``, whose connections answer
them with a problem+json body that names the kind of fault and nothing the
client sent. Logging stays aiohttp's (pixtag.logs.ServerLog: one line).
"""

from typing import Any

from aiohttp import http_exceptions, web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from pixtag.errors import problem

# Most specific first: the first class the error is an instance of names it.
FAULTS: tuple[tuple[type[Exception], str], ...] = (
    (http_exceptions.BadHttpMethod, "the request's method is not a valid HTTP method"),
    (http_exceptions.BadStatusLine, "the request line is not valid HTTP/1.1"),
    (http_exceptions.LineTooLong, "the request line or a header is too long"),
    (http_exceptions.InvalidHeader, "a header is not valid HTTP/1.1"),
    (http_exceptions.InvalidURLError, "the request target is not a valid URL"),
    (http_exceptions.ContentEncodingError, "the body's Content-Encoding is not supported"),
    (http_exceptions.TransferEncodingError, "the body's transfer coding is not valid"),
    (http_exceptions.ContentLengthError, "the body does not match its Content-Length"),
    (http_exceptions.PayloadEncodingError, "the body's encoding is not valid"),
)


def detail(status: int, exc: BaseException | None) -> str:
    """What went wrong, in words of our own: never the parser's message (it quotes the input)."""
    if status >= 500:
        return "The server met an unexpected error."
    for kind, text in FAULTS:
        if isinstance(exc, kind):
            return f"The request was refused before it was read: {text}."
    return "The request was refused before it was read: it is not valid HTTP/1.1."


class ProblemRequestHandler(RequestHandler):
    """aiohttp's connection handler, with its own error answers as problem+json."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # aiohttp's: logs the error, refuses when a response was already started.
        super().handle_error(request, status, exc, message)
        response = problem(status, detail(status, exc))
        response.force_close()
        return response


class ProblemServer(web.Server):
    """aiohttp's server, whose connections are ``ProblemRequestHandler``s."""

    def __call__(self) -> RequestHandler:
        return ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


class ProblemAppRunner(web.AppRunner):
    """``web.AppRunner`` serving through a ``ProblemServer``, with the same arguments."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        kwargs: dict[str, Any] = dict(server._kwargs)
        return ProblemServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **kwargs,
        )
