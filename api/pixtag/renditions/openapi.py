"""What the renditions operations say in the OpenAPI document beyond their annotations.

Merged into ``pixtag.openapi.operations.OPERATIONS`` (same format as
``pixtag.captures.openapi``).
"""

from typing import Any

from pixtag.captures.openapi import BUSY, json_body
from pixtag.renditions.models import RebuildRequest

REDIRECT = {
    "Location": {
        "description": "The rendition's URL: its immutable key under PIXTAG_MEDIA_URL, or a"
        " presigned S3 URL.",
        "schema": {"type": "string", "format": "uri-reference"},
    }
}
PROGRESS = {
    "Location": {
        "description": "The rebuild's progress.",
        "schema": {"type": "string", "format": "uri-reference"},
    }
}

RENDITION_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/images/{image_id}/renditions/{preset}"): {
        "operationId": "getRendition",
        "responses": {"302": {"headers": REDIRECT}, **BUSY},
    },
    ("head", "/images/{image_id}/renditions/{preset}"): {
        "operationId": "headRendition",
        "responses": {"302": {"headers": REDIRECT}, **BUSY},
    },
    ("post", "/renditions/rebuild"): {
        "operationId": "rebuildRenditions",
        "requestBody": json_body(RebuildRequest),
        "responses": {
            "202": {
                "headers": PROGRESS,
                "links": {
                    "GetRebuild": {
                        "operationId": "getRebuild",
                        "parameters": {"rebuild_id": "$response.body#/rebuild_id"},
                    }
                },
            },
            **BUSY,
        },
    },
    ("get", "/renditions/rebuild/{rebuild_id}"): {"operationId": "getRebuild", "responses": BUSY},
}
