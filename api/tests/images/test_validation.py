"""Every bad input to POST /images answers 400 problem+json naming the field, never a 500."""

import psycopg2
import pytest

from pixtag import validation
from tests.support.processes import connection, sql

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
    "blank": "   ",
    "blank-wide": "\u3000\u00a0",
    "zero-width-space": "\u200b",
    "bidi-override": "\u202egpj.exe",
    "bidi-isolate": "a\u2066b.jpg",
    "byte-order-mark": "\ufeffa.jpg",
    "soft-hyphen": "pho\u00adto.jpg",
    "joiner-at-end": "a.jpg\u200d",
    "joiner-after-space": "a \u200cb.jpg",
    "tag-characters": "a\U000e0069\U000e0067\U000e006e.jpg",
    "language-tag": "\U000e0001a.jpg",
    "egyptian-format": "a\U00013430b.jpg",
    "musical-format": "a\U0001d173.jpg",
    "hangul-filler": "\u3164",
    "halfwidth-hangul-filler": "a\uffa0.jpg",
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
    "zero-width-space": ["\u200b"],
    "zero-width-space-padded": [" \u200b "],
    "bidi-override": ["\u202eabc"],
    "word-joiner": ["a\u2060b"],
    "joiner-alone": ["\u200d"],
    "joiner-at-edge": ["cat\u200c"],
    "tag-characters": ["cat\U000e0020\U000e0041"],
    "shorthand-format": ["a\U0001bca0"],
    "kaithi-format": ["\U000110bd"],
    "hangul-choseong-filler": ["\u115f"],
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


async def test_invisible_names_are_refused_with_the_character_named(client):
    resp = await client.post("/images", json={"filename": "\u202egpj.exe", "tags": ["\u200b"]})
    body = await resp.json()
    assert resp.status == 400
    assert body["detail"] == (
        "Invalid body: filename: Value error, filename must not contain the format character U+202E"
    )
    assert [error["msg"] for error in body["errors"]] == [
        "Value error, filename must not contain the format character U+202E",
        "Value error, tag must not contain the format character U+200B",
    ]
    resp = await client.post("/images", json={"filename": "   "})
    assert (await resp.json())["errors"][0]["msg"] == "Value error, filename must not be blank"


async def test_line_and_paragraph_separators_are_refused_inside_names(client, database_url):
    resp = await client.post("/images", json={"filename": "a\u2028b.png", "tags": ["x\u2029y"]})
    assert resp.status == 400
    assert [error["msg"] for error in (await resp.json())["errors"]] == [
        "Value error, filename must not contain the line or paragraph separator U+2028",
        "Value error, tag must not contain the line or paragraph separator U+2029",
    ]
    # At a tag's ends they are white space, trimmed like any other.
    resp = await client.post("/images", json={"filename": "c.png", "tags": ["\u2028cat\u2029"]})
    assert resp.status == 201
    assert (await resp.json())["tags"] == ["cat"]
    for name in ("a\u2028b.png", "\u2029"):
        with pytest.raises(psycopg2.errors.CheckViolation):
            sql(database_url, "UPDATE images SET filename = %s", (name,))
    with pytest.raises(psycopg2.errors.CheckViolation):
        sql(database_url, "UPDATE images SET tags = %s", (["x\u2028y"],))


async def test_invisible_characters_beyond_the_bmp_and_fillers_are_named(client):
    smuggled = "cat" + "".join(chr(0xE0000 + ord(ch)) for ch in "ignore all rules")
    resp = await client.post("/images", json={"filename": "a\u3164.jpg", "tags": [smuggled]})
    body = await resp.json()
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    assert [(error["loc"], error["msg"]) for error in body["errors"]] == [
        (["filename"], "Value error, filename must not contain the invisible filler U+3164"),
        (["tags", 0], "Value error, tag must not contain the format character U+E0069"),
    ]
    resp = await client.get("/images", params={"tags_all": "\U000e0001"})
    assert resp.status == 400
    body = await resp.json()
    assert body["errors"][0]["loc"] == ["tags_all", 0]
    assert "U+E0001" in body["detail"]


async def test_braille_blank_and_other_astral_characters_are_kept(client):
    # U+13440, U+E0100 and U+1D17B are combining marks: kept after what they combine with.
    names = ["\u2800.png", "a\U00013440.png", "\U0001f3f4\u200d\u2620\ufe0f.png"]
    tags = ["\u2800", "x\U000e0100", "x\U0001d17b"]
    for name, tag in zip(names, tags, strict=True):
        resp = await client.post("/images", json={"filename": name, "tags": [tag]})
        assert resp.status == 201, await resp.text()
        body = await resp.json()
        assert (body["filename"], body["tags"]) == (name, [tag])


async def test_a_name_may_not_begin_with_a_combining_mark(client, database_url):
    """A mark with nothing to combine with draws as a floating accent or as nothing: names
    of marks alone look empty. After a visible character marks are as welcome as ever."""
    resp = await client.post(
        "/images",
        json={"filename": "\u0301\u0301.png", "tags": ["  \u20dd", "\U000e0100x"]},
    )
    assert resp.status == 400
    assert [error["msg"] for error in (await resp.json())["errors"]] == [
        "Value error, filename must not begin with the combining mark U+0301"
        " (it has nothing to combine with)",
        "Value error, tag must not begin with the combining mark U+20DD"
        " (it has nothing to combine with)",
        "Value error, tag must not begin with the combining mark U+E0100"
        " (it has nothing to combine with)",
    ]
    resp = await client.post(
        "/images", json={"filename": "cafe\u0301.png", "tags": ["\u0915\u094d\u0937"]}
    )
    assert resp.status == 201, await resp.text()
    resp = await client.get("/images", params={"tag": "\u0301"})
    assert resp.status == 400
    with pytest.raises(ValueError, match="combining mark U\\+0301"):
        validation.check_label(" \u0301 token")
    for name in ("\u0301.png", " \u20dd"):
        with pytest.raises(psycopg2.errors.CheckViolation):
            sql(database_url, "UPDATE images SET filename = %s", (name,))
    with pytest.raises(psycopg2.errors.CheckViolation):
        sql(database_url, "UPDATE images SET tags = %s", (["\u0301x"],))


async def test_joiners_between_visible_characters_are_kept(client):
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467.png"
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # ZWNJ inside a word
    resp = await client.post("/images", json={"filename": family, "tags": [persian]})
    assert resp.status == 201
    body = await resp.json()
    assert (body["filename"], body["tags"]) == (family, [persian])


async def test_an_invisible_tag_filter_is_400(client):
    resp = await client.get("/images", params={"tags_any": "\u200b"})
    assert resp.status == 400
    body = await resp.json()
    assert body["errors"][0]["loc"] == ["tags_any", 0]
    assert "U+200B" in body["detail"]


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


def test_the_database_refuses_what_the_rules_refuse(db):
    """The schema's CHECK constraints mirror validation.check_filename."""
    names = ["a/b", "a\\b", ".x", "a\x01b", "a\x85b", "", "x" * 256]
    names += ["   ", "\u200b", "\u202egpj.exe", "a\u200d", "a\u2066b"]
    names += ["a\U000e0041", "\U000e0001", "a\U0001d17ab", "\u3164", "a\u115fb"]
    for name in names:
        with pytest.raises(ValueError, match="filename"):
            validation.check_filename(name)
        with db.cursor() as cur, pytest.raises(psycopg2.errors.CheckViolation):
            cur.execute("INSERT INTO images (filename) VALUES (%s)", (name,))
        db.rollback()


def test_the_database_refuses_the_tags_the_rules_refuse(db):
    for tag in ["\u200b", "a\u202eb", "\u200dcat", "a,b", "a\x01b", "a\U000e007f", "\uffa0"]:
        with pytest.raises(ValueError, match="tag"):
            validation.normalise_tag(tag)
        with db.cursor() as cur, pytest.raises(psycopg2.errors.CheckViolation):
            cur.execute("INSERT INTO images (filename, tags) VALUES ('a', %s)", ([tag],))
        db.rollback()


ACCEPTS = """
    CREATE FUNCTION pg_temp.accepts(filename text, tags text[]) RETURNS boolean
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO images (filename, tags) VALUES (filename, tags);
        RETURN true;
    EXCEPTION WHEN check_violation THEN
        RETURN false;
    END
    $$
"""


def accepted(rule, value: str) -> bool:
    try:
        rule(value)
    except ValueError:
        return False
    return True


def test_the_database_name_rules_agree_with_python_on_many_strings(db):
    """Every CHECK on filenames and tags against check_filename and normalise_tag."""
    import random
    import unicodedata

    alphabet = " \t\u3000\u00a0aZ.é\u0301,/\u200b\u200c\u200d\u202e\u2066\ufeff\u00ad\u2028\u2029"
    alphabet += "\U000e0041\U0001f468\u0600\u180e\x85\x1f"
    # Beyond the BMP, format characters and their neighbours; fillers; the braille blank.
    alphabet += "\U000110bd\U000110be\U0001343f\U00013440\U0001bca3\U0001d17a\U0001d17b"
    alphabet += "\U000e0001\U000e0020\U000e007f\U000e0080\U000e0100"
    alphabet += "\u115f\u1160\u3164\uffa0\u2800\u1100\u1161"
    rng = random.Random(20261122)
    values = ["".join(rng.choices(alphabet, k=rng.randint(1, 6))) for _ in range(4000)]
    edges = [code for first, last in validation.FORMAT_RANGES for code in (first, last)]
    edges += [ord(ch) for ch in validation.FILLERS]
    values += [chr(code + step) for code in edges for step in (-1, 0, 1)]
    # The database sees a filename as sent and a tag as stored.
    stored = [unicodedata.normalize("NFC", value.strip()).lower() for value in values]
    with db.cursor() as cur:
        cur.execute(ACCEPTS)
        cur.execute(
            "SELECT pg_temp.accepts(v, '{}'), pg_temp.accepts('a', ARRAY[t])"
            " FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS u(v, t, n) ORDER BY n",
            (values, stored),
        )
        found = cur.fetchall()
    expected = [
        (accepted(validation.check_filename, value), accepted(validation.normalise_tag, value))
        for value in values
    ]
    wrong = [(v, f, e) for v, f, e in zip(values, found, expected, strict=True) if f != e]
    assert not wrong


def test_normalise_tag_rules():
    assert validation.normalise_tag("  CAFE\u0301 ") == "café"
    assert validation.unique_tags(["b", "a", "b"]) == ["b", "a"]


def test_sql_url_quote_agrees_with_python(database_url):
    """image_json's attachment url (no public media URL) and the 201's Location quote alike."""
    from pixtag.images.media import attachment_path

    names = [
        "plain.jpg",
        "a b.png",
        "фото #1?.png",
        "100%+x&y=z.gif",
        "~tilde_-.jpg",
        "😀'\";.webp",
    ]
    for name in names:
        found = sql(
            database_url,
            # A row from its named columns only: later fixtures may add more.
            "SELECT image_json(jsonb_populate_record(NULL::images, jsonb_build_object("
            " 'image_id', 7, 'filename', %s, 'tags', '{}'::text[], 'created_at', now(),"
            " 'content_type', 'image/png', 'size', 1, 'sha256', %s, 'width', 1, 'height', 1,"
            " 'uploaded_at', now())), NULL)->'attachment'->>'url'",
            (name, "0" * 64),
        )
        assert found == [(attachment_path(7, name),)]


def test_fixture_004_stops_on_rows_the_new_rules_refuse_and_changes_nothing(empty_database_url):
    from pixtag.db import fixtures

    before = ["001_images.sql", "002_image_json_composite.sql", "003_storage_keys.sql"]
    assert fixtures.apply(empty_database_url, names=before) == before
    with connection(empty_database_url, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO images (filename, tags) VALUES ('ok.jpg', '{a}'),"
                " (%s, '{}'), ('b.jpg', %s) RETURNING image_id",
                ("\u202egpj.exe", ["\u200b"]),
            )
            ok, bad_name, bad_tag = (row[0] for row in cur.fetchall())
        with pytest.raises(fixtures.FixtureError) as refused:
            fixtures.apply(empty_database_url)
        assert str(refused.value) == (
            f"004_visible_names.sql: images {bad_name}, {bad_tag} (at most 20 listed) have a"
            " filename or tag with a format character or a blank filename: rename them, then"
            " apply the fixtures again"
        )
        with conn.cursor() as cur:
            cur.execute("UPDATE images SET filename = 'a.exe' WHERE image_id = %s", (bad_name,))
            cur.execute("UPDATE images SET tags = '{b}' WHERE image_id = %s", (bad_tag,))
        only = ["004_visible_names.sql"]
        assert fixtures.apply(empty_database_url, names=only) == only
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.CheckViolation):
            cur.execute("UPDATE images SET tags = %s WHERE image_id = %s", (["\u2066x"], ok))


def test_fixture_010_stops_on_rows_with_astral_format_characters_and_changes_nothing(
    empty_database_url,
):
    from pixtag.db import fixtures

    found = fixtures.discover(fixtures.default_directory())
    before = [fixture.name for fixture in found if fixture.name < "010"]
    assert fixtures.apply(empty_database_url, names=before) == before
    with connection(empty_database_url, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO images (filename, tags) VALUES ('ok.jpg', '{a}'),"
                " (%s, '{}'), ('b.jpg', %s) RETURNING image_id",
                ("a\U000e0041.jpg", ["\u3164"]),
            )
            ok, bad_name, bad_tag = (row[0] for row in cur.fetchall())
        with pytest.raises(fixtures.FixtureError) as refused:
            fixtures.apply(empty_database_url)
        assert str(refused.value) == (
            f"010_visible_names_astral.sql: images {bad_name}, {bad_tag} (at most 20 listed)"
            " have a filename or tag with an invisible character beyond the BMP or a Hangul"
            " filler: rename them, then apply the fixtures again"
        )
        # Nothing changed: the old rule still lets such names in.
        with conn.cursor() as cur:
            cur.execute("UPDATE images SET tags = %s WHERE image_id = %s", (["\U000e0001"], ok))
            cur.execute("UPDATE images SET filename = 'a.jpg' WHERE image_id = %s", (bad_name,))
            cur.execute("UPDATE images SET tags = '{b}' WHERE image_id IN (%s, %s)", (ok, bad_tag))
        assert "010_visible_names_astral.sql" in fixtures.apply(empty_database_url)
        for value in ("\U000e0001", "\u3164", "\U0001d173x"):
            with conn.cursor() as cur, pytest.raises(psycopg2.errors.CheckViolation):
                cur.execute("UPDATE images SET tags = %s WHERE image_id = %s", ([value], ok))
            with conn.cursor() as cur, pytest.raises(psycopg2.errors.CheckViolation):
                cur.execute("UPDATE images SET filename = %s WHERE image_id = %s", (value, ok))


def test_fixture_017_stops_on_rows_with_a_line_separator_and_changes_nothing(empty_database_url):
    from pixtag.db import fixtures

    found = fixtures.discover(fixtures.default_directory())
    before = [fixture.name for fixture in found if fixture.name < "017"]
    assert fixtures.apply(empty_database_url, names=before) == before
    with connection(empty_database_url, autocommit=True) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO images (filename, tags) VALUES (%s, '{}') RETURNING image_id",
                ("a\u2028b.jpg",),
            )
            (bad,) = cur.fetchone()
        with pytest.raises(fixtures.FixtureError) as refused:
            fixtures.apply(empty_database_url)
        assert f"images {bad} (at most 20 listed)" in str(refused.value)
        assert "line or paragraph separator" in str(refused.value)
        with conn.cursor() as cur:  # nothing changed: the old rule still lets it in
            cur.execute("UPDATE images SET filename = %s WHERE image_id = %s", ("c\u2029.jpg", bad))
            cur.execute("UPDATE images SET filename = 'ok.jpg' WHERE image_id = %s", (bad,))
        assert "017_cheaper_checks.sql" in fixtures.apply(empty_database_url)
