"""The finishing rules, on small documents: each rule does exactly its one job."""

import pytest

from pixtag.openapi import dialect, document


def generated(**operation):
    return {"openapi": "3.0.0", "info": {}, "paths": {"/x": {"get": operation}}}


def test_errors_become_problem_json_success_stays_json_and_empty_bodies_go():
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    spec = document.finish(
        generated(
            responses={
                "200": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "302": {"content": {"application/json": {"schema": {}}}},
                "404": {"content": {"application/json": problem}},
            }
        ),
        table={},
    )
    responses = spec["paths"]["/x"]["get"]["responses"]
    assert list(responses["200"]["content"]) == ["application/json"]
    assert "content" not in responses["302"]
    assert responses["404"]["content"] == {"application/problem+json": problem}
    assert responses["500"]["content"] == {"application/problem+json": problem}


def test_info_is_pixtag_s_own():
    spec = document.finish(generated(responses={}), table={})
    assert spec["openapi"] == "3.0.3"
    assert spec["info"]["title"] == "pixtag"


def test_facts_are_merged_with_models_as_references():
    from pixtag.models import ImageCreate

    facts = {
        ("get", "/x"): {
            "operationId": "getX",
            "requestBody": {"content": {"a/b": {"schema": ImageCreate}}},
        }
    }
    spec = document.finish(generated(responses={}), table=facts)
    operation = spec["paths"]["/x"]["get"]
    assert operation["operationId"] == "getX"
    assert operation["requestBody"]["content"]["a/b"]["schema"] == {
        "$ref": "#/components/schemas/ImageCreate"
    }
    assert "filename" in spec["components"]["schemas"]["ImageCreate"]["properties"]


def test_header_parameters_get_their_http_names():
    operation = {"parameters": [{"in": "header", "name": "if_none_match"}]}
    document._parameters(operation)
    assert operation["parameters"][0]["name"] == "If-None-Match"


def test_parameters_are_never_null_and_lists_show_their_items_description():
    operation = {
        "parameters": [
            {"in": "query", "name": "a", "schema": {"type": "integer", "nullable": True}},
            {"in": "query", "name": "b", "schema": {"items": {"description": "A tag."}}},
        ]
    }
    document._parameters(operation)
    first, second = operation["parameters"]
    assert first["schema"] == {"type": "integer"}
    assert second["description"] == "Repeatable. A tag."


def test_facts_for_a_missing_route_stop_generation():
    with pytest.raises(LookupError, match="GET /nowhere"):
        document.finish(generated(responses={}), table={("get", "/nowhere"): {}})


def test_merge_merges_dicts_extends_lists_and_replaces_schemas():
    target = {
        "parameters": [{"name": "a"}],
        "responses": {"200": {"description": "ok", "content": {"x/y": {"schema": {"a": 1}}}}},
    }
    document._merge(
        target,
        {
            "parameters": [{"name": "b"}],
            "responses": {"200": {"content": {"x/y": {"schema": {"b": 2}}}}},
        },
    )
    assert target == {
        "parameters": [{"name": "a"}, {"name": "b"}],
        "responses": {"200": {"description": "ok", "content": {"x/y": {"schema": {"b": 2}}}}},
    }


@pytest.mark.parametrize(
    ("json_schema", "openapi_3_0"),
    [
        ({"type": "string", "examples": ["a", "b"]}, {"type": "string", "example": "a"}),
        ({"const": 3}, {"enum": [3]}),
        (
            {"type": "integer", "exclusiveMinimum": 0},
            {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
        ),
        (
            {"$ref": "#/components/schemas/A", "nullable": True},
            {"allOf": [{"$ref": "#/components/schemas/A"}], "nullable": True},
        ),
        (
            {"type": "array", "items": {"properties": {"p": {"examples": [1]}}}},
            {"type": "array", "items": {"properties": {"p": {"example": 1}}}},
        ),
        ({"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/A"}),
    ],
)
def test_schemas_are_spoken_in_the_openapi_3_0_dialect(json_schema, openapi_3_0):
    dialect.translate(json_schema)
    assert json_schema == openapi_3_0


def test_the_library_translates_every_schema_it_generates_with_the_dialect():
    from typing import Literal

    from aiohttp import web
    from aiohttp_pydantic import PydanticView
    from aiohttp_pydantic.oas.typing import r200
    from aiohttp_pydantic.oas.view import generate_oas
    from pydantic import BaseModel, Field

    class Body(BaseModel):
        kind: Literal["x"]
        size: int = Field(gt=0, examples=[3])

    class View(PydanticView):  # type: ignore[misc]
        async def post(self, body: Body) -> r200[Body]:
            return web.json_response({})

        async def get(self, limit: int = Field(3, gt=0)) -> r200[Body]:
            return web.json_response({})

    app = web.Application()
    app.router.add_view("/x", View)
    spec = generate_oas([app])
    assert spec["components"]["schemas"]["Body"]["properties"] == {
        "kind": {"enum": ["x"], "title": "Kind", "type": "string"},
        "size": {
            "example": 3,
            "exclusiveMinimum": True,
            "minimum": 0,
            "title": "Size",
            "type": "integer",
        },
    }
    (limit,) = spec["paths"]["/x"]["get"]["parameters"]
    assert limit["schema"]["exclusiveMinimum"] is True


def test_apps_that_declare_no_finishing_step_get_the_library_document():
    from aiohttp import web
    from aiohttp_pydantic.oas import cmd
    from aiohttp_pydantic.oas.view import generate_oas

    from pixtag import openapi
    from pixtag.app import create_app

    create_app()  # rebinds the command's generator
    assert cmd.generate_oas is openapi.generate
    plain = web.Application()
    assert openapi.generate([plain]) == generate_oas([plain])
