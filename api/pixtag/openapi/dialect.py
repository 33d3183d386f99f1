"""Pydantic's JSON Schema, spoken as OpenAPI 3.0 Schema Objects: the library's translator.

Pydantic writes JSON Schema 2020-12; OpenAPI 3.0 has its own, older dialect.
aiohttp-pydantic translates every schema it puts in the document through the
translator registered for the document's version, and its own translates
only ``anyOf`` + ``null`` into ``nullable``. ``translate`` is registered in its
place (``aiohttp_pydantic.oas.pydantic_schema_to_oas.add_or_replace_translater``):
the library's step, then, on the schema and every schema nested in it:

- ``examples`` (a list) becomes ``example`` (one value);
- ``const`` becomes a one-value ``enum``;
- numeric ``exclusiveMinimum``/``exclusiveMaximum`` become the boolean form;
- a ``$ref`` with siblings (``nullable``, ``description``), which 3.0 ignores,
  becomes ``allOf: [$ref]`` beside them.
"""

from typing import Any

from aiohttp_pydantic.oas.pydantic_schema_to_oas import (
    add_or_replace_translater,
    pydantic_schema_to_oas_3_0,
)

VERSION = "3.0.0"
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
SUBSCHEMAS = ("items", "not", "additionalProperties")


def translate(node: dict[str, Any]) -> None:
    """Make ``node`` (in place) an OpenAPI 3.0 schema."""
    pydantic_schema_to_oas_3_0(node)
    _dialect(node)


def register() -> None:
    """Make ``translate`` the translator of the documents pixtag generates."""
    add_or_replace_translater(VERSION, translate)


def _dialect(node: dict[str, Any]) -> None:
    for sub in node.get("properties", {}).values():
        _dialect(sub)
    for key in SUBSCHEMA_LISTS:
        for sub in node.get(key, []):
            _dialect(sub)
    for key in SUBSCHEMAS:
        if isinstance(node.get(key), dict):
            _dialect(node[key])
    if isinstance(node.get("examples"), list):
        examples = node.pop("examples")
        if examples:
            node["example"] = examples[0]
    if "const" in node:
        node["enum"] = [node.pop("const")]
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = node.get(exclusive)
        if isinstance(value, int | float) and not isinstance(value, bool):
            node[bound] = value
            node[exclusive] = True
    if "$ref" in node and len(node) > 1:
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        reference = node["$ref"]
        node.clear()
        node["allOf"] = [{"$ref": reference}]
        node.update(siblings)
