"""The renditions API for the client commands: start a rebuild, read its progress."""

import dataclasses
from datetime import datetime

from pixtag.client.documents import read as read_document
from pixtag.client.session import PixtagClient


@dataclasses.dataclass(frozen=True)
class Rebuild:
    """A rebuild's progress: one job per image, counted by status."""

    rebuild_id: int
    presets: list[str]
    all: bool
    total: int
    queued: int
    running: int
    done: int
    failed: int
    finished: bool
    created_at: datetime


def rebuild(client: PixtagClient, preset: str | None, rebuild_all: bool) -> Rebuild:
    """Queue the rebuild of the missing renditions (all of them, ``rebuild_all``)."""
    body: dict[str, object] = {"all": rebuild_all}
    if preset is not None:
        body["preset"] = preset
    with client.request("POST", "renditions", "rebuild", json=body) as resp:
        return read_document(Rebuild, resp.read())


def progress(client: PixtagClient, rebuild_id: int) -> Rebuild:
    with client.request("GET", "renditions", "rebuild", rebuild_id) as resp:
        return read_document(Rebuild, resp.read())
