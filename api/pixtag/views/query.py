"""The query string: a name an operation does not take is refused, not ignored.

aiohttp-pydantic validates the parameters a view method names and drops the
rest, so a typo (``?tags=pets``) silently widens a listing to everything, and
a repeated single-valued parameter (``?tag=a&tag=b``) fails as a puzzling type
error. The names come from the very signature aiohttp-pydantic reads, so the
two cannot disagree.
"""

import inspect
import typing
from collections.abc import Callable, Mapping
from functools import cache

from multidict import MultiMapping
from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from pixtag.errors import InvalidRequest


@cache
def parameters(handler: Callable[..., object]) -> dict[str, bool]:
    """The query parameters of a view method, in order, each with whether it may repeat."""
    function = inspect.unwrap(handler)
    hints = typing.get_type_hints(function, include_extras=True)
    found = {}
    for name, parameter in inspect.signature(function).parameters.items():
        # aiohttp-pydantic's reading: positional-only is the path, keyword-only
        # the headers, a model the body; a list may repeat.
        if name == "self" or parameter.kind is not parameter.POSITIONAL_OR_KEYWORD:
            continue
        annotation = hints[name]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            continue
        found[name] = typing.get_origin(annotation) is list
    return found


def check(query: MultiMapping[str], accepted: Mapping[str, bool], hints: Mapping[str, str]) -> None:
    """Raise InvalidRequest naming each unknown or wrongly repeated parameter."""
    takes = (
        f"this operation takes {', '.join(accepted)}"
        if accepted
        else "this operation takes no query parameters"
    )
    errors: list[InitErrorDetails] = []
    for name in dict.fromkeys(query):
        values = query.getall(name)
        if name not in accepted:
            error = PydanticCustomError(
                "unknown_parameter", "Unknown parameter: {takes}", {"takes": takes}
            )
        elif len(values) > 1 and not accepted[name]:
            hint = f"; {hints[name]}" if name in hints else ""
            error = PydanticCustomError(
                "repeated_parameter",
                "Given {count} times, but it takes one value{hint}",
                {"count": len(values), "hint": hint},
            )
        else:
            continue
        errors.append({"type": error, "loc": (name,), "input": values[0]})
    if errors:
        raise InvalidRequest(ValidationError.from_exception_data("query", errors), "query string")
