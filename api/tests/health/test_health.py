"""/health/live and /health/ready on a real server, with a database that goes away."""

from pixtag.app import create_app
from pixtag.openapi import generate
from tests.support.processes import CommitFaultProxy


async def test_live_and_ready_answer_ok_with_the_database_up(client):
    live = await client.get("/health/live")
    assert live.status == 200
    assert live.content_type == "application/json"
    assert await live.json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status == 200
    assert await ready.json() == {"status": "ok", "database": "ok"}


async def test_ready_is_a_503_problem_when_the_database_is_unreachable_and_live_stays_ok(
    aiohttp_client, settings, caplog
):
    # The server reaches PostgreSQL through a proxy, which then goes away.
    proxy = await CommitFaultProxy(settings.database_url).start()
    try:
        client = await aiohttp_client(
            create_app(settings.model_copy(update={"database_url": proxy.url}))
        )
        assert (await client.get("/health/ready")).status == 200
    finally:
        await proxy.close()
    ready = await client.get("/health/ready")
    assert ready.status == 503
    assert ready.content_type == "application/problem+json"
    body = await ready.json()
    assert body["status"] == 503
    assert body["title"] == "Service Unavailable"
    assert body["detail"] == body["error"] == "The database did not answer; not ready"
    assert "not ready: the database did not answer" in caplog.text
    live = await client.get("/health/live")
    assert live.status == 200
    assert await live.json() == {"status": "ok"}


def test_health_operations_are_in_the_document():
    spec = generate([create_app()])
    live = spec["paths"]["/health/live"]["get"]
    ready = spec["paths"]["/health/ready"]["get"]
    assert live["operationId"] == "checkLiveness"
    assert ready["operationId"] == "checkReadiness"
    problem = {"$ref": "#/components/schemas/Problem"}
    assert ready["responses"]["503"]["content"]["application/problem+json"]["schema"] == problem
    assert ready["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Readiness"
    }
