"""Client commands against a server with auth on: --token / PIXTAG_TOKEN, and ``pixtag share``."""

from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner

from pixtag.app import create_app
from pixtag.cli import main
from pixtag.settings import Settings
from tests.client.support import Pixtag, make_image
from tests.support.auth import make_token
from tests.support.processes import sql


@pytest.fixture
def live_app(settings: Settings) -> web.Application:
    return create_app(settings.model_copy(update={"auth": "on"}))


def test_client_commands_send_the_token_from_the_option_or_the_environment(
    pixtag: Pixtag, database_url: str, tmp_path: Path
):
    _, token = make_token(database_url, "write")
    make_image(tmp_path / "a.png")
    refused = pixtag("add", tmp_path / "a.png")
    assert refused.exit_code == 1
    assert "A token is needed" in refused.output
    added = pixtag("add", tmp_path / "a.png", "--token", token)
    assert added.exit_code == 0, added.output
    assert added.output.strip() == f"{tmp_path / 'a.png'} -> 1"
    shown = pixtag("show", "1", env={"PIXTAG_TOKEN": token})
    assert shown.exit_code == 0, shown.output
    assert "a.png" in shown.output
    bad = pixtag("--token", token[:-1] + "x", "show", "1")
    assert bad.exit_code == 1
    assert "The token is not valid" in bad.output


def test_share_prints_the_link_with_its_limits_and_a_password_from_stdin(
    pixtag: Pixtag, database_url: str, tmp_path: Path
):
    _, token = make_token(database_url, "write")
    make_image(tmp_path / "a.png")
    assert pixtag("add", tmp_path / "a.png", "--token", token).exit_code == 0
    made = pixtag("share", "1", "--expires", "1d", "--max-downloads", "2", "--token", token)
    assert made.exit_code == 0, made.output
    link = made.output.strip()
    assert link.startswith(f"{pixtag.url}/s/")
    stored = sql(
        database_url,
        "SELECT max_downloads, expires_at - created_at, password_hash FROM shares",
    )
    assert stored[0][0] == 2
    assert stored[0][1].total_seconds() == pytest.approx(86400, abs=5)
    assert stored[0][2] is None

    result = CliRunner().invoke(
        main,
        ["--url", str(pixtag.url), "share", "1", "--password", "--token", token],
        input="open sesame\n",
    )
    assert result.exit_code == 0, result.output
    hashes = sql(database_url, "SELECT password_hash FROM shares WHERE password_hash IS NOT NULL")
    assert hashes[0][0].startswith("scrypt$")
    bad = pixtag("share", "1", "--expires", "soon", "--token", token)
    assert bad.exit_code == 2
    assert "is not a duration" in bad.output
