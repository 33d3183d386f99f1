"""A server killed with SIGKILL while it builds a batch of thumbnails: after a restart every
queued thumbnail ends built, and no file is left that no row names."""

import io
import json
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from tests.support.helpers import files_under
from tests.support.processes import ServeProcess, pixtag_env, run_pixtag, sql, wait_until

IMAGES = 16


def serve(tmp_path: Path, database_url: str, name: str, **extra: str) -> ServeProcess:
    env = pixtag_env(
        PIXTAG_JOBS_POLL_INTERVAL="0.3",
        PIXTAG_JOBS_LEASE="2",
        PIXTAG_SWEEP_INTERVAL="0",
        PIXTAG_SWEEP_GRACE="0",
        PIXTAG_RENDITION_EAGER="thumb",
        **extra,
    )
    args = ("--data-dir", str(tmp_path / "data"), "--database-url", database_url)
    return ServeProcess(*args, log=tmp_path / f"{name}.log", env=env)


def upload(url: str, data: bytes, filename: str) -> None:
    boundary = "crash-test-boundary"
    meta = json.dumps({"filename": filename, "tags": []})
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n\r\n{meta}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="x"\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    request = urllib.request.Request(f"{url}/images", data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as resp:
        assert resp.status == 201


def photo(seed: int) -> bytes:
    """A large PNG (no draft decoding): a thumbnail of it takes a noticeable while."""
    picture = Image.effect_noise((2400, 1800), 30 + seed).convert("RGB")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def job_statuses(database_url: str) -> dict[str, int]:
    found = sql(database_url, "SELECT status, count(*) FROM jobs GROUP BY status")
    return {status: int(count) for status, count in found}


@pytest.mark.heavy
def test_thumbnails_of_a_killed_server_are_built_after_a_restart_and_nothing_is_left_over(
    tmp_path, database_url
):
    media = tmp_path / "data" / "media"
    # Stored by a server that runs no jobs: every upload queues its thumbnail.
    with serve(tmp_path, database_url, "loader", PIXTAG_JOBS_CONCURRENCY="0") as loader:
        loader.start()
        for n in range(IMAGES):
            upload(loader.url, photo(n), f"{n}.png")
        assert loader.stop() == 0, loader.output()
    assert job_statuses(database_url) == {"queued": IMAGES}
    victim = serve(tmp_path, database_url, "victim", PIXTAG_JOBS_CONCURRENCY="2")
    with victim:
        victim.start()
        wait_until(
            lambda: (
                sql(database_url, "SELECT count(*) FROM renditions")[0][0] >= 2
                and job_statuses(database_url).get("running", 0) == 2
            ),
            within=60,
            what="a few thumbnails built and two under way",
        )
        victim.kill()
        victim.wait()
    left = job_statuses(database_url)
    # Killed in the middle: some built, some under way (claimed, their leases running out).
    assert left.get("running", 0) >= 1, left
    assert left.get("done", 0) < IMAGES, left
    with serve(tmp_path, database_url, "heir", PIXTAG_JOBS_CONCURRENCY="2") as heir:
        heir.start()
        wait_until(
            lambda: job_statuses(database_url) == {"done": IMAGES},
            within=120,
            what="every thumbnail job done",
        )
        assert heir.stop() == 0, heir.output()
    built = sql(
        database_url,
        "SELECT count(*) FROM images AS i JOIN renditions AS r"
        " ON r.image_id = i.image_id AND r.preset = 'thumb' AND r.source_sha256 = i.sha256",
    )
    assert built == [(IMAGES,)]
    # What the killed builds left (a stored thumbnail never recorded, a spooled
    # file) goes with a sweep; then storage holds exactly what rows name.
    swept = run_pixtag(
        "storage",
        "sweep",
        "--grace",
        "0",
        "--data-dir",
        str(tmp_path / "data"),
        "--database-url",
        database_url,
    )
    assert swept.returncode == 0, swept.stderr
    named = {key for (key,) in sql(database_url, "SELECT storage_key FROM images")}
    named |= {key for (key,) in sql(database_url, "SELECT storage_key FROM renditions")}
    on_disk = {str(path) for path in files_under(media) if not str(path).startswith(".incoming")}
    assert on_disk == named
    assert list((media / ".incoming").iterdir()) == []
