"""The tags API for the client: counts, rename, aliases and implications."""

from dataclasses import dataclass
from typing import Any

from pixtag.client.documents import read
from pixtag.client.session import NDJSON, PixtagClient, lines

# The answers, as pixtag.tags.models defines them for the server.


@dataclass(frozen=True)
class TagCount:
    tag: str
    image_count: int


@dataclass(frozen=True)
class TagRenamed:
    tag: str
    to: str
    images_updated: int
    alias_kept: bool


@dataclass(frozen=True)
class AliasApplied:
    alias: str
    target: str
    images_updated: int


@dataclass(frozen=True)
class ImplicationApplied:
    tag: str
    implies: str
    images_updated: int


def tag_counts(
    client: PixtagClient, prefix: str | None = None, limit: int | None = None
) -> list[TagCount]:
    """The tags with their counts, most used first (those starting with ``prefix``)."""
    params: dict[str, Any] = {}
    if prefix:
        params["prefix"] = prefix
    if limit is not None:
        params["limit"] = str(limit)
    headers = {"Accept": NDJSON}
    with client.request("GET", "tags", params=params, headers=headers) as resp:
        return [read(TagCount, line) for line in lines(resp)]


def rename(client: PixtagClient, tag: str, to: str, *, keep_alias: bool) -> TagRenamed:
    """Rename (or merge) a tag everywhere."""
    body = {"to": to, "keep_alias": keep_alias}
    with client.request("POST", "tags", tag, "rename", json=body) as resp:
        return read(TagRenamed, resp.read())


def set_alias(client: PixtagClient, alias: str, target: str) -> AliasApplied:
    """Make ``alias`` stand for ``target``."""
    with client.request("PUT", "tags", alias, "alias", json={"target": target}) as resp:
        return read(AliasApplied, resp.read())


def delete_alias(client: PixtagClient, alias: str) -> None:
    """Remove an alias."""
    with client.request("DELETE", "tags", alias, "alias") as resp:
        resp.read()


def set_implication(client: PixtagClient, tag: str, implied: str) -> ImplicationApplied:
    """Make ``tag`` imply ``implied``."""
    with client.request("PUT", "tags", tag, "implications", implied) as resp:
        return read(ImplicationApplied, resp.read())


def delete_implication(client: PixtagClient, tag: str, implied: str) -> None:
    """Remove an implication."""
    with client.request("DELETE", "tags", tag, "implications", implied) as resp:
        resp.read()
