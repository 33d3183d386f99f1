"""POST /images and GET /images/{image_id}: records, normalisation, and the seed's answers."""

from pixtag.models import Image


async def create(client, filename="example.jpg", tags=("example_1", "jpeg", "canon")):
    return await client.post("/images", json={"filename": filename, "tags": list(tags)})


async def test_create_answers_201_with_location_and_the_seed_fields(client):
    resp = await create(client)
    assert resp.status == 201
    body = await resp.json()
    assert resp.headers["Location"] == f"/images/{body['image_id']}"
    assert resp.content_type == "application/json"
    assert body["filename"] == "example.jpg"
    assert body["tags"] == ["example_1", "jpeg", "canon"]
    assert body["attachment"] is None
    Image.model_validate(body)


async def test_get_returns_the_same_document_as_create(client):
    created = await (await create(client)).json()
    resp = await client.get(f"/images/{created['image_id']}")
    assert resp.status == 200
    assert await resp.json() == created


async def test_get_missing_image_is_404_with_the_seed_error_text(client):
    resp = await client.get("/images/22")
    assert resp.status == 404
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["error"] == "Image <22> is not found"
    assert body["detail"] == body["error"]
    assert body["status"] == 404
    assert body["title"] == "Not Found"


async def test_tags_are_trimmed_nfc_normalised_lower_cased_and_deduplicated(client):
    tags = ["  Canon ", "canon", "Cafe\u0301", "café", "JPEG", "jpeg "]
    body = await (await create(client, tags=tags)).json()
    assert body["tags"] == ["canon", "café", "jpeg"]


async def test_tags_default_to_empty(client):
    resp = await client.post("/images", json={"filename": "a.png"})
    assert resp.status == 201
    assert (await resp.json())["tags"] == []


async def test_unicode_filename_is_kept_as_given(client):
    body = await (await create(client, filename="фото 1 (копия).jpg")).json()
    assert body["filename"] == "фото 1 (копия).jpg"


async def test_ids_increase(client):
    first = await (await create(client)).json()
    second = await (await create(client)).json()
    assert second["image_id"] > first["image_id"]


async def test_created_at_is_utc_iso8601(client):
    body = await (await create(client)).json()
    assert body["created_at"].endswith("Z")
    Image.model_validate(body)


async def test_tag_of_white_space_only_is_400(client):
    resp = await create(client, tags=["ok", " \u3000\t"])
    assert resp.status == 400
    body = await resp.json()
    assert body["errors"][0]["loc"] == ["tags", 1]


async def test_tag_longer_than_100_characters_as_sent_is_400_even_if_trimmed_shorter(client):
    resp = await create(client, tags=["a" + " " * 100])
    assert resp.status == 400
    assert "at most 100 characters" in (await resp.json())["detail"]


async def test_tag_of_100_characters_is_kept(client):
    resp = await create(client, tags=["x" * 100])
    assert resp.status == 201
    assert (await resp.json())["tags"] == ["x" * 100]


async def test_timestamps_are_utc_rfc3339_whatever_the_fraction_or_time_zone(client, db):
    with db, db.cursor() as cur:
        cur.execute(
            "INSERT INTO images (filename, created_at) VALUES"
            " ('a.jpg', '2026-01-02 03:04:05.12+00'), ('b.jpg', '2026-01-02 03:04:05+00'),"
            " ('c.jpg', '2026-01-02 03:04:05.123456+00') RETURNING image_id"
        )
        ids = [row[0] for row in cur.fetchall()]
    stamps = [(await (await client.get(f"/images/{i}")).json())["created_at"] for i in ids]
    assert stamps == [
        "2026-01-02T03:04:05.12Z",
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05.123456Z",
    ]
    with db, db.cursor() as cur:
        cur.execute("SET TIME ZONE 'Asia/Tokyo'")
        cur.execute(
            "SELECT image_json(i, '/media') ->> 'created_at' FROM images AS i"
            " WHERE image_id = ANY(%s) ORDER BY image_id",
            (ids,),
        )
        assert [row[0] for row in cur.fetchall()] == stamps
