"""pixtag ls: a table for people, a JSON array for scripts, tag filters."""

import json
from pathlib import Path

from pixtag.models import Image
from tests.client.support import Pixtag, make_image, post_record
from tests.support.processes import sql


def seed(url: str) -> list[dict]:
    return [
        post_record(url, "a.jpg", ["cat", "sun"]),
        post_record(url, "b.jpg", ["dog"]),
        post_record(url, "c.png", ["cat", "dog"]),
    ]


def test_ls_prints_a_table_in_id_order(pixtag: Pixtag, live_url: str):
    images = seed(live_url)
    result = pixtag("ls")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "FILENAME", "TAGS", "SIZE", "PIXELS", "CREATED", "(UTC)"]
    body = [line.split() for line in lines[2:]]
    assert [row[:2] for row in body] == [[str(i["image_id"]), i["filename"]] for i in images]
    assert body[0][2:4] == ["cat,", "sun"]
    assert body[0][4:6] == ["-", "-"]


def test_ls_json_is_an_array_of_image_documents(pixtag: Pixtag, live_url: str):
    images = seed(live_url)
    result = pixtag("ls", "--json")
    assert result.exit_code == 0, result.output
    # The same documents; timestamps may differ in spelling only (trailing zeros).
    printed = [Image.model_validate(document) for document in json.loads(result.stdout)]
    assert printed == [Image.model_validate(image) for image in images]


def test_ls_filters_by_tag_all_and_any(pixtag: Pixtag, live_url: str):
    a, b, c = seed(live_url)

    def ids(*args: str) -> list[int]:
        result = pixtag("ls", "--json", *args)
        assert result.exit_code == 0, result.output
        return [image["image_id"] for image in json.loads(result.stdout)]

    assert ids("--tag", "cat") == [a["image_id"], c["image_id"]]
    assert ids("--all", "cat", "--all", "Dog") == [c["image_id"]]
    assert ids("--any", "sun", "--any", "dog") == [a["image_id"], b["image_id"], c["image_id"]]
    assert ids("--tag", "dog", "--any", "cat") == [c["image_id"]]
    assert ids("--tag", "bird") == []


def test_ls_with_no_match_says_so(pixtag: Pixtag):
    result = pixtag("ls")
    assert result.exit_code == 0, result.output
    assert result.stdout == "no images\n"
    assert pixtag("ls", "--json").stdout == "[]\n"


def test_ls_invalid_filter_is_a_400_error_line(pixtag: Pixtag):
    result = pixtag("ls", "--tag", "   ")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert "tag" in result.stderr


def test_ls_json_streams_a_collection_larger_than_a_chunk(pixtag: Pixtag, database_url: str):
    sql(
        database_url,
        "INSERT INTO images (filename, tags)"
        " SELECT 'img' || n || '.png', ARRAY['bulk'] FROM generate_series(1, 2500) AS n",
    )
    result = pixtag("ls", "--json", "--tag", "bulk")
    assert result.exit_code == 0, result.stderr
    images = json.loads(result.stdout)
    assert [image["filename"] for image in images] == [f"img{n}.png" for n in range(1, 2501)]
    assert result.stdout.count("\n") == 2502


def test_ls_table_shows_the_size_and_pixels_of_stored_files(pixtag: Pixtag, tmp_path: Path):
    data = make_image(tmp_path / "wide.png", seed=1, size=(40, 10))
    assert pixtag("add", tmp_path / "wide.png", "-t", "x").exit_code == 0
    result = pixtag("ls", "--tag", "x")
    assert result.exit_code == 0, result.output
    row = result.stdout.splitlines()[2].split()
    assert row[1:6] == ["wide.png", "x", str(len(data)), "B", "40x10"]


def test_ls_query_searches_and_sorts_like_q(pixtag: Pixtag, live_url: str):
    a, b, _ = seed(live_url)
    result = pixtag("ls", "--json", "-q", "(sun or dog) -cat sort:-id")
    assert result.exit_code == 0, result.output
    assert [i["image_id"] for i in json.loads(result.stdout)] == [b["image_id"]]
    result = pixtag("ls", "-q", "c* sort:-id", "--any", "sun")
    assert [line.split()[0] for line in result.stdout.splitlines()[2:]] == [str(a["image_id"])]
    result = pixtag("ls", "-q", "cat (dog")
    assert result.exit_code == 1
    assert result.output == "error: q: unexpected end of query at position 9\n"
