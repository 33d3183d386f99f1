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

from pixtag.models import ImageCreate

LOCATION = {
    "description": "The URL of the new resource.",
    "schema": {"type": "string", "format": "uri-reference"},
}

OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/images"): {
        "operationId": "createImage",
        # The view reads the body itself (it accepts several media types).
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ImageCreate}},
        },
        "responses": {
            "201": {
                "headers": {"Location": LOCATION},
                "links": {
                    "GetImage": {
                        "operationId": "getImage",
                        "parameters": {"image_id": "$response.body#/image_id"},
                    },
                },
            },
        },
    },
    ("get", "/images/{image_id}"): {
        "operationId": "getImage",
    },
}
