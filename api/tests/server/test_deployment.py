"""The production deployment the README describes, run for real: nginx (the repository's
config) in front of ``pixtag serve --workers 2``, files in S3 (SeaweedFS), an external
PostgreSQL, auth on with a bootstrap token.
"""

import re
import uuid

import aiohttp
import pytest

from tests.support.helpers import create_form, image_bytes
from tests.support.nginx import NGINX, running_nginx
from tests.support.processes import ServeProcess, async_wait_until, pixtag_env
from tests.support.s3_server import S3_BUCKET

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx-light; .ci/run does)"
)

TOKEN = "pxt_" + "d" * 43
SECRET = "deployment-test-secret-0123456789"


async def test_workers_behind_nginx_with_s3_and_an_external_database(
    seaweed, database_url, tmp_path
):
    env = pixtag_env(
        PIXTAG_AUTH="on",
        PIXTAG_BOOTSTRAP_TOKEN=TOKEN,
        PIXTAG_SECRET_KEY=SECRET,
        PIXTAG_STORAGE=f"s3://{S3_BUCKET}/{uuid.uuid4().hex}",
        PIXTAG_S3_ENDPOINT_URL=seaweed.endpoint_url,
        PIXTAG_S3_REGION=seaweed.region,
        PIXTAG_S3_ACCESS_KEY_ID=seaweed.access_key_id,
        PIXTAG_S3_SECRET_ACCESS_KEY=seaweed.secret_access_key,
        PIXTAG_SWEEP_INTERVAL="0",
    )
    args = ("--workers", "2", "--database-url", database_url, "--data-dir", str(tmp_path / "d"))
    with ServeProcess(*args, log=tmp_path / "serve.log", env=env) as serve:
        serve.start()
        async with (
            running_nginx(
                tmp_path / "nginx",
                upstream=f"127.0.0.1:{serve.port}",
                media_root=tmp_path / "d" / "media",
                media_signed=True,
                secret=SECRET,
            ) as base,
            aiohttp.ClientSession(base, headers={"Authorization": f"Bearer {TOKEN}"}) as session,
        ):
            assert (await session.get("/images/1", headers={"Authorization": ""})).status == 401

            stored: dict[int, tuple[str, bytes]] = {}

            async def upload() -> None:
                data = image_bytes("PNG", (20 + len(stored), 10))
                meta: dict = {"filename": f"p{len(stored)}.png", "tags": ["deployed"]}
                form = create_form(meta, data)
                async with session.post("/images", data=form, headers={"Connection": "close"}) as r:
                    assert r.status == 201, await r.text()
                    stored[(await r.json())["image_id"]] = (meta["filename"], data)

            async def both_workers_stored() -> bool:
                await upload()
                posted = re.findall(
                    r"\[worker (\d+)\] pixtag\.access: .*\"POST /images\" 201", serve.output()
                )
                workers = set(posted)
                return len(workers) == 2

            await async_wait_until(both_workers_stored, within=60, what="both workers storing")

            for image_id, (filename, data) in stored.items():
                # The API answers the redirect (through nginx), S3 the bytes.
                async with session.get(
                    f"/images/{image_id}/attachment/{filename}", allow_redirects=False
                ) as resp:
                    assert resp.status == 302
                    location = resp.headers["Location"]
                assert location.startswith(seaweed.endpoint_url)
                async with aiohttp.ClientSession() as plain, plain.get(location) as resp:
                    assert resp.status == 200
                    assert await resp.read() == data

            async with session.get("/images", params={"tag": "deployed"}) as resp:
                assert resp.status == 200
                *chunks, totals = await resp.json()
            listed = [image["image_id"] for chunk in chunks for image in chunk]
            assert listed == sorted(stored)
            assert totals["totalImages"] == len(stored)
        assert serve.stop() == 0, serve.output()
    assert "Traceback" not in serve.output()
