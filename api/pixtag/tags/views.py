"""/tags: counts and autocomplete, one tag, rename, aliases and implications."""

import json
from typing import Annotated, Any, ClassVar

from aiohttp import web
from aiohttp_pydantic.oas.typing import r200, r204, r400, r404, r409, r415
from pydantic import Field

from pixtag.models import Integer, Problem, Tag
from pixtag.openapi.fragments import BUSY, STREAM_BUSY, json_body
from pixtag.tags import rules
from pixtag.tags.models import (
    AliasApplied,
    AliasSet,
    ImplicationApplied,
    Prefix,
    RelatedTags,
    RenameRequest,
    TagCount,
    TagInfo,
    TagLimit,
    TagListing,
    TagRenamed,
)
from pixtag.tags.queries import tags as queries
from pixtag.views.base import ProblemView, json_document, read_json
from pixtag.views.stream import stream_document

# Tags one listing by name reads at most.
MAX_NAMES = 100
# Images a related-tags answer counts at most: bounded work whatever the tag's size.
RELATED_SAMPLE = 5000


def _json(model: AliasApplied | ImplicationApplied | TagRenamed) -> web.Response:
    return json_document(model.model_dump_json())


class TagCollectionView(ProblemView):
    """Every tag with its image count."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "listTags",
            "responses": {
                "200": {
                    "content": {
                        "application/json": {"schema": TagListing},
                        "application/x-ndjson": {
                            "schema": {
                                "type": "array",
                                "items": TagCount,
                                "description": "Newline-delimited JSON: one tag per line.",
                            },
                        },
                    },
                },
                **STREAM_BUSY,
            },
        },
    }

    async def get(
        self,
        prefix: Prefix | None = None,
        limit: TagLimit | None = None,
        name: list[Tag] = Field([], max_length=MAX_NAMES),  # noqa: B008 - aiohttp-pydantic reads it
    ) -> r200[list[TagCount]] | r400[Problem]:
        """
        Stream the tags with their image counts, most used first, then in tag order.

        The body is ``[[tag, ...], ..., {"totalTags": N, "totalChunks": M}]`` like
        the image listing, or one tag per line with ``Accept: application/x-ndjson``.
        ``prefix`` and ``limit`` make it an autocomplete: ``?prefix=ca&limit=20``.
        ``name``, repeated (up to 100), reads the counts of those tags only (a name no
        image holds is left out): ``?name=cat&name=dog``; with ``prefix``, those of them
        starting with it.
        The counts are exact: they change in the same transaction as the images.

        Tags: tags
        Status Codes:
            200: The tags, streamed in chunks.
            400: The prefix, limit or a name is invalid, ``name`` is given more than
                100 times, or a parameter is unknown.
        """
        opened = queries.open_tags(
            self.db,
            prefix=prefix,
            limit=limit,
            chunk_size=self.settings.chunk_size,
            names=name,  # repeated names are read once (the statement's DISTINCT)
        )
        return await stream_document(self.request, opened, totals_name="totalTags")


class TagView(ProblemView):
    """One tag."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "getTag", "responses": BUSY},
    }

    async def get(self, tag: Tag, /) -> r200[TagInfo] | r400[Problem] | r404[Problem]:
        """
        Read one tag: its image count, the tag it is an alias of, its aliases and implications.

        Tags: tags
        Status Codes:
            200: The tag.
            400: The tag is invalid, or the query has a parameter (none is taken).
            404: No image holds the tag and no rule names it.
        """
        async with self.db.cursor() as cur:
            return json_document(await queries.tag_json(cur, tag))


class TagRelatedView(ProblemView):
    """The tags found with a tag."""

    access: ClassVar[dict[str, str]] = {"GET": "read"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {"operationId": "getRelatedTags", "responses": BUSY},
    }

    async def get(
        self,
        tag: Tag,
        /,
        limit: Annotated[int, Field(ge=1, le=100), Integer] = 20,
    ) -> r200[RelatedTags] | r400[Problem] | r404[Problem]:
        """
        The tags most often found on the images holding ``tag`` (an alias: its target),
        most first: counted among up to 5,000 of its images (``sampled`` says how many), so
        that the answer takes the same short time whatever the tag's size.

        Tags: tags
        Status Codes:
            200: The related tags.
            400: The tag or ``limit`` is invalid.
            404: No image holds the tag.
        """
        async with self.db.cursor() as cur:
            name, count, sampled, found = await queries.related(
                cur, tag, sample=RELATED_SAMPLE, limit=limit
            )
        document = json.dumps(
            {"tag": name, "image_count": count, "sampled": sampled},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return json_document(document[:-1] + ',"related":' + found + "}")


class TagRenameView(ProblemView):
    """Renaming a tag."""

    access: ClassVar[dict[str, str]] = {"POST": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "POST": {
            "operationId": "renameTag",
            "requestBody": json_body(RenameRequest),
            "responses": BUSY,
        },
    }

    async def post(
        self, tag: Tag, /
    ) -> r200[TagRenamed] | r400[Problem] | r404[Problem] | r409[Problem] | r415[Problem]:
        """
        Rename a tag on every image and rule; when the new name exists, merge them.

        Body ``{"to": "new"}``. An image holding both keeps one. The images are
        rewritten in batches before the answer; counts stay exact throughout.
        ``keep_alias`` keeps the old name as an alias of the new one.

        Tags: tags
        Status Codes:
            200: Renamed; the body says how many images were rewritten.
            400: The body is invalid.
            404: No image holds the tag and no rule names it.
            409: The new name is the old one, the tag is an alias, or the merge would close a
                cycle of implications or give an image more than 100 tags.
            415: The body is not JSON.
        """
        body = await read_json(self.request, RenameRequest)
        return _json(await rules.rename(self.db, tag, body.to, keep_alias=body.keep_alias))


class TagAliasView(ProblemView):
    """The alias rule of a tag: writing or asking for it means its target."""

    access: ClassVar[dict[str, str]] = {"PUT": "admin", "DELETE": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "PUT": {
            "operationId": "setTagAlias",
            "requestBody": json_body(AliasSet),
            "responses": BUSY,
        },
        "DELETE": {"operationId": "deleteTagAlias", "responses": BUSY},
    }

    async def put(
        self, tag: Tag, /
    ) -> r200[AliasApplied] | r400[Problem] | r409[Problem] | r415[Problem]:
        """
        Make the tag an alias of ``target``, and rewrite the stored images holding it.

        Body ``{"target": "feline"}``. A target that is itself an alias is resolved
        to its own target; the aliases of this tag follow it to the new target, and
        its implications move there too.

        Tags: tags
        Status Codes:
            200: The alias is in force; the body says how many images were rewritten.
            400: The body is invalid.
            409: The alias would close a cycle (the target is the tag itself or one of its
                aliases, or a cycle of implications) or give an
                image more than 100 tags.
            415: The body is not JSON.
        """
        body = await read_json(self.request, AliasSet)
        return _json(await rules.set_alias(self.db, tag, body.target))

    async def delete(self, tag: Tag, /) -> r204[None] | r400[Problem] | r404[Problem]:
        """
        Remove the alias; images keep the target they were given.

        Tags: tags
        Status Codes:
            204: The alias is gone.
            400: The tag is invalid, or the query has a parameter (none is taken).
            404: The tag is no alias.
        """
        await rules.delete_alias(self.db, tag)
        return web.Response(status=204)


class TagImplicationView(ProblemView):
    """One implication: an image given the tag is also given the implied tag."""

    access: ClassVar[dict[str, str]] = {"PUT": "admin", "DELETE": "admin"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "PUT": {
            "operationId": "setTagImplication",
            "responses": BUSY,
        },
        "DELETE": {
            "operationId": "deleteTagImplication",
            "responses": BUSY,
        },
    }

    async def put(
        self, tag: Tag, implied: Tag, /
    ) -> r200[ImplicationApplied] | r400[Problem] | r409[Problem]:
        """
        Make the tag imply another, and add it to the stored images holding the tag.

        Aliases on either side are resolved to their targets. The implied tag's own
        implications follow (transitively).

        Tags: tags
        Status Codes:
            200: The implication is in force; the body says how many images were rewritten.
            400: A tag is invalid, or the query has a parameter (none is taken).
            409: The implication would close a cycle (named in the detail) or give an image
                more than 100 tags.
        """
        return _json(await rules.set_implication(self.db, tag, implied))

    async def delete(self, tag: Tag, implied: Tag, /) -> r204[None] | r400[Problem] | r404[Problem]:
        """
        Remove the implication; images keep the tags it gave them.

        Tags: tags
        Status Codes:
            204: The implication is gone.
            400: A tag is invalid, or the query has a parameter (none is taken).
            404: The tag does not imply the other.
        """
        await rules.delete_implication(self.db, tag, implied)
        return web.Response(status=204)
