"""pixtag tag, mv and rm: what they print, what they change, and how they fail."""

from pathlib import Path

from tests.client.support import Pixtag, added_ids, make_image, rows
from tests.support.processes import sql


def add(pixtag: Pixtag, tmp_path: Path, name: str, *tags: str) -> int:
    make_image(tmp_path / name, seed=sum(map(ord, name)))
    args = [arg for tag in tags for arg in ("-t", tag)]
    result = pixtag("add", tmp_path / name, *args)
    assert result.exit_code == 0, result.output
    return added_ids(result)[0]


def test_tag_adds_and_removes_on_every_image(pixtag: Pixtag, tmp_path: Path, database_url: str):
    one = add(pixtag, tmp_path, "one.png", "a", "b", "home")
    two = add(pixtag, tmp_path, "two.png", "b")

    # -home is a tag to remove, not -h (help) and friends.
    result = pixtag("tag", str(one), str(two), "+Cat", "-b", "dog", "-home")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"tagged {one}: a, cat, dog\ntagged {two}: cat, dog\n"
    assert rows(database_url, "image_id, tags") == [
        (one, ["a", "cat", "dog"]),
        (two, ["cat", "dog"]),
    ]


def test_tag_goes_on_past_a_missing_or_deleted_image_and_exits_1(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    one = add(pixtag, tmp_path, "one.png")
    gone = add(pixtag, tmp_path, "gone.png")
    assert pixtag("rm", str(gone)).exit_code == 0

    result = pixtag("tag", "999", str(gone), str(one), "+x")

    assert result.exit_code == 1
    assert result.stdout == f"tagged {one}: x\n"
    (deleted_at,) = sql(
        database_url, "SELECT utc_iso(deleted_at) FROM deleted_images WHERE image_id = %s", (gone,)
    )[0]
    assert result.stderr == (
        f"error: Image <999> is not found\nerror: Image <{gone}> was deleted at {deleted_at}\n"
    )


def test_tag_without_ids_or_tags_says_so(pixtag: Pixtag):
    assert pixtag("tag", "+a").stderr == "error: give at least one image id before the tags\n"
    result = pixtag("tag", "3")
    assert result.exit_code == 1
    assert result.stderr == "error: give at least one tag: +TAG (or TAG) adds it, -TAG removes it\n"


def test_tag_with_an_invalid_tag_is_one_line_from_the_server(pixtag: Pixtag, tmp_path: Path):
    one = add(pixtag, tmp_path, "one.png")
    result = pixtag("tag", str(one), "+a,b")
    assert result.exit_code == 1
    assert (
        result.stderr == "error: Invalid body: tags_add.0: Value error, tag must not contain ','\n"
    )


def test_mv_renames_and_the_file_stays(pixtag: Pixtag, tmp_path: Path, database_url: str):
    one = add(pixtag, tmp_path, "one.png")
    (key,) = sql(database_url, "SELECT storage_key FROM images")[0]

    result = pixtag("mv", str(one), "renamed.png")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"renamed {one}: one.png -> renamed.png\n"
    assert sql(database_url, "SELECT filename, storage_key FROM images") == [("renamed.png", key)]
    got = pixtag("get", str(one), "-o", str(tmp_path / "out") + "/")
    assert got.exit_code == 0, got.output
    assert (tmp_path / "out" / "renamed.png").read_bytes() == (tmp_path / "one.png").read_bytes()


def test_mv_of_a_missing_image_fails_in_one_line(pixtag: Pixtag):
    result = pixtag("mv", "42", "x.png")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "error: Image <42> is not found\n"


def test_rm_deletes_each_image_and_reports_the_rest(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    one = add(pixtag, tmp_path, "one.png")
    two = add(pixtag, tmp_path, "two.png")

    result = pixtag("rm", str(one), "404", str(two))

    assert result.exit_code == 1
    assert result.stdout == f"deleted {one}\ndeleted {two}\n"
    assert result.stderr == "error: Image <404> is not found\n"
    assert rows(database_url) == []
    again = pixtag("rm", str(one))
    assert again.exit_code == 1
    assert again.stderr.startswith(f"error: Image <{one}> was deleted at ")
