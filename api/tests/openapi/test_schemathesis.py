"""schemathesis, with every check, against a live server and the committed openapi.json.

The server is the real ``pixtag serve`` process on a fresh database; the
schema is the committed document, so what clients read is what is tested.
The run is bounded (examples per operation, a fixed seed) to about two
minutes of one core, the suite's longest test, and reproducible: a failure prints the
curl command and the seed that show it again. No check is excluded; what
the run is told beyond the command line is in ``schemathesis.toml``, each
setting with its reason.
"""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, FormData

from pixtag.auth import tokens
from tests.support.helpers import image_bytes
from tests.support.processes import ServeProcess, pixtag_env, sql

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
# Settings that need a reason beside them (see the comments there).
CONFIG = Path(__file__).with_name("schemathesis.toml")
# How to read NDJSON, so those responses are checked against the schema too.
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
DELETES_CONFIG = "schemathesis_deletes.toml"
SEED = 20261121
STORED = {"filename": "stored.png", "tags": ["stored"]}
# Images the writes work on, so that image 1 stays as it is for the reads: ids
# 2..31 are renamed and retagged (schemathesis.toml), 32..331 deleted, the
# last 150 of them with a file (schemathesis_deletes.toml).
EDITED = range(2, 32)
DOOMED = range(32, 182)
DOOMED_FILES = range(182, 332)
DELETES = ["--include-operation-id", "deleteImage", "--include-operation-id", "deleteAttachment"]
CAPTURED = {"url": "https://example.com/cat.jpg"}
# The run's admin token (schemathesis.toml sends it as the bearer scheme). Its id is far
# from those the run's own POST /tokens makes, so DELETE /tokens/{id} never revokes it.
TOKEN = tokens.new_token()
TOKEN_ID = 4_611_686_018_427_387_904


@pytest.fixture
def live_server(database_url: str, data_dir: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real ``pixtag serve`` on a free port; yields its URL and its log file."""
    log = tmp_path / "server.log"
    args = ("--data-dir", str(data_dir), "--database-url", database_url)
    # No capture worker: the fuzzer's URLs name hosts on the internet, which a test must not
    # fetch (the workers are tested against a local origin in test_captures*). Auth on, as
    # a deployment has it: every operation is run with an admin token, and without one.
    env = pixtag_env(PIXTAG_JOBS_CONCURRENCY="0", PIXTAG_AUTH="on")
    sql(
        database_url,
        "INSERT INTO api_tokens (token_id, name, scope, hint, hash) OVERRIDING SYSTEM VALUE"
        " VALUES (%s, 'schemathesis', 'admin', %s, %s)",
        (TOKEN_ID, tokens.hint(TOKEN), tokens.digest(TOKEN)),
    )
    with ServeProcess(*args, log=log, env=env).start(timeout=60) as server:
        yield server.url, log
        server.stop()


async def create(session: ClientSession, url: str, meta: dict, *, with_file: bool) -> int:
    data: dict | FormData = {"json": meta}
    if with_file:
        form = FormData()
        form.add_field("meta", json.dumps(meta), content_type="application/json")
        form.add_field("image", image_bytes(), filename=meta["filename"])
        data = {"data": form}
    async with session.post(f"{url}/images", **data) as resp:
        assert resp.status == 201, await resp.text()
        return int((await resp.json())["image_id"])


async def store_an_image(url: str, *, for_deletes: bool = False) -> None:
    """Image 1 with a file, whose id and name schemathesis.toml hands to the fuzzer; then the
    images its writes work on, and a capture of the URL it hands to GET /resources/{url}."""
    async with ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        assert await create(session, url, STORED, with_file=True) == 1
        sets = [(EDITED, False)]
        if for_deletes:
            sets += [(DOOMED, False), (DOOMED_FILES, True)]
        for ids, with_file in sets:
            for image_id in ids:
                meta = {"filename": "doomed.png", "tags": ["doomed"]}
                assert await create(session, url, meta, with_file=with_file) == image_id
        async with session.post(f"{url}/captures", json=CAPTURED) as resp:
            assert resp.status == 202, await resp.text()


def server_errors(log: Path) -> str:
    return "\n".join(line for line in log.read_text().splitlines() if "ERROR" in line)


async def schemathesis(
    url: str, log: Path, cwd: Path, *options: str, config: Path = CONFIG
) -> None:
    """Run schemathesis with every check; fail with its report and the server's errors."""
    command = [BIN / "schemathesis", "--config-file", config, "run", ROOT / "openapi.json"]
    command += ["--url", url, "--checks", "all", "--seed", str(SEED)]
    # The examples per operation are the configuration's (100, fewer where it says): a
    # --max-examples here would override the operations' own.
    command += ["--generation-database", "none"]
    command += ["--no-color", *options]
    result = await asyncio.to_thread(
        subprocess.run,
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        # On two CPUs shared with other work the run has taken 520 s.
        timeout=900,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), "PIXTAG_TEST_TOKEN": TOKEN},
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"{report}\n--- server errors ---\n{server_errors(log)}"
    assert "No issues found" in report


@pytest.mark.heavy
async def test_schemathesis_finds_no_failure_with_every_check(live_server, tmp_path):
    url, log = live_server
    await store_an_image(url)
    excluded = [option.replace("include", "exclude") for option in DELETES]
    await schemathesis(url, log, tmp_path, *excluded)


async def test_schemathesis_finds_no_failure_in_the_deletes(live_server, tmp_path):
    """Deletes run apart, on images stored for them (see schemathesis_deletes.toml)."""
    url, log = live_server
    await store_an_image(url, for_deletes=True)
    # No stateful phase: no link leads to a delete from another delete.
    phases = ["--phases", "examples,coverage,fuzzing"]
    await schemathesis(
        url, log, tmp_path, *DELETES, *phases, config=CONFIG.with_name(DELETES_CONFIG)
    )


@pytest.mark.heavy
async def test_schemathesis_finds_no_failure_in_the_ndjson_listing(live_server, tmp_path):
    """The run above asks for JSON; this one reads the listing as NDJSON (no links to follow)."""
    url, log = live_server
    await store_an_image(url)
    ndjson = ["--include-operation-id", "listImages", "-H", "Accept: application/x-ndjson"]
    await schemathesis(url, log, tmp_path, *ndjson, "--phases", "examples,coverage,fuzzing")
