"""The feed: every kind of change as its event, in commit order even when transactions commit
out of their start order, long polls woken by the commit, Server-Sent Events, scopes, and
the retention's 410."""

import asyncio
import json
import time

from pixtag import keys
from pixtag.app import create_app
from pixtag.events.context import prune
from tests.support.auth import bearer, make_token
from tests.support.helpers import form, image_bytes, problem
from tests.support.processes import async_wait_until, connection, sql


async def events(client, after: str | None = None, **params) -> tuple[list[dict], str]:  # type: ignore[no-untyped-def]
    query = {**({"after": after} if after else {}), **{k: str(v) for k, v in params.items()}}
    resp = await client.get("/events", params=query)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "application/x-ndjson"
    lines = [json.loads(line) for line in (await resp.text()).splitlines()]
    return lines, resp.headers["Pixtag-Cursor"]


async def test_each_change_is_told_once_with_what_changed(client):
    _, start = await events(client, after="now")
    resp = await client.post("/images", json={"filename": "a.jpg", "tags": ["sea", "sky"]})
    image = await resp.json()
    image_id = image["image_id"]
    resp = await client.patch(
        f"/images/{image_id}", json={"filename": "b.jpg", "tags": ["sky", "sun"]}
    )
    assert resp.status == 200, await resp.text()
    resp = await client.post(f"/images/{image_id}/attachment/b.jpg", data=form(image_bytes()))
    assert resp.status in (200, 201), await resp.text()
    resp = await client.post("/tags/sun/rename", json={"to": "star"})
    assert resp.status == 200, await resp.text()
    resp = await client.post("/albums", json={"name": "Trip"})
    album_id = (await resp.json())["album_id"]
    resp = await client.post(f"/albums/{album_id}/images", json={"ids": [image_id]})
    assert resp.status == 200, await resp.text()
    resp = await client.delete(f"/images/{image_id}")
    assert resp.status == 204

    told, cursor = await events(client, after=start)
    kinds = [event["type"] for event in told]
    assert kinds == [
        "image.created",
        "image.updated",
        "attachment.stored",
        "alias.created",
        "tag.renamed",
        "image.updated",
        "alias.deleted",
        "album.created",
        "album.images_added",
        "image.deleted",
        "album.images_removed",  # by the image's delete, in its transaction
    ], kinds
    created, edited = told[0]["data"], told[1]["data"]
    assert created["image_id"] == image_id
    assert created["tags"] == ["sea", "sky"]
    assert created["attachment"] is None
    assert edited["changes"] == {
        "filename": "b.jpg",
        "tags": {"added": ["sun"], "removed": ["sea"]},
    }
    assert told[2]["data"]["attachment"]["sha256"]
    assert told[4]["data"] == {"tag": "sun", "to": "star"}
    assert told[5]["data"]["changes"]["tags"] == {"added": ["star"], "removed": ["sun"]}
    assert told[-2]["data"]["image_id"] == image_id
    ids = [event["id"] for event in told]
    assert len(set(ids)) == len(ids)
    assert cursor == ids[-1]
    assert all(event["at"].endswith("Z") for event in told)
    # Read again from the cursor: nothing more; by type and by family.
    assert (await events(client, after=cursor))[0] == []
    only, _ = await events(client, after=start, types="image.deleted")
    assert [event["id"] for event in only] == [ids[-2]]
    albums, _ = await events(client, after=start, types="album")
    assert [event["type"] for event in albums] == [*kinds[7:9], kinds[10]]
    paged, cursor = await events(client, after=start, limit=2)
    assert [event["id"] for event in paged] == ids[:2]
    assert cursor == ids[1]


async def test_a_rolled_back_change_has_no_event(client, database_url):
    _, start = await events(client, after="now")
    resp = await client.post("/images", json={"filename": "a.jpg", "tags": ["x"] * 1 + [""]})
    assert resp.status == 400
    with connection(database_url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO images (filename) VALUES ('gone.jpg')")
        conn.rollback()
    assert (await events(client, after=start))[0] == []


async def test_transactions_committing_out_of_order_are_both_told_in_order(client, database_url):
    """The first to start commits last: a follower waiting past every event told so far
    gets both, the first one's first, and never the second alone."""
    _, start = await events(client, after="now")
    with connection(database_url) as first, connection(database_url) as second:
        one, two = first.cursor(), second.cursor()
        one.execute("INSERT INTO images (filename) VALUES ('first.jpg') RETURNING image_id")
        (first_id,) = one.fetchone()
        two.execute("INSERT INTO images (filename) VALUES ('second.jpg') RETURNING image_id")
        (second_id,) = two.fetchone()
        second.commit()
        # Committed, yet held back behind the first: a reader sees nothing yet.
        assert (await events(client, after=start))[0] == []
        waiting = asyncio.ensure_future(events(client, after=start, wait=30))
        await asyncio.sleep(0)  # the long poll is on its way
        assert sql(database_url, "SELECT count(*) FROM images")[0][0] == 1
        first.commit()
        told, cursor = await asyncio.wait_for(waiting, 30)
    ids = [event["data"]["image_id"] for event in told]
    assert ids == [first_id, second_id]
    assert (await events(client, after=cursor))[0] == []


async def test_a_long_poll_is_answered_once_a_change_commits(client):
    _, start = await events(client, after="now")
    began = time.monotonic()
    waiting = asyncio.ensure_future(events(client, after=start, wait=30))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await client.post("/images", json={"filename": "late.jpg"})
    told, _ = await asyncio.wait_for(waiting, 30)
    assert [event["type"] for event in told] == ["image.created"]
    assert time.monotonic() - began < 10
    # Nothing comes: the wait ends with an empty page and the same cursor.
    empty, cursor = await events(client, after=told[0]["id"], wait=0.3)
    assert empty == []
    assert cursor == told[0]["id"]


async def test_server_sent_events_go_on_and_resume_from_the_last_id(client):
    _, start = await events(client, after="now")
    await client.post("/images", json={"filename": "one.jpg"})
    resp = await client.get(
        "/events", params={"after": start}, headers={"Accept": "text/event-stream"}
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/event-stream"

    async def next_event() -> tuple[str, dict]:
        fields: dict[str, str] = {}
        while True:
            line = (await asyncio.wait_for(resp.content.readline(), 30)).decode().rstrip("\n")
            if not line and "data" in fields:
                return fields["id"], json.loads(fields["data"])
            if line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value

    first_id, first = await next_event()
    assert first["data"]["filename"] == "one.jpg"
    assert first["id"] == first_id
    await client.post("/images", json={"filename": "two.jpg"})
    _, second = await next_event()
    assert second["data"]["filename"] == "two.jpg"
    resp.close()
    await client.post("/images", json={"filename": "three.jpg"})
    resumed = await client.get(
        "/events", headers={"Accept": "text/event-stream", "Last-Event-ID": first_id}
    )
    resp = resumed
    assert (await next_event())[1]["data"]["filename"] == "two.jpg"
    assert (await next_event())[1]["data"]["filename"] == "three.jpg"
    resp.close()


async def test_bad_positions_and_types_are_refused(client):
    for params in (
        {"after": "12"},
        {"after": "1-2-3"},
        {"after": "01-2"},
        {"types": "images"},
        {"types": "image,album"},
        {"wait": "61"},
        {"limit": "0"},
    ):
        resp = await client.get("/events", params=params)
        assert resp.status == 400, (params, await resp.text())
        assert resp.content_type == "application/problem+json"


async def test_a_position_older_than_the_retention_answers_410_with_where_to_restart(
    settings, aiohttp_client, database_url
):
    client = await aiohttp_client(create_app(settings.model_copy(update={"event_retention": 3})))
    await client.post("/images", json={"filename": "old.jpg"})
    told, old = await events(client)
    assert len(told) == 1

    def pruned() -> bool:
        return bool(sql(database_url, "SELECT 1 FROM events_pruned"))

    # The process prunes every retention/10 (at least 0.5 s) what is older than 3 s.
    await async_wait_until(pruned, within=30, what="the old event pruned")
    await client.post("/images", json={"filename": "new.jpg"})
    resp = await client.get("/events", params={"after": "0-0"})
    body = await problem(resp, 410)
    assert body["restart_after"] == old
    # From where it says: the newer event; without a position: from the oldest kept.
    after_restart, _ = await events(client, after=body["restart_after"])
    assert [e["data"]["filename"] for e in after_restart] == ["new.jpg"]
    assert [e["data"]["filename"] for e in (await events(client))[0]] == ["new.jpg"]
    assert (await events(client, after=old))[0][0]["data"]["filename"] == "new.jpg"
    assert await prune(client.app[keys.DATABASE], 3600) == 0


async def test_token_events_need_the_admin_scope(settings, database_url, aiohttp_client):
    client = await aiohttp_client(create_app(settings.model_copy(update={"auth": "on"})))
    _, admin = make_token(database_url, "admin")
    _, reader = make_token(database_url, "read")
    resp = await client.post("/tokens", json={"name": "ci", "scope": "read"}, headers=bearer(admin))
    assert resp.status == 201, await resp.text()
    secret = (await resp.json())["token"]
    resp = await client.get("/events", headers=bearer(admin))
    told = [json.loads(line) for line in (await resp.text()).splitlines()]
    made = [e for e in told if e["type"] == "token.created"]
    assert [e["data"]["name"] for e in made] == ["admin", "read", "ci"]
    assert secret not in await resp.text()
    assert "hash" not in made[-1]["data"]
    resp = await client.get("/events", headers=bearer(reader))
    assert resp.status == 200
    assert "token." not in await resp.text()


async def test_captures_processing_and_renditions_are_told_when_they_end(
    settings, aiohttp_client, origin
):
    client = await aiohttp_client(
        create_app(
            settings.model_copy(
                update={"capture_allow": ("127.0.0.1/32",), "jobs_poll_interval": 0.2}
            )
        )
    )
    _, start = await events(client, after="now")
    resp = await client.post("/captures", json={"url": f"{origin.url}/img/p.png"})
    assert resp.status in (201, 202), await resp.text()
    resp = await client.post("/captures", json={"url": f"{origin.url}/status/404"})
    assert resp.status in (201, 202), await resp.text()

    async def told(kind: str, count: int = 1) -> list[dict]:
        found: list[dict] = []

        async def enough() -> bool:
            found[:] = (await events(client, after=start, types=kind))[0]
            return len(found) >= count

        await async_wait_until(enough, within=60, what=f"{count} {kind}")
        return found

    (done,) = await told("capture.done")
    image_id = done["data"]["image_id"]
    assert done["data"]["url"].endswith("/img/p.png")
    (failed,) = await told("capture.failed")
    assert failed["data"]["error"]["code"]
    resp = await client.post("/processing", json={"image_ids": [image_id], "algorithm": "flip"})
    assert resp.status in (201, 202), await resp.text()
    (finished,) = await told("processing.finished")
    assert finished["data"]["source_id"] == image_id
    assert finished["data"]["result_id"]
    resp = await client.get(f"/images/{image_id}/renditions/thumb")
    assert resp.status in (200, 302, 303, 307), await resp.text()
    (ready,) = await told("rendition.ready")
    assert ready["data"]["image_id"] == image_id
    assert ready["data"]["preset"] == "thumb"


async def test_now_is_the_newest_event_in_number_order_not_text_order(client, database_url):
    sql(
        database_url,
        "INSERT INTO events (xid, type, data) VALUES ('9', 'image.created', '{}'),"
        " ('10', 'image.created', '{}')",
    )
    _, cursor = await events(client, after="now")
    assert cursor.startswith("10-")
    told, _ = await events(client, after="9-0")
    assert [event["id"].split("-")[0] for event in told] == ["9", "10"]
