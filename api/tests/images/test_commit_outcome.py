"""A COMMIT that fails, and a COMMIT whose outcome the server never learns: record and file agree.

The faults are real. A deferred constraint trigger makes PostgreSQL refuse
the COMMIT itself (every statement before it succeeded). A TCP proxy between
the application and PostgreSQL loses the connection around one COMMIT:
either after PostgreSQL committed and answered (the answer never arrives), or
before the COMMIT reaches it (nothing is committed). In every case the record
must name a file that exists and holds the bytes it records; what is stored
but unrecorded is left for the sweeper, and only for it.
"""

import hashlib
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

from pixtag import keys as app_keys
from pixtag.app import create_app
from pixtag.settings import Settings
from pixtag.storage import sweeper
from tests.support.helpers import (
    create_form,
    form,
    image_bytes,
    new_image,
    noisy_png,
    record_of,
    sha256,
    stored_files,
)
from tests.support.processes import CommitFaultProxy, Fault, sql

# Images this wide are refused by the trigger below, at COMMIT time.
REFUSED_WIDTH = 13

# Run through sql(), which formats it: %% is a literal %.
REFUSE_AT_COMMIT = f"""
CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.width = {REFUSED_WIDTH} THEN
        RAISE EXCEPTION 'refused at commit: image %% is {REFUSED_WIDTH} pixels wide',
            NEW.image_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT OR UPDATE ON images
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();
"""

UNKNOWN_DETAIL = (
    "The file was stored, but whether the change was saved could not be confirmed;"
    " read the image before trying again"
)


def record(database_url: str, image_id: int) -> dict | None:
    """What the database records of an image's file, read directly."""
    found = sql(
        database_url,
        "SELECT storage_key, content_type, size, sha256, width, height"
        " FROM images WHERE image_id = %s",
        (image_id,),
    )
    if not found:
        return None
    (row,) = found
    names = ("key", "content_type", "size", "sha256", "width", "height")
    return dict(zip(names, row, strict=True))


def image_count(database_url: str) -> int:
    return int(sql(database_url, "SELECT count(*) FROM images")[0][0])


def assert_file_matches(media_dir: Path, recorded: dict) -> None:
    """The record's key is a file holding exactly the recorded bytes."""
    data = (media_dir / recorded["key"]).read_bytes()
    assert (hashlib.sha256(data).hexdigest(), len(data)) == (recorded["sha256"], recorded["size"])


def image_folders(media_dir: Path) -> list[str]:
    return sorted(p.name for p in media_dir.iterdir() if p.name != ".incoming")


async def assert_problem(resp, status: int, detail: str) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status == status
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body == {
        "type": "about:blank",
        "title": body["title"],
        "status": status,
        "detail": detail,
        "error": detail,
    }
    return body


def assert_outcome_unknown(caplog: pytest.LogCaptureFixture, key: str) -> None:
    """The application saw the connection go during COMMIT, and removed nothing then."""
    warnings = [r.getMessage() for r in caplog.records if r.name == "pixtag.storage.change"]
    assert warnings == [f"the outcome of recording {key} is unknown; nothing removed"]


async def sweep_now(client) -> sweeper.SweepReport:  # type: ignore[no-untyped-def]
    app = client.app
    return await sweeper.sweep(app[app_keys.DATABASE], app[app_keys.STORAGE], grace=0)


# --- A COMMIT that PostgreSQL refuses -------------------------------------------------------


@pytest.fixture
def refusing_commits(database_url: str) -> None:
    sql(database_url, REFUSE_AT_COMMIT)


def assert_refused_at_commit(caplog: pytest.LogCaptureFixture) -> None:
    """The 500 came from the trigger, which runs only at COMMIT."""
    errors = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert len(errors) == 1
    assert isinstance(errors[0], psycopg2.errors.RaiseException)
    assert str(errors[0]).startswith("refused at commit: image ")


async def test_a_replacement_whose_commit_fails_keeps_the_old_record_and_its_file(
    client, settings, refusing_commits, caplog
):
    image = await new_image(client, filename="kept.png")
    image_id = image["image_id"]
    url = f"/images/{image_id}/attachment/kept.png"
    old = image_bytes("PNG", (20, 10))
    first = await client.post(url, data=form(old))
    assert first.status == 201
    before = record_of(await first.json())
    old_record = record(settings.database_url, image_id)
    assert old_record is not None
    assert old_record["sha256"] == sha256(old)

    refused = image_bytes("PNG", (REFUSED_WIDTH, 10), color="blue")
    resp = await client.post(url, data=form(refused))

    await assert_problem(resp, 500, "The server met an unexpected error.")
    assert_refused_at_commit(caplog)
    assert record(settings.database_url, image_id) == old_record
    assert await (await client.get(f"/images/{image_id}")).json() == before
    # The new key went with the rollback; the old one is untouched.
    assert await stored_files(settings) == {old_record["key"]: old}
    assert_file_matches(settings.media_dir, old_record)


async def test_a_create_whose_commit_fails_leaves_no_record_and_no_file(
    client, settings, refusing_commits, caplog
):
    refused = image_bytes("PNG", (REFUSED_WIDTH, 10))
    meta = {"filename": "never.png", "tags": ["x"]}

    resp = await client.post("/images", data=create_form(meta, refused))

    await assert_problem(resp, 500, "The server met an unexpected error.")
    assert "Location" not in resp.headers
    assert_refused_at_commit(caplog)
    assert image_count(settings.database_url) == 0
    assert await stored_files(settings) == {}
    # The image's folder may stand empty until the sweep, which removes it.
    report = await sweep_now(client)
    assert report.orphans == []
    assert image_folders(settings.media_dir) == []


# --- A COMMIT whose outcome the application cannot know -------------------------------------


@pytest.fixture
async def proxy(database_url: str):  # type: ignore[no-untyped-def]
    async with CommitFaultProxy(database_url) as started:
        yield started


@pytest.fixture
async def proxied(aiohttp_client, settings: Settings, proxy: CommitFaultProxy):  # type: ignore[no-untyped-def]
    """The application, with its database behind the fault proxy."""
    proxied_settings = settings.model_copy(update={"database_url": proxy.url})
    return await aiohttp_client(create_app(proxied_settings))


async def replace_with_fault(proxied, proxy: CommitFaultProxy, fault: Fault):  # type: ignore[no-untyped-def]
    """An image with a first file, then a replacement whose COMMIT suffers ``fault``."""
    image = await new_image(proxied, filename="doubt.png")
    url = f"/images/{image['image_id']}/attachment/doubt.png"
    old, new = noisy_png((60, 40), seed=1), noisy_png((70, 50), seed=2)
    first = await proxied.post(url, data=form(old))
    assert first.status == 201
    before = record_of(await first.json())
    fired = proxy.arm(fault)
    resp = await proxied.post(url, data=form(new))
    assert fired.done(), "the armed COMMIT was never sent"
    return image["image_id"], before, old, new, fired.result(), resp


async def test_a_replacement_committed_without_an_answer_is_confirmed_and_the_old_file_removed(
    proxied, proxy, settings, caplog
):
    image_id, before, _old, new, outcome, resp = await replace_with_fault(
        proxied, proxy, Fault.LOSE_ANSWER
    )

    assert outcome == "committed"
    # The application re-read the row on a fresh connection: it names the new key.
    assert resp.status == 200
    assert resp.content_type == "application/json"
    body = await resp.json()
    now = record(settings.database_url, image_id)
    assert now is not None
    assert body["attachment"]["sha256"] == sha256(new) == now["sha256"]
    assert body["attachment"]["size"] == len(new) == now["size"]
    assert body["attachment"]["url"] == f"/media/{now['key']}"
    assert now["key"] != before["attachment"]["url"].removeprefix("/media/")
    assert_outcome_unknown(caplog, now["key"])
    assert await (await proxied.get(f"/images/{image_id}")).json() == record_of(body)
    # Committed, so the old key was removed: storage holds exactly the new file.
    assert await stored_files(settings) == {now["key"]: new}
    assert_file_matches(settings.media_dir, now)


async def test_a_create_committed_without_an_answer_is_confirmed_and_answered_201(
    proxied, proxy, settings, caplog
):
    data = noisy_png((64, 48), seed=3)
    fired = proxy.arm(Fault.LOSE_ANSWER)

    resp = await proxied.post(
        "/images", data=create_form({"filename": "sure.png", "tags": ["a"]}, data)
    )

    assert fired.done()
    assert fired.result() == "committed"
    assert resp.status == 201
    body = await resp.json()
    image_id = body["image_id"]
    assert resp.headers["Location"] == f"/images/{image_id}"
    now = record(settings.database_url, image_id)
    assert now is not None
    assert body["attachment"]["sha256"] == sha256(data) == now["sha256"]
    assert body["attachment"]["url"] == f"/media/{now['key']}"
    assert_outcome_unknown(caplog, now["key"])
    assert await stored_files(settings) == {now["key"]: data}
    assert_file_matches(settings.media_dir, now)


async def test_a_replacement_whose_commit_is_lost_answers_503_and_only_the_sweep_removes_its_file(
    proxied, proxy, settings, caplog
):
    image_id, before, old, new, outcome, resp = await replace_with_fault(
        proxied, proxy, Fault.LOSE_COMMIT
    )

    assert outcome == "not sent"
    await assert_problem(resp, 503, UNKNOWN_DETAIL)
    assert resp.headers["Retry-After"] == "1"
    # Not committed: the record still describes the old file, which is still there.
    old_record = record(settings.database_url, image_id)
    assert old_record is not None
    assert old_record["sha256"] == sha256(old)
    assert f"/media/{old_record['key']}" == before["attachment"]["url"]
    assert await (await proxied.get(f"/images/{image_id}")).json() == before
    # Nothing was removed: the new file stays, named by no row, until the sweep.
    stored = await stored_files(settings)
    orphan = next(key for key in stored if key != old_record["key"])
    assert stored == {old_record["key"]: old, orphan: new}
    assert orphan.startswith(f"{image_id}/{sha256(new)[:16]}-")
    assert_outcome_unknown(caplog, orphan)

    report = await sweep_now(proxied)

    assert report.orphans == [orphan]
    assert await stored_files(settings) == {old_record["key"]: old}
    assert_file_matches(settings.media_dir, old_record)


async def test_a_create_whose_commit_is_lost_answers_503_and_leaves_nothing_after_the_sweep(
    proxied, proxy, settings, caplog
):
    data = noisy_png((64, 48), seed=4)
    fired = proxy.arm(Fault.LOSE_COMMIT)

    resp = await proxied.post(
        "/images", data=create_form({"filename": "lost.png", "tags": ["a"]}, data)
    )

    assert fired.done()
    assert fired.result() == "not sent"
    await assert_problem(resp, 503, UNKNOWN_DETAIL)
    assert resp.headers["Retry-After"] == "1"
    assert "Location" not in resp.headers
    assert image_count(settings.database_url) == 0
    stored = await stored_files(settings)
    assert list(stored.values()) == [data]
    (orphan,) = stored
    assert orphan.split("/")[1].startswith(f"{sha256(data)[:16]}-")
    assert_outcome_unknown(caplog, orphan)

    report = await sweep_now(proxied)

    assert report.orphans == [orphan]
    assert await stored_files(settings) == {}
    assert image_folders(settings.media_dir) == []
