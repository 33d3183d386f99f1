"""File drops (seed 002's ``PUT /file``): an image stored with a share of one download.

``PUT /file`` stores the form's ``file`` as an image (through the one
upload path: an image or 415) and makes a share of kind ``drop`` with the
form's optional ``password``; its URL is ``/file/{token}``. Downloading it
answers the bytes (``pixtag.auth.shares.download``) and then deletes the
image through the normal delete path, so the URL answers 410 from then on.
"""

from aiohttp import web
from pydantic import ValidationError

from pixtag import keys
from pixtag.auth import shares
from pixtag.auth.models import ShareCreate
from pixtag.errors import InvalidRequest
from pixtag.images import removal, uploads
from pixtag.images.seed_files import form_filename

UPLOADED = "File Uploaded Successfully"


async def drop(request: web.Request) -> str:
    """Store the form's file and make its drop; the drop's absolute URL."""
    app = request.app
    form = await uploads.receive_form(request, "file", {"password"})
    try:
        password = form.fields.get("password") or None
        body = ShareCreate.model_validate({"password": password})
        filename = form_filename(None, form.filename, form.received.image.content_type)
    except ValidationError as error:
        await form.received.spooled.discard()
        raise InvalidRequest(error, "form") from None
    except BaseException:
        await form.received.spooled.discard()
        raise
    image_id, _ = await app[keys.INGEST].create(
        form.received, filename=filename, tags=[], description=""
    )
    try:
        made = await shares.create(app, image_id, body, kind=shares.DROP)
    except BaseException:
        # No drop without its link: the image goes again (a failure leaves it listed).
        await removal.delete_image(app[keys.INGEST], image_id, None)
        raise
    return str(request.url.origin().join(request.app.router["drop"].url_for(token=made.token)))
