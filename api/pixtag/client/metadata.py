"""The metadata API for the client commands: the rebuild and its progress."""

import dataclasses

from pixtag.client.documents import read as read_document
from pixtag.client.session import PixtagClient


@dataclasses.dataclass(frozen=True)
class RebuildProgress:
    """How many stored files' metadata is read, and how many jobs wait."""

    with_file: int
    read: int
    pending: int
    queued: int | None = None


def rebuild(client: PixtagClient, *, every: bool = False) -> RebuildProgress:
    """Queue a read job for every stored file not read yet (``every``: every file)."""
    params = {"all": "true"} if every else {}
    with client.request("POST", "metadata", "rebuild", params=params) as resp:
        return read_document(RebuildProgress, resp.read())


def progress(client: PixtagClient) -> RebuildProgress:
    with client.request("GET", "metadata", "rebuild") as resp:
        return read_document(RebuildProgress, resp.read())
