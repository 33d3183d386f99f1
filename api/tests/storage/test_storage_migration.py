"""A data dir in the layout before storage keys, upgraded in place and checked file by file.

Before keys, an image's file was ``media/<image_id>/<filename>`` and the row
had no ``storage_key`` (fixtures 001 and 002 only). ``pixtag storage migrate``
(which the server also runs at start) applies fixture 003 and moves each file
to a key by a hard link, recording it in its own transaction before the old
name goes. These tests build such a data dir with the usual damage (a file
that no longer matches its record, a missing file, a temporary file and an
orphan left by a crash), run the real commands, and read every file back.
"""

import hashlib
import io
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from PIL import Image as PILImage

from pixtag.app import create_app
from pixtag.db import fixtures
from pixtag.settings import Settings
from pixtag.storage import keys
from pixtag.storage.disposition import content_disposition
from tests.support.helpers import files_under, image_bytes, noisy_png, sha256
from tests.support.processes import PIXTAG, connection, pixtag_env, run_pixtag, sql, wait_until

BEFORE_KEYS = ["001_images.sql", "002_image_json_composite.sql"]
# What applying the fixtures to such a database adds: keys, and everything since.
SINCE_KEYS = [
    f.name for f in fixtures.discover(fixtures.default_directory()) if f.name not in BEFORE_KEYS
]
TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
KEY = re.compile(r"(?P<id>[0-9]+)/(?P<sha>[0-9a-f]{16})-[0-9a-f]{16}\.(?P<ext>[a-z]+)")
A_DAY_AGO = time.time() - 86_400


@dataclass(frozen=True)
class Legacy:
    """An image stored before keys: what its row records and what its file holds."""

    image_id: int
    filename: str
    recorded: bytes | None  # None: no file was ever uploaded
    on_disk: bytes | None  # None: the file is missing

    @property
    def old_path(self) -> str:
        return f"{self.image_id}/{self.filename}"


def facts(data: bytes) -> dict:
    with PILImage.open(io.BytesIO(data)) as image:
        width, height = image.size
        content_type = TYPES[image.format]
    return {
        "content_type": content_type,
        "size": len(data),
        "sha256": sha256(data),
        "width": width,
        "height": height,
    }


def legacy_image(
    database_url: str,
    media_dir: Path,
    filename: str,
    recorded: bytes | None,
    *,
    on_disk: bytes | None = None,
    missing: bool = False,
) -> Legacy:
    """A row and its file as the code before keys wrote them: ``on_disk`` (by default the
    recorded bytes) at ``media/<id>/<filename>``, unless the file is ``missing``."""
    described = (
        facts(recorded)
        if recorded is not None
        else dict.fromkeys(("content_type", "size", "sha256", "width", "height"))
    )
    [(image_id,)] = sql(
        database_url,
        "INSERT INTO images (filename, tags, content_type, size, sha256, width, height,"
        " uploaded_at) VALUES (%(filename)s, '{old}', %(content_type)s, %(size)s,"
        " %(sha256)s, %(width)s, %(height)s,"
        " CASE WHEN %(sha256)s IS NULL THEN NULL ELSE now() - interval '1 year' END)"
        " RETURNING image_id",
        {"filename": filename, **described},
    )
    if recorded is None or missing:
        on_disk = None
    elif on_disk is None:
        on_disk = recorded
    if on_disk is not None:
        folder = media_dir / str(image_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / filename
        path.write_bytes(on_disk)
        os.chmod(path, 0o644)
        os.utime(path, (A_DAY_AGO, A_DAY_AGO))
    return Legacy(image_id, filename, recorded, on_disk)


def rows(database_url: str) -> dict[int, dict]:
    """Every image row's file columns, read directly (storage_key only once 003 is applied)."""
    [(has_key,)] = sql(
        database_url,
        "SELECT EXISTS (SELECT 1 FROM information_schema.columns"
        " WHERE table_name = 'images' AND column_name = 'storage_key')",
    )
    key = "storage_key" if has_key else "NULL"
    found = sql(
        database_url,
        f"SELECT image_id, {key}, filename, content_type, size, sha256, width, height,"
        " uploaded_at FROM images ORDER BY image_id",
    )
    names = ("key", "filename", "content_type", "size", "sha256", "width", "height")
    return {r[0]: dict(zip((*names, "uploaded_at"), r[1:], strict=True)) for r in found}


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its bytes."""
    return {str(path): (root / path).read_bytes() for path in files_under(root)}


def assert_keyed(row: dict, data: bytes, image_id: int) -> None:
    """The row names a key holding ``data``, and records exactly those bytes."""
    match = KEY.fullmatch(row["key"] or "")
    assert match is not None, row
    assert int(match["id"]) == image_id
    assert match["sha"] == sha256(data)[:16]
    described = facts(data)
    assert {k: row[k] for k in described} == described
    assert keys.EXTENSIONS[described["content_type"]] == match["ext"]


def migrate_report(moved: int, corrected: int, missing: int) -> str:
    """What ``pixtag storage migrate`` prints."""
    return (
        f"{moved} files moved to keys ({corrected} re-recorded from their bytes),"
        f" {missing} missing, 0 failed\n"
    )


def pixtag_storage(command: str, data_dir: Path, database_url: str, *extra: str):  # type: ignore[no-untyped-def]
    return run_pixtag(
        "storage", command, *extra, "--data-dir", str(data_dir), "--database-url", database_url
    )


@pytest.fixture
def old_database_url(empty_database_url: str) -> str:
    """A database with the schema from before storage keys."""
    assert fixtures.apply(empty_database_url, names=BEFORE_KEYS) == BEFORE_KEYS
    return empty_database_url


async def test_an_old_layout_is_upgraded_in_place_and_every_file_verified_by_sha256(
    aiohttp_client, old_database_url, data_dir
):
    url, media = old_database_url, data_dir / "media"
    plain = legacy_image(url, media, "plain.png", noisy_png((40, 30), seed=11))
    spaced = legacy_image(url, media, "café au lait.jpg", image_bytes("JPEG", (32, 24)))
    # The replace bug of old: the record describes the last upload, the file an earlier one.
    differs = legacy_image(
        url,
        media,
        "replaced.png",
        recorded=image_bytes("PNG", (10, 10), "green"),
        on_disk=image_bytes("GIF", (12, 8), "blue"),
    )
    missing = legacy_image(url, media, "gone.webp", image_bytes("WEBP", (9, 9)), missing=True)
    never = legacy_image(url, media, "nothing-yet.jpg", None)
    migrated = [plain, spaced, differs]
    # A crash of the old code left a temporary file; something else left an orphan.
    temp = media / str(plain.image_id) / ".upload-abc"
    temp.write_bytes(noisy_png((30, 30), seed=12)[:500])
    os.utime(temp, (A_DAY_AGO, A_DAY_AGO))
    orphan = media / "99999" / "orphan.png"
    orphan.parent.mkdir()
    orphan.write_bytes(image_bytes())
    before = rows(url)

    first = pixtag_storage("migrate", data_dir, url)

    assert first.returncode == 1, first.stderr
    assert first.stdout == migrate_report(3, 1, 1)
    assert first.stderr.endswith("Error: some files could not be moved (see above)\n")
    assert f"image {missing.image_id}: its file gone.webp is missing; left as it is" in first.stderr
    assert (
        f"image {differs.image_id}: replaced.png holds other bytes than recorded"
        f" (sha256 {sha256(differs.on_disk)}, recorded {sha256(differs.recorded)});"
        " recording the file as it is"
    ) in first.stderr
    after = rows(url)
    for image in migrated:
        row = after[image.image_id]
        assert_keyed(row, image.on_disk, image.image_id)
        assert (media / row["key"]).read_bytes() == image.on_disk
        assert not (media / image.old_path).exists()
        assert row["uploaded_at"] == before[image.image_id]["uploaded_at"]
    assert after[differs.image_id]["sha256"] != sha256(differs.recorded)
    # The missing file's row and the row with no file are left exactly as they were.
    for image in (missing, never):
        assert after[image.image_id] == {**before[image.image_id], "key": None}
    on_disk = snapshot(media)
    assert set(on_disk) == {
        *(after[image.image_id]["key"] for image in migrated),
        str(temp.relative_to(media)),
        "99999/orphan.png",
    }

    again = pixtag_storage("migrate", data_dir, url)

    assert again.returncode == 1
    assert again.stdout == migrate_report(0, 0, 1)
    assert rows(url) == after
    assert snapshot(media) == on_disk

    # The server on the upgraded data dir: every file reachable, by its key and by its old URL.
    settings = Settings(database_url=url, data_dir=data_dir, sweep_interval=0, sweep_grace=3600)
    client = await aiohttp_client(create_app(settings))
    for image in migrated:
        key = after[image.image_id]["key"]
        document = await (await client.get(f"/images/{image.image_id}")).json()
        attachment = document["attachment"]
        assert attachment["url"] == f"/media/{key}"
        assert attachment["sha256"] == sha256(image.on_disk)
        redirect = await client.get(
            f"/images/{image.image_id}/attachment/{quote(image.filename, safe='')}",
            allow_redirects=False,
        )
        assert redirect.status == 302
        assert redirect.headers["Location"] == f"/media/{key}"
        served = await client.get(redirect.headers["Location"])
        assert served.status == 200
        body = await served.read()
        assert hashlib.sha256(body).hexdigest() == attachment["sha256"]
        assert len(body) == attachment["size"]
        assert served.headers["Content-Type"] == attachment["content_type"]
        assert served.headers["Content-Disposition"] == content_disposition(image.filename)
        assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        old_url = await client.get(
            f"/media/{image.image_id}/{quote(image.filename, safe='')}", allow_redirects=False
        )
        assert old_url.status == 302
        assert old_url.headers["Location"] == f"/media/{key}"
    # The row whose file is missing still points where the file was: a 404, not an error.
    gone = await client.get(f"/media/{missing.old_path}")
    assert gone.status == 404
    assert gone.content_type == "application/problem+json"
    # The start-up sweep removed the dead temporary file (no grace for those); the orphan is
    # younger than the grace period and stays until a sweep without one.
    assert not temp.exists()
    assert orphan.exists()

    swept = pixtag_storage("sweep", data_dir, url, "--grace", "0")

    assert swept.returncode == 0, swept.stderr
    assert "removed  99999/orphan.png\n" in swept.stdout
    assert swept.stdout.endswith("removed 1 unreferenced files, 1 leftovers\n")
    assert set(snapshot(media)) == {after[image.image_id]["key"] for image in migrated}
    assert sorted(p.name for p in media.iterdir()) == sorted(
        [".incoming", *(str(image.image_id) for image in migrated)]
    )
    assert rows(url) == after
    verified = pixtag_storage("verify", data_dir, url)
    assert verified.returncode == 1
    assert verified.stdout == (
        f"image {missing.image_id}: {missing.old_path}: missing\n4 files checked, 1 problems\n"
    )


def test_an_interrupted_migration_is_finished_by_a_rerun_and_a_sweep(old_database_url, data_dir):
    url, media = old_database_url, data_dir / "media"
    linked = legacy_image(url, media, "linked.png", noisy_png((30, 20), seed=21))
    committed = legacy_image(url, media, "committed.png", noisy_png((20, 30), seed=22))
    # Killed between the link and the COMMIT: a key exists that no row names.
    stray_key = keys.new_key(linked.image_id, sha256(linked.on_disk), "image/png")
    os.link(media / linked.old_path, media / stray_key)
    # Killed between the COMMIT and the removal of the old name: both names exist.
    assert fixtures.apply(url) == SINCE_KEYS
    committed_key = keys.new_key(committed.image_id, sha256(committed.on_disk), "image/png")
    os.link(media / committed.old_path, media / committed_key)
    sql(
        url,
        "UPDATE images SET storage_key = %s WHERE image_id = %s",
        (committed_key, committed.image_id),
    )

    rerun = pixtag_storage("migrate", data_dir, url)

    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout == migrate_report(1, 0, 0)
    after = rows(url)
    new_key = after[linked.image_id]["key"]
    assert_keyed(after[linked.image_id], linked.on_disk, linked.image_id)
    assert new_key != stray_key  # keys are never reused: the stray one is left to the sweeper
    assert after[committed.image_id]["key"] == committed_key
    assert set(snapshot(media)) == {new_key, stray_key, committed_key, committed.old_path}

    swept = pixtag_storage("sweep", data_dir, url, "--grace", "0")

    assert swept.returncode == 0, swept.stderr
    removed = {line.removeprefix("removed  ") for line in swept.stdout.splitlines()[:-1]}
    assert removed == {stray_key, committed.old_path}
    assert snapshot(media) == {new_key: linked.on_disk, committed_key: committed.on_disk}
    verified = pixtag_storage("verify", data_dir, url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout == "2 files checked, 0 problems\n"


def test_a_sweep_while_a_file_is_being_moved_to_its_key_leaves_the_file(old_database_url, data_dir):
    """The key a migration links is as old as the file it links (a hard link keeps the
    mtime), yet it is as new as any freshly stored key: no sweep may take it before the row
    that names it is committed."""
    url, media = old_database_url, data_dir / "media"
    moving = legacy_image(url, media, "moving.png", noisy_png((30, 20), seed=31))
    assert fixtures.apply(url) == SINCE_KEYS
    # Hold the row, so that the migration stops between the link and its COMMIT.
    with connection(url) as holder:
        with holder.cursor() as cur:
            cur.execute("SELECT 1 FROM images WHERE image_id = %s FOR UPDATE", (moving.image_id,))
        migration = subprocess.Popen(
            [*PIXTAG, "storage", "migrate", "--data-dir", str(data_dir), "--database-url", url],
            env=pixtag_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            folder = media / str(moving.image_id)
            wait_until(
                lambda: any(KEY.fullmatch(f"{folder.name}/{p.name}") for p in folder.iterdir()),
                within=60,
                what="the migration to link the file under its key",
            )
            (linked,) = (p for p in folder.iterdir() if p.name != moving.filename)

            # Any grace period short of the file's age (a day) would do.
            swept = pixtag_storage("sweep", data_dir, url, "--grace", "3600")

            assert swept.returncode == 0, swept.stderr
            assert linked.exists(), f"the sweep removed {linked.name} before its COMMIT"
        finally:
            holder.rollback()
            out, err = migration.communicate(timeout=60)
    assert migration.returncode == 0, err
    assert out == migrate_report(1, 0, 0)
    verified = pixtag_storage("verify", data_dir, url)
    assert verified.stdout == "1 files checked, 0 problems\n", verified.stderr
