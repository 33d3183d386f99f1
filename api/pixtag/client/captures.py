"""The captures API for the client commands: request, read, list, and switch."""

from collections.abc import AsyncGenerator, Sequence

from pydantic import BaseModel, TypeAdapter, ValidationError

from pixtag.captures.models import Capture, SwitchState
from pixtag.client.errors import ClientError
from pixtag.client.session import NDJSON, PixtagClient

BATCH = 1000
_CAPTURES = TypeAdapter(list[Capture])


def _parse[M: BaseModel](model: type[M], document: bytes) -> M:
    try:
        return model.model_validate_json(document)
    except ValidationError as error:
        raise ClientError(f"unexpected answer from the server: {error}") from None


async def request(
    client: PixtagClient, urls: Sequence[str], tags: Sequence[str] = ()
) -> list[Capture]:
    """Capture every URL (in batches); the captures in the order of the URLs."""
    found: list[Capture] = []
    for start in range(0, len(urls), BATCH):
        body = {"urls": list(urls[start : start + BATCH]), "tags": list(tags)}
        async with client.request("POST", "captures", "batch", json=body) as resp:
            try:
                found += _CAPTURES.validate_json(await resp.read())
            except ValidationError as error:
                raise ClientError(f"unexpected answer from the server: {error}") from None
    return found


async def read(client: PixtagClient, capture_id: int) -> Capture:
    async with client.request("GET", "captures", capture_id) as resp:
        return _parse(Capture, await resp.read())


async def listing(client: PixtagClient, status: str | None = None) -> AsyncGenerator[Capture]:
    """Every capture (with ``status``), streamed in id order."""
    params = {"status": status} if status else {}
    headers = {"Accept": NDJSON}
    async with client.request("GET", "captures", params=params, headers=headers) as resp:
        async for line in resp.content:
            if line.strip():
                yield _parse(Capture, line)


async def switch(client: PixtagClient, enabled: bool) -> SwitchState:
    async with client.request("PUT", "captures", "switch", json={"enabled": enabled}) as resp:
        return _parse(SwitchState, await resp.read())
