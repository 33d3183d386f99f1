"""kill -9 during a resolve: a real ``pixtag serve`` killed while it merges and deletes, then
audited. Each round the outcome is all or nothing: the others still there and the kept
image as it was, or the others gone (410) and the kept image merged; every record still
names a file with its bytes (``pixtag storage verify``)."""

import asyncio
import random
import signal
from pathlib import Path

import aiohttp
import pytest

from tests.support.helpers import create_form, seeded_image
from tests.support.processes import ServeProcess, pixtag_env, run_pixtag, sql

ROUNDS = 5
OTHERS = 30


async def resolve(session: aiohttp.ClientSession, body: dict) -> int:
    async with session.post("/duplicates/resolve", json=body) as resp:
        await resp.read()
        return resp.status


@pytest.mark.heavy
async def test_a_resolve_killed_is_all_or_nothing(tmp_path: Path, database_url: str):
    rng = random.Random(20261205)
    data_dir = tmp_path / "data"
    args = ("--data-dir", str(data_dir), "--database-url", database_url)
    env = pixtag_env(PIXTAG_SWEEP_GRACE="0", PIXTAG_SWEEP_INTERVAL="0")
    outcomes = []
    with ServeProcess(*args, log=tmp_path / "serve.log", env=env) as server:
        for round_ in range(ROUNDS):
            server.start()
            async with aiohttp.ClientSession(server.url) as session:
                ids = []
                for n in range(OTHERS + 1):
                    meta = {"filename": f"r{round_}-{n}.png", "tags": [f"t{round_}-{n}"]}
                    form = create_form(meta, seeded_image("PNG", round_ * 100 + n))
                    async with session.post("/images", data=form) as resp:
                        assert resp.status == 201, await resp.text()
                        ids.append((await resp.json())["image_id"])
                keep, others = ids[0], ids[1:]
                body = {"keep": keep, "remove": others}
                pending = asyncio.ensure_future(resolve(session, body))
                # Killed at once (before), once answered (after), or at a seeded point.
                delay = {0: 0.0, 1: None}.get(round_, rng.uniform(0.0, 0.15))
                await asyncio.wait({pending}, timeout=delay)
                server.kill(signal.SIGKILL)
                server.wait()
                try:
                    answered: int | None = await pending
                except aiohttp.ClientError:
                    answered = None

            alive = sql(
                database_url,
                "SELECT image_id, tags FROM images WHERE image_id = ANY(%s) ORDER BY image_id",
                (ids,),
            )
            kept_tags = next(tags for image_id, tags in alive if image_id == keep)
            if len(alive) == 1:  # after: every other gone, their tags on the kept image
                assert kept_tags == [f"t{round_}-{n}" for n in range(OTHERS + 1)]
                gone = sql(
                    database_url,
                    "SELECT count(*) FROM deleted_images WHERE image_id = ANY(%s)",
                    (others,),
                )
                assert gone == [(OTHERS,)]
                outcomes.append("after")
            else:  # before: nothing changed
                assert len(alive) == OTHERS + 1
                assert kept_tags == [f"t{round_}-0"]
                assert answered != 200
                outcomes.append("before")

            server.start()  # its start-up sweep removes the files no record names
            verified = run_pixtag("storage", "verify", *args)
            assert verified.returncode == 0, verified.stdout + verified.stderr
            assert verified.stdout.endswith(" 0 problems\n"), verified.stdout
            files = {p.name for p in (data_dir / "media").rglob("*") if p.is_file()}
            named = sql(
                database_url, "SELECT storage_key FROM images WHERE storage_key IS NOT NULL"
            )
            assert {Path(key).name for (key,) in named} <= files
            server.stop()
    assert outcomes[:2] == ["before", "after"], outcomes
