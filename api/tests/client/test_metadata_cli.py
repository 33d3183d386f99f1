"""``pixtag metadata rebuild`` against a live server: files stored as before metadata was
read get it read, then nothing is left to do; ``--all`` reads every file again."""

from pathlib import Path

from tests.client.support import Pixtag
from tests.metadata.test_ingest import PHOTO
from tests.metadata.test_rebuild import FORGET
from tests.support.processes import sql


def test_rebuild_reads_what_was_stored_and_resumes(pixtag: Pixtag, tmp_path: Path, settings):
    for n in range(3):
        (tmp_path / f"{n}.jpg").write_bytes(PHOTO[:-3] + bytes([n]) + PHOTO[-2:])
    assert pixtag("import", tmp_path).exit_code == 0
    sql(settings.database_url, FORGET)
    result = pixtag("metadata", "rebuild")
    assert result.exit_code == 0, result.output
    assert result.stdout == "3 of 3 stored files read\n"
    rows = sql(settings.database_url, "SELECT tags, metadata ->> 'lens' FROM images")
    assert (
        rows
        == [(["mine", "paris", "eiffel tower", "alice", "harbour"], "RF35mm F1.8 MACRO IS STM")] * 3
    )
    result = pixtag("metadata", "rebuild")
    assert result.stdout == "3 of 3 stored files read\n"
    assert sql(settings.database_url, "SELECT count(*) FROM jobs WHERE queue = 'metadata'") == [
        (3,)
    ]
    result = pixtag("metadata", "rebuild", "--all")
    assert result.stdout == "3 of 3 stored files read\n"
    assert sql(settings.database_url, "SELECT count(*) FROM jobs WHERE queue = 'metadata'") == [
        (6,)
    ]
