"""kill -9 under load: a real ``pixtag serve`` killed mid-upload, restarted, and audited.

Each round, concurrent clients replace the files of a few images and create
images with their files in one request, with uploads of 50 KB to 2 MB so
that, when the server is killed (SIGKILL, at a seeded random point), some
are mid-stream, some being stored and some committing. The server is then
started again on the same data dir and database, with a sweep grace of 0 so
that its start-up sweep removes everything no record names, and the result
is audited from outside: the database read directly, the files read from
disk, and ``pixtag storage verify``.
"""

import asyncio
import io
import json
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from pixtag.storage import spool
from tests.support.helpers import files_under, noisy_png, sha256
from tests.support.processes import (
    ServeProcess,
    async_wait_until,
    pixtag_env,
    run_pixtag,
    sql,
    wait_until,
)

SEED = 20_260_611
ROUNDS = 4
CLIENTS = 16
REPLACED = 4  # images whose file the clients keep replacing
# Uploads of about 50 KB to 2 MB (a noisy PNG is 3 bytes a pixel).
SIDES = [130, 180, 260, 340, 420, 520, 620, 720, 820]
BODIES_PER_SIDE = 3


@dataclass
class Attempt:
    """One upload as its client saw it."""

    sha256: str
    filename: str
    started: float
    image_id: int | None = None  # None: a create that was not answered
    ended: float | None = None  # when the answer (or the lost connection) came
    key: str | None = None  # the stored key a 2xx answer named


@dataclass
class Load:
    """What the clients did, shared by all of them."""

    bodies: dict[str, bytes]  # by sha256
    replaced: dict[int, list[Attempt]] = field(default_factory=dict)  # image id -> its uploads
    filenames: dict[int, str] = field(default_factory=dict)  # of the replaced images
    creates: list[Attempt] = field(default_factory=list)
    answered: int = 0
    killed: bool = False
    unexpected: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    key: str | None
    sha256: str | None
    size: int | None
    filename: str


def noisy_bodies() -> dict[str, bytes]:
    made = [noisy_png((side, side), seed=side * 10 + n) for side in SIDES for n in range(3)]
    return {sha256(data): data for data in made}


def multipart(data: bytes, meta: dict | None = None) -> aiohttp.FormData:
    """An upload body (with ``meta`` first: a one-request create); the file is streamed from a
    buffer, as a large body should be."""
    body = aiohttp.FormData()
    if meta is not None:
        body.add_field("meta", json.dumps(meta), content_type="application/json")
    body.add_field(
        "image", io.BytesIO(data), filename="upload.png", content_type="application/octet-stream"
    )
    return body


def http_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=120),
        connector=aiohttp.TCPConnector(limit=CLIENTS),
    )


async def upload(http: aiohttp.ClientSession, base: str, load: Load, attempt: Attempt) -> None:
    """Send one upload and record its answer; a lost connection is expected after the kill."""
    data = load.bodies[attempt.sha256]
    if attempt.image_id is None:
        url = f"{base}/images"
        body = multipart(data, {"filename": attempt.filename, "tags": ["crash"]})
    else:
        url = f"{base}/images/{attempt.image_id}/attachment/{attempt.filename}"
        body = multipart(data)
    try:
        async with http.post(url, data=body) as resp:
            status, text = resp.status, await resp.text()
    except (aiohttp.ClientError, TimeoutError, ConnectionError) as error:
        attempt.ended = time.monotonic()
        if not load.killed:
            load.unexpected.append(f"POST {url}: {error!r} before the kill")
        return
    attempt.ended = time.monotonic()
    document = json.loads(text) if status in (200, 201) else None
    if document is None or document["attachment"]["sha256"] != attempt.sha256:
        load.unexpected.append(f"POST {url} ({attempt.sha256}): {status} {text}")
        return
    attempt.image_id = document["image_id"]
    attempt.key = str(document["attachment"]["url"]).removeprefix("/media/")
    load.answered += 1


async def uploader(
    http: aiohttp.ClientSession, base: str, load: Load, rng: random.Random, name: str
) -> None:
    """Replace and create, one request after the other, until the server is killed."""
    serial = 0
    shas = sorted(load.bodies)
    while not load.killed:
        sha = rng.choice(shas)
        if rng.random() < 0.6:
            image_id = rng.choice(sorted(load.replaced))
            attempt = Attempt(sha, load.filenames[image_id], time.monotonic(), image_id)
            load.replaced[image_id].append(attempt)
        else:
            serial += 1
            attempt = Attempt(sha, f"{name}-{serial}.png", time.monotonic())
            load.creates.append(attempt)
        await upload(http, base, load, attempt)


async def first_files(base: str, load: Load) -> None:
    """The images the clients keep replacing, each created with a first file."""
    async with http_session() as http:
        for n, sha in enumerate(sorted(load.bodies)[:REPLACED]):
            attempt = Attempt(sha, f"replaced-{n}.png", time.monotonic())
            await upload(http, base, load, attempt)
            assert attempt.image_id is not None, load.unexpected
            load.replaced[attempt.image_id] = [attempt]
            load.filenames[attempt.image_id] = attempt.filename


def all_attempts(load: Load) -> list[Attempt]:
    return [a for history in load.replaced.values() for a in history] + load.creates


async def round_of_load(
    server: ServeProcess, media: Path, load: Load, rng: random.Random, number: int
) -> tuple[int, int]:
    """Clients replace and create until a seeded random number of answers has come and an
    upload is being received; then SIGKILL. Return how many uploads were answered this round
    and how many the kill cut off."""
    before = len(all_attempts(load))
    answered_before = load.answered
    wanted = answered_before + rng.randint(2, 14)
    incoming = media / ".incoming"
    load.killed = False
    async with http_session() as http:
        clients = [
            asyncio.create_task(
                uploader(http, server.url, load, random.Random(rng.random()), f"r{number}c{n}")
            )
            for n in range(CLIENTS)
        ]
        try:
            await async_wait_until(
                lambda: (
                    (load.answered >= wanted and any(incoming.glob(f"{spool.TEMP_PREFIX}*")))
                    or load.unexpected
                    or all(task.done() for task in clients)
                ),
                within=120,
                what=f"{wanted - answered_before} answers in round {number}",
            )
        finally:
            load.killed = True
            server.kill(signal.SIGKILL)
            status = await asyncio.to_thread(server.wait)
            await asyncio.wait_for(asyncio.gather(*clients), timeout=120)
    assert status == -signal.SIGKILL, server.output()
    assert not load.unexpected, "\n".join(load.unexpected) + "\n" + server.output()[-5000:]
    answered = load.answered - answered_before
    return answered, len(all_attempts(load)) - before - answered


def temp_files(media: Path) -> list[Path]:
    return list(media.rglob(f"{spool.TEMP_PREFIX}*"))


def rows(database_url: str) -> dict[int, Row]:
    found = sql(database_url, "SELECT image_id, storage_key, sha256, size, filename FROM images")
    return {r[0]: Row(*r[1:]) for r in found}


def assert_records_match_files(media: Path, found: dict[int, Row]) -> None:
    """Every record's file exists at its key and holds exactly the recorded bytes."""
    for image_id, row in found.items():
        assert row.key is not None, f"image {image_id} has no file: {row}"
        path = media / row.key
        assert path.is_file(), f"image {image_id}: {row.key} is missing"
        data = path.read_bytes()
        assert (sha256(data), len(data)) == (row.sha256, row.size), f"image {image_id}: {row}"


def assert_nothing_left_over(media: Path, found: dict[int, Row]) -> None:
    """No file that no record names, no temporary file, no empty image folder."""
    assert temp_files(media) == []
    on_disk = {str(path) for path in files_under(media)}
    assert on_disk == {row.key for row in found.values()}
    for folder in media.iterdir():
        if folder.name != ".incoming":
            assert any(folder.iterdir()), f"empty folder {folder.name} left"


def assert_answers_kept(load: Load, found: dict[int, Row]) -> None:
    """What a 2xx answer described is what the record holds, unless a later upload (one that
    had not ended when the answered one started) replaced it."""
    for image_id, attempts in load.replaced.items():
        answered = [a for a in attempts if a.key is not None]
        last = max(answered, key=lambda a: a.ended or 0)
        later = [a for a in attempts if a is last or a.ended is None or a.ended > last.started]
        row = found[image_id]
        assert any(
            row.key == a.key if a.key is not None else row.sha256 == a.sha256 for a in later
        ), f"image {image_id} holds {row}, answered {last}"
    unanswered = {a.filename: a for a in load.creates if a.key is None}
    for attempt in load.creates:
        if attempt.key is not None:
            row = found[attempt.image_id]
            assert (row.key, row.sha256) == (attempt.key, attempt.sha256), (row, attempt)
    # Any other record is a create whose answer the kill cut off, with the bytes it sent.
    known = set(load.replaced) | {a.image_id for a in load.creates if a.key is not None}
    for image_id, row in found.items():
        if image_id not in known:
            assert row.filename in unanswered, f"image {image_id} was never sent: {row}"
            assert row.sha256 == unanswered[row.filename].sha256, row


@pytest.mark.heavy
async def test_kill_9_under_load_leaves_every_record_with_its_file_and_nothing_after_the_sweep(
    tmp_path, database_url
):
    rng = random.Random(SEED)
    data_dir = tmp_path / "data"
    media = data_dir / "media"
    load = Load(noisy_bodies())
    server = ServeProcess(
        "--data-dir",
        str(data_dir),
        "--database-url",
        database_url,
        log=tmp_path / "serve.log",
        env=pixtag_env(PIXTAG_SWEEP_INTERVAL="0", PIXTAG_SWEEP_GRACE="0"),
    )
    with server:
        await asyncio.to_thread(server.start)
        await first_files(server.url, load)
        for number in range(1, ROUNDS + 1):
            answered, cut_off = await round_of_load(server, media, load, rng, number)
            assert answered >= 2
            assert cut_off >= 1  # at least the upload being received when the kill came
            # The start-up sweep leaves temporary files younger than spool.MIN_AGE (their
            # process may be alive); these are of a dead one, so let them age first.
            await asyncio.to_thread(
                wait_until,
                lambda: all(
                    time.time() - p.stat().st_mtime > spool.MIN_AGE for p in temp_files(media)
                ),
                within=30,
                what="the killed server's temporary files to age",
            )
            await asyncio.to_thread(server.start)

            found = rows(database_url)
            assert_records_match_files(media, found)
            assert_nothing_left_over(media, found)
            assert_answers_kept(load, found)
            verified = await asyncio.to_thread(
                run_pixtag,
                "storage",
                "verify",
                "--data-dir",
                str(data_dir),
                "--database-url",
                database_url,
            )
            assert verified.returncode == 0, verified.stdout + verified.stderr
            assert verified.stdout == f"{len(found)} files checked, 0 problems\n"

        assert server.stop(signal.SIGTERM) == 0, server.output()
