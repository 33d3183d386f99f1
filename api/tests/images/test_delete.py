"""DELETE /images/{id} and DELETE /images/{id}/attachment/{filename}, on both storage backends.

The record goes (or forgets its file) in one transaction, the stored file
after the commit; a deleted id answers 410 on every path, a never-existing
one 404.
"""

import pytest

from tests.support.helpers import (
    create_form,
    file_key,
    image_bytes,
    new_image,
    problem,
    stored_files,
)
from tests.support.processes import sql

pytestmark = pytest.mark.both_backends


async def stored_image(client, filename="gone.png", tags=("a", "b"), data=None):  # type: ignore[no-untyped-def]
    data = data or image_bytes("PNG", (8, 6))
    resp = await client.post(
        "/images", data=create_form({"filename": filename, "tags": list(tags)}, data)
    )
    assert resp.status == 201, await resp.text()
    return await resp.json()


def gone_detail(settings, image_id: int) -> str:  # type: ignore[no-untyped-def]
    ((deleted_at,),) = sql(
        settings.database_url,
        "SELECT utc_iso(deleted_at) FROM deleted_images WHERE image_id = %s",
        (image_id,),
    )
    return f"Image <{image_id}> was deleted at {deleted_at}"


async def test_delete_removes_record_and_file_then_every_path_is_410(client, settings):
    image = await stored_image(client)
    image_id, sha = image["image_id"], image["attachment"]["sha256"]
    key = file_key(settings, image_id)
    assert set(await stored_files(settings)) == {key}

    resp = await client.delete(f"/images/{image_id}")

    assert resp.status == 204
    assert await resp.read() == b""
    assert await stored_files(settings) == {}
    tombstone = sql(
        settings.database_url,
        "SELECT image_id, sha256 FROM deleted_images WHERE image_id = %s",
        (image_id,),
    )
    assert tombstone == [(image_id, sha)]
    assert sql(settings.database_url, "SELECT count(*) FROM images") == [(0,)]
    detail = gone_detail(settings, image_id)
    attachment = f"/images/{image_id}/attachment/gone.png"
    for method, path, kwargs in [
        ("GET", f"/images/{image_id}", {}),
        ("PATCH", f"/images/{image_id}", {"json": {"tags": ["x"]}}),
        ("DELETE", f"/images/{image_id}", {}),
        ("GET", attachment, {"allow_redirects": False}),
        ("DELETE", attachment, {}),
        ("POST", attachment, {"data": create_form({}, image_bytes())}),
    ]:
        answer = await client.request(method, path, **kwargs)
        assert (await problem(answer, 410))["detail"] == detail, (method, path)
    head = await client.head(f"/images/{image_id}")
    assert head.status == 410
    assert head.content_type == "application/problem+json"
    if settings.storage == "local":
        media = await client.get(f"/media/{key}")
        assert (await problem(media, 410))["detail"] == detail
        by_name = await client.get(f"/media/{image_id}/gone.png")
        assert (await problem(by_name, 410))["detail"] == detail


async def test_unknown_ids_stay_404(client):
    for method, path in [
        ("GET", "/images/77"),
        ("PATCH", "/images/77"),
        ("DELETE", "/images/77"),
        ("DELETE", "/images/77/attachment/x.png"),
        ("GET", "/images/77/attachment/x.png"),
    ]:
        resp = await client.request(method, path, json={"tags": ["a"]})
        assert (await problem(resp, 404))["detail"] == "Image <77> is not found", (method, path)


async def test_listing_and_tag_counts_forget_a_deleted_image(client, settings):
    first = await stored_image(client, "one.png", tags=("a", "b"))
    await new_image(client, filename="two.png", tags=("a",))
    assert (await client.delete(f"/images/{first['image_id']}")).status == 204
    listing = await (await client.get("/images")).json()
    assert [image["filename"] for image in listing[0]] == ["two.png"]
    assert listing[-1] == {"totalImages": 1, "totalChunks": 1}
    counts = sql(settings.database_url, "SELECT tag, image_count FROM tag_counts ORDER BY tag")
    assert counts == [("a", 1)]


async def test_delete_with_a_stale_if_match_is_412_and_keeps_everything(client, settings):
    image = await stored_image(client)
    image_id = image["image_id"]
    before = await stored_files(settings)
    await client.patch(f"/images/{image_id}", json={"tags_add": ["c"]})

    resp = await client.delete(f"/images/{image_id}", headers={"If-Match": '"v1"'})

    assert (await problem(resp, 412))["detail"] == (
        'If-Match does not hold: the image is now at ETag "v2"; read it again'
    )
    assert await stored_files(settings) == before
    assert (await client.get(f"/images/{image_id}")).status == 200
    fresh = await client.delete(f"/images/{image_id}", headers={"If-Match": '"v2"'})
    assert fresh.status == 204
    assert await stored_files(settings) == {}


async def test_delete_of_an_image_without_a_file(client, settings):
    image = await new_image(client, filename="bare.png")
    resp = await client.delete(f"/images/{image['image_id']}", headers={"If-Match": "*"})
    assert resp.status == 204
    assert sql(settings.database_url, "SELECT sha256 FROM deleted_images") == [(None,)]


async def test_delete_attachment_removes_only_the_file(client, settings):
    image = await stored_image(client, "keep.png", tags=("k",))
    image_id = image["image_id"]
    url = f"/images/{image_id}/attachment/keep.png"

    resp = await client.delete(url)

    assert resp.status == 204
    assert resp.headers["ETag"] == '"v2"'
    assert await stored_files(settings) == {}
    record = await client.get(f"/images/{image_id}")
    assert record.headers["ETag"] == '"v2"'
    body = await record.json()
    assert body["attachment"] is None
    assert (body["filename"], body["tags"]) == ("keep.png", ["k"])
    again = await client.delete(url)
    assert (await problem(again, 404))["detail"] == f"Image <{image_id}> has no file"
    redirect = await client.get(url, allow_redirects=False)
    assert (await problem(redirect, 404))["detail"] == f"Image <{image_id}> has no file yet"


async def test_delete_attachment_checks_the_filename_and_if_match(client, settings):
    image = await stored_image(client, "named.png")
    image_id = image["image_id"]
    before = await stored_files(settings)
    wrong = await client.delete(f"/images/{image_id}/attachment/other.png")
    assert (await problem(wrong, 404))["detail"] == (
        f"Image <{image_id}> has no file named 'other.png': its filename is 'named.png'"
    )
    stale = await client.delete(
        f"/images/{image_id}/attachment/named.png", headers={"If-Match": '"v7"'}
    )
    await problem(stale, 412)
    assert await stored_files(settings) == before
    assert (await (await client.get(f"/images/{image_id}")).json())["attachment"] is not None
