"""The processing API around the work: validation, unknown or fileless images, failures and
restarts, a source deleted while queued, the streamed listing, and seed 003's spellings."""

import json

import pytest

from pixtag.settings import Settings
from tests.support.helpers import files_under, halves, new_image, problem
from tests.support.processes import sql
from tests.support.processing import ended, process, store


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "jobs_poll_interval": 0.2,
            "jobs_backoff_base": 0.05,
            "jobs_max_attempts": 2,
            "chunk_size": 2,
        }
    )


def pause(database_url: str, enabled: bool) -> None:
    sql(
        database_url,
        "UPDATE job_queues SET enabled = %s WHERE queue = 'processing'",
        (enabled,),
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"image_ids": [1], "algorithm": "blur", "params": {}}, "Input tag 'blur'"),
        (
            {"image_ids": [1], "algorithm": "resize", "params": {"width": 0, "height": 5}},
            "resize.params.width",
        ),
        (
            {"image_ids": [1], "algorithm": "resize", "params": {"width": 10001, "height": 5}},
            "resize.params.width",
        ),
        (
            {"image_ids": [1], "algorithm": "resize", "params": {"width": 5}},
            "resize.params.height",
        ),
        (
            {
                "image_ids": [1],
                "algorithm": "crop",
                "params": {"left": -1, "top": 0, "width": 1, "height": 1},
            },
            "crop.params.left",
        ),
        (
            {"image_ids": [1], "algorithm": "flip", "params": {"direction": "diagonal"}},
            "flip.params.direction:",
        ),
        (
            {"image_ids": [1], "algorithm": "rotate", "params": {"degrees": 400}},
            "rotate.params.degrees",
        ),
        (
            {"image_ids": [1], "algorithm": "grayscale", "params": {"level": 2}},
            "grayscale.params.level:",
        ),
        ({"image_ids": [], "algorithm": "flip"}, "flip.image_ids"),
        ({"image_ids": list(range(1, 102)), "algorithm": "flip"}, "flip.image_ids"),
        ({"image_ids": [0], "algorithm": "flip"}, "flip.image_ids.0"),
        ({"file_ids": [1], "algorithm": "flip"}, "flip.image_ids"),
    ],
)
async def test_invalid_bodies_are_400_naming_the_field(client, body, field):
    resp = await client.post("/processing", json=body)
    error = await problem(resp, 400)
    assert error["detail"].startswith(f"Invalid body: {field}"), error["detail"]
    assert error["errors"][0]["in"] == "body"


async def test_unknown_images_are_404_and_images_without_a_file_409_and_nothing_is_queued(
    client, database_url
):
    stored = await store(client, halves())
    bare = await new_image(client, "empty.png")
    resp = await client.post(
        "/processing", json={"image_ids": [stored["image_id"], 901, 902], "algorithm": "flip"}
    )
    error = await problem(resp, 404)
    assert error["detail"] == "Images <901>, <902> not found"
    assert error["image_ids"] == [901, 902]
    resp = await client.post(
        "/processing", json={"image_ids": [bare["image_id"]], "algorithm": "grayscale"}
    )
    error = await problem(resp, 409)
    assert error["detail"] == f"Image <{bare['image_id']}> has no file to process"
    assert error["image_ids"] == [bare["image_id"]]
    assert sql(database_url, "SELECT count(*) FROM processing_tasks") == [(0,)]
    assert sql(database_url, "SELECT count(*) FROM jobs") == [(0,)]
    resp = await client.post("/processing", data="{}", headers={"Content-Type": "text/plain"})
    await problem(resp, 415)


async def test_an_out_of_bounds_crop_fails_with_its_reason_and_restart_runs_it_again(
    client, database_url
):
    source = await store(client, halves())
    crop = {"left": 30, "top": 0, "width": 20, "height": 20}
    (task_id,) = await process(client, [source["image_id"]], "crop", crop)
    task = await ended(client, task_id)
    assert task["status"] == "error"
    assert task["result_id"] is None
    assert task["attempts"] == 1  # not retried: it would fail the same way
    assert task["error"] == {
        "code": "crop_out_of_bounds",
        "message": "the crop box (left 30, top 0, 20x20) does not fit in the image (40x20)",
    }
    resp = await client.post(f"/processing/{task_id}/restart")
    assert resp.status == 202
    restarted = await resp.json()
    assert (restarted["status"], restarted["error"], restarted["attempts"]) == ("pending", None, 0)
    assert restarted["finished_at"] is None
    again = await ended(client, task_id)
    assert (again["status"], again["error"]["code"]) == ("error", "crop_out_of_bounds")
    assert sql(database_url, "SELECT count(*) FROM images") == [(1,)]


async def test_a_file_removed_behind_the_service_fails_the_task_and_restart_finishes_it(
    client, settings
):
    source = await store(client, halves(), "gone.png")
    key = source["attachment"]["url"].removeprefix("/media/")
    data = (settings.media_dir / key).read_bytes()
    (settings.media_dir / key).unlink()
    (task_id,) = await process(client, [source["image_id"]], "grayscale")
    task = await ended(client, task_id)
    assert task["status"] == "error"
    assert task["error"] == {
        "code": "file_missing",
        "message": f"the file of image <{source['image_id']}> is missing from storage",
    }
    (settings.media_dir / key).write_bytes(data)
    resp = await client.post(f"/processing/{task_id}/restart")
    assert resp.status == 202
    task = await ended(client, task_id)
    assert task["status"] == "finished"
    assert task["result_id"] == source["image_id"] + 1
    # A finished task is not restarted.
    resp = await client.post(f"/processing/{task_id}/restart")
    error = await problem(resp, 409)
    assert error["detail"] == f"Task <{task_id}> is finished: only a task in error can be restarted"
    await problem(await client.post("/processing/99/restart"), 404)
    error = await problem(await client.get("/processing/99"), 404)
    assert error["detail"] == "Task <99> is not found"


async def test_restart_of_a_pending_task_is_409(client, database_url):
    pause(database_url, False)
    source = await store(client, halves())
    (task_id,) = await process(client, [source["image_id"]], "flip")
    error = await problem(await client.post(f"/processing/{task_id}/restart"), 409)
    assert error["detail"] == f"Task <{task_id}> is pending: only a task in error can be restarted"


async def test_a_source_deleted_while_queued_fails_the_task_and_leaves_no_file(
    client, database_url, settings
):
    pause(database_url, False)
    source = await store(client, halves(), "doomed.png")
    keep = await store(client, halves(), "kept.png")
    (task_id,) = await process(client, [source["image_id"]], "rotate", {"degrees": 180})
    resp = await client.delete(f"/images/{source['image_id']}")
    assert resp.status == 204
    pause(database_url, True)
    task = await ended(client, task_id)
    assert task["status"] == "error"
    assert task["source_id"] == source["image_id"]
    assert task["error"]["code"] == "source_gone"
    assert task["error"]["message"].startswith(
        f"the source image is gone: Image <{source['image_id']}> was deleted at "
    )
    assert sql(database_url, "SELECT image_id FROM images") == [(keep["image_id"],)]
    kept_key = keep["attachment"]["url"].removeprefix("/media/")
    assert {str(p) for p in files_under(settings.media_dir) if ".incoming" not in str(p)} == {
        kept_key
    }


async def test_the_listing_streams_in_chunks_filters_by_status_and_pages(client, database_url):
    source = await store(client, halves())
    sid = source["image_id"]
    bad = {"left": 99, "top": 0, "width": 1, "height": 1}
    first = await process(client, [sid], "flip")
    failing = await process(client, [sid], "crop", bad)
    for task_id in first + failing:
        await ended(client, task_id)
    pause(database_url, False)
    pending = await process(client, [sid], "grayscale")
    resp = await client.get("/processing")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    document = await resp.json()
    assert [[t["id"] for t in chunk] for chunk in document[:-1]] == [
        first + failing,
        pending,
    ]
    assert document[-1] == {"totalTasks": 3, "totalChunks": 2}
    for status, wanted in [("finished", first), ("error", failing), ("pending", pending)]:
        resp = await client.get("/processing", params={"status": status})
        found = await resp.json()
        assert [t["id"] for t in found[0]] == wanted
        assert {t["status"] for t in found[0]} == {status}
    resp = await client.get("/processing", params={"status": "processing"})
    assert await resp.json() == [{"totalTasks": 0, "totalChunks": 0}]
    resp = await client.get(
        "/processing",
        params={"after_id": str(first[0]), "limit": "1"},
        headers={"Accept": "application/x-ndjson"},
    )
    assert resp.headers["Content-Type"].startswith("application/x-ndjson")
    lines = (await resp.text()).splitlines()
    assert [json.loads(line)["id"] for line in lines] == failing
    await problem(await client.get("/processing", params={"status": "done"}), 400)


async def test_seed_003_spellings_answer_in_the_seed_shapes(client, database_url):
    source = await store(client, halves())
    sid = source["image_id"]
    body = {"file_ids": [sid], "algorithm": "resize", "params": {"width": 128, "height": 128}}
    resp = await client.post("/api/image-processing/", json=body)
    assert resp.status == 202, await resp.text()
    (task_id,) = (await resp.json())["task_ids"]
    task = await ended(client, task_id)
    resp = await client.get(f"/api/image-processing/{task_id}")
    seed = await resp.json()
    assert seed == task
    assert {k: seed[k] for k in ("id", "source_id", "status", "algorithm", "params")} == {
        "id": task_id,
        "source_id": sid,
        "status": "finished",
        "algorithm": "resize",
        "params": {"width": 128, "height": 128},
    }
    # The seed's flip has no params.
    resp = await client.post(
        "/api/image-processing", json={"file_ids": [sid], "algorithm": "flip", "params": None}
    )
    assert resp.status == 202
    (flip_id,) = (await resp.json())["task_ids"]
    assert (await ended(client, flip_id))["params"] == {"direction": "horizontal"}
    for path in ("/api/image-processing/", "/api/image-processing"):
        resp = await client.get(path)
        listed = await resp.json()
        assert [t["id"] for t in listed] == [task_id, flip_id]
    resp = await client.post(f"/api/image-processing/{task_id}/restart")
    await problem(resp, 409)
    crop = {
        "file_ids": [sid],
        "algorithm": "crop",
        "params": {"left": 50, "top": 0, "width": 1, "height": 1},
    }
    resp = await client.post("/api/image-processing/", json=crop)
    (crop_id,) = (await resp.json())["task_ids"]
    await ended(client, crop_id)
    pause(database_url, False)
    resp = await client.post(f"/api/image-processing/{crop_id}/restart")
    assert resp.status == 200
    assert (await resp.json())["status"] == "pending"
