"""Secure by default, with real ``pixtag serve`` processes: loopback open, elsewhere closed.

Also the server-side token commands (no server or token needed to make the
first one), the bootstrap token of docker-compose, and logs that never show
a token or a share password.
"""

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from pixtag.auth import tokens
from tests.support.processes import ServeProcess, pixtag_env, run_pixtag, wait_until


def public_address() -> str:
    """A non-loopback IPv4 address of this machine, else 0.0.0.0."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family.name == "AF_INET" and not address.address.startswith("127."):
                return address.address
    return "0.0.0.0"


def call(url: str, method: str = "GET", token: str | None = None, body: dict | None = None):
    """(status, headers, body) of one request, errors included."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture
def serve(database_url: str, data_dir: Path, tmp_path: Path):
    """Start ``pixtag serve`` on ``host`` with extra settings; every one is stopped at the end."""
    started: list[ServeProcess] = []

    def start(host: str, **settings: str) -> ServeProcess:
        env = pixtag_env(PIXTAG_JOBS_CONCURRENCY="0", **settings)
        args = ("--data-dir", str(data_dir), "--database-url", database_url)
        log = tmp_path / f"serve-{len(started)}.log"
        server = ServeProcess(*args, log=log, env=env, host=host).start(timeout=60)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_loopback_is_open_and_a_public_address_is_closed(serve):
    local = serve("127.0.0.1")
    status, _, body = call(f"{local.url}/images")
    assert status == 200
    assert json.loads(body) == [{"totalImages": 0, "totalChunks": 0}]
    assert "auth: off on 127.0.0.1" in local.output()

    public = serve(public_address())
    status, headers, body = call(f"{public.url}/images")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Bearer realm="pixtag"'
    assert json.loads(body)["status"] == 401
    assert call(f"{public.url}/health/live")[0] == 200
    me = json.loads(call(f"{public.url}/auth/me")[2])
    assert me["auth_required"] is True
    assert me["authenticated"] is False
    assert "auth: on (Bearer tokens; media URLs signed)" in public.output()


def test_auth_off_on_a_public_address_starts_with_a_warning(serve):
    server = serve(public_address(), PIXTAG_AUTH="off")
    assert call(f"{server.url}/images")[0] == 200
    warning = [line for line in server.output().splitlines() if "auth: off" in line]
    assert len(warning) == 1
    assert " WARNING " in warning[0]
    assert "anyone who can reach this address" in warning[0]


def test_token_commands_make_list_and_revoke_without_a_server(serve, database_url):
    db = ("--database-url", database_url)
    made = run_pixtag(
        "tokens", "create", "--name", "ci", "--scope", "write", "--expires", "30d", *db
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert tokens.well_formed(token)
    assert "shown only now" in made.stderr
    server = serve(public_address(), PIXTAG_AUTH_CACHE_TTL="0.5")
    status, _, body = call(
        f"{server.url}/images", "POST", token, {"filename": "a.png", "tags": ["x"]}
    )
    assert status == 201, body
    listed = run_pixtag("tokens", "list", *db)
    assert listed.returncode == 0, listed.stderr
    assert token[:8] + "..." in listed.stdout
    assert token not in listed.stdout
    assert re.search(r"^\s+1\s+ci\s+write\s", listed.stdout, re.MULTILINE)

    revoked = run_pixtag("tokens", "revoke", "1", *db)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == "revoked token 1 'ci'"
    # The server's cache holds a token 0.5 s here: the revocation lands within that.
    wait_until(
        lambda: call(f"{server.url}/images/1", token=token)[0] == 401,
        within=10,
        what="the revoked token to be refused",
    )
    missing = run_pixtag("tokens", "revoke", "99", *db)
    assert missing.returncode == 1
    assert "Token <99> is not found" in missing.stderr
    assert token not in server.output()


def test_the_bootstrap_token_is_an_admin_token_and_never_logged(serve, database_url):
    token = tokens.new_token()
    server = serve(public_address(), PIXTAG_BOOTSTRAP_TOKEN=token)
    status, _, body = call(f"{server.url}/tokens", token=token)
    assert status == 200
    assert [(t["name"], t["scope"]) for t in json.loads(body)] == [("bootstrap", "admin")]
    # Refused requests, a share's password and its token stay out of the log too.
    assert call(f"{server.url}/images", token=token[:-1] + "x")[0] == 401
    call(f"{server.url}/images", "POST", token, {"filename": "a.png", "tags": []})
    share = json.loads(call(f"{server.url}/images/1/shares", "POST", token, {"password": "pw1"})[2])
    assert call(f"{server.url}{share['url']}?password=wrong-pw")[0] == 401
    # A second start finds it stored and keeps one.
    again = serve(public_address(), PIXTAG_BOOTSTRAP_TOKEN=token)
    assert len(json.loads(call(f"{again.url}/tokens", token=token)[2])) == 1
    log = server.output() + again.output()
    assert "bootstrap admin token stored" in server.output()
    assert "bootstrap admin token stored" not in again.output()
    assert '"GET /s/***?password=***" 401' in log
    for secret in (token, token[4:20], "wrong-pw", share["token"]):
        assert secret not in log, secret


def test_secrets_stay_out_of_the_log_however_they_are_encoded(serve):
    token = tokens.new_token()
    server = serve(public_address(), PIXTAG_BOOTSTRAP_TOKEN=token)
    call(f"{server.url}/images", "POST", token, {"filename": "a.png", "tags": []})
    share = json.loads(call(f"{server.url}/images/1/shares", "POST", token, {"password": "pw1"})[2])
    secret = share["token"]
    for target in (
        f"/%73/{secret}?pass%77ord=guess-one",  # /s/<token>?password=
        f"/s/{secret}?%70assword=guess-two",
        f"/%2573/{secret}",  # decoded once by the server: not a share path, a 404
        f"/images?access_token={token}",
        f"/images?x=%70xt_{token[4:]}",
        f"/images/{token}",
    ):
        call(f"{server.url}{target}")
    call(f"{server.url}/shares/{secret}", "DELETE", token)
    wait_until(lambda: server.output().count('"DELETE /shares/***"') == 1, within=10, what="log")
    log = server.output()
    for leaked in (secret, token, token[4:], "guess-one", "guess-two"):
        assert leaked not in log, leaked
    assert '"GET /s/***?pass%77ord=***" 401' in log
    assert '"GET /images?access_token=***" 401' in log
