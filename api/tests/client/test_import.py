"""pixtag import: a folder uploaded concurrently; re-runs skip or only tag what is stored."""

import asyncio
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web

from tests.client.support import Pixtag, make_image, rows, sha256

# The console script pip installed beside the interpreter running the tests.
PIXTAG_SCRIPT = str(Path(sys.executable).with_name("pixtag"))


def folder(root: Path, count: int = 5) -> dict[str, bytes]:
    """``count`` distinct images (some in a subfolder) plus files import must leave alone."""
    images = {}
    for n in range(count):
        name = f"img{n}.png" if n % 2 else f"img{n}.jpg"
        path = root / ("sub" if n % 3 == 2 else "") / name
        images[name] = make_image(path, seed=n + 10)
    (root / "README.txt").write_text("not an image")
    make_image(root / ".hidden.png", seed=99)
    make_image(root / ".cache" / "thumb.png", seed=98)
    return images


def test_import_uploads_every_image_in_the_folder_with_the_tags(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    images = folder(tmp_path / "photos")
    result = pixtag("import", tmp_path / "photos", "-t", "Trip", "-t", "2026")
    assert result.exit_code == 0, result.output
    assert result.stdout == "uploaded 5, skipped 1 (not an image), failed 0\n"
    # Not a terminal: the bar's label once, no redraws, no escape codes.
    assert result.stderr == f"importing {tmp_path / 'photos'}\n"
    stored = rows(database_url)
    assert sorted(stored) == sorted((n, ["trip", "2026"], sha256(d)) for n, d in images.items())


def test_import_rerun_uploads_nothing_and_creates_no_duplicates(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    folder(tmp_path / "photos")
    assert pixtag("import", tmp_path / "photos").exit_code == 0
    before = rows(database_url, "image_id, sha256")
    result = pixtag("import", tmp_path / "photos", "--jobs", "3")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "uploaded 0, skipped 5 (already stored), skipped 1 (not an image), failed 0\n"
    )
    assert rows(database_url, "image_id, sha256") == before


def test_import_rerun_with_a_new_tag_adds_it_to_the_files_already_stored(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    images = folder(tmp_path / "photos")
    assert pixtag("import", tmp_path / "photos", "-t", "trip").exit_code == 0
    before = rows(database_url, "image_id, sha256")

    result = pixtag("import", tmp_path / "photos", "-t", " Trip", "-t", "Beach")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "uploaded 0, tagged 5 already stored, skipped 1 (not an image), failed 0\n"
    )
    assert rows(database_url, "image_id, sha256") == before
    stored = rows(database_url)
    assert sorted(stored) == sorted((n, ["trip", "beach"], sha256(d)) for n, d in images.items())
    again = pixtag("import", tmp_path / "photos", "-t", "beach")
    assert again.stdout == (
        "uploaded 0, skipped 5 (already stored), skipped 1 (not an image), failed 0\n"
    )


def test_import_skips_a_file_stored_under_another_name(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    data = make_image(tmp_path / "first" / "a.png", seed=1)
    assert pixtag("add", tmp_path / "first" / "a.png").exit_code == 0
    (tmp_path / "second").mkdir()
    (tmp_path / "second" / "renamed.png").write_bytes(data)
    make_image(tmp_path / "second" / "new.png", seed=2)
    result = pixtag("import", tmp_path / "second")
    assert result.stdout == "uploaded 1, skipped 1 (already stored), failed 0\n"
    assert [name for name, _, _ in rows(database_url)] == ["a.png", "new.png"]


def test_import_uploads_identical_files_once(pixtag: Pixtag, tmp_path: Path, database_url: str):
    data = make_image(tmp_path / "d" / "a.png", seed=3)
    for n in range(4):
        (tmp_path / "d" / f"copy{n}.png").write_bytes(data)
    result = pixtag("import", tmp_path / "d", "--jobs", "5")
    assert result.stdout == "uploaded 1, skipped 4 (already stored), failed 0\n"
    assert len(rows(database_url)) == 1


def test_import_reports_refused_files_goes_on_and_exits_1(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    make_image(tmp_path / "d" / "good.png", seed=4)
    (tmp_path / "d" / "broken.jpg").write_bytes(b"\xff\xd8 truncated, not a JPEG")
    result = pixtag("import", tmp_path / "d")
    assert result.exit_code == 1
    assert result.stdout == "uploaded 1, failed 1\n"
    assert f"error: {tmp_path / 'd' / 'broken.jpg'}: " in result.stderr
    assert [name for name, _, _ in rows(database_url)] == ["good.png"]


@pytest.fixture
def in_flight(live_app: web.Application) -> list[int]:
    """Record the largest number of requests the live server handled at once."""
    state = {"now": 0}
    peaks = [0]

    @web.middleware
    async def count(request: web.Request, handler):  # type: ignore[no-untyped-def]
        state["now"] += 1
        peaks[0] = max(peaks[0], state["now"])
        try:
            await asyncio.sleep(0.02)  # long enough for overlapping requests to meet
            return await handler(request)
        finally:
            state["now"] -= 1

    live_app.middlewares.append(count)
    return peaks


@pytest.mark.parametrize("jobs", [1, 4])
def test_import_keeps_at_most_jobs_requests_in_flight(
    jobs: int, in_flight: list[int], pixtag: Pixtag, tmp_path: Path, database_url: str
):
    folder(tmp_path / "photos", count=12)
    result = pixtag("import", tmp_path / "photos", "--jobs", str(jobs))
    assert result.exit_code == 0, result.output
    assert len(rows(database_url)) == 12
    assert in_flight[0] == jobs


def test_import_of_a_missing_folder_is_a_usage_error(pixtag: Pixtag, tmp_path: Path):
    result = pixtag("import", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_console_script_imports_with_pixtag_url_from_the_environment(
    live_url: str, tmp_path: Path, database_url: str
):
    folder(tmp_path / "photos", count=3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTAG_")}
    env["PIXTAG_URL"] = live_url
    done = subprocess.run(
        [PIXTAG_SCRIPT, "import", str(tmp_path / "photos"), "-j", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "uploaded 3, skipped 1 (not an image), failed 0\n"
    assert len(rows(database_url)) == 3


def test_import_on_a_terminal_draws_a_bar_that_reads_full_at_the_end(
    live_url: str, tmp_path: Path, database_url: str
):
    """In a pty the bar is '#' characters, full at n/n: not colour alone (16-colour terminals)."""
    folder(tmp_path / "photos", count=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXTAG_")}
    env.update(PIXTAG_URL=live_url, TERM="xterm-16color", COLUMNS="100")
    primary, secondary = pty.openpty()
    done = subprocess.run(
        [PIXTAG_SCRIPT, "import", str(tmp_path / "photos")],
        env=env,
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=secondary,
        timeout=60,
    )
    os.close(secondary)
    # click hides the cursor while it draws: the only escape codes it may send.
    drawn = read_all(primary).decode().replace("\x1b[?25l", "").replace("\x1b[?25h", "")
    assert done.returncode == 0
    assert done.stdout == b"uploaded 4, skipped 1 (not an image), failed 0\n"
    final = drawn.replace("\r", "\n").split("\n")
    last = [line for line in final if line.strip()][-1]
    assert re.fullmatch(r"importing \S+/photos\s+\[#{8,}\]\s+4/4.*", last.strip()), drawn
    assert "\x1b" not in drawn
    assert len(rows(database_url)) == 4


def read_all(fd: int) -> bytes:
    """Everything a pty's primary side holds once the other side has closed."""
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side is closed and all was read
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def test_import_and_add_take_heic_heif_and_avif_files(
    pixtag: Pixtag, tmp_path: Path, database_url: str
):
    """Phone photos: import no longer skips them as "not an image", and add stores them."""
    made = {name: make_image(tmp_path / "phone" / name, seed=i, size=(16, 12))
            for i, name in enumerate(["IMG_1.HEIC", "IMG_2.heif", "pic.avif"])}  # fmt: skip
    result = pixtag("import", tmp_path / "phone")
    assert result.exit_code == 0, result.output
    assert result.stdout == "uploaded 3, failed 0\n"
    extra = make_image(tmp_path / "IMG_3.heic", seed=9, size=(16, 12))
    added = pixtag("add", tmp_path / "IMG_3.heic")
    assert added.exit_code == 0, added.output
    types = dict(rows(database_url, "filename, content_type"))
    assert types == {
        "IMG_1.HEIC": "image/heic",
        "IMG_2.heif": "image/heic",  # the bytes say HEIC whatever the name says
        "pic.avif": "image/avif",
        "IMG_3.heic": "image/heic",
    }
    assert {name: digest for name, _, digest in rows(database_url)} == {
        **{name: sha256(data) for name, data in made.items()},
        "IMG_3.heic": sha256(extra),
    }
