"""Pieces of OpenAPI that views use in their ``operations`` declarations.

A view states, next to its ``access``, what its operations say beyond their
annotations: ``operations = {"GET": {...}, ...}``, each an operation fragment
merged into the generated one (``pixtag.openapi.document``). A pydantic model
anywhere in a fragment stands for a ``$ref`` to its schema.
"""

from typing import Any

from pixtag.models import Problem


def header(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


def header_parameter(name: str, description: str) -> dict[str, Any]:
    return {"in": "header", "name": name, "required": False, **header(description)}


def location(description: str) -> dict[str, Any]:
    """A ``Location`` response header."""
    return {"Location": header(description, format="uri-reference")}


def json_body(model: type) -> dict[str, Any]:
    """A required JSON body (the views read it themselves, to answer 415 for other types)."""
    return {"required": True, "content": {"application/json": {"schema": model}}}


def busy(description: str) -> dict[str, Any]:
    """The 503 of an operation that needs a database connection (or a stream slot)."""
    return {
        "503": {
            "description": description,
            "headers": {"Retry-After": header("Seconds to wait before trying again.")},
            "content": {"application/problem+json": {"schema": Problem}},
        }
    }


BINARY = {"type": "string", "format": "binary"}
# Every operation reads the database: none waits long for a connection.
BUSY = busy("The server is busy: no database connection came free within PIXTAG_POOL_TIMEOUT_MS.")
STREAM_BUSY = busy(
    "The server is busy: PIXTAG_MAX_STREAMS listings are already streaming, or no"
    " database connection came free, within PIXTAG_POOL_TIMEOUT_MS; or the search's first"
    " chunk took longer than PIXTAG_STREAM_STATEMENT_TIMEOUT_MS (a later chunk past it ends"
    " the stream unfinished)."
)
STREAM_BUSY["429"] = {
    "description": "This client already streams PIXTAG_MAX_STREAMS_PER_CLIENT listings.",
    "headers": {"Retry-After": header("Seconds to wait before trying again.")},
    "content": {"application/problem+json": {"schema": Problem}},
}
QUEUE_BUSY = busy(
    "The server is busy: no database connection came free within PIXTAG_POOL_TIMEOUT_MS"
    " (or, for listings, PIXTAG_MAX_STREAMS are streaming)."
)
UNKNOWN_DELETE = busy(
    "The server is busy (no database connection came free within PIXTAG_POOL_TIMEOUT_MS),"
    " or the database connection was lost while the deletion was committed: read the image"
    " to learn whether it was."
)
