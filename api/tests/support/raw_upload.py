"""Uploads sent by hand over a socket, in two parts: what a test does between them (a
signal, a kill) happens while the server is still reading the body."""

import asyncio
import json
import socket

BOUNDARY = "pixtag-raw-upload"


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


async def upload(
    port: int, request: bytes, sent: asyncio.Event, go: asyncio.Event, *, before: int
) -> tuple:
    """Send ``request`` in two parts, ``before`` bytes then (once ``go`` is set) the rest,
    setting ``sent`` in between; the response's status, headers and JSON body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        view = memoryview(request)
        for start in range(0, len(request), 1 << 20):
            if start >= before and not go.is_set():
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
