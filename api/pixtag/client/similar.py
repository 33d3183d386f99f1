"""The similar-images API for the client commands: the backfill and its progress."""

import dataclasses

from pixtag.client.documents import read as read_document
from pixtag.client.session import PixtagClient


@dataclasses.dataclass(frozen=True)
class IndexProgress:
    """How many stored files are fingerprinted, and how many jobs wait."""

    with_file: int
    indexed: int
    pending: int
    queued: int | None = None


def index(client: PixtagClient) -> IndexProgress:
    """Queue a fingerprint job for every stored file not fingerprinted yet."""
    with client.request("POST", "similar", "index") as resp:
        return read_document(IndexProgress, resp.read())


def progress(client: PixtagClient) -> IndexProgress:
    with client.request("GET", "similar", "index") as resp:
        return read_document(IndexProgress, resp.read())
