"""The captures API for the client commands: request, read, list, and switch."""

from collections.abc import Iterator, Sequence

from pydantic import BaseModel, TypeAdapter, ValidationError

from pixtag.captures.models import Capture, SwitchState
from pixtag.client.errors import ClientError
from pixtag.client.session import NDJSON, PixtagClient, lines

BATCH = 1000
_CAPTURES = TypeAdapter(list[Capture])


def _parse[M: BaseModel](model: type[M], document: bytes) -> M:
    try:
        return model.model_validate_json(document)
    except ValidationError as error:
        raise ClientError(f"unexpected answer from the server: {error}") from None


def request(client: PixtagClient, urls: Sequence[str], tags: Sequence[str] = ()) -> list[Capture]:
    """Capture every URL (in batches); the captures in the order of the URLs."""
    found: list[Capture] = []
    for start in range(0, len(urls), BATCH):
        body = {"urls": list(urls[start : start + BATCH]), "tags": list(tags)}
        with client.request("POST", "captures", "batch", json=body) as resp:
            try:
                found += _CAPTURES.validate_json(resp.read())
            except ValidationError as error:
                raise ClientError(f"unexpected answer from the server: {error}") from None
    return found


def read(client: PixtagClient, capture_id: int) -> Capture:
    with client.request("GET", "captures", capture_id) as resp:
        return _parse(Capture, resp.read())


def listing(client: PixtagClient, status: str | None = None) -> Iterator[Capture]:
    """Every capture (with ``status``), streamed in id order."""
    params = {"status": status} if status else {}
    headers = {"Accept": NDJSON}
    with client.request("GET", "captures", params=params, headers=headers) as resp:
        for line in lines(resp):
            yield _parse(Capture, line)


def switch(client: PixtagClient, enabled: bool) -> SwitchState:
    with client.request("PUT", "captures", "switch", json={"enabled": enabled}) as resp:
        return _parse(SwitchState, resp.read())
