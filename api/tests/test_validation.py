"""Every bad input to POST /images answers 400 problem+json naming the field, never a 500."""

import pytest

from pixtag import validation

BAD_FILENAMES = {
    "empty": "",
    "slash": "a/b.jpg",
    "backslash": "a\\b.jpg",
    "dot": ".",
    "dotdot": "..",
    "leading-dot": ".hidden.jpg",
    "nul": "a\x00b.jpg",
    "newline": "a\nb.jpg",
    "tab": "a\tb.jpg",
    "del": "a\x7fb.jpg",
    "c1-control": "a\x85b.jpg",
    "too-long": "a" * 252 + ".jpg",
    "too-long-in-bytes": "é" * 128,
    "not-a-string": 42,
    "null": None,
}

BAD_TAGS = {
    "empty": [""],
    "blank": ["   "],
    "too-long": ["x" * 101],
    "comma": ["a,b"],
    "control": ["a\x01b"],
    "nul": ["a\x00"],
    "not-a-string": [1],
    "not-a-list": "canon",
    "too-many": [f"t{i}" for i in range(101)],
}


def assert_problem(body: dict, status: int) -> None:
    assert body["status"] == status
    assert body["error"] == body["detail"]
    assert body["type"] == "about:blank"
    for leak in ("Traceback", "psycopg2", "SELECT", "INSERT"):
        assert leak not in body["detail"]


@pytest.mark.parametrize("filename", BAD_FILENAMES.values(), ids=BAD_FILENAMES.keys())
async def test_bad_filename_is_400_naming_the_field(client, filename):
    resp = await client.post("/images", json={"filename": filename, "tags": []})
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert_problem(body, 400)
    assert body["errors"][0]["loc"] == ["filename"]
    assert body["errors"][0]["in"] == "body"


@pytest.mark.parametrize("tags", BAD_TAGS.values(), ids=BAD_TAGS.keys())
async def test_bad_tags_are_400_naming_the_field(client, tags):
    resp = await client.post("/images", json={"filename": "a.jpg", "tags": tags})
    assert resp.status == 400
    body = await resp.json()
    assert_problem(body, 400)
    assert body["errors"][0]["loc"][0] == "tags"


async def test_filename_of_exactly_255_bytes_is_accepted(client):
    name = "é" * 125 + "abcd.jpg"[:5]
    assert len(name.encode()) == 255
    resp = await client.post("/images", json={"filename": name})
    assert resp.status == 201
    assert (await resp.json())["filename"] == name


async def test_hundred_tags_of_hundred_characters_are_accepted(client):
    tags = [f"{i:03d}" + "x" * 97 for i in range(100)]
    resp = await client.post("/images", json={"filename": "a.jpg", "tags": tags})
    assert resp.status == 201
    assert (await resp.json())["tags"] == tags


async def test_unknown_field_is_400(client):
    resp = await client.post("/images", json={"filename": "a.jpg", "owner": "me"})
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["loc"] == ["owner"]


async def test_missing_filename_is_400(client):
    resp = await client.post("/images", json={"tags": ["a"]})
    assert resp.status == 400
    body = await resp.json()
    assert body["errors"][0]["loc"] == ["filename"]
    assert body["errors"][0]["type"] == "missing"


def test_the_database_refuses_what_the_rules_refuse(pg_server, database_url):
    """The schema's CHECK constraints mirror validation.check_filename."""
    import psycopg2

    conn = psycopg2.connect(database_url)
    try:
        for name in ["a/b", "a\\b", ".x", "a\x01b", "a\x85b", "", "x" * 256]:
            with pytest.raises(ValueError, match="filename"):
                validation.check_filename(name)
            with conn.cursor() as cur, pytest.raises(psycopg2.errors.CheckViolation):
                cur.execute("INSERT INTO images (filename) VALUES (%s)", (name,))
            conn.rollback()
    finally:
        conn.close()


def test_normalise_tag_rules():
    assert validation.normalise_tag("  CAFE\u0301 ") == "café"
    assert validation.unique_tags(["b", "a", "b"]) == ["b", "a"]


def test_sql_url_quote_agrees_with_python(database_url):
    """image_json's attachment url (no public media URL) and the 201's Location quote alike."""
    import psycopg2

    from pixtag.media import attachment_path

    names = [
        "plain.jpg",
        "a b.png",
        "фото #1?.png",
        "100%+x&y=z.gif",
        "~tilde_-.jpg",
        "😀'\";.webp",
    ]
    conn = psycopg2.connect(database_url)
    try:
        with conn.cursor() as cur:
            for name in names:
                cur.execute(
                    "SELECT image_json(ROW(7, %s, '{}', now(), 'image/png', 1, %s, 1, 1, now(),"
                    " NULL)::images, NULL)->'attachment'->>'url'",
                    (name, "0" * 64),
                )
                assert cur.fetchone()[0] == attachment_path(7, name)
    finally:
        conn.close()
