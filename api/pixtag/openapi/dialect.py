"""Pydantic's JSON Schema, spoken as OpenAPI 3.0 Schema Objects.

Pydantic writes JSON Schema 2020-12; OpenAPI 3.0 has its own, older dialect.
aiohttp-pydantic translates only ``anyOf`` + ``null`` into ``nullable``; the
rest is done here, on every schema of the document:

- ``examples`` (a list) becomes ``example`` (one value);
- ``const`` becomes a one-value ``enum``;
- numeric ``exclusiveMinimum``/``exclusiveMaximum`` become the boolean form;
- a ``$ref`` with siblings (``nullable``, ``description``), which 3.0 ignores,
  becomes ``allOf: [$ref]`` beside them.
"""

from typing import Any

SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
SUBSCHEMAS = ("items", "not", "additionalProperties")


def document(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with every schema in it (components and inline) in the 3.0 dialect."""
    result: dict[str, Any] = _walk(spec)
    return result


def _walk(node: Any) -> Any:
    if isinstance(node, list):
        return [_walk(value) for value in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key == "schema" and isinstance(value, dict):
            result[key] = schema(value)
        elif key == "schemas" and isinstance(value, dict):
            result[key] = {name: schema(sub) for name, sub in value.items()}
        else:
            result[key] = _walk(value)
    return result


def schema(node: dict[str, Any]) -> dict[str, Any]:
    """One schema (and those nested in it) in the OpenAPI 3.0 dialect."""
    result = dict(node)
    if "properties" in result:
        result["properties"] = {name: schema(sub) for name, sub in result["properties"].items()}
    for key in SUBSCHEMA_LISTS:
        if key in result:
            result[key] = [schema(sub) for sub in result[key]]
    for key in SUBSCHEMAS:
        if isinstance(result.get(key), dict):
            result[key] = schema(result[key])
    if isinstance(result.get("examples"), list):
        examples = result.pop("examples")
        if examples:
            result["example"] = examples[0]
    if "const" in result:
        result["enum"] = [result.pop("const")]
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = result.get(exclusive)
        if isinstance(value, int | float) and not isinstance(value, bool):
            result[bound] = value
            result[exclusive] = True
    if "$ref" in result and len(result) > 1:
        siblings = {key: value for key, value in result.items() if key != "$ref"}
        return {"allOf": [{"$ref": result["$ref"]}], **siblings}
    return result
