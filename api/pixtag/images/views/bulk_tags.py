"""/images/tags: add and remove tags on many images at once."""

import json
from typing import Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r400, r409, r415, r503

from pixtag.images import retagging as tagging
from pixtag.models import BulkTags, BulkTagsResult, Problem
from pixtag.openapi.fragments import BUSY
from pixtag.views.base import ProblemView, read_json


class BulkTagsView(ProblemView):
    """Tags of many images."""

    access: ClassVar[dict[str, str]] = {"POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {
            "operationId": "retagImages",
            # The view reads the body itself (read_json: 415 for other types).
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": BulkTags}},
            },
            "responses": BUSY,
        },
    }

    async def post(
        self,
    ) -> r200[BulkTagsResult] | r400[Problem] | r409[Problem] | r415[Problem] | r503[Problem]:
        """
        Add and remove tags on the images a search selects (``query``) or ``ids`` name.

        The images are changed in batches of ``batch_size`` in id order, each batch its
        own transaction: no lock is held longer than one batch. Only images the change
        really changes are counted. Tags are normalised as on create; aliases resolve to
        their targets. When a batch fails, the answer is a problem naming it
        (``failed_batch``, ``failed_ids``) with ``changed`` and ``batches``: the batches
        before it are kept.

        Tags: images
        Status Codes:
            200: Every batch is committed; how many images changed, in how many batches.
            400: The body is not valid JSON, a field is invalid, ``query`` has a syntax
                error (``position``), or the query string has a parameter (none is taken).
            409: A batch was refused (e.g. an image would have more than 100 tags); the
                earlier batches are kept.
            415: The body is not JSON.
            503: A batch was lost (the database went away); the earlier ones are kept.
        """
        body = await read_json(self.request, BulkTags)
        report = await tagging.retag(
            self.db,
            query=body.query,
            ids=body.ids,
            add=body.add,
            remove=body.remove,
            batch_size=body.batch_size,
            timeout_ms=self.settings.pool_timeout_ms,
        )
        result = BulkTagsResult(changed=report.changed, batches=report.batches)
        return web.json_response(json.loads(result.model_dump_json()))
