"""What the captures operations say in the OpenAPI document beyond their annotations.

Merged into ``pixtag.openapi.operations.OPERATIONS`` (same format: an
operation fragment per (method, path), a model standing for its ``$ref``).
"""

from typing import Any

from pixtag.captures.models import (
    Capture,
    CaptureBatch,
    CaptureCreate,
    CaptureListing,
    SeedBatch,
    SeedCapture,
    Switch,
)
from pixtag.models import Problem

LOCATION = {
    "Location": {
        "description": "The capture's URL.",
        "schema": {"type": "string", "format": "uri-reference"},
    }
}
BUSY = {
    "503": {
        "description": "The server is busy: no database connection came free within"
        " PIXTAG_POOL_TIMEOUT_MS (or, for listings, PIXTAG_MAX_STREAMS are streaming).",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "string"},
            }
        },
        "content": {"application/problem+json": {"schema": Problem}},
    }
}


def json_body(model: type) -> dict[str, Any]:
    """A required JSON body (the views read it themselves, to answer 415 for other types)."""
    return {"required": True, "content": {"application/json": {"schema": model}}}


BY_ID = {"capture_id": "$response.body#/capture_id"}
LINKS = {
    "GetCapture": {"operationId": "getCapture", "parameters": BY_ID},
    "CancelCapture": {"operationId": "cancelCapture", "parameters": BY_ID},
    "RetryCapture": {"operationId": "retryCapture", "parameters": BY_ID},
}

CAPTURE_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/captures"): {
        "operationId": "createCapture",
        "requestBody": json_body(CaptureCreate),
        "responses": {
            "200": {"headers": LOCATION, "links": LINKS},
            "202": {"headers": LOCATION, "links": LINKS},
            **BUSY,
        },
    },
    ("get", "/captures"): {
        "operationId": "listCaptures",
        "responses": {
            "200": {
                "content": {
                    "application/json": {"schema": CaptureListing},
                    "application/x-ndjson": {
                        "schema": {
                            "type": "array",
                            "items": Capture,
                            "description": "Newline-delimited JSON: one capture per line.",
                        },
                    },
                },
            },
            **BUSY,
        },
    },
    ("post", "/captures/batch"): {
        "operationId": "createCaptures",
        "requestBody": json_body(CaptureBatch),
        "responses": BUSY,
    },
    ("get", "/captures/switch"): {"operationId": "getCaptureSwitch", "responses": BUSY},
    ("put", "/captures/switch"): {
        "operationId": "setCaptureSwitch",
        "requestBody": json_body(Switch),
        "responses": BUSY,
    },
    ("get", "/captures/{capture_id}"): {"operationId": "getCapture", "responses": BUSY},
    ("delete", "/captures/{capture_id}"): {"operationId": "cancelCapture", "responses": BUSY},
    ("post", "/captures/{capture_id}/retry"): {"operationId": "retryCapture", "responses": BUSY},
    ("post", "/capture"): {
        "operationId": "seedCapture",
        "requestBody": json_body(SeedCapture),
        "responses": BUSY,
    },
    ("post", "/batch/capture"): {
        "operationId": "seedBatchCapture",
        "requestBody": json_body(SeedBatch),
        "responses": BUSY,
    },
    ("get", "/resources"): {"operationId": "seedListResources", "responses": BUSY},
    ("get", "/resources/{url}"): {"operationId": "seedGetResource", "responses": BUSY},
}
