"""Domain errors and the one middleware that turns every error into problem+json.

Query functions and storage raise the domain errors below; aiohttp raises its
own HTTP exceptions (unknown route, wrong method, body too large); anything
else is a bug, logged with its traceback and answered with a generic 500 so
that no internals reach the client.
"""

import json
import logging
import time
from http import HTTPStatus
from typing import Any

import psycopg2
from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from pixtag.logs import redacted

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """An error with a meaning for the client; ``status`` is its HTTP status."""

    status = 400
    # Members the problem document adds (RFC 9457 extensions), e.g. a position.
    extensions: dict[str, Any]

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extensions = {}


class NotFound(DomainError):
    status = 404


class ImageNotFound(NotFound):
    def __init__(self, image_id: int) -> None:
        super().__init__(f"Image <{image_id}> is not found")


class Gone(DomainError):
    status = 410


class ImageGone(Gone):
    def __init__(self, image_id: int, deleted_at: str) -> None:
        super().__init__(f"Image <{image_id}> was deleted at {deleted_at}")


class WrongFilename(NotFound):
    def __init__(self, image_id: int, given: str, expected: str) -> None:
        super().__init__(
            f"Image <{image_id}> has no file named {given!r}: its filename is {expected!r}"
        )


class UnsupportedMediaType(DomainError):
    status = 415


class PayloadTooLarge(DomainError):
    status = 413


class BadRequest(DomainError):
    status = 400


class InsufficientStorage(DomainError):
    status = 507


class DatabaseUnavailable(DomainError):
    """The database did not answer (readiness)."""

    status = 503


class RangeNotSatisfiable(DomainError):
    status = 416

    def __init__(self, size: int, reason: str = "") -> None:
        super().__init__(
            reason or f"The range is not satisfiable: the file has {size} bytes",
            headers={"Content-Range": f"bytes */{size}"},
        )


class PreconditionFailed(DomainError):
    status = 412


class Conflict(DomainError):
    status = 409


REALM = 'Bearer realm="pixtag"'


class Unauthorized(DomainError):
    """No credentials, or bad ones (RFC 6750: ``error="invalid_token"`` when one was sent)."""

    status = 401

    def __init__(self, detail: str, *, invalid_token: bool = False) -> None:
        challenge = REALM + (', error="invalid_token"' if invalid_token else "")
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class Forbidden(DomainError):
    """A valid token without the scope the route needs (RFC 6750: ``insufficient_scope``)."""

    status = 403

    def __init__(self, detail: str, *, scope: str) -> None:
        challenge = f'{REALM}, error="insufficient_scope", scope="{scope}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class AccessDenied(DomainError):
    """Refused whoever asks (a media URL without a valid signature)."""

    status = 403


class TooManyRequests(DomainError):
    status = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


# SQLSTATE of the database's own refusals that a client can fix (fixture 007:
# the tag rules would give an image more than 100 tags).
CLIENT_SQLSTATES = {"PX001": 400}
# A statement cancelled by its statement_timeout.
QUERY_CANCELED = "57014"
TOO_LONG = (
    "The request took longer than the server allows; try again later, or, for a listing,"
    " narrow the search (fewer prefixes, a more selective tag) or page it with limit"
)


class InvalidRequest(DomainError):
    """A request part failed validation; the response lists the fields."""

    def __init__(self, error: ValidationError, where: str) -> None:
        super().__init__(str(error))
        self.error = error
        self.where = where


def problem(
    status: int,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> web.Response:
    """A problem+json response (RFC 9457) with the seed's ``error`` key beside ``detail``."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "error": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extensions or {})
    return web.Response(
        status=status, text=json.dumps(body), content_type=PROBLEM_JSON, headers=headers
    )


def validation_problem(error: ValidationError, where: str) -> web.Response:
    """A 400 problem listing each invalid field of a request part."""
    fields = [
        {
            "in": where,
            "loc": list(e["loc"]),
            "msg": e["msg"],
            "type": e["type"],
        }
        for e in error.errors(include_url=False, include_context=False, include_input=False)
    ]
    first = fields[0]
    location = ".".join(str(part) for part in first["loc"])
    detail = f"Invalid {where}: {location + ': ' if location else ''}{first['msg']}"
    return problem(400, detail, errors=fields)


def _http_detail(exc: web.HTTPException) -> str:
    """A readable detail for aiohttp's own exceptions (aiohttp-pydantic puts JSON in them)."""
    text = exc.text or ""
    try:
        payload = json.loads(text)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), str):
        return str(payload["error"])
    if isinstance(payload, list) and payload and isinstance(payload[0], dict):
        return str(payload[0].get("msg", exc.reason))
    if text and not text.startswith(f"{exc.status}:"):
        return text
    return exc.reason


UNAVAILABLE = "The database is unavailable; try again"


def database_lost(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached (not that a statement failed):
    no connection, a connection lost, a server shutting down or starting. Background loops
    log such an error in one line, without its traceback: it says all there is."""
    if not isinstance(error, psycopg2.OperationalError | psycopg2.InterfaceError):
        return False
    return error.pgcode is None or error.pgcode.startswith(("08", "57P"))


def one_line(text: str) -> str:
    """libpq's messages span lines (a reason, then hints); an error is one line."""
    return "; ".join(line.strip() for line in text.strip().splitlines() if line.strip())


def first_line(error: BaseException) -> str:
    """What an error says, in one line (its type when it says nothing)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class Unavailable:
    """While the database is down every request fails alike: one log line per interval, with
    how many were answered 503, instead of a traceback per request."""

    def __init__(
        self,
        interval: float = 10.0,
        *,
        what: str = "database unavailable",
        counted: str = "requests answered 503",
        logger: logging.Logger = log,
    ) -> None:
        self.interval = interval
        self.what, self.counted, self.log = what, counted, logger
        self._since: float | None = None
        self._count = 0

    def count(self, error: BaseException | str) -> None:
        now = time.monotonic()
        self._count += 1
        if self._since is None or now - self._since >= self.interval:
            reason = error if isinstance(error, str) else first_line(error)
            self.log.warning(
                "%s: %d %s since the last report (%s)", self.what, self._count, self.counted, reason
            )
            self._since, self._count = now, 0


unavailable = Unavailable()

# Not an HTTP status a client ever sees: what the access log says of a client that left.
CLIENT_CLOSED = 499


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except InvalidRequest as error:
        return validation_problem(error.error, error.where)
    except DomainError as error:
        return problem(
            error.status, error.detail, headers=error.headers, extensions=error.extensions
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {}
        if "Allow" in exc.headers:
            headers["Allow"] = exc.headers["Allow"]
        return problem(exc.status, _http_detail(exc), headers=headers)
    except psycopg2.Error as error:
        if database_lost(error):
            unavailable.count(error)
            return problem(503, UNAVAILABLE, headers={"Retry-After": "1"})
        if error.pgcode == QUERY_CANCELED:
            # A statement past its bound (a listing's PIXTAG_STREAM_STATEMENT_TIMEOUT_MS, a
            # write's lock or statement bound): the request cost more than the server gives.
            log.info("%s %s: %s", request.method, redacted(request.raw_path), first_line(error))
            return problem(503, TOO_LONG, headers={"Retry-After": "5"})
        # Raised on any write path (the rules trigger runs on them all); a message
        # the fixture wrote for clients, never SQL or internals.
        if error.pgcode not in CLIENT_SQLSTATES or error.diag.message_primary is None:
            log.exception("unhandled error on %s %s", request.method, redacted(request.raw_path))
            return problem(500, "The server met an unexpected error.")
        return problem(CLIENT_SQLSTATES[error.pgcode], error.diag.message_primary)
    except ConnectionResetError:
        # The client went away while its request was being read (an upload cut off):
        # nothing is wrong with the server, and no one is left to answer. The access log
        # says 499, as nginx does for a client that closed its request.
        log.info("client left during %s %s", request.method, redacted(request.raw_path))
        return web.Response(status=CLIENT_CLOSED, reason="Client Closed Request")
    except Exception:
        log.exception("unhandled error on %s %s", request.method, redacted(request.raw_path))
        return problem(500, "The server met an unexpected error.")
