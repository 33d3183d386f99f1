"""``pixtag serve --workers 2``: two processes on one address and one data directory.

The whole life of a production server in one real run: both workers answer
and store, a worker killed with -9 is replaced and nothing it acknowledged is
lost, SIGTERM during an upload lets the upload finish, and the embedded
PostgreSQL the supervisor started is stopped when it exits.
"""

import asyncio
import hashlib
import io
import re
import signal

import aiohttp
import psutil
import pytest
from PIL import Image

from tests.support.helpers import create_form
from tests.support.processes import (
    ServeProcess,
    async_wait_until,
    free_port,
    pixtag_env,
    postmaster,
    run_pixtag,
    wait_until,
)
from tests.support.raw_upload import refuses_connections, upload, upload_request

ANSWERED = re.compile(r"\[worker (\d+)\] pixtag\.access: \S+ \"(\w+) (\S+)\" (\d+)")


def answered_by(output: str, method: str, path: str, status: str) -> set[int]:
    """The workers whose access log shows ``method path`` answered with ``status``."""
    return {
        int(pid) for pid, m, p, s in ANSWERED.findall(output) if (m, p, s) == (method, path, status)
    }


def photo(index: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (index % 256, 80, 160)).save(out, format="PNG")
    return out.getvalue()


def workers_of(serve: ServeProcess) -> set[int]:
    assert serve.proc is not None
    return {child.pid for child in psutil.Process(serve.proc.pid).children()}


@pytest.mark.heavy
async def test_two_workers_share_the_address_survive_a_kill_and_stop_gracefully(tmp_path):
    data_dir = tmp_path / "data"
    env = pixtag_env(PIXTAG_SWEEP_INTERVAL="0", PIXTAG_SHUTDOWN_TIMEOUT="60")
    serve = ServeProcess("--workers", "2", "--data-dir", str(data_dir), log=tmp_path / "serve.log")
    serve.env = env
    created: dict[int, tuple[str, bytes]] = {}
    with serve:
        serve.start()
        await async_wait_until(
            lambda: len(workers_of(serve)) == 2, within=30, what="two workers running"
        )
        async with aiohttp.ClientSession(serve.url) as session:

            async def read_once() -> None:
                async with session.get("/images/999999", headers={"Connection": "close"}) as resp:
                    assert resp.status == 404

            async def both_answered() -> bool:
                await asyncio.gather(*(read_once() for _ in range(8)))
                return len(answered_by(serve.output(), "GET", "/images/999999", "404")) == 2

            await async_wait_until(both_answered, within=60, what="both workers answering")

            async def create_once() -> None:
                index = len(created) + 1000 * len(workers_of(serve))
                data = photo(len(created))
                meta: dict = {"filename": f"w{index}.png", "tags": ["workers"]}
                async with session.post(
                    "/images", data=create_form(meta, data), headers={"Connection": "close"}
                ) as resp:
                    assert resp.status == 201, await resp.text()
                    created[(await resp.json())["image_id"]] = (meta["filename"], data)

            async def both_stored() -> bool:
                await asyncio.gather(*(create_once() for _ in range(4)))
                return len(answered_by(serve.output(), "POST", "/images", "201")) == 2

            await async_wait_until(both_stored, within=60, what="both workers storing")

            # A worker killed with -9 is replaced, and logged; what it stored stays.
            victim = min(workers_of(serve))
            psutil.Process(victim).kill()
            await async_wait_until(
                lambda: victim not in workers_of(serve) and len(workers_of(serve)) == 2,
                within=60,
                what="the killed worker replaced",
            )
            assert f"Worker (pid:{victim}) was sent SIGKILL" in serve.output()
            for _ in range(4):
                await create_once()
            for image_id, (filename, data) in created.items():
                async with session.get(f"/images/{image_id}/attachment/{filename}") as resp:
                    assert resp.status == 200
                    assert await resp.read() == data

        # SIGTERM while an upload is being received: it completes, then everything stops.
        big = io.BytesIO()
        Image.new("RGB", (1500, 1500), (9, 99, 199)).save(big, format="BMP")
        sent, go = asyncio.Event(), asyncio.Event()
        request = upload_request(serve.port, "last.bmp", big.getvalue())
        pending = asyncio.create_task(upload(serve.port, request, sent, go, before=2 << 20))
        try:
            await async_wait_until(sent.is_set, within=30, what="the upload under way")
            serve.kill(signal.SIGTERM)
            await async_wait_until(
                lambda: refuses_connections(serve.port), within=30, what="listening stopped"
            )
            assert not pending.done()
            go.set()
            async with asyncio.timeout(60):
                status, _, image = await pending
        finally:
            go.set()
            pending.cancel()
        exit_status = await asyncio.to_thread(serve.wait, 90)
    output = serve.output()
    assert exit_status == 0, output
    assert status == 201, image
    assert image["attachment"]["sha256"] == hashlib.sha256(big.getvalue()).hexdigest()
    assert "pixtag stopped (exit status 0)" in output
    assert "Traceback" not in output
    assert postmaster(data_dir.resolve() / "postgres") is None  # the embedded server stopped

    verified = run_pixtag("storage", "verify", "--data-dir", str(data_dir), env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{len(created) + 1} files checked, 0 problems" in verified.stdout


@pytest.mark.parametrize("value", ["0", "-1", "lots", "2.5"])
def test_a_bad_number_of_workers_is_one_line(value: str, tmp_path):
    result = run_pixtag("serve", "--workers", value, "--data-dir", str(tmp_path / "data"))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "PIXTAG_WORKERS (--workers)" in lines[0]
    assert not (tmp_path / "data").exists()  # refused before anything was made


def test_workers_auto_is_one_per_cpu():
    from pixtag.settings import Settings

    assert Settings(workers="auto").workers == len(psutil.Process().cpu_affinity() or [1])


def test_more_connections_than_postgresql_allows_is_refused_in_one_line(database_url, tmp_path):
    env = pixtag_env(PIXTAG_POOL_MAX_SIZE="200")
    port = str(free_port())
    result = run_pixtag(
        "serve", "--workers", "2", "--database-url", database_url, "--port", port, env=env
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: cannot start: 2 workers x 205 connections each = 410, more")
    assert "lower PIXTAG_WORKERS or PIXTAG_POOL_MAX_SIZE" in last
    assert "Listening" not in result.stderr  # refused before a worker started


def test_ctrl_c_stops_every_worker_gracefully(tmp_path, database_url):
    """SIGINT (Ctrl-C) is as graceful as SIGTERM: every worker stops, the status is 0."""
    args = ("--workers", "2", "--database-url", database_url, "--data-dir", str(tmp_path / "d"))
    with ServeProcess(*args, log=tmp_path / "serve.log") as serve:
        serve.start()
        wait_until(lambda: len(workers_of(serve)) == 2, within=30, what="two workers")
        workers = [psutil.Process(pid) for pid in workers_of(serve)]
        assert serve.stop(signal.SIGINT) == 0, serve.output()
    assert not any(worker.is_running() for worker in workers)
    assert serve.output().count("pixtag: worker stopped") == 2
    assert "pixtag stopped (exit status 0)" in serve.output()
