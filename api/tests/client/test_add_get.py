"""pixtag add (record and file in one request) and pixtag get (download through the redirect)."""

import json
from pathlib import Path

from pixtag.app import create_app
from pixtag.settings import Settings
from tests.client.support import (
    LiveServer,
    Pixtag,
    added_ids,
    make_image,
    post_record,
    rows,
    sha256,
)
from tests.metadata.test_reading import XMP, camera_exif, saved


def test_add_prints_one_id_per_file_and_stores_each_file(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    png = make_image(tmp_path / "one.png", seed=1)
    jpeg = make_image(tmp_path / "two.jpg", seed=2)
    result = pixtag("add", tmp_path / "one.png", tmp_path / "two.jpg", "-t", "Cat", "-t", "sun")
    assert result.exit_code == 0, result.output
    ids = added_ids(result)
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'one.png'} -> {ids[0]}",
        f"{tmp_path / 'two.jpg'} -> {ids[1]}",
    ]
    assert len(ids) == 2
    assert ids[0] < ids[1]
    assert rows(database_url) == [
        ("one.png", ["cat", "sun"], sha256(png)),
        ("two.jpg", ["cat", "sun"], sha256(jpeg)),
    ]
    shown = json.loads(pixtag("show", ids[1], "--json").stdout)
    assert shown["attachment"]["content_type"] == "image/jpeg"
    assert (shown["attachment"]["width"], shown["attachment"]["height"]) == (8, 6)
    assert shown["attachment"]["size"] == len(jpeg)


def test_show_describes_the_stored_file(pixtag: Pixtag, tmp_path: Path, database_url: str):
    data = make_image(tmp_path / "pic.png", seed=3, size=(20, 10))
    image_id = added_ids(pixtag("add", tmp_path / "pic.png"))[0]
    result = pixtag("show", image_id)
    assert result.exit_code == 0, result.output
    fields = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert fields["file"] == f"image/png, {len(data)} B, 20x10"
    assert fields["sha256"] == sha256(data)
    (key,) = rows(database_url, "storage_key")[0]
    assert fields["url"] == f"/media/{key}"


def test_add_refused_file_prints_the_server_detail_and_stores_nothing(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    (tmp_path / "notes.png").write_text("not an image at all")
    result = pixtag("add", tmp_path / "notes.png")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert rows(database_url) == []


def test_add_invalid_tag_is_a_400_error_line(pixtag: Pixtag, tmp_path: Path, database_url: str):
    make_image(tmp_path / "a.png")
    result = pixtag("add", tmp_path / "a.png", "-t", "a,b")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "','" in result.stderr
    assert rows(database_url) == []


def test_get_downloads_the_file_byte_for_byte(pixtag: Pixtag, tmp_path: Path):
    data = make_image(tmp_path / "src" / "photo.jpg", seed=4)
    image_id = added_ids(pixtag("add", tmp_path / "src" / "photo.jpg"))[0]
    out = tmp_path / "copy.jpg"
    result = pixtag("get", image_id, "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == data
    assert result.stdout == f"{out}  ({len(data)} B)\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_get_into_a_folder_uses_the_image_filename(pixtag: Pixtag, tmp_path: Path):
    data = make_image(tmp_path / "src" / "фото 1.png", seed=5)
    image_id = added_ids(pixtag("add", tmp_path / "src" / "фото 1.png"))[0]
    (tmp_path / "out").mkdir()
    result = pixtag("get", image_id, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "фото 1.png").read_bytes() == data


def test_get_to_stdout_writes_only_the_bytes(pixtag: Pixtag, tmp_path: Path):
    data = make_image(tmp_path / "s.png", seed=6)
    image_id = added_ids(pixtag("add", tmp_path / "s.png"))[0]
    result = pixtag("get", image_id, "-o", "-")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == data


def test_get_image_without_a_file_fails_with_one_line(
    pixtag: Pixtag, live_url: str, tmp_path: Path
):
    created = post_record(live_url, "empty.png", [])
    result = pixtag("get", created["image_id"], "-o", tmp_path / "x.png")
    assert result.exit_code == 1
    assert result.stderr == f"error: Image <{created['image_id']}> has no file yet\n"
    assert not (tmp_path / "x.png").exists()


def test_get_missing_image_says_not_found(pixtag: Pixtag, tmp_path: Path):
    result = pixtag("get", "404", "-o", tmp_path / "x.png")
    assert result.exit_code == 1
    assert result.stderr == "error: Image <404> is not found\n"


def test_get_into_a_new_folder_ending_in_a_slash_creates_it(pixtag: Pixtag, tmp_path: Path):
    data = make_image(tmp_path / "n.png", seed=7)
    image_id = added_ids(pixtag("add", tmp_path / "n.png"))[0]
    result = pixtag("get", image_id, "-o", f"{tmp_path / 'new' / 'dir'}/")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "dir" / "n.png").read_bytes() == data


def test_get_to_an_unwritable_place_is_one_error_line(pixtag: Pixtag, tmp_path: Path):
    make_image(tmp_path / "u.png", seed=8)
    image_id = added_ids(pixtag("add", tmp_path / "u.png"))[0]
    result = pixtag("get", image_id, "-o", tmp_path / "missing" / "u.png")
    assert result.exit_code == 1
    target = tmp_path / "missing" / "u.png"
    assert result.stderr == f"error: cannot write {target}: No such file or directory\n"


def test_add_too_large_file_is_a_413_error_line(
    settings: Settings, tmp_path: Path, database_url: str
):
    server = LiveServer(create_app(settings.model_copy(update={"max_upload_size": 4096})))
    server.start()
    try:
        make_image(tmp_path / "big.png", seed=9, size=(300, 300))
        (tmp_path / "big.png").write_bytes((tmp_path / "big.png").read_bytes() + bytes(200_000))
        result = Pixtag(server.url)("add", tmp_path / "big.png")
    finally:
        server.stop()
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert "larger than" in result.stderr
    assert result.stderr.count("\n") == 1
    assert rows(database_url) == []


def test_add_tries_every_file_names_each_refusal_and_exits_1(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    a = make_image(tmp_path / "a.jpg", seed=11)
    (tmp_path / "notes.txt").write_text("not an image")
    b = make_image(tmp_path / "b.png", seed=12)
    result = pixtag("add", tmp_path / "a.jpg", tmp_path / "notes.txt", tmp_path / "missing.png",
                    tmp_path / "b.png")  # fmt: skip
    assert result.exit_code == 1
    ids = added_ids(result)
    first, second = result.stdout.splitlines()
    assert first == f"{tmp_path / 'a.jpg'} -> {ids[0]}"
    # Two flat colours are the same picture to a perceptual hash: the line says so.
    assert second.startswith(f"{tmp_path / 'b.png'} -> {ids[1]} (duplicates {ids[0]}: same picture")
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'notes.txt'}: The file is not an image of an accepted type"
        " (JPEG, PNG, GIF, WebP, AVIF, HEIC, HEIF, BMP, TIFF, ICO)",
        f"error: {tmp_path / 'missing.png'}: No such file or directory",
    ]
    assert rows(database_url) == [("a.jpg", [], sha256(a)), ("b.png", [], sha256(b))]


def test_add_reports_a_file_already_stored_and_stores_it_again_only_with_force(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    data = make_image(tmp_path / "cat.png", seed=13)
    (first,) = added_ids(pixtag("add", tmp_path / "cat.png"))
    make_image(tmp_path / "copy" / "same.png", seed=13)
    again = pixtag("add", tmp_path / "copy" / "same.png", "-t", "pets")
    assert again.exit_code == 0, again.output
    assert again.stdout == f"{tmp_path / 'copy' / 'same.png'} -> {first} (already stored)\n"
    assert rows(database_url) == [("cat.png", ["pets"], sha256(data))]
    forced = pixtag("add", tmp_path / "cat.png", "--force")
    assert forced.exit_code == 0, forced.output
    (second,) = added_ids(forced)
    assert second != first
    assert forced.stdout == f"{tmp_path / 'cat.png'} -> {second} (duplicates {first}: same bytes)\n"
    assert rows(database_url) == [
        ("cat.png", ["pets"], sha256(data)),
        ("cat.png", [], sha256(data)),
    ]


def test_add_names_the_tags_from_the_file_and_show_prints_what_it_says(
    pixtag: Pixtag, tmp_path: Path
):
    path = tmp_path / "paris.jpg"
    path.write_bytes(saved("JPEG", exif=camera_exif(), xmp=XMP.encode()))
    added = pixtag("add", path, "-t", "Trip", "-t", "Paris")
    assert added.exit_code == 0, added.output
    (image_id,) = added_ids(added)
    assert added.stdout == f"{path} -> {image_id} (tags from the file: eiffel tower, alice)\n"
    shown = pixtag("show", image_id)
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert "taken_at     2024-05-01T10:30:15.25+02:00" in lines
    assert "camera       Canon EOS R5" in lines
    assert "lens         RF35mm F1.8 MACRO IS STM" in lines
    assert "exposure     35 mm, f/2.8, 1/250 s, ISO 3200, flash" in lines
    assert "location     48.856600, -2.352200, 35.5 m" in lines
    assert "keywords     Paris, Eiffel Tower, Alice" in lines
    # What the file says is searched from the command line too.
    other = tmp_path / "plain.jpg"
    other.write_bytes(saved("JPEG"))
    assert pixtag("add", other).exit_code == 0
    listed = pixtag("ls", "--json", "-q", "taken:2024-05 camera:canon lens:rf35")
    assert listed.exit_code == 0, listed.output
    assert [image["image_id"] for image in json.loads(listed.stdout)] == [image_id]
    assert pixtag("ls", "--json", "-q", "taken:2024-06").stdout == "[]\n"
