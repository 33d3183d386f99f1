"""pixtag process: tasks queued with parameters, waited for, and how a failure shows."""

from pathlib import Path

from tests.client.support import Pixtag, make_image


def add(pixtag: Pixtag, tmp_path: Path, name: str) -> int:
    make_image(tmp_path / name, size=(8, 6))
    result = pixtag("add", tmp_path / name, "-t", "cli", "--force")
    assert result.exit_code == 0, result.output
    return int(result.stdout.rsplit("-> ", 1)[1].split()[0])


def test_process_waits_and_prints_each_task_with_its_result(pixtag: Pixtag, tmp_path: Path):
    one = add(pixtag, tmp_path, "one.png")
    two = add(pixtag, tmp_path, "two.png")
    result = pixtag(
        "process", one, two, "--algorithm", "resize", "-p", "width=4", "-p", "height=3", "--wait"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split(" -> ")[0] for line in lines] == [
        f"1  finished  resize  image {one}",
        f"2  finished  resize  image {two}",
    ]
    results = sorted(int(line.rsplit(" ", 1)[1]) for line in lines)
    assert results == [two + 1, two + 2]
    shown = pixtag("show", results[0], "--json")
    assert '"width":4' in shown.stdout.replace(" ", "")
    assert "one.resize.png" in shown.stdout or "two.resize.png" in shown.stdout


def test_process_exits_1_when_a_task_fails_and_reports_bad_params(pixtag: Pixtag, tmp_path: Path):
    one = add(pixtag, tmp_path, "one.png")
    result = pixtag(
        "process",
        one,
        "-a",
        "crop",
        "-p",
        "left=7",
        "-p",
        "top=0",
        "-p",
        "width=5",
        "-p",
        "height=1",
        "--wait",
    )
    assert result.exit_code == 1
    assert result.stdout == (
        f"1  error  crop  image {one}  crop_out_of_bounds: the crop box (left 7, top 0, 5x1)"
        " does not fit in the image (8x6)\n"
    )
    bad = pixtag("process", one, "-a", "flip", "-p", "direction=diagonal")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: Invalid body: flip.params.direction: ")
    queued = pixtag("process", one, "-a", "grayscale")
    assert queued.exit_code == 0
    assert queued.stdout.startswith("2  ")
