"""The base of every view: validation errors answer problem+json."""

from collections.abc import Mapping
from typing import Any, ClassVar

from aiohttp import web
from aiohttp_pydantic import PydanticView
from pydantic import BaseModel, ValidationError

from pixtag import keys
from pixtag.db.database import Database
from pixtag.errors import InvalidRequest, UnsupportedMediaType, validation_problem
from pixtag.settings import Settings
from pixtag.views import query


class ProblemView(PydanticView):  # type: ignore[misc]  # aiohttp-pydantic ships no types
    """A PydanticView whose validation errors are RFC 9457 problems.

    A query parameter the method does not take is a 400 (``strict_query``);
    ``repeat_hints`` adds advice to the error of a repeated single-valued one.
    """

    strict_query: ClassVar[bool] = True
    repeat_hints: ClassVar[Mapping[str, str]] = {}

    async def _iter(self) -> web.StreamResponse:
        # aiohttp-pydantic's dispatch, which would ignore unknown names; a
        # method it does not allow still answers its 405.
        method = self.request.method
        # An empty query string has nothing to refuse (most requests).
        if self.strict_query and self.request.query and method in self.allowed_methods:
            handler = getattr(type(self), method.lower())
            query.check(self.request.query, query.parameters(handler), self.repeat_hints)
        response: web.StreamResponse = await super()._iter()
        return response

    async def on_validation_error(
        self, exception: ValidationError, context: Any
    ) -> web.StreamResponse:
        return validation_problem(exception, str(context))

    @property
    def db(self) -> Database:
        db: Database = self.request.app[keys.DATABASE]
        return db

    @property
    def settings(self) -> Settings:
        settings: Settings = self.request.app[keys.SETTINGS]
        return settings


def json_document(document: str, *, status: int = 200, **headers: str) -> web.Response:
    """A response whose body is JSON already rendered (by PostgreSQL)."""
    return web.Response(
        status=status, text=document, content_type="application/json", headers=headers
    )


async def read_json[M: BaseModel](
    request: web.Request, model: type[M], *, accepted: tuple[str, ...] = ("application/json",)
) -> M:
    """Parse and validate a JSON request body; refuse other content types with 415.

    ``accepted`` names, for the message, every type the endpoint takes (it may
    have handled the others before calling this).
    """
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type must be {' or '.join(accepted)}, not {request.content_type or 'none'}"
        )
    try:
        return model.model_validate_json(await request.read())
    except ValidationError as error:
        raise InvalidRequest(error, "body") from None
