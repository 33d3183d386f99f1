"""The processing API for the client commands: create tasks and read them."""

import dataclasses
from collections.abc import Sequence
from typing import Any

from pixtag.client.documents import read as read_document
from pixtag.client.session import PixtagClient


@dataclasses.dataclass(frozen=True)
class TaskError:
    code: str
    message: str


@dataclasses.dataclass(frozen=True)
class ProcessingTask:
    """What a command shows of a task (the server's document has its params and times too)."""

    id: int
    source_id: int
    result_id: int | None
    status: str
    algorithm: str
    error: TaskError | None


@dataclasses.dataclass(frozen=True)
class TaskIds:
    task_ids: list[int]


def create(
    client: PixtagClient, image_ids: Sequence[int], algorithm: str, params: dict[str, Any]
) -> list[int]:
    """Queue one task per image; their ids."""
    body = {"image_ids": list(image_ids), "algorithm": algorithm, "params": params}
    with client.request("POST", "processing", json=body) as resp:
        return read_document(TaskIds, resp.read()).task_ids


def read(client: PixtagClient, task_id: int) -> ProcessingTask:
    with client.request("GET", "processing", task_id) as resp:
        return read_document(ProcessingTask, resp.read())
