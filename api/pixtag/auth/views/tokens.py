"""/auth/me and /tokens: who the request is, and the API tokens (admin)."""

from typing import Annotated, Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r201, r204, r400, r401, r403, r404, r415
from pydantic import Field

from pixtag.auth import service
from pixtag.auth.authenticator import AUTH
from pixtag.auth.models import Me, TokenCreate, TokenCreated, TokenInfo
from pixtag.auth.queries import tokens as queries
from pixtag.models import BIGINT_MAX, DIGITS, Integer, Problem
from pixtag.openapi.fragments import json_body, location
from pixtag.views.base import ProblemView, json_document, read_json


class AuthMeView(ProblemView):
    """What the server makes of the request's credentials."""

    access: ClassVar[dict[str, str]] = {"GET": "public"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "whoAmI"},
    }

    async def get(self) -> r200[Me] | r401[Problem]:
        """
        Say whether tokens are required, and what the request's token (if any) may do.

        With auth off every request may do everything (scope ``admin``).

        Tags: auth
        Status Codes:
            200: What the request may do.
            401: The Authorization header holds a token that is unknown, expired or revoked.
        """
        settings = self.settings
        auth = self.request.app[AUTH]
        header = self.request.headers.get("Authorization")
        me = Me(
            auth_required=auth.enabled,
            authenticated=False,
            scope="admin" if not auth.enabled else ("read" if auth.anonymous_read else None),
            anonymous_read=settings.anonymous_read if auth.enabled else True,
            name=None,
            expires_at=None,
        )
        if header is not None and auth.enabled:
            principal = await auth.authenticate(self.db, header)
            me = me.model_copy(
                update={
                    "authenticated": True,
                    "scope": principal.scope,
                    "name": principal.name,
                    "expires_at": principal.expires_at,
                }
            )
        return json_document(me.model_dump_json())


def _info(row: queries.TokenRow) -> TokenInfo:
    return TokenInfo.model_validate(row.__dict__)


class TokenCollectionView(ProblemView):
    """API tokens."""

    access: ClassVar[dict[str, str]] = {"GET": "admin", "POST": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "listTokens"},
        "POST": {
            "operationId": "createToken",
            "requestBody": json_body(TokenCreate),
            "responses": {"201": {"headers": location("The new token's URL (to revoke it).")}},
        },
    }

    async def post(
        self,
    ) -> r201[TokenCreated] | r400[Problem] | r401[Problem] | r403[Problem] | r415[Problem]:
        """
        Make an API token; the answer holds the token itself, shown this once.

        Tags: auth
        Status Codes:
            201: The token, and what is kept of it.
            400: The body is invalid.
            401: No valid token.
            403: The token is not an admin token.
            415: The body is not JSON.
        """
        body = await read_json(self.request, TokenCreate)
        token, row = await service.create_token(
            self.db, name=body.name, scope=body.scope, expires_in=body.expires_in
        )
        created = TokenCreated(token=token, **row.__dict__)
        location = str(self.request.app.router["token"].url_for(token_id=str(row.token_id)))
        return json_document(created.model_dump_json(), status=201, Location=location)

    async def get(self) -> r200[list[TokenInfo]] | r401[Problem] | r403[Problem]:
        """
        List the usable tokens (not revoked, not expired), never the tokens themselves.

        Tags: auth
        Status Codes:
            200: The tokens, oldest first.
            401: No valid token.
            403: The token is not an admin token.
        """
        rows = await service.list_tokens(self.db)
        body = "[" + ",".join(_info(row).model_dump_json() for row in rows) + "]"
        return json_document(body)


TokenId = Annotated[
    int,
    Field(ge=1, le=BIGINT_MAX, description="The token's id." + DIGITS),
    Integer,
]


class TokenView(ProblemView):
    """One API token."""

    access: ClassVar[dict[str, str]] = {"DELETE": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "DELETE": {"operationId": "revokeToken"},
    }

    async def delete(
        self, token_id: TokenId, /
    ) -> r204[None] | r400[Problem] | r401[Problem] | r403[Problem] | r404[Problem]:
        """
        Revoke a token: every process refuses it within PIXTAG_AUTH_CACHE_TTL seconds (this
        one at once).

        Tags: auth
        Status Codes:
            204: Revoked.
            400: The id is not a number.
            401: No valid token.
            403: The token is not an admin token.
            404: No such token.
        """
        await service.revoke_token(self.db, token_id)
        self.request.app[AUTH].forget()
        return web.Response(status=204)
