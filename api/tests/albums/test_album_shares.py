"""Album share links through the API: the album's images and nothing else, each file and the
zip complete, downloads counted as for image shares, passwords, expiry and revocation."""

import hashlib
import io
import json
import zipfile

from tests.albums.test_albums import create
from tests.support.helpers import create_form, problem, seeded_image
from tests.support.processes import sql


async def stored(client, name: str, seed: int) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    data = seeded_image("PNG", seed)
    resp = await client.post("/images", data=create_form({"filename": name, "tags": []}, data))
    assert resp.status == 201, await resp.text()
    return (await resp.json())["image_id"], data


async def shared(client, album_id: int, **body) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.post(f"/albums/{album_id}/shares", json=body)
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    assert made["album_id"] == album_id
    assert resp.headers["Location"] == made["url"]
    return made


async def document(client, url: str, **headers: str) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.get(url, headers={"Accept": "application/json", **headers})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def downloads(client, album_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    return [s["downloads"] for s in await (await client.get(f"/albums/{album_id}/shares")).json()]


async def test_an_album_link_hands_out_its_images_and_nothing_else(client):
    a, a_data = await stored(client, "harbour.png", 1)
    b, b_data = await stored(client, "harbour.png", 2)  # the same name: unique in the zip
    other, _ = await stored(client, "secret.png", 3)
    album = await create(client, name="Port")
    await client.post(f"/albums/{album['album_id']}/images", json={"ids": [b, a]})
    share = await shared(client, album["album_id"], strip_metadata=False)
    url = share["url"]
    found = await document(client, url)
    assert found["name"] == "Port"
    assert found["truncated"] is False
    assert [i["image_id"] for i in found["images"]] == [b, a]
    for image, data in [(found["images"][0], b_data), (found["images"][1], a_data)]:
        resp = await client.get(image["download"])
        assert resp.status == 200
        assert await resp.read() == data
        for what in ("preview", "view"):
            resp = await client.get(image[what])
            assert resp.status == 200, await resp.text()
            assert resp.content_type == "image/webp"
    assert await downloads(client, album["album_id"]) == [2]  # files count, views do not
    # The zip: every file, complete, named uniquely.
    resp = await client.get(found["download_all"])
    assert resp.status == 200
    assert resp.content_type == "application/zip"
    assert 'filename="Port.zip"' in resp.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(await resp.read())) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == ["harbour.png", "harbour (2).png"]
        digests = [hashlib.sha256(archive.read(name)).hexdigest() for name in names]
    assert digests == [hashlib.sha256(d).hexdigest() for d in (b_data, a_data)]
    assert await downloads(client, album["album_id"]) == [3]
    # Nothing outside the album, whatever the id or the path.
    for path in [
        f"{url}/images/{other}/download", f"{url}/images/{other}/preview",
        f"{url}/images/{other}/view", f"{url}/images/999999/download",
    ]:  # fmt: skip
        await problem(await client.get(path), 404)
    await problem(await client.get(f"{url}/images/{a}/original"), 400)
    await problem(await client.get(f"{url}/preview"), 404)  # an image share's path
    # Taken out of the album: no longer reachable through it.
    await client.request("DELETE", f"/albums/{album['album_id']}/images", json={"ids": [a]})
    await problem(await client.get(f"{url}/images/{a}/download"), 404)
    assert [i["image_id"] for i in (await document(client, url))["images"]] == [b]


async def test_a_smart_albums_link_shows_what_its_search_finds(client):
    cat, _ = await stored(client, "cat.png", 4)
    await client.patch(f"/images/{cat}", json={"tags": ["cat"]})
    album = await create(client, name="Cats", query="cat")
    share = await shared(client, album["album_id"])
    assert [i["image_id"] for i in (await document(client, share["url"]))["images"]] == [cat]
    later, _ = await stored(client, "kitten.png", 5)
    await client.patch(f"/images/{later}", json={"tags": ["cat"]})
    found = await document(client, share["url"])
    assert [i["image_id"] for i in found["images"]] == [cat, later]
    dog, _ = await stored(client, "dog.png", 6)
    await problem(await client.get(f"{share['url']}/images/{dog}/download"), 404)


async def test_password_limits_expiry_revocation_and_a_deleted_album(client, database_url):
    a, _ = await stored(client, "a.png", 7)
    album = await create(client, name="Private")
    await client.post(f"/albums/{album['album_id']}/images", json={"ids": [a]})
    locked = await shared(client, album["album_id"], password="open sesame")
    assert locked["has_password"] is True
    assert locked["strip_metadata"] is True
    await problem(await client.get(locked["url"], headers={"Accept": "application/json"}), 401)
    resp = await client.get(
        locked["url"], headers={"Accept": "application/json", "X-Share-Password": "nope"}
    )
    await problem(resp, 401)
    found = await document(client, locked["url"], **{"X-Share-Password": "open sesame"})
    image_url = found["images"][0]["download"]
    await problem(await client.get(image_url), 401)  # each URL needs the password too
    resp = await client.get(image_url, headers={"X-Share-Password": "open sesame"})
    assert resp.status == 200
    # One-time: the first complete download uses it up, the zip as much as a file.
    once = await shared(client, album["album_id"], max_downloads=1)
    head = await client.head(f"{once['url']}/download")
    assert head.status == 200  # HEAD counts nothing
    assert (await client.get(f"{once['url']}/download")).status == 200
    await problem(await client.get(f"{once['url']}/download"), 410)
    await problem(await client.get(once["url"], headers={"Accept": "application/json"}), 410)
    # Expired.
    expiring = await shared(client, album["album_id"], expires_in=3600)
    sql(database_url, "UPDATE shares SET expires_at = now() - interval '1 second'"
        " WHERE token = %s", (expiring["token"],))  # fmt: skip
    await problem(await client.get(f"{expiring['url']}/download"), 410)
    # Revoked.
    revoked = await shared(client, album["album_id"])
    assert (await client.delete(f"/shares/{revoked['token']}")).status == 204
    await problem(await client.get(revoked["url"], headers={"Accept": "application/json"}), 410)
    listed = await (await client.get(f"/albums/{album['album_id']}/shares")).json()
    assert revoked["token"] not in [s["token"] for s in listed]
    # The album deleted: its links are gone, and no new one is made.
    alive = await shared(client, album["album_id"])
    assert (await client.delete(f"/albums/{album['album_id']}")).status == 204
    await problem(await client.get(alive["url"], headers={"Accept": "application/json"}), 410)
    await problem(await client.get(f"{alive['url']}/images/{a}/download"), 410)
    await problem(await client.post(f"/albums/{album['album_id']}/shares", json={}), 410)
    await problem(await client.post("/albums/999999/shares", json={}), 404)
    # An empty album's zip: nothing to send.
    empty = await create(client, name="Empty")
    share = await shared(client, empty["album_id"])
    assert (await document(client, share["url"]))["images"] == []
    await problem(await client.get(f"{share['url']}/download"), 404)
    assert json.loads(json.dumps(share))["downloads"] == 0
