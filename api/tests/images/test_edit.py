"""PATCH /images/{id}: rename and retag, with the row version as ETag and If-Match."""

import pytest

from tests.support.helpers import create_form, form, image_bytes, new_image, problem, sha256
from tests.support.processes import sql


def row(settings, image_id: int) -> tuple:  # type: ignore[no-untyped-def]
    (found,) = sql(
        settings.database_url,
        "SELECT filename, tags, version FROM images WHERE image_id = %s",
        (image_id,),
    )
    return found


async def test_create_and_get_carry_the_row_version_as_a_strong_etag(client):
    created = await client.post("/images", json={"filename": "a.png", "tags": ["x"]})
    assert created.status == 201
    assert created.headers["ETag"] == '"v1"'
    image_id = (await created.json())["image_id"]
    for method in ("GET", "HEAD"):
        resp = await client.request(method, f"/images/{image_id}")
        assert resp.status == 200
        assert resp.headers["ETag"] == '"v1"'


async def test_a_create_with_its_file_answers_the_first_version(client):
    resp = await client.post(
        "/images", data=create_form({"filename": "f.png", "tags": []}, image_bytes())
    )
    assert resp.status == 201
    assert resp.headers["ETag"] == '"v1"'
    image_id = (await resp.json())["image_id"]
    assert (await client.get(f"/images/{image_id}")).headers["ETag"] == '"v1"'


async def test_an_upload_bumps_the_version(client):
    image = await new_image(client, filename="up.png")
    url = f"/images/{image['image_id']}/attachment/up.png"
    assert (await client.post(url, data=form(image_bytes()))).status == 201
    resp = await client.get(f"/images/{image['image_id']}")
    assert resp.headers["ETag"] == '"v2"'


async def test_patch_tags_add_and_remove_are_normalised_and_keep_order(client, settings):
    image = await new_image(client, filename="t.png", tags=("a", "b", "c"))
    image_id = image["image_id"]

    resp = await client.patch(
        f"/images/{image_id}",
        json={"tags_add": ["  Zeta ", "B", "e\u0301"], "tags_remove": ["A", "ZETA"]},
    )

    assert resp.status == 200, await resp.text()
    assert resp.headers["ETag"] == '"v2"'
    body = await resp.json()
    assert body["tags"] == ["b", "c", "\u00e9"]
    assert body["filename"] == "t.png"
    assert row(settings, image_id) == ("t.png", ["b", "c", "\u00e9"], 2)


async def test_patch_tags_replaces_every_tag(client, settings):
    image = await new_image(client, filename="r.png", tags=("a", "b"))
    resp = await client.patch(f"/images/{image['image_id']}", json={"tags": [" Q ", "q", "r"]})
    assert resp.status == 200
    assert (await resp.json())["tags"] == ["q", "r"]
    assert row(settings, image["image_id"])[1] == ["q", "r"]


async def test_tag_counts_follow_edits(client, settings):
    one = await new_image(client, filename="1.png", tags=("a", "b"))
    await new_image(client, filename="2.png", tags=("a",))
    await client.patch(f"/images/{one['image_id']}", json={"tags_add": ["c"], "tags_remove": ["a"]})
    counts = sql(settings.database_url, "SELECT tag, image_count FROM tag_counts ORDER BY tag")
    assert counts == [("a", 1), ("b", 1), ("c", 1)]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "nothing to change"),
        ({"filename": None}, "filename must not be null"),
        ({"tags": ["a"], "tags_add": ["b"]}, "tags replaces every tag"),
        ({"tags": ["a"], "tags_remove": ["b"]}, "tags replaces every tag"),
        ({"colour": "red"}, "Extra inputs are not permitted"),
        ({"filename": "../x"}, "filename must not contain '/'"),
        ({"filename": ".hidden"}, "filename must not start with '.'"),
        ({"tags_add": [" "]}, "tag must not be empty"),
        ({"tags_add": ["a,b"]}, "tag must not contain ','"),
    ],
)
async def test_invalid_patches_are_400_and_change_nothing(client, settings, body, detail):
    image = await new_image(client, filename="same.png", tags=("keep",))
    before = row(settings, image["image_id"])

    resp = await client.patch(f"/images/{image['image_id']}", json=body)

    problem_body = await problem(resp, 400)
    assert detail in problem_body["detail"]
    assert problem_body["errors"][0]["in"] == "body"
    assert row(settings, image["image_id"]) == before


async def test_patch_with_an_empty_or_non_json_body_is_refused(client):
    image = await new_image(client)
    url = f"/images/{image['image_id']}"
    empty = await client.patch(url, data=b"", headers={"Content-Type": "application/json"})
    assert "Invalid body" in (await problem(empty, 400))["detail"]
    text = await client.patch(url, data=b"filename=x", headers={"Content-Type": "text/plain"})
    assert (await problem(text, 415))["detail"] == (
        "Content-Type must be application/json, not text/plain"
    )


async def test_more_than_100_tags_after_adding_is_400(client, settings):
    image = await new_image(client, filename="many.png", tags=[f"t{n}" for n in range(60)])
    resp = await client.patch(
        f"/images/{image['image_id']}", json={"tags_add": [f"u{n}" for n in range(41)]}
    )
    assert (await problem(resp, 400))["detail"] == "An image has at most 100 tags"
    assert row(settings, image["image_id"])[2] == 1


async def test_stale_if_match_is_412_and_changes_nothing(client, settings):
    image = await new_image(client, filename="v.png", tags=("a",))
    url = f"/images/{image['image_id']}"
    first = await client.patch(url, json={"tags_add": ["b"]}, headers={"If-Match": '"v1"'})
    assert first.status == 200
    assert first.headers["ETag"] == '"v2"'

    stale = await client.patch(url, json={"filename": "w.png"}, headers={"If-Match": '"v1"'})

    body = await problem(stale, 412)
    assert body["detail"] == 'If-Match does not hold: the image is now at ETag "v2"; read it again'
    assert row(settings, image["image_id"]) == ("v.png", ["a", "b"], 2)
    weak = await client.patch(url, json={"filename": "w.png"}, headers={"If-Match": 'W/"v2"'})
    await problem(weak, 412)
    several = await client.patch(
        url, json={"filename": "w.png"}, headers={"If-Match": '"v9", "v2"'}
    )
    assert several.status == 200
    assert several.headers["ETag"] == '"v3"'


async def test_if_match_star_or_none_applies_the_patch(client, settings):
    image = await new_image(client, filename="s.png")
    url = f"/images/{image['image_id']}"
    star = await client.patch(url, json={"tags": ["x"]}, headers={"If-Match": "*"})
    assert star.status == 200
    assert star.headers["ETag"] == '"v2"'
    plain = await client.patch(url, json={"tags": ["y"]})
    assert plain.status == 200
    assert plain.headers["ETag"] == '"v3"'
    assert row(settings, image["image_id"]) == ("s.png", ["y"], 3)


async def test_patch_of_an_unknown_image_is_404_whatever_if_match_says(client):
    resp = await client.patch("/images/999", json={"tags": ["a"]}, headers={"If-Match": '"v1"'})
    assert (await problem(resp, 404))["detail"] == "Image <999> is not found"


async def test_rename_keeps_the_bytes_and_the_urls_work(client, settings):
    data = image_bytes("PNG", (9, 4))
    created = await client.post(
        "/images", data=create_form({"filename": "old name.png", "tags": []}, data)
    )
    image = await created.json()
    image_id, url = image["image_id"], image["attachment"]["url"]
    key = url.removeprefix("/media/")

    resp = await client.patch(f"/images/{image_id}", json={"filename": "new name.png"})

    assert resp.status == 200
    renamed = await resp.json()
    assert renamed["filename"] == "new name.png"
    assert renamed["attachment"] == image["attachment"]  # same key, same URL
    assert (settings.media_dir / key).read_bytes() == data
    media = await client.get(url)
    assert media.status == 200
    assert await media.read() == data
    assert media.headers["Content-Disposition"] == (
        "inline; filename=\"new name.png\"; filename*=UTF-8''new%20name.png"
    )
    new = await client.get(f"/images/{image_id}/attachment/new%20name.png", allow_redirects=False)
    assert new.status == 302
    assert new.headers["Location"] == url
    old = await client.get(f"/images/{image_id}/attachment/old%20name.png", allow_redirects=False)
    assert (await problem(old, 404))["detail"] == (
        f"Image <{image_id}> has no file named 'old name.png': its filename is 'new name.png'"
    )
    assert sha256(await (await client.get(new.headers["Location"])).read()) == sha256(data)


async def test_a_file_stored_before_keys_cannot_be_renamed_until_migrated(client, settings):
    image = await new_image(client, filename="legacy.png")
    image_id = image["image_id"]
    sql(
        settings.database_url,
        "UPDATE images SET content_type = 'image/png', size = 1, sha256 = %s, width = 1,"
        " height = 1, uploaded_at = now() WHERE image_id = %s",
        ("0" * 64, image_id),
    )
    resp = await client.patch(f"/images/{image_id}", json={"filename": "other.png"})
    assert (await problem(resp, 409))["detail"] == (
        f"Image <{image_id}> has a file stored before storage keys, found by its filename;"
        " run `pixtag storage migrate` before renaming it"
    )
    assert row(settings, image_id)[0] == "legacy.png"
    retag = await client.patch(f"/images/{image_id}", json={"tags_add": ["ok"]})
    assert retag.status == 200
