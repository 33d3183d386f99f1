"""The processing API for the client commands: create tasks and read them."""

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from pixtag.client.errors import ClientError
from pixtag.client.session import PixtagClient
from pixtag.processing.models import ProcessingTask, TaskIds


def _parse[M: BaseModel](model: type[M], document: bytes) -> M:
    try:
        return model.model_validate_json(document)
    except ValidationError as error:
        raise ClientError(f"unexpected answer from the server: {error}") from None


async def create(
    client: PixtagClient, image_ids: Sequence[int], algorithm: str, params: dict[str, Any]
) -> list[int]:
    """Queue one task per image; their ids."""
    body = {"image_ids": list(image_ids), "algorithm": algorithm, "params": params}
    async with client.request("POST", "processing", json=body) as resp:
        return _parse(TaskIds, await resp.read()).task_ids


async def read(client: PixtagClient, task_id: int) -> ProcessingTask:
    async with client.request("GET", "processing", task_id) as resp:
        return _parse(ProcessingTask, await resp.read())
