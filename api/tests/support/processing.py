"""What the processing tests share: a recognisable source image, storing it, waiting for tasks."""

import io

from PIL import Image

from tests.support.helpers import create_form
from tests.support.processes import async_wait_until

TERMINAL = {"finished", "error"}


async def store(client, data: bytes, filename: str = "photo.png", tags=("cat",)) -> dict:  # type: ignore[no-untyped-def]
    meta = {"filename": filename, "tags": list(tags)}
    resp = await client.post("/images", data=create_form(meta, data))
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def process(client, ids: list[int], algorithm: str, params: object = None) -> list[int]:  # type: ignore[no-untyped-def]
    body = {"image_ids": ids, "algorithm": algorithm, "params": params}
    resp = await client.post("/processing", json=body)
    assert resp.status == 202, await resp.text()
    task_ids = (await resp.json())["task_ids"]
    assert len(task_ids) == len(dict.fromkeys(ids))
    return list(task_ids)


async def ended(client, task_id: int, within: float = 30) -> dict:  # type: ignore[no-untyped-def]
    found: dict = {}

    async def done() -> bool:
        resp = await client.get(f"/processing/{task_id}")
        found.update(await resp.json())
        return found["status"] in TERMINAL

    await async_wait_until(done, within=within, what=f"task {task_id} to end")
    return found


async def result_image(client, task: dict) -> tuple[dict, Image.Image]:  # type: ignore[no-untyped-def]
    """The result's JSON and its decoded file."""
    assert task["status"] == "finished", task
    resp = await client.get(f"/images/{task['result_id']}")
    assert resp.status == 200
    image = await resp.json()
    resp = await client.get(image["attachment"]["url"])
    assert resp.status == 200
    decoded = Image.open(io.BytesIO(await resp.read()))
    decoded.load()
    return image, decoded
