"""The repository's nginx config run for real: rendered as the nginx image renders it, with
local ports and paths, in front of a pixtag server (a test's, or a ``pixtag serve``)."""

import asyncio
import contextlib
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from tests.support.processes import async_wait_until, free_port

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "nginx" / "default.conf.template"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)


def render(template: str, values: dict[str, str]) -> str:
    """Substitute ``${NAME}`` like the nginx image's envsubst step; nginx's own ``$vars`` stay."""
    rendered = re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template)
    assert "${" not in rendered
    return rendered


def configure(
    conf_dir: Path, port: int, upstream: str, media_root: Path, media_signed: bool, secret: str
) -> None:
    """Write nginx.conf and the rendered site into ``conf_dir``."""
    conf_dir.mkdir()
    site = render(
        TEMPLATE.read_text(),
        {
            "NGINX_PORT": f"127.0.0.1:{port}",
            "API_UPSTREAM": upstream,
            "MEDIA_ROOT": str(media_root),
            "MEDIA_SIGNED": "on" if media_signed else "off",
            "PIXTAG_SECRET_KEY": secret,
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


@contextlib.asynccontextmanager
async def running_nginx(
    conf_dir: Path, *, upstream: str, media_root: Path, media_signed: bool, secret: str
) -> AsyncIterator[str]:
    """nginx on a free local port proxying to ``upstream`` (host:port); yields its base URL."""
    assert NGINX is not None
    port = free_port()
    configure(conf_dir, port, upstream, media_root, media_signed, secret)
    log = conf_dir / "stderr.log"
    with log.open("wb") as stderr:
        proc = await asyncio.create_subprocess_exec(
            NGINX, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf"), "-e", "stderr",
            stderr=stderr,
        )  # fmt: skip
    try:

        async def listening() -> bool:
            assert proc.returncode is None, log.read_text()
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return False
            writer.close()
            await writer.wait_closed()
            return True

        await async_wait_until(listening, within=30, what="nginx to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
