"""No way out of the media root: through the URL, the multipart filename, or /media."""

from pathlib import Path

import pytest
from yarl import URL

from tests.support.helpers import (
    create_form,
    file_key,
    files_under,
    form,
    image_bytes,
    new_image,
    raw_form,
)

SECRET = b"not for the web"

# Raw (already encoded) path segments that try to leave the image's directory.
ESCAPES = [
    "..%2F..%2Fevil.png",
    "%2E%2E%2F%2E%2E%2Fevil.png",
    "%2e%2e",
    "..",
    "..%5C..%5Cevil.png",
    "..\\..\\evil.png",
    "evil.png%00.jpg",
    "%2F..%2F..%2Fevil.png",
    "..%252F..%252Fevil.png",
    "%C0%AE%C0%AE%2Fevil.png",
    ".upload-x",
]


def raw_url(client, path: str) -> URL:
    """An URL sent exactly as written: no normalisation of '..' or re-encoding."""
    return URL(f"http://{client.host}:{client.port}{path}", encoded=True)


@pytest.fixture
def outside(tmp_path: Path, data_dir: Path) -> set[Path]:
    """Everything under the test's tmp_path outside the media root, before the request."""
    (data_dir / "secret.png").write_bytes(SECRET)
    return outside_files(tmp_path, data_dir)


def outside_files(tmp_path: Path, data_dir: Path) -> set[Path]:
    media = data_dir / "media"
    return {p for p in files_under(tmp_path) if not (tmp_path / p).is_relative_to(media)}


def assert_nothing_written_outside(tmp_path, data_dir, before):
    assert outside_files(tmp_path, data_dir) == before
    for path in (Path("/tmp/evil.png"), Path("/evil.png"), tmp_path / "evil.png"):
        assert not path.exists()


@pytest.mark.parametrize("segment", ESCAPES)
async def test_upload_path_escapes_are_refused(client, settings, tmp_path, outside, segment):
    image = await new_image(client)
    url = raw_url(client, f"/images/{image['image_id']}/attachment/{segment}")
    resp = await client.session.post(url, data=form(image_bytes()))
    assert resp.status in (400, 404), await resp.text()
    assert resp.content_type == "application/problem+json"
    assert files_under(settings.media_dir) == set()
    assert_nothing_written_outside(tmp_path, settings.data_dir, outside)


@pytest.mark.parametrize(
    ("part_filename", "status"),
    [
        (b"../../../evil.png", 201),
        (b"..\\..\\evil.png", 201),
        (b"/tmp/evil.png", 201),
        (b".upload-x", 201),
        (b"evil.png\0.jpg", 400),  # a NUL in a header is a malformed body
    ],
)
async def test_the_multipart_filename_is_ignored(
    client, settings, tmp_path, outside, part_filename, status
):
    image = await new_image(client)
    body, headers = raw_form("image", part_filename, image_bytes())
    resp = await client.post(
        f"/images/{image['image_id']}/attachment/example.jpg", data=body, headers=headers
    )
    assert resp.status == status
    stored = {Path(file_key(settings, image["image_id"]))} if status == 201 else set()
    assert files_under(settings.media_dir) == stored
    assert_nothing_written_outside(tmp_path, settings.data_dir, outside)


@pytest.mark.parametrize(
    "filename", ["../evil.png", "..", ".", "a/b.png", "a\\b.png", "x\0.png", ".hidden"]
)
async def test_one_request_create_refuses_unsafe_filenames(
    client, settings, tmp_path, outside, filename
):
    meta = {"filename": filename, "tags": []}
    resp = await client.post("/images", data=create_form(meta, image_bytes()))
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["in"] == "meta"
    assert files_under(settings.media_dir) == set()
    assert_nothing_written_outside(tmp_path, settings.data_dir, outside)


@pytest.mark.parametrize(
    "path",
    [
        "/media/1/..%2F..%2Fsecret.png",
        "/media/1/%2E%2E%2F%2E%2E%2Fsecret.png",
        "/media/..%2Fsecret.png",
        "/media/1/..%5C..%5Csecret.png",
        "/media/1/..\\..\\secret.png",
        "/media/1/secret.png%00",
        "/media/1/%2e%2e",
        "/media/1/../../secret.png",
        "/media/%2e%2e/secret.png",
        "/media/1/.upload-x",
    ],
)
async def test_media_escapes_are_404(client, settings, path):
    image = await new_image(client)
    await client.post(
        f"/images/{image['image_id']}/attachment/example.jpg", data=form(image_bytes())
    )
    (settings.media_dir / "1" / ".upload-x").write_bytes(SECRET)
    resp = await client.session.get(raw_url(client, path))
    assert resp.status in (400, 404), path
    assert resp.content_type == "application/problem+json"
    assert SECRET not in await resp.read()
