"""/images: create image records, list them, and count them."""

from types import MappingProxyType
from typing import Any, ClassVar

from aiohttp_pydantic.oas.typing import (
    r200,
    r201,
    r400,
    r413,
    r415,
    r507,
)
from pydantic import BaseModel, Field

from pixtag import keys
from pixtag.errors import BadRequest
from pixtag.images import records, uploads
from pixtag.images.queries import images as queries
from pixtag.images.queries.listing import count_matches, open_listing
from pixtag.images.versions import etag
from pixtag.images.views.fragments import DUPLICATE_OF, IMAGE_LINKS, IMAGE_PART, LOCATION, VERSION
from pixtag.models import (
    AfterId,
    AfterToken,
    ChunkSize,
    Image,
    ImageCreate,
    Limit,
    Listing,
    Problem,
    Query,
    Sha256,
    Tag,
)
from pixtag.openapi.fragments import BINARY, BUSY, STREAM_BUSY
from pixtag.search.filters import listing_filters
from pixtag.similar import service as similar
from pixtag.similar.context import FINGERPRINTER
from pixtag.similar.models import CheckSimilar, UploadedImage
from pixtag.views.base import ProblemView, json_document, read_json
from pixtag.views.stream import stream_document


class ImageCollectionView(ProblemView):
    """The collection of images."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "listImages",
            "responses": {
                "200": {
                    "content": {
                        # The view streams text PostgreSQL renders: the seed's chunked
                        # shape, or one image per line when the client asks for NDJSON.
                        "application/json": {"schema": Listing},
                        "application/x-ndjson": {
                            "schema": {
                                "type": "array",
                                "items": Image,
                                "description": "Newline-delimited JSON: one image per line.",
                            },
                        },
                    },
                },
                **STREAM_BUSY,
            },
        },
        "HEAD": {
            "operationId": "headImages",
            "description": "The status and headers GET /images answers, without the body: the"
            " query runs to its first chunk, so invalid filters and failures show.",
            "responses": STREAM_BUSY,
        },
        "POST": {
            "operationId": "createImage",
            # The view reads the body itself: JSON, or the record and its file at once.
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": ImageCreate},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["meta", "image"],
                            "properties": {"meta": ImageCreate, "image": BINARY},
                            "additionalProperties": False,
                        },
                        "encoding": {
                            "meta": {"contentType": "application/json"},
                            "image": IMAGE_PART,
                        },
                    },
                },
            },
            # No file links: a JSON creation stores no file.
            "responses": {
                "201": {
                    "headers": {"Location": LOCATION, **VERSION, **DUPLICATE_OF},
                    "links": IMAGE_LINKS,
                },
                **BUSY,
            },
        },
    }

    repeat_hints = MappingProxyType(
        {"tag": "to find images having all of several tags, repeat tags_all instead"}
    )

    async def get(
        self,
        tag: Tag | None = None,
        tags_all: list[Tag] = [],  # noqa: B006 - aiohttp-pydantic reads the default
        tags_any: list[Tag] = [],  # noqa: B006
        tags_none: list[Tag] = [],  # noqa: B006
        q: Query | None = None,
        sha256: Sha256 | None = None,
        chunk_size: ChunkSize | None = None,
        after_id: AfterId | None = None,
        limit: Limit | None = None,
        after: AfterToken | None = None,
    ) -> r200[list[Image]] | r400[Problem]:
        """
        Stream the images that match every given filter, in id order or as ``q`` sorts them.

        The body is ``[[image, ...], [image, ...], {"totalImages": N, "totalChunks": M}]``
        (``[{"totalImages": 0, "totalChunks": 0}]`` when nothing matches), one inner
        array per chunk, sent as it is read from the database. With
        ``Accept: application/x-ndjson`` it is one image per line instead.
        ``tag`` and ``tags_all`` keep images having all those tags, ``tags_any``
        images having at least one, ``tags_none`` images having none of them;
        ``q`` is a search in the query language (see the parameter); ``sha256``
        finds the image holding that file. All given conditions apply.
        Walk a large set in pages with ``limit``: a full page ends with
        ``"after": token`` in its totals, which the next request passes as ``after``
        (any sort); ``after_id`` (the last id seen) keeps working for the id order.

        Tags: images
        Status Codes:
            200: The images, streamed in chunks.
            400: A filter is empty or invalid, ``q`` has a syntax error (``position`` names
                where), ``after`` is not a token of this sort, a number is out of range or not
                plain decimal digits, or a parameter is unknown or, taking one value, repeated
                (``tag=a&tag=b``: use ``tags_all``).
        """
        settings = self.settings
        filters = listing_filters(
            q=q,
            tag=tag,
            tags_all=tags_all,
            tags_any=tags_any,
            tags_none=tags_none,
            sha256=sha256,
            after_id=after_id,
            limit=limit,
            after=after,
        )
        opened = open_listing(
            self.db,
            filters,
            media_url=self.request.app[keys.STORAGE].media_url,
            chunk_size=chunk_size or settings.chunk_size,
        )
        return await stream_document(self.request, opened)

    # HEAD answers what GET would, headers only: it runs the query to its first
    # chunk, so an invalid filter or a failing database still show.
    head = get

    async def post(
        self, check_similar: CheckSimilar = False
    ) -> r201[UploadedImage] | r400[Problem] | r413[Problem] | r415[Problem] | r507[Problem]:
        """
        Create an image record from JSON ``{"filename", "tags"}``, or a record and its file.

        Tags are trimmed, NFC-normalised and lower-cased; repeats are dropped.
        As ``multipart/form-data``, a ``meta`` part (that JSON) and an ``image``
        part create the record and store its file in one request, all or nothing;
        sending ``meta`` first lets a bad record be refused before the file is read.
        The answer's ``near_duplicates`` names the images the file duplicates.

        Tags: images
        Status Codes:
            201: The image was created; ``Location`` names it.
            400: The body is not valid JSON, a field is invalid, a part is missing, the
                query has another parameter than ``check_similar``, or it has that one on a
                creation without a file.
            413: The body (or the file) is too large.
            415: The body is neither JSON nor multipart, or the file is not an accepted image.
            507: There is no space left to store the file.
        """
        if uploads.is_multipart(self.request):
            image_id, document = await uploads.create(self.request)
            found = await similar.near_duplicates(
                self.db, self.request.app[FINGERPRINTER], image_id, check=check_similar
            )
            body, headers = similar.answer(document, found)
            # The document shows the row as inserted, at its first version.
            return json_document(
                body,
                status=201,
                Location=f"/images/{image_id}",
                ETag=etag(queries.FIRST_VERSION),
                **headers,
            )
        if "check_similar" in self.request.query:
            raise BadRequest("check_similar applies to an upload with a file (multipart)")
        meta = await read_json(
            self.request, ImageCreate, accepted=("application/json", "multipart/form-data")
        )
        image_id, created = await records.create_record(
            self.db,
            filename=meta.filename,
            tags=meta.tags,
            description=meta.description,
            media_url=self.request.app[keys.STORAGE].media_url,
        )
        return json_document(
            created.document,
            status=201,
            Location=f"/images/{image_id}",
            ETag=etag(created.version),
        )


class ImageCount(BaseModel):
    """How many images a search matches."""

    images: int = Field(ge=0, examples=[12431])
    exact: bool = Field(
        description="True: counted. False: more than 10,000 match, and ``images`` is the"
        " search's estimate."
    )


class ImageCountView(ProblemView):
    """How many images the filters of GET /images match."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "countImages", "responses": STREAM_BUSY},
    }

    async def get(
        self,
        tag: Tag | None = None,
        tags_all: list[Tag] = [],  # noqa: B006 - aiohttp-pydantic reads the default
        tags_any: list[Tag] = [],  # noqa: B006
        tags_none: list[Tag] = [],  # noqa: B006
        q: Query | None = None,
    ) -> r200[ImageCount] | r400[Problem]:
        """
        Count the images the filters match (as GET /images takes them): exactly up to
        10,000, else the estimate the listing plans with, said to be one (``exact``).

        Tags: images
        Status Codes:
            200: The count.
            400: A filter is empty or invalid, or ``q`` has a syntax error.
        """
        filters = listing_filters(
            q=q, tag=tag, tags_all=tags_all, tags_any=tags_any, tags_none=tags_none,
            sha256=None, after_id=None, limit=None, after=None,
        )  # fmt: skip
        counted = await count_matches(self.db, filters)
        return json_document(f'{{"images":{counted.images},"exact":{str(counted.exact).lower()}}}')
