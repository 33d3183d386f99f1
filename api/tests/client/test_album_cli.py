"""``pixtag album`` against a live server: create, add, order, show, rm, ls, a smart album."""

from pathlib import Path

from tests.client.support import Pixtag, make_image


def test_album_commands_walk_an_album(pixtag: Pixtag, tmp_path: Path):
    for n in range(3):
        make_image(tmp_path / f"{n}.png", seed=n, size=(20, 10))
    assert pixtag("import", tmp_path, "-t", "trip").exit_code == 0
    made = pixtag("album", "create", "Lisbon")
    assert made.exit_code == 0, made.output
    assert made.stdout == "1  Lisbon  (0 images)\n"
    assert pixtag("album", "add", "1", "3", "1").stdout == "1  Lisbon  (2 images)\n"
    assert pixtag("album", "add", "1", "2", "--at", "0").stdout == "1  Lisbon  (3 images)\n"
    assert pixtag("album", "order", "1", "3", "--before", "2").exit_code == 0
    shown = pixtag("album", "show", "1")
    assert shown.exit_code == 0, shown.output
    ids = [line.split()[0] for line in shown.stdout.splitlines()[3:]]
    assert ids == ["3", "2", "1"]
    assert pixtag("album", "rm", "1", "2").stdout == "1  Lisbon  (2 images)\n"
    smart = pixtag("album", "create", "All trips", "-q", "trip sort:-id")
    assert smart.stdout == "2  All trips  (smart: trip sort:-id)\n"
    shown = pixtag("album", "show", "2")
    assert [line.split()[0] for line in shown.stdout.splitlines()[3:]] == ["3", "2", "1"]
    listed = pixtag("album", "ls")
    assert listed.stdout.splitlines()[2:] == [
        " 1   Lisbon      manual        2",
        " 2   All trips   smart             trip sort:-id",
    ]
    failed = pixtag("album", "add", "2", "1")
    assert failed.exit_code != 0
    assert "smart album" in failed.output
    assert pixtag("album", "delete", "1", "--yes").stdout == "album 1 deleted\n"
    gone = pixtag("album", "show", "1")
    assert gone.exit_code != 0
    assert "deleted" in gone.output


def test_album_share_prints_a_link_to_the_album(pixtag: Pixtag, tmp_path: Path, live_url: str):
    import json
    import urllib.request

    make_image(tmp_path / "a.png", seed=1, size=(20, 10))
    assert pixtag("import", tmp_path).exit_code == 0
    assert pixtag("album", "create", "Shared").exit_code == 0
    assert pixtag("album", "add", "1", "1").exit_code == 0
    made = pixtag("album", "share", "1", "--max-downloads", "2")
    assert made.exit_code == 0, made.output
    link = made.stdout.strip()
    assert link.startswith(f"{live_url}/s/")
    request = urllib.request.Request(link, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        shown = json.load(resp)
    assert shown["name"] == "Shared"
    assert [image["filename"] for image in shown["images"]] == ["a.png"]
    assert pixtag("share", "1").stdout.startswith(f"{live_url}/s/")  # an image's, as before
