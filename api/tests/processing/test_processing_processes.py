"""Processing on a real ``pixtag serve`` killed with SIGKILL in the middle of a batch: after a
restart every task ends finished or in error, each finished task has exactly one result
image, and no file is left that no record names."""

import json
import urllib.request
from pathlib import Path

from tests.images.test_crash import assert_nothing_left_over, assert_records_match_files, rows
from tests.support.helpers import noisy_png
from tests.support.processes import ServeProcess, pixtag_env, sql, wait_until

TASKS = 24


def serve(tmp_path: Path, database_url: str, name: str) -> ServeProcess:
    args = ("--data-dir", str(tmp_path / "data"), "--database-url", database_url)
    env = pixtag_env(
        PIXTAG_JOBS_CONCURRENCY="4",
        PIXTAG_PROCESSING_THREADS="2",
        PIXTAG_JOBS_POLL_INTERVAL="0.3",
        PIXTAG_JOBS_LEASE="2",
        PIXTAG_JOBS_BACKOFF_BASE="0.1",
        PIXTAG_SWEEP_INTERVAL="0",
        PIXTAG_SWEEP_GRACE="0",
    )
    return ServeProcess(*args, log=tmp_path / f"{name}.log", env=env)


def post(url: str, data: bytes, content_type: str) -> dict:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=30) as resp:
        return dict(json.loads(resp.read()))


def store(base: str, n: int) -> int:
    """A record and its file in one multipart request (meta, then image)."""
    meta = json.dumps({"filename": f"big-{n}.png", "tags": ["batch"]}).encode()
    boundary = "pixtag-test-boundary"
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n'.encode(),
            b"Content-Type: application/json\r\n\r\n" + meta + b"\r\n",
            f'--{boundary}\r\nContent-Disposition: form-data; name="image";'.encode(),
            b' filename="x.png"\r\nContent-Type: image/png\r\n\r\n',
            noisy_png((900, 700), n) + f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    content_type = f"multipart/form-data; boundary={boundary}"
    return int(post(f"{base}/images", body, content_type)["image_id"])


def statuses(database_url: str) -> dict[str, int]:
    found = sql(
        database_url,
        "SELECT processing_status(j.status), count(*) FROM processing_tasks"
        " JOIN jobs AS j USING (job_id) GROUP BY 1",
    )
    return {status: int(count) for status, count in found}


def test_a_batch_survives_kill_9_every_task_ends_once_and_no_file_is_left_over(
    tmp_path, database_url
):
    media = tmp_path / "data" / "media"
    with serve(tmp_path, database_url, "victim") as victim:
        victim.start()
        sources = [store(victim.url, n) for n in range(4)]
        # Six tasks per source; the last source's crop does not fit: those fail for good.
        ids = []
        for algorithm, params in [
            ("resize", {"width": 1200, "height": 900}),
            ("rotate", {"degrees": 33}),
            ("grayscale", {}),
            ("thumbnail", {"size": 300}),
            ("flip", {"direction": "vertical"}),
            ("crop", {"left": 500, "top": 0, "width": 500, "height": 100}),
        ]:
            body = json.dumps({"image_ids": sources, "algorithm": algorithm, "params": params})
            ids += post(f"{victim.url}/processing", body.encode(), "application/json")["task_ids"]
        assert len(ids) == TASKS
        wait_until(
            lambda: (
                statuses(database_url).get("finished", 0) >= 2
                and statuses(database_url).get("processing", 0) >= 1
            ),
            within=60,
            what="some tasks finished and some under way before the kill",
        )
        victim.kill()
        victim.wait()
    before = statuses(database_url)
    assert sum(before.values()) == TASKS
    # Killed mid-batch: tasks it was running stay claimed until their lease runs out.
    assert before.get("processing", 0) >= 1, before
    assert before.get("finished", 0) < TASKS - 4, before
    with serve(tmp_path, database_url, "heir") as heir:
        heir.start()
        wait_until(
            lambda: set(statuses(database_url)) <= {"finished", "error"},
            within=120,
            what="every task to end",
        )
        ended = statuses(database_url)
        assert ended == {"finished": TASKS - 4, "error": 4}, (before, ended)
        errors = sql(
            database_url,
            "SELECT DISTINCT j.error_code FROM processing_tasks JOIN jobs AS j USING (job_id)"
            " WHERE j.status = 'failed'",
        )
        assert errors == [("crop_out_of_bounds",)]
        results = sql(
            database_url,
            "SELECT count(*), count(DISTINCT result_id) FROM processing_tasks"
            " WHERE result_id IS NOT NULL",
        )
        assert results == [(TASKS - 4, TASKS - 4)]
        found = rows(database_url)
        # The sources and one image per finished task: nothing made twice, nothing lost.
        assert len(found) == len(sources) + TASKS - 4
        assert_records_match_files(media, found)
        assert heir.stop() == 0, heir.output()
    # A last start sweeps (grace 0) what the kill left: then every file is a record's.
    with serve(tmp_path, database_url, "sweeper") as sweeper:
        sweeper.start()
        assert sweeper.stop() == 0, sweeper.output()
    assert_nothing_left_over(media, rows(database_url))
