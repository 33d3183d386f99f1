"""Bodies and answers of /events and /webhooks."""

import base64
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from pixtag.models import BIGINT_MAX, DIGITS, Integer, Patch, some_field

FAMILIES = (
    "image",
    "attachment",
    "rendition",
    "capture",
    "processing",
    "album",
    "tag",
    "alias",
    "implication",
    "token",
)
# An event's type: a family and what happened (image.created), or a family alone.
TYPE_PATTERN = rf"^({'|'.join(FAMILIES)})(\.[a-z_]{{1,40}})?$"
POSITION_PATTERN = r"^(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,18})$"
# Base64 of 24 to 64 bytes: 8 to 20 groups of four and an end, or 21 and at most one byte.
_B64 = "[A-Za-z0-9+/]"
SECRET_PATTERN = (
    rf"^whsec_((?:{_B64}{{4}}){{8,20}}(?:{_B64}{{2}}==|{_B64}{{3}}=)?"
    rf"|(?:{_B64}{{4}}){{21}}(?:{_B64}{{2}}==)?)$"
)


def _check_type(value: str) -> str:
    if not re.fullmatch(TYPE_PATTERN, value):
        raise ValueError(f"not an event type: {value!r} (families: {', '.join(FAMILIES)})")
    return value


EventType = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="An event type (image.created) or a family of them (image).",
        json_schema_extra={"pattern": TYPE_PATTERN},
    ),
    AfterValidator(_check_type),
]


def _check_secret(value: str) -> str:
    if not re.fullmatch(SECRET_PATTERN, value):
        raise ValueError("must be whsec_ and base64")
    try:
        key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
    except ValueError as error:
        raise ValueError("must be whsec_ and base64") from error
    if not 24 <= len(key) <= 64:
        raise ValueError("must hold 24 to 64 bytes (base64)")
    return value


Secret = Annotated[
    str,
    Field(
        min_length=38,
        max_length=100,
        description="The signing secret, whsec_ and 24 to 64 bytes in base64 (default: made"
        " for the webhook and shown once).",
        json_schema_extra={"pattern": SECRET_PATTERN},
    ),
    AfterValidator(_check_secret),
]
WebhookUrl = Annotated[
    str,
    Field(
        min_length=8,
        max_length=2048,
        description="Where events are POSTed: http or https, to a public address unless"
        " PIXTAG_WEBHOOK_ALLOW allows it.",
        json_schema_extra={"pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://[^\s]+$"},
    ),
]
Types = Annotated[
    list[EventType],
    Field(max_length=50, description="The event types (or families) sent; empty: all."),
]
WebhookDescription = Annotated[str, Field(max_length=1000, pattern=r"^[^\x00-\x1f\x7f]*$")]
WebhookId = Annotated[
    int, Field(ge=1, le=BIGINT_MAX, description="The webhook's id." + DIGITS), Integer
]
DeliveryId = Annotated[
    int, Field(ge=1, le=BIGINT_MAX, description="The delivery's id." + DIGITS), Integer
]


class Event(BaseModel):
    """A change, as the feed and webhooks tell it."""

    id: str = Field(description="Its position: resume after it with ?after=.", examples=["1234-5"])
    type: str = Field(examples=["image.created"])
    at: str = Field(description="When its transaction began (UTC).")
    data: dict[str, Any] = Field(description="What changed (per type; see the README).")


class WebhookCreate(BaseModel):
    """A new webhook: events after its creation are POSTed to ``url``, signed."""

    model_config = ConfigDict(extra="forbid", strict=True)

    url: WebhookUrl
    types: Types = []
    secret: Secret | None = None
    description: WebhookDescription = ""


class WebhookPatch(Patch):
    """What changes; ``enabled: true`` starts a disabled webhook again where it stopped."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=some_field)

    url: WebhookUrl | None = None
    types: Types | None = None
    secret: Secret | None = None
    description: WebhookDescription | None = None
    enabled: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> "WebhookPatch":
        if not self.model_fields_set:
            raise ValueError("nothing to change: give at least one field")
        return self


class Webhook(BaseModel):
    """A webhook (never its secret, but when made)."""

    webhook_id: int
    url: str
    types: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None = Field(description="Why it stopped (failures, 410, refused).")
    failures: int = Field(description="Failed attempts in a row.")
    retry_at: str | None = Field(description="When the next attempt is due after a failure.")
    created_at: str
    updated_at: str


class WebhookCreated(Webhook):
    secret: str = Field(description="The signing secret: shown this once.")


class WebhookList(BaseModel):
    webhooks: list[Webhook]


class Delivery(BaseModel):
    """An event sent to a webhook: its last attempt."""

    delivery_id: int
    webhook_id: int
    event_id: str = Field(description="The event's id, sent as webhook-id (the idempotency key).")
    event_type: str
    redelivery: bool
    status: str = Field(description="pending, succeeded or failed.")
    attempts: int
    response_status: int | None
    response_excerpt: str | None = Field(description="The response's first 1,024 characters.")
    error: str | None
    duration_ms: int | None
    created_at: str
    attempted_at: str | None
    next_attempt_at: str | None


class DeliveryList(BaseModel):
    deliveries: list[Delivery]
