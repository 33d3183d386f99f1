"""What the processing operations say in the OpenAPI document beyond their annotations.

Merged into ``pixtag.openapi.operations.OPERATIONS`` (same format: an
operation fragment per (method, path), a model standing for its ``$ref``).
"""

from typing import Any

from pixtag.captures.openapi import BUSY, json_body
from pixtag.processing.models import (
    ProcessingCreate,
    ProcessingListing,
    ProcessingTask,
    SeedProcessingCreate,
)

BY_ID = {"task_id": "$response.body#/id"}
LINKS = {
    "GetTask": {"operationId": "getProcessingTask", "parameters": BY_ID},
    "RestartTask": {"operationId": "restartProcessingTask", "parameters": BY_ID},
}
SEED = "/api/image-processing"

PROCESSING_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/processing"): {
        "operationId": "createProcessingTasks",
        "requestBody": json_body(ProcessingCreate),
        "responses": BUSY,
    },
    ("get", "/processing"): {
        "operationId": "listProcessingTasks",
        "responses": {
            "200": {
                "content": {
                    "application/json": {"schema": ProcessingListing},
                    "application/x-ndjson": {
                        "schema": {
                            "type": "array",
                            "items": ProcessingTask,
                            "description": "Newline-delimited JSON: one task per line.",
                        },
                    },
                },
            },
            **BUSY,
        },
    },
    ("get", "/processing/{task_id}"): {
        "operationId": "getProcessingTask",
        "responses": {"200": {"links": LINKS}, **BUSY},
    },
    ("post", "/processing/{task_id}/restart"): {
        "operationId": "restartProcessingTask",
        "responses": {"202": {"links": LINKS}, **BUSY},
    },
    ("get", SEED): {"operationId": "seedListProcessingTasks", "responses": BUSY},
    ("post", SEED): {
        "operationId": "seedCreateProcessingTasks",
        "requestBody": json_body(SeedProcessingCreate),
        "responses": BUSY,
    },
    ("get", SEED + "/{task_id}"): {"operationId": "seedGetProcessingTask", "responses": BUSY},
    ("post", SEED + "/{task_id}/restart"): {
        "operationId": "seedRestartProcessingTask",
        "responses": BUSY,
    },
}
