"""Share links: made for an image (write), listed (read), revoked (write), followed (public)."""

from typing import Annotated, Any, ClassVar, Literal

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r201, r204, r302, r400, r401, r404, r410, r415, r429
from pydantic import Field

from pixtag.albums import shares as album_shares
from pixtag.auth import share_page, shares
from pixtag.auth.models import AlbumShareDocument, Share, ShareCreate
from pixtag.errors import BadRequest, NotFound
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


PASSWORD_HEADER = {
    "in": "header",
    "name": "X-Share-Password",
    "required": False,
    "description": "The share's password (instead of ?password=).",
    "schema": {"type": "string"},
}
RETRY_AFTER = {
    "429": {
        "headers": {
            "Retry-After": {
                "description": "Seconds until passwords may be tried again.",
                "schema": {"type": "string"},
            }
        }
    }
}
HTML_PAGE = {"text/html": {"schema": {"type": "string"}}}
FILE_BYTES = {
    "description": "The file's bytes, as an attachment named by its filename.",
    "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
}
SHARED_BYTES = {
    "description": "The file's bytes, as an attachment named by its filename; an album's"
    " images as one zip.",
    "content": {
        "image/*": {"schema": {"type": "string", "format": "binary"}},
        "application/zip": {"schema": {"type": "string", "format": "binary"}},
    },
}
Password = Annotated[
    str | None, Field(max_length=1024, description="The share's password, if it has one.")
]
GrantSignature = Annotated[
    str | None,
    Field(max_length=64, description="A grant the share's page signed (with ``expires``)."),
]
GrantExpiry = Annotated[
    str | None, Field(max_length=20, description="When the page's grant expires (Unix time).")
]


def proof(request: web.Request, password: str | None) -> shares.Proof:
    given = request.headers.get("X-Share-Password", password)
    return shares.Proof(password=given, granted=shares.granted(request))


class ShareLinkView(ProblemView):
    """A share link (no API token needed): a page for browsers, a redirect for API clients."""

    access: ClassVar[dict[str, str]] = {"GET": "public", "POST": "public"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "followShare",
            "parameters": [PASSWORD_HEADER],
            "responses": {
                "200": {
                    "description": "The share's page (Accept: text/html).",
                    "content": HTML_PAGE,
                },
                "302": {"headers": location("/s/{token}/download, where the bytes are.")},
                **RETRY_AFTER,
            },
        },
        "HEAD": {
            "operationId": "headShare",
            "description": "The status and headers GET answers, without the body; counts nothing.",
            "parameters": [PASSWORD_HEADER],
            "responses": RETRY_AFTER,
        },
        "POST": {
            "operationId": "openSharePage",
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["password"],
                            "properties": {
                                "password": {"type": "string", "minLength": 1, "maxLength": 1024}
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {"description": "The share's page, opened.", "content": HTML_PAGE},
                "401": {
                    "description": "The page, saying the password is wrong.",
                    "content": HTML_PAGE,
                },
                "404": {
                    "description": "The page, saying there is no such link.",
                    "content": HTML_PAGE,
                },
                "410": {
                    "description": "The page, saying the link is used up.",
                    "content": HTML_PAGE,
                },
                "429": {
                    "description": "The page, saying when a password may be tried again.",
                    "content": HTML_PAGE,
                    **RETRY_AFTER["429"],
                },
            },
        },
    }

    async def get(
        self, token: ShareToken, /, password: Password = None
    ) -> (
        r200[AlbumShareDocument]
        | r302[None]
        | r400[Problem]
        | r401[Problem]
        | r404[Problem]
        | r410[Problem]
        | r429[Problem]
    ):
        """
        Open a share link. A browser (or a link preview) gets the share's page: its
        thumbnail, name and size, a password form if it needs one, and a Download button.
        An API client is sent to ``/s/{token}/download`` once the link is checked (the
        password, if the share has one, is ``?password=`` or ``X-Share-Password``).
        An album's link shows a page of its images instead, and an API client its JSON
        (each image's preview, view and download URLs, and ``download_all``, the zip).
        Nothing here counts a download.

        Tags: shares
        Status Codes:
            200: The share's page (HTML), or an album's JSON.
            302: ``Location`` is the download URL (the query string kept).
            400: A parameter is invalid.
            401: The share needs its password, and it is missing or wrong.
            404: No such share link, or the image has no file.
            410: The share expired, was used up or revoked, or its image was deleted.
            429: Too many wrong passwords; ``Retry-After`` says when to try again.
        """
        if await album_shares.is_album(self.request.app, token):
            if share_page.wants_page(self.request):
                return await album_shares.page(self.request, token)
            link = await album_shares.check(self.request.app, token, proof(self.request, password))
            document = await album_shares.listing_document(self.request, token, link, grant=False)
            return json_document(AlbumShareDocument(**document).model_dump_json())
        if share_page.wants_page(self.request):
            return await share_page.page(self.request, token)
        await shares.check(self.request.app, token, proof(self.request, password))
        raw = self.request.rel_url.raw_query_string
        query = f"?{raw}" if raw else ""
        return web.Response(
            status=302,
            headers={"Location": f"/s/{token}/download{query}", "Cache-Control": "no-store"},
        )

    head = get

    async def post(self, token: ShareToken, /) -> r200[None] | r400[Problem]:
        """
        The share page's password form: the page again, opened with the right password
        (its Download button then works for PIXTAG_MEDIA_URL_TTL seconds), or saying what
        went wrong. Wrong passwords count towards the link's limit as on GET.

        Tags: shares
        Status Codes:
            200: The page, opened.
            400: The form is not a form, or has no password.
            401: The page, saying the password is wrong.
            404: The page, saying there is no such link.
            410: The page, saying the link is used up.
            429: The page, saying when a password may be tried again.
        """
        if self.request.content_type != "application/x-www-form-urlencoded":
            raise BadRequest("Send the page's form (application/x-www-form-urlencoded)")
        try:
            form = await self.request.post()
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("The form is malformed") from None
        password = form.get("password")
        if not isinstance(password, str) or not password or len(password) > 1024:
            raise BadRequest("The form needs its password field")
        if await album_shares.is_album(self.request.app, token):
            return await album_shares.page(self.request, token, password)
        return await share_page.page(self.request, token, password)


class ShareDownloadView(ProblemView):
    """A share's bytes: each complete download counts one."""

    access: ClassVar[dict[str, str]] = {"GET": "public"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "downloadShare",
            "parameters": [PASSWORD_HEADER],
            "responses": {"200": SHARED_BYTES, **RETRY_AFTER},
        },
        "HEAD": {
            "operationId": "headShareDownload",
            "description": "The status and headers GET answers, without the body; counts nothing.",
            "parameters": [PASSWORD_HEADER],
            "responses": RETRY_AFTER,
        },
    }

    async def get(
        self,
        token: ShareToken,
        /,
        password: Password = None,
        md5: GrantSignature = None,
        expires: GrantExpiry = None,
    ) -> r200[None] | r400[Problem] | r401[Problem] | r404[Problem] | r410[Problem] | r429[Problem]:
        """
        Download the shared file (200, the bytes); an album's link: every image of the
        album with a file, as one zip (stored entries, streamed as it is written). A
        download counts when its bytes start and is given back if they could not all be
        sent; a one-time link is used up by one complete download, never by a page, a HEAD
        or a link preview.

        Tags: shares
        Status Codes:
            200: The bytes (``Content-Disposition: attachment``).
            400: A parameter is invalid.
            401: The share needs its password (or the page's grant), and it is missing or
                wrong.
            404: No such share link, or the image has no file.
            410: The share expired, was used up or revoked, or its image was deleted.
            429: Too many wrong passwords; ``Retry-After`` says when to try again.
        """
        given = proof(self.request, password)
        if await album_shares.is_album(self.request.app, token):
            return await album_shares.zip_all(self.request, token, given)
        return await shares.download(self.request, token, given)

    head = get


class SharePreviewView(ProblemView):
    """A share's thumbnail, for its page."""

    access: ClassVar[dict[str, str]] = {"GET": "public"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "previewShare",
            "parameters": [PASSWORD_HEADER],
            "responses": {
                "200": {
                    "description": "The thumbnail's bytes.",
                    "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
                },
                **RETRY_AFTER,
            },
        },
        "HEAD": {
            "operationId": "headSharePreview",
            "description": "The status and headers GET answers, without the body.",
            "parameters": [PASSWORD_HEADER],
            "responses": RETRY_AFTER,
        },
    }

    async def get(
        self,
        token: ShareToken,
        /,
        password: Password = None,
        md5: GrantSignature = None,
        expires: GrantExpiry = None,
    ) -> r200[None] | r400[Problem] | r401[Problem] | r404[Problem] | r410[Problem] | r429[Problem]:
        """
        The shared image's thumbnail (the ``thumb`` rendition), as its page shows it; it
        counts no download.

        Tags: shares
        Status Codes:
            200: The thumbnail.
            400: A parameter is invalid.
            401: The share needs its password (or the page's grant).
            404: No such share link, the image has no file, or no thumbnail yet.
            410: The share expired, was used up or revoked, or its image was deleted.
            429: Too many wrong passwords; ``Retry-After`` says when to try again.
        """
        return await shares.preview(self.request, token, proof(self.request, password))

    head = get


AlbumShareView = Literal["preview", "view", "download"]


class AlbumShareImageView(ProblemView):
    """One image of an album's share link: its thumbnail, its large view, or its file."""

    access: ClassVar[dict[str, str]] = {"GET": "public"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "albumShareImage",
            "parameters": [PASSWORD_HEADER],
            "responses": {"200": FILE_BYTES, **RETRY_AFTER},
        },
        "HEAD": {
            "operationId": "headAlbumShareImage",
            "description": "The status and headers GET answers, without the body; counts nothing.",
            "parameters": [PASSWORD_HEADER],
            "responses": RETRY_AFTER,
        },
    }

    async def get(
        self,
        token: ShareToken,
        image_id: ImageId,
        what: AlbumShareView,
        /,
        password: Password = None,
        md5: GrantSignature = None,
        expires: GrantExpiry = None,
    ) -> r200[None] | r400[Problem] | r401[Problem] | r404[Problem] | r410[Problem] | r429[Problem]:
        """
        An image of the album the link shares: ``preview`` (its thumbnail) and ``view`` (its
        large rendition) count nothing; ``download`` sends its file and counts one download,
        as the zip does. An image not in the album (now) is a 404, whatever its id.

        Tags: shares
        Status Codes:
            200: The bytes.
            400: A parameter is invalid.
            401: The share needs its password (or the page's grant).
            404: No such share link, not an album's, or the image is not in the album.
            410: The share expired, was used up or revoked, or its album was deleted.
            429: Too many wrong passwords; ``Retry-After`` says when to try again.
        """
        if not await album_shares.is_album(self.request.app, token):
            raise NotFound("No such album share link")
        given = proof(self.request, password)
        return await album_shares.image(self.request, token, image_id, what, given)

    head = get
