"""The fixtures loader through both command-line spellings."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pixtag.cli import main
from pixtag.db import fixtures
from pixtag.manage import load_fixtures
from tests.support.processes import pixtag_env, sql


def pixtag(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


SHIPPED = sorted(p.name for p in (Path(__file__).parents[3] / "fixtures").glob("*.sql"))


def lines(state: str) -> str:
    """What `fixtures list` prints when every shipped fixture is in ``state``."""
    return "".join(f"{state:<8} {name}\n" for name in SHIPPED)


def tables(url: str) -> set[str]:
    return {
        name for (name,) in sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }


def tamper_ledger(url: str, name: str) -> None:
    """Make the ledger disagree with the file, as if the file had been edited since."""
    sql(url, "UPDATE fixtures_ledger SET sha256 = repeat('0', 64) WHERE name = %s", (name,))


@pytest.fixture
def fixtures_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "fixtures"
    directory.mkdir()
    (directory / "001_one.sql").write_text("CREATE TABLE one (id int);")
    (directory / "002_broken.sql").write_text(
        "CREATE TABLE two (id int);\nINSERT INTO nowhere VALUES (1);"
    )
    (directory / "003_three.sql").write_text("CREATE TABLE three (id int);")
    return directory


def test_list_shows_pending_then_applied(empty_database_url):
    result = pixtag("fixtures", "list", "--database-url", empty_database_url)
    assert result.exit_code == 0
    assert result.output == lines("pending")

    result = pixtag("fixtures", "apply", "--database-url", empty_database_url)
    assert result.exit_code == 0
    assert result.output == lines("applied")
    assert {"images", "fixtures_ledger"} <= tables(empty_database_url)

    result = pixtag("fixtures", "list", "--database-url", empty_database_url)
    assert [line.split()[:2] for line in result.output.splitlines()] == [
        ["applied", name] for name in SHIPPED
    ]


def test_apply_twice_applies_nothing_the_second_time(empty_database_url):
    pixtag("fixtures", "apply", "--database-url", empty_database_url)
    result = pixtag("fixtures", "apply", "--database-url", empty_database_url)
    assert result.exit_code == 0
    assert result.output == "nothing to apply\n"


def test_changed_fixture_is_listed_and_refused(database_url):
    tamper_ledger(database_url, "001_images.sql")
    listed = pixtag("fixtures", "list", "--database-url", database_url)
    assert listed.output.startswith("changed  001_images.sql")
    result = pixtag("fixtures", "apply", "--database-url", database_url)
    assert result.exit_code == 1
    assert "fixture changed since it was applied: 001_images.sql" in result.output


def test_failing_fixture_stops_naming_the_file_and_keeps_nothing_of_it(
    empty_database_url, fixtures_dir
):
    result = pixtag(
        "fixtures",
        "apply",
        "--database-url",
        empty_database_url,
        "--fixtures-dir",
        str(fixtures_dir),
    )
    assert result.exit_code == 1
    assert 'Error: 002_broken.sql: relation "nowhere" does not exist' in result.output
    # The first file is in, the failing one left nothing, the third never ran.
    assert tables(empty_database_url) == {"one", "fixtures_ledger"}
    statuses = fixtures.status(empty_database_url, fixtures_dir)
    assert [(s.name, s.state.value) for s in statuses] == [
        ("001_one.sql", "applied"),
        ("002_broken.sql", "pending"),
        ("003_three.sql", "pending"),
    ]


def test_apply_named_fixtures_only(empty_database_url, fixtures_dir):
    result = pixtag(
        "fixtures",
        "apply",
        "003_three.sql",
        "--database-url",
        empty_database_url,
        "--fixtures-dir",
        str(fixtures_dir),
    )
    assert result.exit_code == 0
    assert tables(empty_database_url) == {"three", "fixtures_ledger"}


def test_apply_unknown_name_is_an_error(empty_database_url):
    result = pixtag("fixtures", "apply", "nope.sql", "--database-url", empty_database_url)
    assert result.exit_code == 1
    assert "no such fixture: nope.sql" in result.output


def test_missing_file_is_listed_as_missing(empty_database_url, fixtures_dir):
    fixtures.apply(empty_database_url, fixtures_dir, names=["001_one.sql"])
    (fixtures_dir / "001_one.sql").unlink()
    result = pixtag(
        "fixtures",
        "list",
        "--database-url",
        empty_database_url,
        "--fixtures-dir",
        str(fixtures_dir),
    )
    assert result.output.splitlines()[0].startswith("missing  001_one.sql")


def test_reset_refuses_without_yes(database_url):
    result = pixtag("fixtures", "reset", "--database-url", database_url)
    assert result.exit_code == 2
    assert "pass --yes to confirm" in result.output
    assert "images" in tables(database_url)


def test_reset_with_yes_drops_everything(database_url):
    result = pixtag("fixtures", "reset", "--yes", "--database-url", database_url)
    assert result.exit_code == 0
    assert tables(database_url) == set()
    again = pixtag("fixtures", "list", "--database-url", database_url)
    assert again.output == lines("pending")


def test_seed_spelling_list_and_apply(empty_database_url, monkeypatch, capsys):
    monkeypatch.setenv("PIXTAG_DATABASE_URL", empty_database_url)
    assert load_fixtures.main(["--list_all"]) == 0
    # The seed's form: one Python list of the fixture files.
    assert capsys.readouterr().out == f"{SHIPPED!r}\n"
    assert load_fixtures.main(["--apply_all"]) == 0
    assert capsys.readouterr().out == "".join(f"applied  {name}\n" for name in SHIPPED)
    assert load_fixtures.main(["--apply_all"]) == 0  # incremental: nothing twice, nothing dropped
    assert capsys.readouterr().out == ""
    states = pixtag("fixtures", "list", "--database-url", empty_database_url).output.splitlines()
    assert [line.split()[:2] for line in states] == [["applied", name] for name in SHIPPED]


def test_seed_spelling_takes_the_options_its_error_names(tmp_path, database_url, capsys):
    """The "no database" error names --data-dir and --database-url; both are accepted."""
    assert load_fixtures.main(["--list_all", "--data-dir", str(tmp_path)]) == 1
    assert "--data-dir" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert load_fixtures.main(["--list_all", "--database-url", database_url]) == 0
    assert capsys.readouterr().out == f"{SHIPPED!r}\n"


def test_seed_spelling_refuses_a_changed_fixture(database_url, monkeypatch, capsys):
    monkeypatch.setenv("PIXTAG_DATABASE_URL", database_url)
    tamper_ledger(database_url, "001_images.sql")
    assert load_fixtures.main(["--apply_all", "001_images.sql"]) == 1
    assert "fixture changed since it was applied" in capsys.readouterr().err


def test_seed_spelling_needs_an_action(capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_fixtures.main([])
    assert exit_info.value.code == 2


def test_the_wheel_carries_the_fixtures(tmp_path):
    """An installed package (wheel, Docker image) finds its schema without the checkout."""
    root = Path(__file__).parents[3]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("pixtag-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = sorted(n for n in archive.namelist() if n.startswith("pixtag/fixtures/"))
    expected = sorted(f"pixtag/fixtures/{p.name}" for p in (root / "fixtures").glob("*.sql"))
    assert packaged == expected


@pytest.mark.parametrize(
    "args",
    [
        ["-m", "pixtag", "fixtures", "list"],
        ["-m", "pixtag", "fixtures", "apply"],
        ["-m", "pixtag", "fixtures", "reset", "--yes"],
        ["-m", "pixtag", "storage", "verify"],
        ["-m", "pixtag.manage.load_fixtures", "--list_all"],
    ],
)
def test_commands_other_than_serve_never_create_a_database(args: list[str], tmp_path: Path):
    """Run from a folder with no data/: one error line naming where it looked, nothing made."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=tmp_path,
        env=pixtag_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"error: no pixtag database in {tmp_path.resolve() / 'data' / 'postgres'} (pixtag serve"
        " creates it; give --data-dir, PIXTAG_DATA_DIR or --database-url to use another)\n"
    )
    assert list(tmp_path.iterdir()) == []
