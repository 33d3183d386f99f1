"""Graceful shutdown: in-flight requests, uploads included, finish before the pool closes."""

import asyncio
import hashlib
import io
import signal

import aiohttp
from aiohttp import web
from PIL import Image

from pixtag import keys
from pixtag.app import create_app
from tests.support.processes import ServeProcess, async_wait_until, pixtag_env, run_pixtag
from tests.support.raw_upload import refuses_connections, upload, upload_request


async def test_in_flight_request_finishes_then_the_pool_closes(settings, unused_tcp_port):
    started = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        async with request.app[keys.DATABASE].cursor() as cur:
            await cur.execute("SELECT pg_sleep(0.5), 42")
            (_, answer) = await cur.fetchone()
        return web.json_response({"answer": answer})

    app = create_app(settings)
    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app, shutdown_timeout=10)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    pool = app[keys.DATABASE].pool

    async with aiohttp.ClientSession() as session:
        pending = asyncio.create_task(session.get(f"http://127.0.0.1:{unused_tcp_port}/slow"))
        await started.wait()
        await runner.cleanup()  # the last step of `pixtag serve`'s shutdown
        resp = await pending
        assert resp.status == 200
        assert await resp.json() == {"answer": 42}
    assert pool.closed


UPLOADS = 3
# Sent before the signal; the rest of each ~41 MB body goes after it.
BEFORE_SIGNAL = 8 * 1024 * 1024


def big_bmp(index: int) -> bytes:
    """A ~41 MB BMP (3700 x 3700 pixels), a different one for each index."""
    out = io.BytesIO()
    Image.new("RGB", (3700, 3700), (40 * index, 90, 200)).save(out, format="BMP")
    return out.getvalue()


async def test_sigterm_lets_large_uploads_in_flight_finish_then_exits_cleanly(
    tmp_path, database_url
):
    data_dir = tmp_path / "data"
    files = [big_bmp(index) for index in range(UPLOADS)]
    env = pixtag_env(PIXTAG_SWEEP_INTERVAL="0")
    serve = ServeProcess(
        "--data-dir",
        str(data_dir),
        "--database-url",
        database_url,
        log=tmp_path / "serve.log",
        env=env,
    )
    with serve:
        serve.start()
        assert serve.proc is not None
        incoming = data_dir / "media" / ".incoming"
        sent = [asyncio.Event() for _ in files]
        go = asyncio.Event()
        requests = [
            upload_request(serve.port, f"big-{index}.bmp", data) for index, data in enumerate(files)
        ]
        uploads = [
            asyncio.create_task(upload(serve.port, request, event, go, before=BEFORE_SIGNAL))
            for request, event in zip(requests, sent, strict=True)
        ]
        try:
            # Every upload is being received: its first 8 MB are in, its temporary file open.
            await async_wait_until(
                lambda: all(e.is_set() for e in sent) and len(list(incoming.iterdir())) == UPLOADS,
                within=60,
                what="three uploads being received",
            )
            serve.kill(signal.SIGTERM)
            await async_wait_until(
                lambda: refuses_connections(serve.port), within=30, what="new connections refused"
            )
            assert not any(task.done() for task in uploads)
            go.set()
            async with asyncio.timeout(60):
                answers = await asyncio.gather(*uploads)
        finally:
            go.set()
            for task in uploads:
                task.cancel()
        exit_status = await asyncio.to_thread(serve.wait, 60)
    assert exit_status == 0, serve.output()

    for (status, headers, image), data in zip(answers, files, strict=True):
        assert status == 201, image
        assert headers["connection"] == "close"
        assert image["attachment"]["sha256"] == hashlib.sha256(data).hexdigest()
        assert image["attachment"]["size"] == len(data)
    assert "shutting down: 3 requests in flight" in serve.output()
    verified = run_pixtag(
        "storage", "verify", "--data-dir", str(data_dir), "--database-url", database_url, env=env
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{UPLOADS} files checked, 0 problems" in verified.stdout
