"""Share links: made for an image (write), listed (read), revoked (write), followed (public)."""

from typing import Annotated, Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r201, r204, r302, r400, r401, r404, r410, r415, r429
from pydantic import Field

from pixtag.auth import shares
from pixtag.auth.models import Share, ShareCreate
from pixtag.models import ImageId, Problem
from pixtag.openapi.fragments import json_body, location
from pixtag.views.base import ProblemView, json_document, read_json

ShareToken = Annotated[str, Field(min_length=1, max_length=100, description="The share's token.")]


class ImageSharesView(ProblemView):
    """The share links of one image."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "listShares"},
        "POST": {
            "operationId": "createShare",
            "requestBody": json_body(ShareCreate),
            "responses": {"201": {"headers": location("The share link, /s/{token}.")}},
        },
    }

    async def post(
        self, image_id: ImageId, /
    ) -> r201[Share] | r400[Problem] | r404[Problem] | r410[Problem] | r415[Problem]:
        """
        Make a share link for the image's file: ``/s/{token}`` needs no API token.

        Optional: a ``password`` (hashed with scrypt), ``expires_in`` seconds, and
        ``max_downloads``.

        Tags: shares
        Status Codes:
            201: The share, with its URL.
            400: The body or the id is invalid.
            404: No such image.
            410: The image was deleted.
            415: The body is not JSON.
        """
        body = await read_json(self.request, ShareCreate)
        share = await shares.create(self.request.app, image_id, body)
        return json_document(share.model_dump_json(), status=201, Location=share.url)

    async def get(
        self, image_id: ImageId, /
    ) -> r200[list[Share]] | r400[Problem] | r404[Problem] | r410[Problem]:
        """
        List the image's share links that are not revoked, oldest first.

        Tags: shares
        Status Codes:
            200: The shares.
            400: The id is invalid.
            404: No such image.
            410: The image was deleted.
        """
        found = await shares.listing(self.request.app, image_id)
        return json_document("[" + ",".join(s.model_dump_json() for s in found) + "]")


class ShareView(ProblemView):
    """One share link."""

    access: ClassVar[dict[str, str]] = {"DELETE": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "DELETE": {"operationId": "revokeShare"},
    }

    async def delete(self, token: ShareToken, /) -> r204[None] | r400[Problem] | r404[Problem]:
        """
        Revoke a share link: it answers 410 Gone from now on.

        Tags: shares
        Status Codes:
            204: Revoked.
            400: The token is invalid.
            404: No such share link.
        """
        await shares.revoke(self.request.app, token)
        return web.Response(status=204)


class ShareLinkView(ProblemView):
    """Following a share link (no API token needed)."""

    access: ClassVar[dict[str, str]] = {"GET": "public"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "followShare",
            "parameters": [
                {
                    "in": "header",
                    "name": "X-Share-Password",
                    "required": False,
                    "description": "The share's password (instead of ?password=).",
                    "schema": {"type": "string"},
                }
            ],
            "responses": {
                "302": {
                    "headers": location("The file's signed URL, valid PIXTAG_MEDIA_URL_TTL s.")
                },
                "429": {
                    "headers": {
                        "Retry-After": {
                            "description": "Seconds until passwords may be tried again.",
                            "schema": {"type": "string"},
                        }
                    }
                },
            },
        },
    }

    async def get(
        self, token: ShareToken, /, password: str | None = None
    ) -> r302[None] | r400[Problem] | r401[Problem] | r404[Problem] | r410[Problem] | r429[Problem]:
        """
        Download the shared file: a redirect to a signed URL valid PIXTAG_MEDIA_URL_TTL seconds.

        Each redirect counts one download. The password, if the share has one, is
        ``?password=`` or the ``X-Share-Password`` header.

        Tags: shares
        Status Codes:
            302: ``Location`` is the file's signed URL.
            400: A parameter is invalid.
            401: The share needs its password, and it is missing or wrong.
            404: No such share link, or the image has no file.
            410: The share expired, was used up or revoked, or its image was deleted.
            429: Too many wrong passwords; ``Retry-After`` says when to try again.
        """
        given = self.request.headers.get("X-Share-Password", password)
        location = await shares.follow(self.request.app, token, given)
        return web.Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})
