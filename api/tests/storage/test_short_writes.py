"""A write the file system cuts short is never a stored file: the rest is written again, and
the file system's refusal answers 507 with nothing recorded.

The kernel cuts the writes itself: the process runs under a file size limit
(RLIMIT_FSIZE, as a nearly full disk does, a write takes the bytes that fit
and the next one fails; Python ignores SIGXFSZ).
"""

import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import aiohttp

from tests.support.helpers import create_form, noisy_png, problem
from tests.support.processes import ServeProcess, pixtag_env, sql

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


async def test_an_upload_cut_short_by_the_file_system_answers_507_and_records_nothing(
    tmp_path: Path, database_url: str
):
    data_dir = tmp_path / "data"
    args = ("--data-dir", str(data_dir), "--database-url", database_url)
    with ServeProcess(*args, log=tmp_path / "serve.log", env=pixtag_env()) as server:
        server.start()
        assert server.proc is not None
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (LIMIT, LIMIT))
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
        server.stop()
    assert sql(database_url, "SELECT filename FROM images") == [("small.png",)]
    media = data_dir / "media"
    files = sorted(p.relative_to(media) for p in media.rglob("*") if p.is_file())
    assert [str(f.parent) for f in files] == [str(stored["image_id"])]
