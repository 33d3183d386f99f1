"""Share links for the client."""

import dataclasses
from typing import Any

from pixtag.client.documents import read as read_document
from pixtag.client.session import PixtagClient


@dataclasses.dataclass(frozen=True)
class Share:
    """A share link: ``url`` (``/s/{token}``) leads to the file without an API token."""

    token: str
    url: str
    expires_at: str | None
    max_downloads: int | None
    downloads: int
    has_password: bool
    created_at: str
    strip_metadata: bool = True
    image_id: int | None = None  # an image's share
    album_id: int | None = None  # an album's


def create_share(
    client: PixtagClient,
    image_id: int | None,
    *,
    password: str | None = None,
    expires_in: int | None = None,
    max_downloads: int | None = None,
    keep_metadata: bool = False,
    album_id: int | None = None,
) -> Share:
    """Make a share link for an image's file (or, with ``album_id``, for an album)."""
    body: dict[str, Any] = {}
    if password is not None:
        body["password"] = password
    if expires_in is not None:
        body["expires_in"] = expires_in
    if max_downloads is not None:
        body["max_downloads"] = max_downloads
    if keep_metadata:
        body["strip_metadata"] = False
    target: tuple[str, int] = (
        ("albums", album_id) if album_id is not None else ("images", image_id or 0)
    )
    with client.request("POST", *target, "shares", json=body) as resp:
        return read_document(Share, resp.read())
