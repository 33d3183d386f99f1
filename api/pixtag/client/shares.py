"""Share links for the client."""

from typing import Any

from pydantic import ValidationError

from pixtag.auth.models import Share
from pixtag.client.errors import ClientError
from pixtag.client.session import PixtagClient


async def create_share(
    client: PixtagClient,
    image_id: int,
    *,
    password: str | None = None,
    expires_in: int | None = None,
    max_downloads: int | None = None,
) -> Share:
    """Make a share link for an image's file."""
    body: dict[str, Any] = {}
    if password is not None:
        body["password"] = password
    if expires_in is not None:
        body["expires_in"] = expires_in
    if max_downloads is not None:
        body["max_downloads"] = max_downloads
    async with client.request("POST", "images", image_id, "shares", json=body) as resp:
        try:
            return Share.model_validate_json(await resp.read())
        except ValidationError as error:
            raise ClientError(f"unexpected answer from the server: {error}") from None
