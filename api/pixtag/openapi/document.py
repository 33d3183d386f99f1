"""Finishing the document aiohttp-pydantic generates: what it cannot say by itself.

aiohttp-pydantic derives paths, parameters, responses and schemas from the
views, but hard-codes a few things. ``finish`` corrects them by rule, for
every operation alike:

- every response is ``application/json``: errors are ``application/problem+json``,
  and a successful HEAD has no body at all (``head = get`` shares GET's annotations);
- header parameters keep their Python names (``if_none_match``), not HTTP's,
  optional parameters are "nullable" (a URL cannot say null) and carry the
  model's example (which Swagger UI would send), and a list parameter's
  description stays on its items, out of a reader's sight;
- the ``info`` block is the library's;
- no operation says it can fail with a 500 (problem+json, like every error),
  nor that the HTTP server refuses an oversized request line in text/plain.

then merges the per-operation facts the views cannot express in annotations
(bodies parsed by hand, response headers, other media types, links), which
each view declares next to its ``access`` (``pixtag.openapi.fragments``).
"""

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from aiohttp_pydantic.oas.pydantic_schema_to_oas import translater
from pydantic import BaseModel

import pixtag
from pixtag.openapi import dialect

OPENAPI_VERSION = "3.0.3"
PROBLEM_JSON = "application/problem+json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Any operation can fail unexpectedly; the middleware still answers problem+json.
SERVER_ERROR = {
    "description": "An unexpected failure; the details go to the server log only.",
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}

PARSER_REFUSAL = (
    " A request line or header field longer than 8190 bytes is refused by the"
    " HTTP server itself, in text/plain."
)

INFO = {
    "title": "pixtag",
    "version": pixtag.__version__,
    "description": "Store images and their tags; list and filter the collection as a"
    " streamed JSON document; fetch the files. Every error is RFC 9457"
    " problem details (`application/problem+json`).",
    "license": {"name": "MIT"},
}


def finish(
    generated: dict[str, Any], table: Mapping[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    """The complete document: ``generated`` corrected by rule, then the operation table."""
    spec = copy.deepcopy(generated)
    spec["openapi"] = OPENAPI_VERSION
    spec["info"] = copy.deepcopy(INFO)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for method, _, operation in operations(spec):
        _parameters(operation)
        _problem_media_type(operation)
        if method == "head":
            _no_success_body(operation)
        operation.setdefault("responses", {}).setdefault("500", copy.deepcopy(SERVER_ERROR))
        _parser_refusal(operation["responses"])
    for (method, path), facts in table.items():
        operation = spec["paths"].get(path, {}).get(method)
        if operation is None:
            raise LookupError(f"{method.upper()} {path} has facts but no such route")
        _merge(operation, _with_refs(facts, schemas))
    return _in_stable_order(spec)


def _in_stable_order(spec: dict[str, Any]) -> dict[str, Any]:
    """Methods in a fixed order, schemas by name: the same document on every run.

    aiohttp-pydantic visits a view's methods in set order, which changes from
    one process to the next (string hashing), and registers schemas as it
    meets them.
    """
    spec["paths"] = {
        path: dict(sorted(item.items(), key=lambda pair: _method_rank(pair[0])))
        for path, item in spec.get("paths", {}).items()
    }
    components = spec.get("components", {})
    if "schemas" in components:
        components["schemas"] = dict(sorted(components["schemas"].items()))
    return spec


def _method_rank(key: str) -> int:
    return METHODS.index(key) if key in METHODS else len(METHODS)


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Each (method, path, operation) of the document."""
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def _parameters(operation: dict[str, Any]) -> None:
    """HTTP header names; no ``nullable`` (a URL has no null); a list's item description;
    no example for an optional parameter."""
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header":
            parameter["name"] = "-".join(p.capitalize() for p in parameter["name"].split("_"))
        schema = parameter.get("schema", {})
        schema.pop("nullable", None)
        if not parameter.get("required"):
            # Swagger UI fills "Try it out" with a parameter's example: an optional
            # filter would then be sent, and every try would find nothing.
            for node in (parameter, schema, schema.get("items", {})):
                node.pop("example", None)
                node.pop("examples", None)
        if "description" not in parameter and "description" in schema.get("items", {}):
            parameter["description"] = "Repeatable. " + schema["items"]["description"]


def _problem_media_type(operation: dict[str, Any]) -> None:
    for status, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if content.get("application/json", {}).get("schema") == {}:
            # r302[None], r200[bytes]: no JSON body (other bodies come from the table).
            del response["content"]
        elif status != "default" and int(status) >= 400 and "application/json" in content:
            content[PROBLEM_JSON] = content.pop("application/json")


def _no_success_body(operation: dict[str, Any]) -> None:
    """A HEAD response has no content; an error keeps its type, the one GET's would have."""
    for status, response in operation.get("responses", {}).items():
        if status != "default" and int(status) < 400:
            response.pop("content", None)


def _parser_refusal(responses: dict[str, Any]) -> None:
    """aiohttp's HTTP parser answers an oversized request line or header itself.

    It does so before any middleware can run, in text/plain, for every route.
    """
    refused = responses.setdefault("400", {"description": "The request is invalid."})
    refused["description"] += PARSER_REFUSAL
    refused.setdefault("content", {})["text/plain"] = {"schema": {"type": "string"}}


def _with_refs(facts: Any, schemas: dict[str, Any]) -> Any:
    """``facts`` with each pydantic model replaced by a ``$ref`` to its registered schema."""
    if isinstance(facts, type) and issubclass(facts, BaseModel):
        return register(facts, schemas)
    if isinstance(facts, dict):
        return {key: _with_refs(value, schemas) for key, value in facts.items()}
    if isinstance(facts, list):
        return [_with_refs(value, schemas) for value in facts]
    return copy.deepcopy(facts)


def register(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    """Add ``model``'s schema (and those it uses) to ``schemas``; return a reference to it."""
    to_oas = translater(dialect.VERSION)
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub_schema in schema.pop("$defs", {}).items():
        to_oas(sub_schema)
        schemas[name] = sub_schema
    to_oas(schema)
    name = schema.get("title", model.__name__)
    schemas[name] = schema
    return {"$ref": f"#/components/schemas/{name}"}


def _merge(target: dict[str, Any], facts: dict[str, Any]) -> None:
    """Dicts merge, lists extend (``parameters``), a ``schema`` and other values replace."""
    for key, value in facts.items():
        if key == "schema":
            target[key] = value
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list):
            target[key].extend(value)
        else:
            target[key] = value
