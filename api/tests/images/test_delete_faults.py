"""Deletes that meet real faults: a COMMIT whose outcome is lost, a server killed after COMMIT.

The rule under test: a stored file is removed only once the COMMIT that
stops naming it is known. Lost outcome: nothing is removed, the request
answers 503, and the sweeper (whose only truth is the database) removes the
file if the delete did commit. A ``pixtag serve`` killed (SIGKILL) after
PostgreSQL committed the delete but before it learned so: no record points
at a missing file, and the sweep at the next start removes the orphan.
"""

import asyncio
import signal

import aiohttp
import pytest

from pixtag import keys as app_keys
from pixtag.app import create_app
from pixtag.settings import Settings
from pixtag.storage import sweeper
from tests.support.helpers import (
    create_form,
    file_key,
    image_bytes,
    problem,
    record_of,
    stored_files,
)
from tests.support.processes import (
    CommitFaultProxy,
    Fault,
    ServeProcess,
    pixtag_env,
    run_pixtag,
    sql,
)

pytestmark = pytest.mark.both_backends

UNKNOWN = (
    "Whether the deletion was saved could not be confirmed; read the image before trying again"
)


@pytest.fixture
async def proxy(database_url: str):  # type: ignore[no-untyped-def]
    async with CommitFaultProxy(database_url) as started:
        yield started


@pytest.fixture
async def proxied(aiohttp_client, settings: Settings, proxy: CommitFaultProxy):  # type: ignore[no-untyped-def]
    """The application, with its database behind the fault proxy."""
    return await aiohttp_client(create_app(settings.model_copy(update={"database_url": proxy.url})))


async def stored_image(client) -> dict:  # type: ignore[no-untyped-def]
    meta = {"filename": "doubt.png", "tags": ["t"]}
    resp = await client.post("/images", data=create_form(meta, image_bytes("PNG", (6, 6))))
    assert resp.status == 201
    return record_of(await resp.json())


async def sweep_now(client) -> sweeper.SweepReport:  # type: ignore[no-untyped-def]
    app = client.app
    return await sweeper.sweep(app[app_keys.DATABASE], app[app_keys.STORAGE], grace=0)


def unknown_logged(caplog: pytest.LogCaptureFixture, what: str) -> None:
    warnings = [r.getMessage() for r in caplog.records if r.name == "pixtag.storage.change"]
    assert warnings == [f"the outcome of {what} is unknown; nothing removed"]


async def test_a_delete_committed_without_an_answer_removes_nothing_and_the_sweep_does(
    proxied, proxy, settings, caplog
):
    image = await stored_image(proxied)
    image_id = image["image_id"]
    key = file_key(settings, image_id)
    before = await stored_files(settings)
    fired = proxy.arm(Fault.LOSE_ANSWER)

    resp = await proxied.delete(f"/images/{image_id}")

    assert fired.result() == "committed"
    assert (await problem(resp, 503))["detail"] == UNKNOWN
    assert resp.headers["Retry-After"] == "1"
    unknown_logged(caplog, f"deleting image {image_id}")
    assert await stored_files(settings) == before  # the file outlives its record, for now
    assert sql(settings.database_url, "SELECT image_id FROM deleted_images") == [(image_id,)]
    assert (await proxied.get(f"/images/{image_id}")).status == 410

    report = await sweep_now(proxied)

    assert report.orphans == [key]
    assert await stored_files(settings) == {}


async def test_a_delete_whose_commit_never_arrived_removes_nothing_and_keeps_the_image(
    proxied, proxy, settings, caplog
):
    image = await stored_image(proxied)
    image_id = image["image_id"]
    before = await stored_files(settings)
    fired = proxy.arm(Fault.LOSE_COMMIT)

    resp = await proxied.delete(f"/images/{image_id}")

    assert fired.result() == "not sent"
    assert (await problem(resp, 503))["detail"] == UNKNOWN
    unknown_logged(caplog, f"deleting image {image_id}")
    assert await stored_files(settings) == before
    assert await (await proxied.get(f"/images/{image_id}")).json() == image
    assert (await sweep_now(proxied)).orphans == []
    assert await stored_files(settings) == before


async def test_a_file_delete_committed_without_an_answer_leaves_the_file_to_the_sweep(
    proxied, proxy, settings, caplog
):
    image = await stored_image(proxied)
    image_id = image["image_id"]
    key = file_key(settings, image_id)
    fired = proxy.arm(Fault.LOSE_ANSWER)

    resp = await proxied.delete(f"/images/{image_id}/attachment/doubt.png")

    assert fired.result() == "committed"
    assert (await problem(resp, 503))["detail"] == UNKNOWN
    unknown_logged(caplog, f"deleting the file of image {image_id}")
    assert set(await stored_files(settings)) == {key}
    assert (await (await proxied.get(f"/images/{image_id}")).json())["attachment"] is None
    assert (await sweep_now(proxied)).orphans == [key]
    assert await stored_files(settings) == {}


async def test_kill_9_between_the_commit_and_the_removal_leaves_an_orphan_the_next_start_sweeps(
    tmp_path, database_url, proxy
):
    data_dir = tmp_path / "data"
    media = data_dir / "media"
    env = pixtag_env(PIXTAG_SWEEP_INTERVAL="0", PIXTAG_SWEEP_GRACE="0")
    log = tmp_path / "serve.log"
    killed = ServeProcess(
        "--data-dir", str(data_dir), "--database-url", proxy.url, log=log, env=env
    )
    with killed:
        await asyncio.to_thread(killed.start)
        async with aiohttp.ClientSession() as http:
            meta = {"filename": "doomed.png", "tags": ["t"]}
            async with http.post(
                f"{killed.url}/images", data=create_form(meta, image_bytes())
            ) as created:
                assert created.status == 201
                image_id = (await created.json())["image_id"]
            key = file_key_of(database_url, image_id)
            fired = proxy.arm(Fault.HOLD_ANSWER)
            deleting = asyncio.create_task(http.delete(f"{killed.url}/images/{image_id}"))
            # PostgreSQL committed; the server waits for the answer, its file not yet removed.
            assert await asyncio.wait_for(fired, timeout=30) == "committed"
            killed.kill(signal.SIGKILL)
            assert await asyncio.to_thread(killed.wait) == -signal.SIGKILL
            with pytest.raises(aiohttp.ClientError):
                await deleting

    # No record names a missing file: the record is gone, the file is an orphan.
    assert sql(database_url, "SELECT count(*) FROM images") == [(0,)]
    assert sql(database_url, "SELECT image_id FROM deleted_images") == [(image_id,)]
    assert (media / key).is_file()

    restarted = ServeProcess(
        "--data-dir", str(data_dir), "--database-url", database_url, log=log, env=env
    )
    with restarted:
        await asyncio.to_thread(restarted.start)
        assert not (media / key).exists()  # swept at start
        assert "removed 1 unreferenced files" in restarted.output()
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{restarted.url}/images/{image_id}") as gone,
        ):
            assert gone.status == 410
            assert (await gone.json())["detail"].startswith(f"Image <{image_id}> was deleted")
        assert restarted.stop() == 0
    verified = await asyncio.to_thread(
        run_pixtag,
        "storage",
        "verify",
        "--data-dir",
        str(data_dir),
        "--database-url",
        database_url,
    )
    assert (verified.returncode, verified.stdout) == (0, "0 files checked, 0 problems\n")


def file_key_of(database_url: str, image_id: int) -> str:
    ((key,),) = sql(database_url, "SELECT storage_key FROM images WHERE image_id = %s", (image_id,))
    return str(key)
