"""The renditions API for the client commands: start a rebuild, read its progress."""

from pydantic import ValidationError

from pixtag.client.errors import ClientError
from pixtag.client.session import PixtagClient
from pixtag.renditions.models import Rebuild


def _parse(document: bytes) -> Rebuild:
    try:
        return Rebuild.model_validate_json(document)
    except ValidationError as error:
        raise ClientError(f"unexpected answer from the server: {error}") from None


async def rebuild(client: PixtagClient, preset: str | None, rebuild_all: bool) -> Rebuild:
    """Queue the rebuild of the missing renditions (all of them, ``rebuild_all``)."""
    body: dict[str, object] = {"all": rebuild_all}
    if preset is not None:
        body["preset"] = preset
    async with client.request("POST", "renditions", "rebuild", json=body) as resp:
        return _parse(await resp.read())


async def progress(client: PixtagClient, rebuild_id: int) -> Rebuild:
    async with client.request("GET", "renditions", "rebuild", rebuild_id) as resp:
        return _parse(await resp.read())
