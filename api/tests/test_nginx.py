"""The repository's nginx config, for real: nginx in front of a test server, /media from disk.

The template is rendered the way the nginx image does it (``${NAME}``
substitution) with local ports and the test's media root; the test skips,
saying why, where nginx is not installed (``.ci/run`` installs it).
"""

import asyncio
import os
import re
import shutil
import socket
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from pixtag.app import create_app
from tests.helpers import create_form, form, image_bytes

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "nginx" / "default.conf.template"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx-light; .ci/run does)"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def render(template: str, values: dict[str, str]) -> str:
    """Substitute ``${NAME}`` like the nginx image's envsubst step; nginx's own ``$vars`` stay."""
    rendered = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)
    assert "${" not in rendered
    return rendered


@pytest.fixture
async def nginx(aiohttp_server, settings, tmp_path):
    """nginx on a free local port in front of a real pixtag server; yields its base URL."""
    server = await aiohttp_server(create_app(settings))
    port = free_port()
    conf_dir = tmp_path / "nginx"
    conf_dir.mkdir()
    site = render(
        TEMPLATE.read_text(),
        {
            "NGINX_PORT": f"127.0.0.1:{port}",
            "API_UPSTREAM": f"127.0.0.1:{server.port}",
            "MEDIA_ROOT": str(settings.media_dir),
        },
    )
    (conf_dir / "site.conf").write_text(site)
    user = "user root;" if os.geteuid() == 0 else ""
    (conf_dir / "nginx.conf").write_text(
        f"""
        daemon off;
        {user}
        worker_processes 1;
        pid {conf_dir}/nginx.pid;
        error_log {conf_dir}/error.log warn;
        events {{ worker_connections 64; }}
        http {{
            access_log {conf_dir}/access.log;
            client_body_temp_path {conf_dir}/body;
            proxy_temp_path {conf_dir}/proxy;
            include {conf_dir}/site.conf;
        }}
        """
    )
    log = conf_dir / "stderr.log"
    with log.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            NGINX,
            "-p",
            str(conf_dir),
            "-c",
            str(conf_dir / "nginx.conf"),
            "-e",
            "stderr",
            stderr=stderr,
        )
    try:
        for _ in range(400):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                assert proc.returncode is None, log.read_text()
                await asyncio.sleep(0.025)
            else:
                writer.close()
                await writer.wait_closed()
                break
        else:
            raise AssertionError(f"nginx did not start: {log.read_text()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)


async def test_upload_redirect_and_download_through_nginx(nginx, settings):
    data = image_bytes("PNG", (21, 12))
    async with aiohttp.ClientSession(nginx) as http:
        created = await http.post("/images", data=create_form({"filename": "photo 1.png"}, data))
        assert created.status == 201
        image = await created.json()
        image_id = image["image_id"]
        # A replacement streamed through the proxy.
        replaced = await http.post(
            f"/images/{image_id}/attachment/photo%201.png", data=form(image_bytes("PNG", (5, 5)))
        )
        assert replaced.status == 200
        data = (settings.media_dir / str(image_id) / "photo 1.png").read_bytes()

        redirect = await http.get(
            f"/images/{image_id}/attachment/photo%201.png", allow_redirects=False
        )
        assert redirect.status == 302
        assert redirect.headers["Location"] == f"/media/{image_id}/photo%201.png"

        resp = await http.get(f"/images/{image_id}/attachment/photo%201.png")
        assert resp.status == 200
        assert resp.url.path == f"/media/{image_id}/photo 1.png"
        assert resp.headers["Server"] == "nginx"  # served from disk, not by the API
        assert await resp.read() == data
        assert resp.headers["Content-Type"] == "image/png"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        etag = resp.headers["ETag"]

        cached = await http.get(resp.url, headers={"If-None-Match": etag})
        assert cached.status == 304
        part = await http.get(resp.url, headers={"Range": "bytes=0-7"})
        assert part.status == 206
        assert await part.read() == data[:8]


async def test_nginx_keeps_temp_files_symlinks_and_escapes_private(nginx, settings, tmp_path):
    secret = b"not for the web"
    (settings.data_dir / "secret.png").write_bytes(secret)
    async with aiohttp.ClientSession(nginx) as http:
        image = await (
            await http.post("/images", data=create_form({"filename": "a.png"}, image_bytes()))
        ).json()
        directory = settings.media_dir / str(image["image_id"])
        (directory / ".upload-1234").write_bytes(secret)
        os.symlink(settings.data_dir / "secret.png", directory / "link.png")
        paths = [
            f"/media/{image['image_id']}/.upload-1234",
            f"/media/{image['image_id']}/link.png",
            f"/media/{image['image_id']}/",
            "/media/",
            f"/media/{image['image_id']}/..%2F..%2Fsecret.png",
            "/media/..%2Fsecret.png",
            "/media/%2e%2e/secret.png",
            f"/media/{image['image_id']}/..%5C..%5Csecret.png",
        ]
        for path in paths:
            url = URL(nginx + path, encoded=True)
            resp = await http.get(url)
            body = await resp.read()
            assert resp.status in (400, 404), path
            assert secret not in body, path
            if resp.status == 404:
                assert resp.content_type == "application/problem+json", path
