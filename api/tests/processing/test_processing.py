"""Processing tasks end to end: each algorithm's result checked pixel by pixel with Pillow,
the result's name, format, tags and metadata, and the task's shape."""

import io

import pytest
from PIL import Image

from pixtag.app import create_app
from pixtag.settings import Settings
from tests.support.helpers import halves
from tests.support.processes import sql
from tests.support.processing import ended, process, result_image, store

RED = (255, 0, 0)
BLUE = (0, 0, 255)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"jobs_poll_interval": 0.2, "jobs_backoff_base": 0.05, "jobs_max_attempts": 2}
    )


def rgb(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    return tuple(image.convert("RGB").getpixel(xy))  # type: ignore[arg-type]


def near(found: tuple[int, ...], wanted: tuple[int, ...], tolerance: int = 8) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(found, wanted, strict=True))


async def test_every_algorithm_makes_a_new_image_with_the_expected_pixels(client):
    source = await store(client, halves(), "photo.png", tags=("cat", "red"))
    sid = source["image_id"]
    cases = [
        ("resize", {"width": 10, "height": 30}),
        ("thumbnail", {"size": 8}),
        ("thumbnail", {"width": 100, "height": 5}),
        ("flip", {"direction": "horizontal"}),
        ("flip", {"direction": "vertical"}),
        ("rotate", {"degrees": 90}),
        ("rotate", {"degrees": 45}),
        ("grayscale", {}),
        ("crop", {"left": 15, "top": 5, "width": 10, "height": 10}),
    ]
    tasks = [(await process(client, [sid], a, p))[0] for a, p in cases]
    results = []
    for (algorithm, params), task_id in zip(cases, tasks, strict=True):
        task = await ended(client, task_id)
        assert task["id"] == task_id
        assert task["source_id"] == sid
        assert task["algorithm"] == algorithm
        assert task["params"] == ({"expand": True, **params} if algorithm == "rotate" else params)
        assert task["error"] is None
        assert None not in (task["created_at"], task["started_at"], task["finished_at"])
        image, pixels = await result_image(client, task)
        assert image["filename"] == f"photo.{algorithm}.png"
        assert image["tags"] == ["cat", "red"]
        assert image["attachment"]["content_type"] == "image/png"
        assert (image["attachment"]["width"], image["attachment"]["height"]) == pixels.size
        results.append(pixels)
    resized, square, box, flipped, upside, turned, tilted, gray, cropped = results

    assert resized.size == (10, 30)
    assert square.size == (8, 4)  # fits, keeps 2:1
    assert box.size == (10, 5)
    assert flipped.size == (40, 20)
    assert (rgb(flipped, (2, 10)), rgb(flipped, (37, 10))) == (BLUE, RED)
    assert (rgb(upside, (2, 10)), rgb(upside, (37, 10))) == (RED, BLUE)
    assert turned.size == (20, 40)  # counter-clockwise: the left (red) half goes down
    assert (rgb(turned, (10, 37)), rgb(turned, (10, 2))) == (RED, BLUE)
    assert tilted.size == (44, 44)  # expanded to hold the whole turned image
    assert gray.mode == "L"
    assert (gray.getpixel((2, 10)), gray.getpixel((37, 10))) == (76, 29)  # ITU-R 601 luma
    assert cropped.size == (10, 10)
    assert (rgb(cropped, (2, 5)), rgb(cropped, (7, 5))) == (RED, BLUE)
    # The source is untouched.
    resp = await client.get(f"/images/{sid}")
    assert (await resp.json())["attachment"] == source["attachment"]


async def test_the_exif_orientation_is_applied_first_and_metadata_is_not_kept(client):
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    exif[0x010F] = "Camera maker"
    data = halves(fmt="JPEG", exif=exif.tobytes(), quality=95)
    source = await store(client, data, "shot.jpeg")
    (task_id,) = await process(
        client, [source["image_id"]], "crop", {"left": 0, "top": 0, "width": 20, "height": 10}
    )
    image, pixels = await result_image(client, await ended(client, task_id))
    # Shown upright the image is 20x40 with red on top: the crop is of what the viewer sees.
    assert pixels.size == (20, 10)
    assert near(rgb(pixels, (10, 5)), RED, 40)
    assert image["filename"] == "shot.crop.jpeg"  # same format: the source's extension
    assert image["attachment"]["content_type"] == "image/jpeg"
    assert pixels.getexif() == {}
    assert "exif" not in pixels.info


async def test_a_format_pillow_cannot_write_gives_png_and_gif_stays_gif(client):
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buffer, format="ICO", sizes=[(16, 16)])
    icon = await store(client, buffer.getvalue(), "favicon.ico")
    gif = await store(client, halves(fmt="GIF"), "anim.gif")
    (to_png,) = await process(client, [icon["image_id"]], "flip")
    (to_gif,) = await process(client, [gif["image_id"]], "grayscale")
    image, pixels = await result_image(client, await ended(client, to_png))
    assert image["filename"] == "favicon.flip.png"
    assert (image["attachment"]["content_type"], pixels.format) == ("image/png", "PNG")
    image, pixels = await result_image(client, await ended(client, to_gif))
    assert image["filename"] == "anim.grayscale.gif"
    assert (image["attachment"]["content_type"], pixels.format) == ("image/gif", "GIF")


async def test_a_batch_makes_one_task_per_distinct_image_in_order(client):
    a = await store(client, halves(), "a.png")
    b = await store(client, halves((30, 30)), "b.png")
    ids = [b["image_id"], a["image_id"], b["image_id"]]
    task_ids = await process(client, ids, "thumbnail", {"width": 6, "height": 6})
    assert task_ids == sorted(task_ids)
    tasks = [await ended(client, t) for t in task_ids]
    assert [t["source_id"] for t in tasks] == [b["image_id"], a["image_id"]]
    sizes = [(await result_image(client, t))[1].size for t in tasks]
    assert sizes == [(6, 6), (6, 3)]


async def test_a_result_over_the_pixel_limit_fails_the_task_before_it_is_computed(
    aiohttp_client, settings
):
    small = settings.model_copy(update={"max_image_pixels": 1000})
    client = await aiohttp_client(create_app(small))
    source = await store(client, halves())  # 800 pixels: within the limit
    (task_id,) = await process(client, [source["image_id"]], "resize", {"width": 50, "height": 50})
    task = await ended(client, task_id)
    assert task["status"] == "error"
    assert task["error"] == {
        "code": "too_large",
        "message": "the result (50x50) would have more than 1000 pixels",
    }


async def test_a_task_recorded_by_a_process_that_died_before_its_job_was_done_is_not_redone(
    client, database_url
):
    # As a process leaves it when killed between its commit and the engine's "done".
    source = await store(client, halves())
    (task_id,) = await process(client, [source["image_id"]], "grayscale")
    first = await ended(client, task_id)
    sql(
        database_url,
        "UPDATE jobs SET status = 'running', token = 'dead', result = NULL, finished_at = NULL,"
        " lease_until = now() - interval '1 second' WHERE job_id ="
        " (SELECT job_id FROM processing_tasks WHERE task_id = %s)",
        (task_id,),
    )
    again = await ended(client, task_id)
    assert again["status"] == "finished"
    assert again["result_id"] == first["result_id"]
    assert sql(database_url, "SELECT count(*) FROM images") == [(2,)]
    job = sql(
        database_url,
        "SELECT attempts, result FROM jobs JOIN processing_tasks USING (job_id) WHERE task_id = %s",
        (task_id,),
    )
    assert job == [(2, {"result_id": first["result_id"]})]
