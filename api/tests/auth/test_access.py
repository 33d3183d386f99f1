"""Access control on a live server: every route's scope, tokens, /auth/me, CORS.

The route-table test walks the app's routes, so a route added without an
``access`` declaration fails here; the matrix then asks each route with no
token and with each scope's token, and checks the answer class: 401 without
a token, 403 when the scope is short, neither when it suffices.
"""

import re

import pytest
from aiohttp import web

from pixtag.app import create_app
from pixtag.auth.access import declared, scope_for
from pixtag.auth.tokens import RANK
from tests.support.auth import SCOPES, bearer, make_token
from tests.support.processes import sql

# Values for the path parameters of the matrix: nothing they name exists.
SAMPLES = {
    "image_id": "999999",
    "filename": "a.png",
    "name": "x.png",
    "tag": "nosuchtag",
    "implied": "other",
    "capture_id": "999999",
    "url": "http%3A%2F%2Fexample.com%2Fx",
    "token_id": "999999",
    "token": "nosuchshare",
    "preset": "thumb",
    "version": "0",
    "rebuild_id": "999999",
    "task_id": "999999",
    "album_id": "999999",
    "what": "download",
    "webhook_id": "999999",
    "delivery_id": "999999",
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CHALLENGE = 'Bearer realm="pixtag"'


@pytest.fixture
def auth_settings(settings):
    return settings.model_copy(update={"auth": "on", "auth_cache_ttl": 0.0})


@pytest.fixture
async def auth_client(aiohttp_client, auth_settings):
    return await aiohttp_client(create_app(auth_settings))


def route_methods(route: web.AbstractRoute) -> list[str]:
    """The methods a route answers: a view's own, or the route's."""
    allowed = getattr(route.handler, "allowed_methods", None)
    if allowed is not None:
        return sorted(m for m in allowed if m in METHODS)
    return [route.method] if route.method in METHODS else []


def concrete(canonical: str) -> str:
    path = re.sub(r"\{(\w+)(:[^}]+)?\}", lambda m: SAMPLES[m.group(1)], canonical)
    return path + "/swagger-ui.css" if path.endswith("/assets") else path


def matrix(app: web.Application) -> list[tuple[str, str, str]]:
    """(method, path, scope) for every method of every route."""
    cases = []
    for route in app.router.routes():
        access = declared(route)
        assert access is not None, f"{route.resource} declares no access: add `access`"
        assert route.resource is not None
        for method in route_methods(route):
            scope = scope_for(access, method)
            assert scope in RANK, f"{method} {route.resource.canonical} has no scope"
            cases.append((method, concrete(route.resource.canonical), scope))
    return sorted(set(cases))


def test_every_route_declares_a_scope_for_each_of_its_methods(settings):
    cases = matrix(create_app(settings))
    paths = {path for _, path, _ in cases}
    assert {"/images", "/auth/me", "/tokens", "/s/nosuchshare", "/oas"} <= paths
    scopes = {(method, path): scope for method, path, scope in cases}
    assert scopes[("GET", "/images")] == "read"
    assert scopes[("HEAD", "/images")] == "read"
    assert scopes[("POST", "/images")] == "write"
    assert scopes[("POST", "/tags/nosuchtag/rename")] == "admin"
    assert scopes[("PUT", "/captures/switch")] == "admin"
    assert scopes[("POST", "/tokens")] == "admin"
    assert scopes[("GET", "/health/ready")] == "public"
    assert scopes[("GET", "/images/999999/similar")] == "read"
    assert scopes[("GET", "/duplicates")] == "read"
    assert scopes[("POST", "/duplicates/resolve")] == "write"
    assert scopes[("POST", "/duplicates/dismiss")] == "write"
    assert scopes[("POST", "/similar/index")] == "admin"


async def test_each_route_answers_each_scope_as_it_declares(auth_client, database_url):
    tokens = {scope: make_token(database_url, scope)[1] for scope in SCOPES}
    failures = []
    for method, path, needed in matrix(auth_client.app):
        for who in (None, *SCOPES):
            headers = bearer(tokens[who]) if who else {}
            async with auth_client.request(method, path, headers=headers) as resp:
                status = resp.status
                body = await resp.read()
                challenge = resp.headers.get("WWW-Authenticate", "")
            if needed == "public":
                # /media is public but wants a signature (or a token) when media is behind auth.
                ok = status != 401 and (status != 403 or (path.startswith("/media/") and not who))
            elif who is None:
                ok = status == 401 and challenge == CHALLENGE
                ok = ok and (method == "HEAD" or b'"status": 401' in body)
            elif RANK[who] < RANK[needed]:
                ok = (
                    status == 403
                    and 'error="insufficient_scope"' in challenge
                    and f'scope="{needed}"' in challenge
                )
            else:
                ok = status not in (401, 403)
            if not ok:
                failures.append(f"{method} {path} as {who or 'nobody'} (needs {needed}): {status}")
    assert not failures, "\n".join(failures)


async def test_a_bad_token_is_401_invalid_token_even_on_a_read(auth_client):
    for header in ("Bearer pxt_" + "A" * 43, "Bearer nonsense", "Basic dXNlcjpwdw=="):
        resp = await auth_client.get("/images/1", headers={"Authorization": header})
        assert resp.status == 401
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="pixtag", error="invalid_token"'
        assert resp.content_type == "application/problem+json"
        assert (await resp.json())["status"] == 401


async def test_expired_and_revoked_tokens_are_refused(auth_client, database_url):
    _, expired = make_token(database_url, "admin", expires_in=-1)
    resp = await auth_client.get("/tags", headers=bearer(expired))
    assert resp.status == 401
    assert "expired" in (await resp.json())["detail"]

    token_id, token = make_token(database_url, "read")
    assert (await auth_client.get("/tags", headers=bearer(token))).status == 200
    sql(database_url, "UPDATE api_tokens SET revoked_at = now() WHERE token_id = %s", (token_id,))
    # The cache TTL is 0 here: the next request reads the token again.
    assert (await auth_client.get("/tags", headers=bearer(token))).status == 401


async def test_tokens_api_creates_lists_and_revokes(auth_client, database_url):
    _, admin = make_token(database_url, "admin", name="root")
    resp = await auth_client.post(
        "/tokens", json={"name": "ci", "scope": "write", "expires_in": 3600}, headers=bearer(admin)
    )
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    assert made["token"].startswith("pxt_")
    assert made["hint"] == made["token"][:8]
    assert made["scope"] == "write"
    assert made["expires_at"]
    assert made["revoked_at"] is None
    assert resp.headers["Location"] == f"/tokens/{made['token_id']}"
    stored = sql(
        database_url, "SELECT hash FROM api_tokens WHERE token_id = %s", (made["token_id"],)
    )
    assert made["token"].encode() not in bytes(stored[0][0])  # only the hash is kept

    # The new token works, and records its use.
    created = await auth_client.post(
        "/images", json={"filename": "a.png", "tags": []}, headers=bearer(made["token"])
    )
    assert created.status == 201
    listed = await (await auth_client.get("/tokens", headers=bearer(admin))).json()
    assert [t["name"] for t in listed] == ["root", "ci"]
    assert all("token" not in t for t in listed)
    assert listed[1]["last_used_at"] is not None

    revoke = await auth_client.delete(f"/tokens/{made['token_id']}", headers=bearer(admin))
    assert revoke.status == 204
    refused = await auth_client.get("/images/1", headers=bearer(made["token"]))
    assert refused.status == 401
    names = [
        t["name"] for t in await (await auth_client.get("/tokens", headers=bearer(admin))).json()
    ]
    assert names == ["root"]
    missing = await auth_client.delete("/tokens/424242", headers=bearer(admin))
    assert missing.status == 404


async def test_last_use_is_written_at_most_once_a_minute(auth_client, database_url):
    token_id, token = make_token(database_url, "read")
    when = "SELECT last_used_at FROM api_tokens WHERE token_id = %s"
    await auth_client.get("/tags", headers=bearer(token))
    first = sql(database_url, when, (token_id,))[0][0]
    assert first is not None
    for _ in range(3):
        await auth_client.get("/tags", headers=bearer(token))
    assert sql(database_url, when, (token_id,))[0][0] == first


async def test_auth_me_says_what_the_request_may_do(auth_client, client, database_url):
    off = await (await client.get("/auth/me")).json()
    assert off == {
        "auth_required": False,
        "authenticated": False,
        "scope": "admin",
        "anonymous_read": True,
        "name": None,
        "expires_at": None,
    }
    anonymous = await (await auth_client.get("/auth/me")).json()
    assert anonymous["auth_required"] is True
    assert anonymous["authenticated"] is False
    assert anonymous["scope"] is None
    assert anonymous["anonymous_read"] is False
    _, token = make_token(database_url, "write", name="laptop", expires_in=600)
    me = await (await auth_client.get("/auth/me", headers=bearer(token))).json()
    assert me["authenticated"] is True
    assert me["scope"] == "write"
    assert me["name"] == "laptop"
    assert me["expires_at"].endswith("Z")
    bad = await auth_client.get("/auth/me", headers={"Authorization": "Bearer pxt_" + "x" * 43})
    assert bad.status == 401
    assert bad.headers["WWW-Authenticate"] == 'Bearer realm="pixtag", error="invalid_token"'


async def test_anonymous_reads_when_allowed_but_writes_still_need_a_token(
    aiohttp_client, auth_settings
):
    client = await aiohttp_client(
        create_app(auth_settings.model_copy(update={"anonymous_read": True}))
    )
    listing = await client.get("/images")
    assert listing.status == 200
    assert await listing.json() == [{"totalImages": 0, "totalChunks": 0}]
    write = await client.post("/images", json={"filename": "a.png", "tags": []})
    assert write.status == 401
    assert write.headers["WWW-Authenticate"] == CHALLENGE
    me = await (await client.get("/auth/me")).json()
    assert me["scope"] == "read"
    assert me["anonymous_read"] is True


async def test_cors_preflight_answers_listed_origins_only(aiohttp_client, auth_settings):
    settings = auth_settings.model_copy(update={"cors_origins": ("https://app.example",)})
    client = await aiohttp_client(create_app(settings))
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    resp = await client.options("/images", headers={"Origin": "https://app.example", **ask})
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "Authorization" in resp.headers["Access-Control-Allow-Headers"]
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    # A real request (here refused for want of a token) still names the origin.
    refused = await client.get("/images", headers={"Origin": "https://app.example"})
    assert refused.status == 401
    assert refused.headers["Access-Control-Allow-Origin"] == "https://app.example"
    other = await client.options("/images", headers={"Origin": "https://evil.example", **ask})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert other.status in (401, 405)


async def test_no_cors_headers_by_default(client):
    resp = await client.get("/images", headers={"Origin": "https://app.example"})
    assert resp.status == 200
    assert not any(name.startswith("Access-Control-") for name in resp.headers)


async def test_the_spec_declares_the_bearer_scheme_and_each_operations_security(auth_client):
    page = await auth_client.get("/oas")
    assert page.status == 200
    assert "persistAuthorization: true" in await page.text()
    spec = await (await auth_client.get("/oas/spec")).json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    paths = spec["paths"]
    assert paths["/images"]["post"]["security"] == [{"bearerAuth": []}]
    assert paths["/images"]["post"]["x-scope"] == "write"
    assert "401" in paths["/images"]["post"]["responses"]
    assert "403" in paths["/images"]["post"]["responses"]
    assert paths["/tokens"]["get"]["x-scope"] == "admin"
    assert paths["/health/live"]["get"]["security"] == []
    assert paths["/s/{token}"]["get"]["security"] == []
    assert paths["/media/{image_id}/{name}"]["get"]["security"] == [{}, {"bearerAuth": []}]
