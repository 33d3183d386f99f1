"""/albums: manual and smart albums, their images in order, and the albums of an image."""

import json
from typing import Any, ClassVar, TypeAlias

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r201, r204, r400, r404, r409, r410, r412, r415, r422

from pixtag import keys
from pixtag.albums import queries, service
from pixtag.albums import shares as album_shares
from pixtag.albums.models import (
    Album,
    AlbumCreate,
    AlbumId,
    AlbumImagesAdd,
    AlbumImagesRemove,
    AlbumListing,
    AlbumOrder,
    AlbumPatch,
    ImageAlbums,
)
from pixtag.auth.models import AlbumShare, ShareCreate
from pixtag.errors import DomainError
from pixtag.images.queries.listing import ListingFilters, open_listing
from pixtag.images.versions import etag, if_match_versions
from pixtag.images.views.fragments import IF_MATCH
from pixtag.models import (
    AfterId,
    AfterToken,
    ChunkSize,
    Image,
    ImageId,
    Limit,
    Listing,
    Problem,
)
from pixtag.openapi.fragments import BUSY, STREAM_BUSY, header, json_body, location
from pixtag.search import cursor_token
from pixtag.search.grammar import parse
from pixtag.views.base import ProblemView, json_document, read_json
from pixtag.views.stream import stream_document

VERSION = {"ETag": header('The album\'s version, e.g. "v3", for If-Match.')}
# What a change of an album answers (the statuses each view's docstring explains).
Changed: TypeAlias = (  # noqa: UP040 - the library reads a Union, not a TypeAliasType
    r200[Album]
    | r400[Problem]
    | r404[Problem]
    | r409[Problem]
    | r410[Problem]
    | r412[Problem]
    | r415[Problem]
)
Created: TypeAlias = (  # noqa: UP040 - as Changed
    r201[Album] | r400[Problem] | r404[Problem] | r409[Problem] | r410[Problem] | r415[Problem]
)


class QueryBroken(DomainError):
    """A smart album's stored query no longer reads as a search."""

    status = 422

    def __init__(self, album_id: int, why: str) -> None:
        super().__init__(f"Album <{album_id}>'s query no longer reads as a search: {why}")


def _album(request: web.Request, written: service.Written, status: int = 200) -> web.Response:
    headers = {"ETag": etag(written.version)}
    if status == 201:
        album_id = json.loads(written.document)["album_id"]
        headers["Location"] = str(request.app.router["album"].url_for(album_id=str(album_id)))
    return json_document(written.document, status=status, **headers)


def _listing(model: type, item: type, what: str) -> dict[str, Any]:
    return {
        "200": {
            "content": {
                "application/json": {"schema": model},
                "application/x-ndjson": {
                    "schema": {
                        "type": "array",
                        "items": item,
                        "description": f"Newline-delimited JSON: one {what} per line.",
                    },
                },
            },
        },
        **STREAM_BUSY,
    }


class AlbumCollectionView(ProblemView):
    """Albums."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "listAlbums", "responses": _listing(AlbumListing, Album, "album")},
        "POST": {
            "operationId": "createAlbum",
            "requestBody": json_body(AlbumCreate),
            "responses": {"201": {"headers": {**VERSION, **location("The album.")}}, **BUSY},
        },
    }

    async def get(
        self,
        chunk_size: ChunkSize | None = None,
        after_id: AfterId | None = None,
        limit: Limit | None = None,
    ) -> r200[list[Album]] | r400[Problem]:
        """
        Stream the albums in id order, in the envelope of GET /images (or NDJSON), with
        each manual album's image count and the cover (the image chosen, else the first).

        Tags: albums
        Status Codes:
            200: The albums, streamed in chunks.
            400: A parameter is invalid, unknown or repeated.
        """
        opened = queries.open_albums(
            self.db,
            after_id=after_id,
            limit=limit,
            chunk_size=chunk_size or self.settings.chunk_size,
        )
        return await stream_document(self.request, opened, totals_name="totalAlbums")

    async def post(self) -> Created:
        """
        Create an album: manual (images added with POST /albums/{id}/images), or smart
        with ``query`` (the images that search finds when the album is read).

        Tags: albums
        Status Codes:
            201: The album; ``Location`` names it, ``ETag`` is its version.
            400: The body is not valid JSON, a field is invalid, or ``query`` is no search
                (``position`` names where).
            404: ``cover_id`` names no image.
            409: An album has this name (in any case).
            410: ``cover_id`` names a deleted image.
            415: The body is not JSON.
        """
        body = await read_json(self.request, AlbumCreate)
        return _album(self.request, await service.create(self.db, body), status=201)


class AlbumView(ProblemView):
    """One album. ``ETag`` is its version."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "PATCH": "write", "DELETE": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "getAlbum", "responses": {"200": {"headers": VERSION}, **BUSY}},
        "PATCH": {
            "operationId": "updateAlbum",
            "parameters": IF_MATCH,
            "requestBody": json_body(AlbumPatch),
            "responses": {"200": {"headers": VERSION}, **BUSY},
        },
        "DELETE": {"operationId": "deleteAlbum", "parameters": IF_MATCH, "responses": BUSY},
    }

    async def get(
        self, album_id: AlbumId, /
    ) -> r200[Album] | r400[Problem] | r404[Problem] | r410[Problem]:
        """
        Read an album; a smart album whose query no longer reads as a search says why
        (``query_error``).

        Tags: albums
        Status Codes:
            200: The album.
            400: The id is invalid, or the query has a parameter (none is taken).
            404: No album has this id.
            410: The album was deleted.
        """
        async with self.db.cursor() as cur:
            row = await queries.read(cur, album_id)
        document = row.document
        why = service.query_error(row.query)
        if why is not None:
            merged = {**json.loads(document), "query_error": why}
            document = json.dumps(merged, ensure_ascii=False, separators=(",", ":"))
        return json_document(document, ETag=etag(row.version))

    async def patch(self, album_id: AlbumId, /) -> Changed:
        """
        Change the album's ``name``, ``description``, ``cover_id`` (null: the first image)
        or, for a smart album, its ``query``. With ``If-Match``, only at that version.

        Tags: albums
        Status Codes:
            200: The album as changed; ``ETag`` is its new version.
            400: The body is not valid JSON, empty, has an unknown or null field (but
                ``cover_id``), a field is invalid, or ``query`` is no search.
            404: No album has this id, or ``cover_id`` names no image.
            409: Another album has this name, or ``query`` given to a manual album.
            410: The album, or the cover image, was deleted.
            412: If-Match does not name the album's current version.
            415: The body is not JSON.
        """
        patch = await read_json(self.request, AlbumPatch)
        versions = if_match_versions(self.request)
        return _album(self.request, await service.edit(self.db, album_id, patch, versions))

    async def delete(
        self, album_id: AlbumId, /
    ) -> r204[None] | r400[Problem] | r404[Problem] | r410[Problem] | r412[Problem]:
        """
        Delete the album (its images stay); its id answers 410 from then on.

        Tags: albums
        Status Codes:
            204: The album was deleted.
            400: The id is invalid, or the query has a parameter (none is taken).
            404: No album has this id.
            410: The album was deleted already.
            412: If-Match does not name the album's current version.
        """
        await service.delete(self.db, album_id, if_match_versions(self.request))
        return web.Response(status=204)


class AlbumImagesView(ProblemView):
    """An album's images: listed in its order; a manual album's added and removed."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write", "DELETE": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "listAlbumImages",
            "responses": _listing(Listing, Image, "image"),
        },
        "POST": {
            "operationId": "addAlbumImages",
            "parameters": IF_MATCH,
            "requestBody": json_body(AlbumImagesAdd),
            "responses": {"200": {"headers": VERSION}, **BUSY},
        },
        "DELETE": {
            "operationId": "removeAlbumImages",
            "parameters": IF_MATCH,
            "requestBody": json_body(AlbumImagesRemove),
            "responses": {"200": {"headers": VERSION}, **BUSY},
        },
    }

    async def get(
        self,
        album_id: AlbumId,
        /,
        chunk_size: ChunkSize | None = None,
        limit: Limit | None = None,
        after: AfterToken | None = None,
    ) -> r200[list[Image]] | r400[Problem] | r404[Problem] | r410[Problem] | r422[Problem]:
        """
        Stream the album's images in the envelope of GET /images (or NDJSON): a manual
        album's in its order, a smart album's as its query finds and orders them. With
        ``limit``, a page that comes out full ends its totals with ``after``, the token
        of the next page.

        Tags: albums
        Status Codes:
            200: The images, streamed in chunks.
            400: A parameter is invalid, unknown or repeated, or ``after`` is not a token
                of this album's order.
            404: No album has this id.
            410: The album was deleted.
            422: The smart album's query no longer reads as a search (it says why).
        """
        async with self.db.cursor() as cur:
            row = await queries.read(cur, album_id)
        media_url = self.request.app[keys.STORAGE].media_url
        chunks = chunk_size or self.settings.chunk_size
        if row.query is None:
            position = None
            if after is not None:
                position = int(cursor_token.decode(after, "position")[-1])
            opened = queries.open_album_images(
                self.db, album_id, media_url=media_url, after=position, limit=limit,
                chunk_size=chunks,
            )  # fmt: skip
            return await stream_document(self.request, opened)
        why = service.query_error(row.query)
        if why is not None:
            raise QueryBroken(album_id, why)
        query = parse(row.query)
        sort = query.sort or "id"
        filters = ListingFilters(
            term=query.term,
            limit=limit,
            sort=sort,
            after=cursor_token.decode(after, sort) if after is not None else None,
        )
        listing = open_listing(self.db, filters, media_url=media_url, chunk_size=chunks)
        return await stream_document(self.request, listing)

    async def post(self, album_id: AlbumId, /) -> Changed:
        """
        Add images to a manual album, in the order given, before the image at
        ``position`` (0: first) or at the end. Images already in the album stay where they
        are: adding again changes nothing.

        Tags: albums
        Status Codes:
            200: The album as changed; ``ETag`` is its new version.
            400: The body is not valid JSON or a field is invalid (1 to 10,000 ids).
            404: No album has this id, or an id names no image (``image_ids``).
            409: The album is a smart album.
            410: The album was deleted, or an image was (``image_ids``).
            412: If-Match does not name the album's current version.
            415: The body is not JSON.
        """
        body = await read_json(self.request, AlbumImagesAdd)
        versions = if_match_versions(self.request)
        written = await service.add_images(self.db, album_id, body.ids, body.position, versions)
        return _album(self.request, written)

    async def delete(self, album_id: AlbumId, /) -> Changed:
        """
        Take images out of a manual album (the images stay; ids not in it are no error).

        Tags: albums
        Status Codes:
            200: The album as changed; ``ETag`` is its new version.
            400: The body is not valid JSON or a field is invalid.
            404: No album has this id.
            409: The album is a smart album.
            410: The album was deleted.
            412: If-Match does not name the album's current version.
            415: The body is not JSON.
        """
        body = await read_json(self.request, AlbumImagesRemove)
        versions = if_match_versions(self.request)
        written = await service.remove_images(self.db, album_id, body.ids, versions)
        return _album(self.request, written)


class AlbumOrderView(ProblemView):
    """A manual album's order."""

    access: ClassVar[dict[str, str]] = {"PUT": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "PUT": {
            "operationId": "moveAlbumImages",
            "parameters": IF_MATCH,
            "requestBody": json_body(AlbumOrder),
            "responses": {"200": {"headers": VERSION}, **BUSY},
        },
    }

    async def put(self, album_id: AlbumId, /) -> Changed:
        """
        Move images of a manual album: ``ids``, in this order, go together right before
        the image ``before`` (null: at the end). Only the moved images' places are
        written, whatever the album's size.

        Tags: albums
        Status Codes:
            200: The album as changed; ``ETag`` is its new version.
            400: The body is not valid JSON, a field is invalid, an id is named twice, or
                an image (``image_ids``) or ``before`` is not in the album or is moved.
            404: No album has this id.
            409: The album is a smart album.
            410: The album was deleted.
            412: If-Match does not name the album's current version.
            415: The body is not JSON.
        """
        body = await read_json(self.request, AlbumOrder)
        versions = if_match_versions(self.request)
        written = await service.move_images(self.db, album_id, body.ids, body.before, versions)
        return _album(self.request, written)


class ImageAlbumsView(ProblemView):
    """The albums an image is in."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "getImageAlbums", "responses": BUSY},
    }

    async def get(
        self, image_id: ImageId, /
    ) -> r200[ImageAlbums] | r400[Problem] | r404[Problem] | r410[Problem]:
        """
        The manual albums holding the image, in id order (a smart album finds it by its
        search: ``album:ID`` in ``q``). A sub-resource, so that reading an image costs
        nothing more.

        Tags: albums
        Status Codes:
            200: The albums.
            400: The id is invalid, or the query has a parameter (none is taken).
            404: No image has this id.
            410: The image was deleted.
        """
        async with self.db.cursor() as cur:
            return json_document(await queries.image_albums(cur, image_id))


class AlbumSharesView(ProblemView):
    """The share links of an album."""

    access: ClassVar[dict[str, str]] = {"GET": "read", "POST": "write"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "listAlbumShares", "responses": BUSY},
        "POST": {
            "operationId": "createAlbumShare",
            "requestBody": json_body(ShareCreate),
            "responses": {"201": {"headers": location("The share link, /s/{token}.")}, **BUSY},
        },
    }

    async def post(
        self, album_id: AlbumId, /
    ) -> r201[AlbumShare] | r400[Problem] | r404[Problem] | r410[Problem] | r415[Problem]:
        """
        Make a share link for the album: ``/s/{token}`` shows its images (a page, or JSON
        for an API client), each viewable and downloadable, and all of them as one zip;
        nothing outside the album. A smart album's link shows what its search finds when
        it is opened. Optional: ``password``, ``expires_in``, ``max_downloads`` (each
        image's file or the zip counts one), ``strip_metadata`` (default true).

        Tags: shares
        Status Codes:
            201: The share, with its URL.
            400: The body or the id is invalid.
            404: No album has this id.
            410: The album was deleted.
            415: The body is not JSON.
        """
        body = await read_json(self.request, ShareCreate)
        share = await album_shares.create(self.request.app, album_id, body)
        return json_document(share.model_dump_json(), status=201, Location=share.url)

    async def get(
        self, album_id: AlbumId, /
    ) -> r200[list[AlbumShare]] | r400[Problem] | r404[Problem] | r410[Problem]:
        """
        The album's share links that are not revoked, oldest first.

        Tags: shares
        Status Codes:
            200: The shares.
            400: The id is invalid.
            404: No album has this id.
            410: The album was deleted.
        """
        found = await album_shares.listing(self.request.app, album_id)
        return json_document("[" + ",".join(s.model_dump_json() for s in found) + "]")
