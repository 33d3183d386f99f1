"""Test support for the client commands: a live server, the CLI runner, images, server state.

The client commands run their own event loop (``asyncio.run``), so the server
gets another: ``create_app(settings)`` served by a background thread. The
commands run in the test's thread through click's CliRunner, exactly as a
user runs them; what they did is checked in the database itself.
"""

import asyncio
import hashlib
import json
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from click.testing import CliRunner, Result
from PIL import Image as PILImage

from pixtag import imaging
from pixtag.cli import main
from tests.support.helpers import seeded_image
from tests.support.processes import sql


class LiveServer:
    """An aiohttp application served on 127.0.0.1 by a thread running its own loop."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.url = ""
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner = web.AppRunner(self.app, shutdown_timeout=5)
        try:
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            self.url = f"http://{host}:{port}"
        except BaseException as error:
            self._error = error
            raise
        finally:
            self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        assert self.url, "the live server did not start"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


@dataclass
class Pixtag:
    """Runs ``pixtag [--url URL] ...`` in-process and returns click's Result."""

    url: str | None

    def __call__(self, *args: str | int | Path, env: dict[str, str] | None = None) -> Result:
        argv = [*(["--url", self.url] if self.url else []), *map(str, args)]
        return CliRunner().invoke(main, argv, env=env, catch_exceptions=False)


def post_record(url: str, filename: str, tags: list[str]) -> dict[str, Any]:
    """Create an image record (no file) through the JSON endpoint."""
    body = json.dumps({"filename": filename, "tags": tags}).encode()
    request = urllib.request.Request(
        f"{url}/images", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 201
        return json.loads(resp.read())  # type: ignore[no-any-return]


def rows(database_url: str, columns: str = "filename, tags, sha256") -> list[tuple[Any, ...]]:
    """The images table as stored, in id order: the server's state, read directly."""
    return sql(database_url, f"SELECT {columns} FROM images ORDER BY image_id")


imaging.register()  # make_image writes .heic/.heif through pillow-heif


def make_image(path: Path, *, seed: int = 0, size: tuple[int, int] = (8, 6)) -> bytes:
    """Write a small real image (format from the suffix), distinct per seed; return its bytes."""
    data = seeded_image(PILImage.registered_extensions()[path.suffix.lower()], seed, size)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def added_ids(result: Result) -> list[int]:
    """The ids ``pixtag add`` printed, one ``FILE -> ID`` line per file, in order."""
    return [int(line.rsplit(" -> ", 1)[1].split()[0]) for line in result.stdout.splitlines()]
