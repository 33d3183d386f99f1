"""The feed and webhooks for the client commands."""

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from pixtag.client.documents import read as read_document
from pixtag.client.errors import ClientError
from pixtag.client.session import NDJSON, PixtagClient, lines

# Seconds one long poll waits for the next event (the server's bound is 60).
WAIT = 30


@dataclasses.dataclass(frozen=True)
class Page:
    events: list[dict[str, Any]]
    cursor: str


def page(
    client: PixtagClient, after: str | None, types: tuple[str, ...], *, wait: float = 0
) -> Page:
    """The events after ``after`` (None: the oldest kept; ``now``: from the latest on)."""
    params = [("types", t) for t in types] + [("wait", f"{wait:g}")]
    if after is not None:
        params.append(("after", after))
    with client.request("GET", "events", params=params, headers={"Accept": NDJSON}) as resp:
        events = [json.loads(line) for line in lines(resp)]
        cursor = resp.getheader("Pixtag-Cursor") or after or ""
    return Page(events, cursor)


class State:
    """A cursor kept in a file, replaced whole (write, then rename) after each event."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> str | None:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        if not text:
            return None
        return text

    def write(self, cursor: str) -> None:
        directory = self.path.parent
        fd, name = tempfile.mkstemp(prefix=".cursor-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(cursor + "\n")
            os.replace(name, self.path)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise


@dataclasses.dataclass(frozen=True)
class Webhook:
    webhook_id: int
    url: str
    types: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    failures: int
    retry_at: str | None
    created_at: str
    updated_at: str
    secret: str | None = None


@dataclasses.dataclass(frozen=True)
class Delivery:
    delivery_id: int
    webhook_id: int
    event_id: str
    event_type: str
    redelivery: bool
    status: str
    attempts: int
    response_status: int | None
    response_excerpt: str | None
    error: str | None
    duration_ms: int | None
    created_at: str
    attempted_at: str | None
    next_attempt_at: str | None


def add_webhook(
    client: PixtagClient, url: str, types: tuple[str, ...], description: str
) -> Webhook:
    body = {"url": url, "types": list(types), "description": description}
    with client.request("POST", "webhooks", json=body) as resp:
        return read_document(Webhook, resp.read())


def webhooks(client: PixtagClient) -> list[Webhook]:
    with client.request("GET", "webhooks") as resp:
        found = json.loads(resp.read())
    if not isinstance(found, dict) or "webhooks" not in found:
        raise ClientError("unexpected answer from the server: no webhooks")
    return [read_document(Webhook, item) for item in found["webhooks"]]


def remove_webhook(client: PixtagClient, webhook_id: int) -> None:
    with client.request("DELETE", "webhooks", webhook_id) as resp:
        resp.read()


def set_enabled(client: PixtagClient, webhook_id: int, enabled: bool) -> Webhook:
    with client.request("PATCH", "webhooks", webhook_id, json={"enabled": enabled}) as resp:
        return read_document(Webhook, resp.read())


def deliveries(client: PixtagClient, webhook_id: int, limit: int) -> list[Delivery]:
    params = {"limit": str(limit)}
    with client.request("GET", "webhooks", webhook_id, "deliveries", params=params) as resp:
        found = json.loads(resp.read())
    return [read_document(Delivery, item) for item in found["deliveries"]]


def redeliver(client: PixtagClient, webhook_id: int, delivery_id: int) -> Delivery:
    with client.request(
        "POST", "webhooks", webhook_id, "deliveries", delivery_id, "redeliver"
    ) as resp:
        return read_document(Delivery, resp.read())
