"""Seed 002's file drop: ``PUT /file`` (write), ``GET /file/{token}`` (the password only)."""

from typing import Annotated, Any, ClassVar

from aiohttp_pydantic.oas.typing import r200, r201, r400, r401, r404, r410, r413, r415, r429, r507
from pydantic import BaseModel, Field

from pixtag.auth import drops, shares
from pixtag.auth.views.shares import FILE_BYTES, RETRY_AFTER, Password, ShareToken
from pixtag.images.views.fragments import IMAGE_PART
from pixtag.models import Problem
from pixtag.openapi.fragments import BINARY, BUSY
from pixtag.views.base import ProblemView, json_document


class Dropped(BaseModel):
    """Seed 002's answer to a drop."""

    status: Annotated[str, Field(examples=[drops.UPLOADED])]
    url: Annotated[str, Field(description="Where the file is downloaded, once.")]


FORM = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": BINARY,
                    "password": {
                        "type": "string",
                        "maxLength": 1024,
                        "description": "Asked for by the download (empty: none).",
                    },
                },
                "additionalProperties": False,
            },
            "encoding": {"file": IMAGE_PART},
        }
    },
}


class DropCollectionView(ProblemView):
    """Seed 002: drop a file."""

    access: ClassVar[dict[str, str]] = {"PUT": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "PUT": {"operationId": "dropFile", "requestBody": FORM, "responses": BUSY},
    }

    async def put(
        self,
    ) -> r201[Dropped] | r400[Problem] | r413[Problem] | r415[Problem] | r507[Problem]:
        """
        Store a file (the form's ``file``, an image) behind a URL that downloads it once,
        with the form's optional ``password``.

        Tags: seed
        Status Codes:
            201: Stored; ``url`` downloads it once.
            400: The form is malformed, has no ``file``, or an unknown or repeated field.
            413: The body (or the file) is over PIXTAG_MAX_UPLOAD_SIZE.
            415: The body is not multipart, or the file is not an image: pixtag stores images
                only.
            507: There is no space left to store the file.
        """
        url = await drops.drop(self.request)
        document = Dropped(status=drops.UPLOADED, url=url)
        return json_document(document.model_dump_json(), status=201)


class DropView(ProblemView):
    """Seed 002: download a drop, once."""

    access: ClassVar[dict[str, str]] = {"GET": "public"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "downloadDrop", "responses": {"200": FILE_BYTES, **RETRY_AFTER}},
        "HEAD": {
            "operationId": "headDrop",
            "description": "The status and headers GET answers, without the body; it does not"
            " use the drop up.",
            "responses": RETRY_AFTER,
        },
    }

    async def get(
        self, token: ShareToken, /, password: Password = None
    ) -> r200[None] | r400[Problem] | r401[Problem] | r404[Problem] | r410[Problem] | r429[Problem]:
        """
        The dropped file's bytes, once: the image is then deleted, and the URL answers 410.

        Tags: seed
        Status Codes:
            200: The bytes, with their type.
            400: A parameter is invalid.
            401: The drop has a password, and ``password`` is missing or wrong.
            404: No such drop.
            410: It has been downloaded.
            429: Too many wrong passwords; ``Retry-After`` says when to try again.
        """
        return await shares.download(
            self.request, token, shares.Proof(password=password), shares.DROP
        )

    head = get
