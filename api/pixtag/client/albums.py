"""Albums for the client commands."""

import dataclasses
from collections.abc import Iterator
from typing import Any

from pixtag.client.documents import Image, parse_image
from pixtag.client.documents import read as read_document
from pixtag.client.session import NDJSON, PixtagClient, lines


@dataclasses.dataclass(frozen=True)
class Album:
    album_id: int
    name: str
    description: str
    kind: str
    query: str | None
    image_count: int | None
    cover_id: int | None
    created_at: str
    updated_at: str
    query_error: str | None = None


def create(
    client: PixtagClient, name: str, *, description: str = "", query: str | None = None
) -> Album:
    body: dict[str, Any] = {"name": name, "description": description}
    if query is not None:
        body["query"] = query
    with client.request("POST", "albums", json=body) as resp:
        return read_document(Album, resp.read())


def albums(client: PixtagClient) -> Iterator[Album]:
    with client.request("GET", "albums", headers={"Accept": NDJSON}) as resp:
        for line in lines(resp):
            yield read_document(Album, line)


def album(client: PixtagClient, album_id: int) -> Album:
    with client.request("GET", "albums", album_id) as resp:
        return read_document(Album, resp.read())


def images(client: PixtagClient, album_id: int) -> Iterator[Image]:
    with client.request("GET", "albums", album_id, "images", headers={"Accept": NDJSON}) as resp:
        for line in lines(resp):
            yield parse_image(line)


def add(client: PixtagClient, album_id: int, ids: list[int], position: int | None) -> Album:
    body: dict[str, Any] = {"ids": ids}
    if position is not None:
        body["position"] = position
    with client.request("POST", "albums", album_id, "images", json=body) as resp:
        return read_document(Album, resp.read())


def remove(client: PixtagClient, album_id: int, ids: list[int]) -> Album:
    with client.request("DELETE", "albums", album_id, "images", json={"ids": ids}) as resp:
        return read_document(Album, resp.read())


def move(client: PixtagClient, album_id: int, ids: list[int], before: int | None) -> Album:
    body = {"ids": ids, "before": before}
    with client.request("PUT", "albums", album_id, "order", json=body) as resp:
        return read_document(Album, resp.read())


def delete(client: PixtagClient, album_id: int) -> None:
    with client.request("DELETE", "albums", album_id) as resp:
        resp.read()
