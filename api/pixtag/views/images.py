"""/images and /images/{image_id}: create, list and read image records."""

from functools import partial
from types import MappingProxyType

from aiohttp_pydantic.oas.typing import r200, r201, r400, r404, r413, r415, r507

from pixtag import keys, uploads
from pixtag.db.pool import cursor
from pixtag.db.queries import images as queries
from pixtag.db.queries import listing
from pixtag.db.queries import tags as tag_queries
from pixtag.db.stream import declared_cursor
from pixtag.models import (
    AfterId,
    ChunkSize,
    Image,
    ImageCreate,
    ImageId,
    Limit,
    Problem,
    Sha256,
    Tag,
)
from pixtag.views.base import ProblemView, json_document, read_json
from pixtag.views.stream import stream_document, wants_ndjson


class ImageCollectionView(ProblemView):
    """The collection of images."""

    repeat_hints = MappingProxyType(
        {"tag": "to find images having all of several tags, repeat tags_all instead"}
    )

    async def get(
        self,
        tag: Tag | None = None,
        tags_all: list[Tag] = [],  # noqa: B006 - aiohttp-pydantic reads the default
        tags_any: list[Tag] = [],  # noqa: B006
        sha256: Sha256 | None = None,
        chunk_size: ChunkSize | None = None,
        after_id: AfterId | None = None,
        limit: Limit | None = None,
    ) -> r200[list[Image]] | r400[Problem]:
        """
        Stream the images, in id order, that match every given filter.

        The body is ``[[image, ...], [image, ...], {"totalImages": N, "totalChunks": M}]``
        (``[{"totalImages": 0, "totalChunks": 0}]`` when nothing matches), one inner
        array per chunk, sent as it is read from the database. With
        ``Accept: application/x-ndjson`` it is one image per line instead.
        ``tag`` and ``tags_all`` keep images having all those tags, ``tags_any``
        images having at least one (an alias means its target); ``sha256`` finds the
        image holding that file.
        Walk a large set in pages with ``after_id`` (the last id seen) and ``limit``.

        Tags: images
        Status Codes:
            200: The images, streamed in chunks.
            400: A filter is empty or invalid, a number is out of range or not plain decimal
                digits, or a parameter is unknown or, taking one value, repeated (``tag=a&tag=b``:
                use ``tags_all``).
        """
        settings = self.settings
        chunk = chunk_size or settings.chunk_size
        tags_all = list(dict.fromkeys([*tags_all, *([tag] if tag else [])]))
        tags_any = list(dict.fromkeys(tags_any))
        if tags_all or tags_any:
            # An alias asked for means its target (the images hold only targets).
            async with cursor(self.request.app) as cur:
                tags_all, tags_any = await tag_queries.resolve_aliases(cur, tags_all, tags_any)
        sql, params = listing.select_images(
            media_url=self.request.app[keys.STORAGE].media_url,
            tags_all=tags_all,
            tags_any=tags_any,
            sha256=sha256,
            after_id=after_id,
            limit=limit,
        )
        opened = declared_cursor(
            self.request.app[keys.POOL],
            sql,
            params,
            chunk_size=chunk,
            idle_timeout_ms=settings.stream_idle_timeout_ms,
            acquire_timeout_ms=settings.pool_timeout_ms,
            slots=self.request.app[keys.STREAM_SLOTS],
            planner=partial(
                listing.planner_settings,
                params=params,
                first_rows=min(chunk, limit) if limit else chunk,
            ),
        )
        return await stream_document(
            self.request,
            opened,
            ndjson=wants_ndjson(self.request),
            write_timeout=settings.stream_idle_timeout_ms / 1000,
            min_rate=settings.stream_min_rate,
        )

    # HEAD answers what GET would, headers only: it runs the query to its first
    # chunk, so an invalid filter or a failing database still show.
    head = get

    async def post(
        self,
    ) -> r201[Image] | r400[Problem] | r413[Problem] | r415[Problem] | r507[Problem]:
        """
        Create an image record from JSON ``{"filename", "tags"}``, or a record and its file.

        Tags are trimmed, NFC-normalised and lower-cased; repeats are dropped.
        As ``multipart/form-data``, a ``meta`` part (that JSON) and an ``image``
        part create the record and store its file in one request, all or nothing;
        sending ``meta`` first lets a bad record be refused before the file is read.

        Tags: images
        Status Codes:
            201: The image was created; ``Location`` names it.
            400: The body is not valid JSON, a field is invalid, a part is missing, or the
                query has a parameter (none is taken).
            413: The body (or the file) is too large.
            415: The body is neither JSON nor multipart, or the file is not an accepted image.
            507: There is no space left to store the file.
        """
        if uploads.is_multipart(self.request):
            image_id, document = await uploads.create(self.request)
            return json_document(document, status=201, Location=f"/images/{image_id}")
        meta = await read_json(
            self.request, ImageCreate, accepted=("application/json", "multipart/form-data")
        )
        async with cursor(self.request.app) as cur:
            image_id, document = await queries.insert_image(
                cur,
                filename=meta.filename,
                tags=meta.tags,
                media_url=self.request.app[keys.STORAGE].media_url,
            )
        return json_document(document, status=201, Location=f"/images/{image_id}")


class ImageView(ProblemView):
    """One image."""

    async def get(self, image_id: ImageId, /) -> r200[Image] | r400[Problem] | r404[Problem]:
        """
        Read one image with its tags and attachment.

        Tags: images
        Status Codes:
            200: The image.
            400: The id is not plain decimal digits between 1 and 2^63-1, or the query has a
                parameter (none is taken).
            404: There is no image with this id.
        """
        async with cursor(self.request.app) as cur:
            document = await queries.image_json(
                cur, image_id, media_url=self.request.app[keys.STORAGE].media_url
            )
        return json_document(document)

    head = get
