"""Talking to the live server behind the browser's back: set-up and checks by the API."""

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

from tests.support.processes import ServeProcess


def call(
    live: ServeProcess,
    method: str,
    path: str,
    body: object = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """One JSON request; the status, the headers and the decoded body (None when empty)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(live.url + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, dict(error.headers), json.loads(raw) if raw else None


def upload(
    live: ServeProcess,
    filename: str,
    data: bytes,
    tags: list[str],
    token: str | None = None,
    *,
    check_similar: bool = False,
) -> dict[str, Any]:
    """Create an image with its file in one multipart request; the image JSON (with
    ``check_similar``, fingerprinted before the answer, its pairs queued for review)."""
    boundary = uuid.uuid4().hex
    meta = json.dumps({"filename": filename, "tags": tags}).encode()
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n'.encode(),
            b"Content-Type: application/json\r\n\r\n" + meta + b"\r\n",
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="image"; filename="x"\r\n',
            b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n",
            f"--{boundary}--\r\n".encode(),
        ]
    )
    path = "/images?check_similar=true" if check_similar else "/images"
    request = urllib.request.Request(live.url + path, data=body, method="POST")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return json.loads(response.read())  # type: ignore[no-any-return]


def tag_word() -> str:
    """A tag no other test uses."""
    return f"t{uuid.uuid4().hex[:8]}"
