"""``pixtag similar index`` against a live server (fingerprints off while storing, as for
files stored before them): every file fingerprinted, then nothing left to do."""

from pathlib import Path

from tests.client.support import Pixtag, make_image
from tests.support.processes import sql


def test_index_fingerprints_what_was_stored_and_resumes(pixtag: Pixtag, tmp_path: Path, settings):
    files = [tmp_path / f"{n}.png" for n in range(3)]
    for n, path in enumerate(files):
        make_image(path, seed=n, size=(200, 150))
    assert pixtag("import", tmp_path).exit_code == 0
    assert sql(settings.database_url, "SELECT count(*) FROM image_fingerprints") == [(0,)]
    result = pixtag("similar", "index")
    assert result.exit_code == 0, result.output
    assert result.stdout == "3 of 3 stored files fingerprinted\n"
    assert sql(settings.database_url, "SELECT count(*) FROM image_fingerprints") == [(3,)]
    result = pixtag("similar", "index")
    assert result.stdout == "3 of 3 stored files fingerprinted\n"
    assert sql(settings.database_url, "SELECT count(*) FROM jobs WHERE queue = 'similar'") == [(3,)]
