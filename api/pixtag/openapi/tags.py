"""Per-operation OpenAPI facts of the tags API (merged into ``operations.OPERATIONS``)."""

from typing import Any

from pixtag.tags.models import AliasSet, RenameRequest, TagCount, TagListing


def _body(model: type) -> dict[str, Any]:
    # The view reads the body itself (read_json), for its 415 on other types.
    return {"required": True, "content": {"application/json": {"schema": model}}}


def tag_operations(
    busy: dict[str, Any], stream_busy: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The tags API's entries, given the shared 503 responses."""
    return {
        ("get", "/tags"): {
            "operationId": "listTags",
            "responses": {
                "200": {
                    "content": {
                        "application/json": {"schema": TagListing},
                        "application/x-ndjson": {
                            "schema": {
                                "type": "array",
                                "items": TagCount,
                                "description": "Newline-delimited JSON: one tag per line.",
                            },
                        },
                    },
                },
                **stream_busy,
            },
        },
        ("get", "/tags/{tag}"): {"operationId": "getTag", "responses": busy},
        ("post", "/tags/{tag}/rename"): {
            "operationId": "renameTag",
            "requestBody": _body(RenameRequest),
            "responses": busy,
        },
        ("put", "/tags/{tag}/alias"): {
            "operationId": "setTagAlias",
            "requestBody": _body(AliasSet),
            "responses": busy,
        },
        ("delete", "/tags/{tag}/alias"): {"operationId": "deleteTagAlias", "responses": busy},
        ("put", "/tags/{tag}/implications/{implied}"): {
            "operationId": "setTagImplication",
            "responses": busy,
        },
        ("delete", "/tags/{tag}/implications/{implied}"): {
            "operationId": "deleteTagImplication",
            "responses": busy,
        },
    }
