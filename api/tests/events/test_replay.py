"""No change without its event, no event without its change: concurrent clients write at
random through a real server that is killed -9 in the middle, while a consumer follows the
feed; replaying what it was told gives the database's images and tags exactly."""

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.helpers import form, seeded_image
from tests.support.processes import ServeProcess, async_wait_until, pixtag_env, sql

TAGS = ["red", "green", "blue", "cyan", "pink", "gold"]


class Consumer:
    """Follows the feed with long polls from its cursor, across the server's death."""

    def __init__(self) -> None:
        self.cursor: str | None = None
        self.state: dict[int, dict[str, Any]] = {}
        self.ids: list[str] = []
        self.base = ""

    def apply(self, event: dict[str, Any]) -> None:
        self.ids.append(event["id"])
        kind, data = event["type"], event["data"]
        image_id = data.get("image_id")
        if kind == "image.created":
            assert image_id not in self.state
            self.state[image_id] = {
                "filename": data["filename"],
                "tags": set(data["tags"]),
                "description": data["description"],
                "sha256": (data["attachment"] or {}).get("sha256"),
            }
        elif kind == "image.updated":
            image, changes = self.state[image_id], data["changes"]
            for name in ("filename", "description"):
                if name in changes:
                    image[name] = changes[name]
            if "tags" in changes:
                assert not set(changes["tags"]["added"]) & image["tags"]
                assert set(changes["tags"]["removed"]) <= image["tags"]
                image["tags"] |= set(changes["tags"]["added"])
                image["tags"] -= set(changes["tags"]["removed"])
        elif kind.startswith("attachment."):
            self.state[image_id]["sha256"] = (data["attachment"] or {}).get("sha256")
        elif kind == "image.deleted":
            del self.state[image_id]

    async def poll(self, session: aiohttp.ClientSession, wait: float) -> int:
        params = {"wait": str(wait), **({"after": self.cursor} if self.cursor else {})}
        async with session.get(f"{self.base}/events", params=params) as resp:
            assert resp.status == 200, await resp.text()
            lines = (await resp.text()).splitlines()
            for line in lines:
                self.apply(json.loads(line))
            self.cursor = resp.headers["Pixtag-Cursor"]
        return len(lines)

    async def follow(self, session: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll(session, 2)
            except (aiohttp.ClientError, OSError, TimeoutError):
                await asyncio.sleep(0.05)  # the server is down: try again


async def writer(
    seed: int, server: ServeProcess, session: aiohttp.ClientSession, stop: asyncio.Event
) -> int:
    """Random writes until ``stop``; failures (the server killed) are expected and ignored."""
    rng = random.Random(seed)
    mine: list[int] = []
    done = 0
    while not stop.is_set():
        action = rng.choice(["create"] * 4 + ["edit"] * 3 + ["upload"] * 2 + ["delete", "rename"])
        base = server.url
        try:
            if action == "create" or not mine:
                body = {"filename": f"w{seed}-{done}.jpg", "tags": rng.sample(TAGS, 2)}
                async with session.post(f"{base}/images", json=body) as resp:
                    if resp.status == 201:
                        mine.append((await resp.json())["image_id"])
            elif action == "edit":
                image_id = rng.choice(mine)
                change = {"tags": rng.sample(TAGS, rng.randint(0, 3))}
                if rng.random() < 0.5:
                    change["description"] = f"seen {done}"
                async with session.patch(f"{base}/images/{image_id}", json=change):
                    pass
            elif action == "upload":
                image_id = rng.choice(mine)
                async with session.get(f"{base}/images/{image_id}") as resp:
                    if resp.status != 200:
                        continue
                    filename = (await resp.json())["filename"]
                data = form(seeded_image("PNG", rng.randrange(10**6)))
                async with session.post(
                    f"{base}/images/{image_id}/attachment/{filename}", data=data
                ):
                    pass
            elif action == "delete":
                image_id = mine.pop(rng.randrange(len(mine)))
                async with session.delete(f"{base}/images/{image_id}"):
                    pass
            else:
                tag, to = rng.sample(TAGS, 2)
                async with session.post(f"{base}/tags/{tag}/rename", json={"to": to}):
                    pass
        except (aiohttp.ClientError, OSError, TimeoutError):
            await asyncio.sleep(0.05)
        done += 1
    return done


def database_state(database_url: str) -> dict[int, dict[str, Any]]:
    rows = sql(database_url, "SELECT image_id, filename, tags, description, sha256 FROM images")
    return {
        image_id: {
            "filename": filename,
            "tags": set(tags),
            "description": description,
            "sha256": sha256,
        }
        for image_id, filename, tags, description, sha256 in rows
    }


@pytest.mark.heavy
async def test_replaying_the_feed_gives_the_database_across_a_kill(
    tmp_path: Path, database_url: str
) -> None:
    args = ("--data-dir", str(tmp_path / "data"), "--database-url", database_url)
    env = pixtag_env(PIXTAG_JOBS_CONCURRENCY="0")
    consumer = Consumer()
    with ServeProcess(*args, log=tmp_path / "serve.log", env=env) as server:
        server.start()
        timeout = aiohttp.ClientTimeout(total=20)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            stop = asyncio.Event()
            consumer.base = server.url
            following = asyncio.ensure_future(consumer.follow(session, stop))
            writing = [
                asyncio.ensure_future(writer(seed, server, session, stop)) for seed in range(4)
            ]

            def events() -> int:
                return int(sql(database_url, "SELECT count(*) FROM events")[0][0])

            await async_wait_until(lambda: events() >= 150, within=60, what="150 events")
            server.kill()  # -9, with requests and transactions in flight
            server.wait()
            server.start()
            consumer.base = server.url
            before = events()
            await async_wait_until(lambda: events() >= before + 150, within=60, what="more")
            stop.set()
            done = await asyncio.gather(*writing)
            await following
            # Caught up: a page that comes back empty once the writers stopped.
            while await consumer.poll(session, 0):
                pass
    assert sum(done) > 100
    assert len(set(consumer.ids)) == len(consumer.ids)
    told = sql(database_url, "SELECT count(*) FROM events")[0][0]
    assert len(consumer.ids) == told
    truth = database_state(database_url)
    assert len(truth) > 10
    assert consumer.state == truth
