"""Graceful shutdown: in-flight requests, uploads included, finish before the pool closes."""

import asyncio
import hashlib
import io
import json
import signal
import socket

import aiohttp
from aiohttp import web
from PIL import Image

from pixtag import keys
from pixtag.app import create_app
from tests.support.processes import ServeProcess, async_wait_until, pixtag_env, run_pixtag


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
BOUNDARY = "pixtag-shutdown-test"
# Sent before the signal; the rest of each ~41 MB body goes after it.
BEFORE_SIGNAL = 8 * 1024 * 1024


def big_bmp(index: int) -> bytes:
    """A ~41 MB BMP (3700 x 3700 pixels), a different one for each index."""
    out = io.BytesIO()
    Image.new("RGB", (3700, 3700), (40 * index, 90, 200)).save(out, format="BMP")
    return out.getvalue()


def upload_request(port: int, name: str, data: bytes) -> bytes:
    """``POST /images`` with the record and its file, as raw bytes."""
    meta = json.dumps({"filename": name, "tags": ["shutdown"]})
    body = b"".join(
        [
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="meta"\r\n'
            f"Content-Type: application/json\r\n\r\n{meta}\r\n".encode(),
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; '
            f'filename="{name}"\r\nContent-Type: image/bmp\r\n\r\n'.encode(),
            data,
            f"\r\n--{BOUNDARY}--\r\n".encode(),
        ]
    )
    head = (
        f"POST /images HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def upload(port: int, request: bytes, sent: asyncio.Event, go: asyncio.Event) -> tuple:
    """Send ``request`` in two parts (the second once ``go`` is set); the response's status,
    headers and JSON body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        view = memoryview(request)
        for start in range(0, len(request), 1 << 20):
            if start >= BEFORE_SIGNAL and not go.is_set():
                sent.set()
                await go.wait()
            writer.write(view[start : start + (1 << 20)])
            await writer.drain()
        status_line = await reader.readline()
        assert status_line, "the connection was closed without a response"
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            key, _, value = line.decode().partition(":")
            headers[key.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers["content-length"]))
        return int(status_line.split()[1]), headers, json.loads(body)
    finally:
        writer.close()


def refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


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
            asyncio.create_task(upload(serve.port, request, event, go))
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
