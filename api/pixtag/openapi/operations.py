"""Per-operation facts the views cannot state in their annotations.

Keyed by (method, path) as they appear in the document; each value is an
OpenAPI operation fragment merged into the generated operation (dicts merge,
lists extend, a ``schema`` and other values replace). A pydantic model
anywhere in a fragment stands for a ``$ref`` to its schema. An entry naming
a route that does not exist stops generation, so the table cannot silently
drift from the routes.

Every operation has an entry, if only for its ``operationId`` (links and
generated clients need one; aiohttp-pydantic emits none).
"""

from typing import Any

from pixtag.auth.openapi import ACCESS_OPERATIONS
from pixtag.captures.openapi import CAPTURE_OPERATIONS
from pixtag.imaging import ACCEPTED
from pixtag.models import BulkTags, Image, ImageCreate, ImagePatch, Listing, Problem
from pixtag.openapi.tags import tag_operations
from pixtag.processing.openapi import PROCESSING_OPERATIONS
from pixtag.renditions.openapi import RENDITION_OPERATIONS


def header(description: str, **schema: Any) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string", **schema}}


def header_parameter(name: str, description: str) -> dict[str, Any]:
    return {"in": "header", "name": name, "required": False, **header(description)}


BINARY = {"type": "string", "format": "binary"}
IMAGE_PART = {"contentType": ", ".join(sorted(set(ACCEPTED.values())))}
FILE_BODY = {"image/*": {"schema": BINARY}}
LOCATION = header("The URL of the new resource.", format="uri-reference")
REDIRECT = {"302": {"headers": {"Location": header("The file's URL.", format="uri-reference")}}}
CONDITIONS = [
    header_parameter("If-Match", "ETags (strong comparison) or *: 412 unless the file has one."),
    header_parameter(
        "If-Unmodified-Since", "An HTTP date, read without If-Match: 412 if modified since."
    ),
    header_parameter("If-None-Match", "ETags: 304 when the file still has one of them."),
    header_parameter("If-Modified-Since", "An HTTP date: 304 when not modified since."),
]
# The record's version, for the writes that take If-Match.
VERSION = {"ETag": header('The image record\'s version, e.g. "v3", for If-Match.')}
IF_MATCH = [
    header_parameter(
        "If-Match",
        'The ETag of a read (e.g. "v3"): change only that version, else 412. * or none:'
        " whatever the version.",
    )
]
# What a client can do next with the image in a response body.
BY_ID = {"image_id": "$response.body#/image_id"}
BY_FILE = {**BY_ID, "filename": "$response.body#/filename"}
IMAGE_LINKS = {
    "GetImage": {"operationId": "getImage", "parameters": BY_ID},
    "UploadAttachment": {"operationId": "uploadAttachment", "parameters": BY_FILE},
    "UpdateImage": {"operationId": "updateImage", "parameters": BY_ID},
}
FILE_LINKS = {
    "GetAttachment": {"operationId": "getAttachment", "parameters": BY_FILE},
    "HeadAttachment": {"operationId": "headAttachment", "parameters": BY_FILE},
}
FILE_HEADERS = {
    "ETag": header("The file's version, for If-None-Match."),
    "Last-Modified": header("When the file was stored, for If-Modified-Since."),
    "Cache-Control": header("public, max-age=31536000, immutable: a key's bytes never change."),
    "Content-Disposition": header("inline, with the image's filename (RFC 6266 filename*)."),
}
NOT_MODIFIED_HEADERS = {
    "ETag": FILE_HEADERS["ETag"],
    "Last-Modified": FILE_HEADERS["Last-Modified"],
    "Cache-Control": FILE_HEADERS["Cache-Control"],
}


def busy(description: str) -> dict[str, Any]:
    """The 503 of an operation that needs a database connection (or a stream slot)."""
    return {
        "503": {
            "description": description,
            "headers": {"Retry-After": header("Seconds to wait before trying again.")},
            "content": {"application/problem+json": {"schema": Problem}},
        }
    }


# Every operation reads the database: none waits long for a connection.
BUSY = busy("The server is busy: no database connection came free within PIXTAG_POOL_TIMEOUT_MS.")
STREAM_BUSY = busy(
    "The server is busy: PIXTAG_MAX_STREAMS listings are already streaming, or no"
    " database connection came free, within PIXTAG_POOL_TIMEOUT_MS."
)

UNKNOWN_DELETE = busy(
    "The server is busy (no database connection came free within PIXTAG_POOL_TIMEOUT_MS),"
    " or the database connection was lost while the deletion was committed: read the image"
    " to learn whether it was."
)

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/images"): {
        "operationId": "listImages",
        "responses": {
            "200": {
                "content": {
                    # The view streams text PostgreSQL renders: the seed's chunked
                    # shape, or one image per line when the client asks for NDJSON.
                    "application/json": {"schema": Listing},
                    "application/x-ndjson": {
                        "schema": {
                            "type": "array",
                            "items": Image,
                            "description": "Newline-delimited JSON: one image per line.",
                        },
                    },
                },
            },
            **STREAM_BUSY,
        },
    },
    ("post", "/images"): {
        "operationId": "createImage",
        # The view reads the body itself: JSON, or the record and its file at once.
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": ImageCreate},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["meta", "image"],
                        "properties": {"meta": ImageCreate, "image": BINARY},
                        "additionalProperties": False,
                    },
                    "encoding": {"meta": {"contentType": "application/json"}, "image": IMAGE_PART},
                },
            },
        },
        # No file links: a JSON creation stores no file.
        "responses": {
            "201": {"headers": {"Location": LOCATION, **VERSION}, "links": IMAGE_LINKS},
            **BUSY,
        },
    },
    ("head", "/images"): {
        "operationId": "headImages",
        "description": "The status and headers GET /images answers, without the body: the"
        " query runs to its first chunk, so invalid filters and failures show.",
        "responses": STREAM_BUSY,
    },
    ("post", "/images/tags"): {
        "operationId": "retagImages",
        # The view reads the body itself (read_json: 415 for other types).
        "requestBody": {"required": True, "content": {"application/json": {"schema": BulkTags}}},
        "responses": BUSY,
    },
    ("get", "/images/{image_id}"): {
        "operationId": "getImage",
        "responses": {"200": {"headers": VERSION}, **BUSY},
    },
    ("head", "/images/{image_id}"): {
        "operationId": "headImage",
        "description": "The status and headers GET /images/{image_id} answers, without the body.",
        "responses": {"200": {"headers": VERSION}, **BUSY},
    },
    ("patch", "/images/{image_id}"): {
        "operationId": "updateImage",
        "parameters": IF_MATCH,
        # The view reads the body itself (read_json: 415 for another type).
        "requestBody": {"required": True, "content": {"application/json": {"schema": ImagePatch}}},
        "responses": {"200": {"headers": VERSION, "links": IMAGE_LINKS}, **BUSY},
    },
    ("delete", "/images/{image_id}"): {
        "operationId": "deleteImage",
        "parameters": IF_MATCH,
        "responses": UNKNOWN_DELETE,
    },
    ("post", "/images/{image_id}/attachment/{filename}"): {
        "operationId": "uploadAttachment",
        # The view streams the file to disk itself, never holding it in memory.
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["image"],
                        "properties": {"image": BINARY},
                        "additionalProperties": False,
                    },
                    "encoding": {"image": IMAGE_PART},
                },
            },
        },
        "responses": {
            "200": {"links": FILE_LINKS},
            "201": {"headers": {"Location": LOCATION}, "links": FILE_LINKS},
            **BUSY,
        },
    },
    ("get", "/images/{image_id}/attachment/{filename}"): {
        "operationId": "getAttachment",
        "responses": {**REDIRECT, **BUSY},
    },
    ("head", "/images/{image_id}/attachment/{filename}"): {
        "operationId": "headAttachment",
        "responses": {**REDIRECT, **BUSY},
    },
    ("delete", "/images/{image_id}/attachment/{filename}"): {
        "operationId": "deleteAttachment",
        "parameters": IF_MATCH,
        "responses": {"204": {"headers": VERSION}, **UNKNOWN_DELETE},
    },
    ("get", "/media/{image_id}/{name}"): {
        "operationId": "getMedia",
        "parameters": [
            header_parameter(
                "Range",
                "One byte range: bytes=first-last, bytes=first- or bytes=-length (e.g."
                " bytes=0-1023). Another unit, or several ranges: ignored, the whole file (200).",
            ),
            header_parameter(
                "If-Range",
                "The file's strong ETag or exact Last-Modified date: the range only if it"
                " names this file, else the whole file (200).",
            ),
            *CONDITIONS,
        ],
        "responses": {
            "200": {"content": FILE_BODY, "headers": FILE_HEADERS},
            **REDIRECT,
            "206": {
                "content": FILE_BODY,
                "headers": {"Content-Range": header("The range sent, e.g. bytes 0-1023/4096.")},
            },
            "416": {"headers": {"Content-Range": header("The file's size, e.g. bytes */4096.")}},
            "304": {"headers": NOT_MODIFIED_HEADERS},
            **BUSY,
        },
    },
    ("head", "/media/{image_id}/{name}"): {
        "operationId": "headMedia",
        "parameters": CONDITIONS,
        "responses": {
            "200": {"headers": FILE_HEADERS},
            **REDIRECT,
            "304": {"headers": NOT_MODIFIED_HEADERS},
            **BUSY,
        },
    },
    ("get", "/health/live"): {
        "operationId": "checkLiveness",
    },
    ("get", "/health/ready"): {
        "operationId": "checkReadiness",
    },
}
OPERATIONS.update(tag_operations(BUSY, STREAM_BUSY))

# Capture by URL keeps its facts beside its views.
OPERATIONS.update(CAPTURE_OPERATIONS)

# Access control keeps its facts beside its views.
OPERATIONS.update(ACCESS_OPERATIONS)
OPERATIONS.update(RENDITION_OPERATIONS)
# Image processing too.
OPERATIONS.update(PROCESSING_OPERATIONS)
