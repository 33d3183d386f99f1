"""Per-operation OpenAPI facts of /auth, /tokens and share links (merged into OPERATIONS)."""

from typing import Any

from pixtag.auth.models import ShareCreate, TokenCreate


def _body(model: type) -> dict[str, Any]:
    # The view reads the body itself (read_json), for its 415 on other types.
    return {"required": True, "content": {"application/json": {"schema": model}}}


def _location(description: str) -> dict[str, Any]:
    return {
        "Location": {
            "description": description,
            "schema": {"type": "string", "format": "uri-reference"},
        }
    }


ACCESS_OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/auth/me"): {"operationId": "whoAmI"},
    ("post", "/tokens"): {
        "operationId": "createToken",
        "requestBody": _body(TokenCreate),
        "responses": {"201": {"headers": _location("The new token's URL (to revoke it).")}},
    },
    ("get", "/tokens"): {"operationId": "listTokens"},
    ("delete", "/tokens/{token_id}"): {"operationId": "revokeToken"},
    ("post", "/images/{image_id}/shares"): {
        "operationId": "createShare",
        "requestBody": _body(ShareCreate),
        "responses": {"201": {"headers": _location("The share link, /s/{token}.")}},
    },
    ("get", "/images/{image_id}/shares"): {"operationId": "listShares"},
    ("delete", "/shares/{token}"): {"operationId": "revokeShare"},
    ("get", "/s/{token}"): {
        "operationId": "followShare",
        "parameters": [
            {
                "in": "header",
                "name": "X-Share-Password",
                "required": False,
                "description": "The share's password (instead of ?password=).",
                "schema": {"type": "string"},
            }
        ],
        "responses": {
            "302": {"headers": _location("The file's signed URL, valid PIXTAG_MEDIA_URL_TTL s.")},
            "429": {
                "headers": {
                    "Retry-After": {
                        "description": "Seconds until passwords may be tried again.",
                        "schema": {"type": "string"},
                    }
                }
            },
        },
    },
}
