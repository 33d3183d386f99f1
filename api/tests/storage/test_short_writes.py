"""A write the file system cuts short is never a stored file: the rest is written again, and
the file system's refusal answers 507 with nothing recorded.

The kernel cuts the writes itself: the process runs under a file size limit
(RLIMIT_FSIZE, as a nearly full disk does, a write takes the bytes that fit
and the next one fails; Python ignores SIGXFSZ).
"""

import io
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp
from PIL import Image

from tests.support.helpers import create_form, noisy_png, problem
from tests.support.processes import ServeProcess, async_wait_until, pixtag_env, run_pixtag, sql

LIMIT = 256 * 1024

RECEIVE_UNDER_A_LIMIT = textwrap.dedent(
    """
    import asyncio, resource, sys
    from pathlib import Path
    from pixtag.errors import InsufficientStorage
    from pixtag.storage import spool

    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))

    async def source():
        yield b"x" * 300_000  # one batch: written in one call, which the limit cuts short

    try:
        spooled = asyncio.run(spool.receive(source(), Path(sys.argv[1]), 10**9))
    except InsufficientStorage as error:
        print("refused:", error.detail)
    else:
        print("spooled", spooled.size, "bytes;", spooled.path.stat().st_size, "on disk")
    """
)


def test_a_receive_cut_short_by_the_file_system_is_refused_and_leaves_no_file(tmp_path: Path):
    spool_dir = tmp_path / "incoming"
    done = subprocess.run(
        [sys.executable, "-c", RECEIVE_UNDER_A_LIMIT, str(spool_dir), str(LIMIT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "refused: There is no space left to store the file"
    assert list(spool_dir.iterdir()) == []


def limit_files(server: ServeProcess, size: int) -> None:
    """Cut the server's writes at ``size`` bytes a file from now on (RLIM_INFINITY: no cut)."""
    assert server.proc is not None
    resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))


def verify(data_dir: Path, database_url: str) -> str:
    """``pixtag storage verify``: every recorded file read back and compared with its record."""
    done = run_pixtag(
        "storage", "verify", "--data-dir", str(data_dir), "--database-url", database_url
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def test_an_upload_cut_short_by_the_file_system_answers_507_and_records_nothing(
    tmp_path: Path, database_url: str
):
    data_dir = tmp_path / "data"
    args = ("--data-dir", str(data_dir), "--database-url", database_url)
    with ServeProcess(*args, log=tmp_path / "serve.log", env=pixtag_env()) as server:
        server.start()
        limit_files(server, LIMIT)
        picture = noisy_png((400, 400))  # about 480 KB: more than the limit lets a file hold
        assert len(picture) > LIMIT
        async with aiohttp.ClientSession() as session:
            form = create_form({"filename": "big.png", "tags": ["big"]}, picture)
            async with session.post(f"{server.url}/images", data=form) as resp:
                body = await problem(resp, 507)
            assert body["detail"] == "There is no space left to store the file"
            # A file that fits is stored whole, by the same process.
            small = noisy_png((100, 100))
            form = create_form({"filename": "small.png", "tags": ["small"]}, small)
            async with session.post(f"{server.url}/images", data=form) as resp:
                assert resp.status == 201, await resp.text()
                stored = await resp.json()
            async with session.get(f"{server.url}{stored['attachment']['url']}") as resp:
                assert await resp.read() == small
            # Replacing it with a file that does not fit keeps the file it has.
            form = aiohttp.FormData()
            form.add_field("image", picture, filename="small.png")
            url = f"{server.url}/images/{stored['image_id']}/attachment/small.png"
            async with session.post(url, data=form) as resp:
                await problem(resp, 507)
            async with session.get(f"{server.url}/images/{stored['image_id']}") as resp:
                assert (await resp.json())["attachment"] == stored["attachment"]
            async with session.get(f"{server.url}{stored['attachment']['url']}") as resp:
                assert await resp.read() == small
        server.stop()
    assert sql(database_url, "SELECT filename FROM images") == [("small.png",)]
    media = data_dir / "media"
    files = sorted(p.relative_to(media) for p in media.rglob("*") if p.is_file())
    assert [str(f.parent) for f in files] == [str(stored["image_id"])]
    assert verify(data_dir, database_url) == "1 files checked, 0 problems\n"


async def test_renditions_and_processing_results_cut_short_are_refused_then_built_whole(
    tmp_path: Path, database_url: str
):
    data_dir = tmp_path / "data"
    args = ("--data-dir", str(data_dir), "--database-url", database_url)
    env = pixtag_env(PIXTAG_JOBS_POLL_INTERVAL="0.2", PIXTAG_JOBS_MAX_ATTEMPTS="1")
    with ServeProcess(*args, log=tmp_path / "serve.log", env=env) as server:
        server.start()
        source = noisy_png((600, 400))
        async with aiohttp.ClientSession() as session:
            form = create_form({"filename": "noise.png", "tags": ["noise"]}, source)
            async with session.post(f"{server.url}/images", data=form) as resp:
                assert resp.status == 201, await resp.text()
                image_id = (await resp.json())["image_id"]
            limit_files(server, 4096)  # less than a rendition or a result of noise needs
            rendition = f"{server.url}/images/{image_id}/renditions/thumb"
            async with session.get(rendition, allow_redirects=False) as resp:
                await problem(resp, 507)
            body = {"image_ids": [image_id], "algorithm": "flip", "params": {}}
            async with session.post(f"{server.url}/processing", json=body) as resp:
                assert resp.status == 202, await resp.text()
                (task_id,) = (await resp.json())["task_ids"]

            async def task() -> dict:
                async with session.get(f"{server.url}/processing/{task_id}") as resp:
                    return await resp.json()

            await async_wait_until(lambda: _ended(task), within=30, what="the task to end in error")
            failed = await task()
            assert failed["status"] == "error"
            assert failed["result_id"] is None
            assert sql(database_url, "SELECT count(*) FROM images") == [(1,)]

            limit_files(server, resource.RLIM_INFINITY)
            async with session.get(rendition, allow_redirects=False) as resp:
                assert resp.status == 302, await resp.text()
                location = resp.headers["Location"]
            async with session.get(f"{server.url}{location}") as resp:
                built = Image.open(io.BytesIO(await resp.read()))
                built.load()  # the whole file decodes
            async with session.post(f"{server.url}/processing/{task_id}/restart") as resp:
                assert resp.status == 202, await resp.text()
            await async_wait_until(lambda: _ended(task), within=30, what="the task to finish")
            finished = await task()
            assert finished["status"] == "finished", finished
        server.stop()
    # The source and the result: each recorded with the bytes it holds (the rendition was
    # read back whole above).
    assert verify(data_dir, database_url) == "2 files checked, 0 problems\n"


async def _ended(task) -> bool:  # type: ignore[no-untyped-def]
    return (await task())["status"] in ("finished", "error")
