"""``pixtag renditions rebuild`` against a live server: the missing ones, then all again."""

from pathlib import Path

from tests.client.support import Pixtag, make_image
from tests.support.processes import sql


def test_rebuild_builds_the_missing_renditions_then_all_and_reports(
    pixtag: Pixtag, tmp_path: Path, settings
):
    files = [tmp_path / f"{n}.png" for n in range(3)]
    for n, path in enumerate(files):
        make_image(path, seed=n, size=(400, 300))
    assert pixtag("add", *files).exit_code == 0
    result = pixtag("renditions", "rebuild", "--preset", "thumb")
    assert result.exit_code == 0, result.output
    assert result.stdout == "rebuild 1 (thumb): 3 images, 3 done, 0 failed\n"
    built = sql(settings.database_url, "SELECT image_id, preset, width, height FROM renditions")
    assert sorted(built) == [(1, "thumb", 320, 240), (2, "thumb", 320, 240), (3, "thumb", 320, 240)]
    # Nothing is missing any more: an empty rebuild ends at once.
    result = pixtag("renditions", "rebuild", "--preset", "thumb")
    assert result.stdout == "rebuild 2 (thumb): 0 images, 0 done, 0 failed\n"
    result = pixtag("renditions", "rebuild", "--all")
    assert result.stdout == "rebuild 3 (thumb, preview): 3 images, 3 done, 0 failed\n"
    assert sql(settings.database_url, "SELECT count(*) FROM renditions") == [(6,)]
    result = pixtag("renditions", "rebuild", "--preset", "poster")
    assert result.exit_code == 1
    assert (
        result.stderr == "error: There is no rendition preset 'poster'; presets: thumb, preview\n"
    )
