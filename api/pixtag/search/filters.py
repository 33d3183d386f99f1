"""A listing's request as one ``ListingFilters``: ``q`` and the plain parameters together.

Every condition applies (AND): ``q``, ``tag``/``tags_all``, ``tags_any``,
``tags_none``, ``sha256`` and ``after_id``. The order comes from ``q``'s
``sort:`` (id by default); ``after`` is the token a full page returned.
"""

from pixtag.images.queries.listing import ListingFilters
from pixtag.search import cursor_token, grammar
from pixtag.search.terms import all_of, from_parameters


def listing_filters(
    *,
    q: str | None,
    tag: str | None,
    tags_all: list[str],
    tags_any: list[str],
    tags_none: list[str],
    sha256: str | None,
    after_id: int | None,
    limit: int | None,
    after: str | None,
) -> ListingFilters:
    """The filters of a listing request; a 400 error when ``q`` or ``after`` is invalid."""
    query = grammar.parse(q or "")
    plain = from_parameters(
        list(dict.fromkeys([*tags_all, *([tag] if tag else [])])),
        list(dict.fromkeys(tags_any)),
        list(dict.fromkeys(tags_none)),
    )
    sort = query.sort or "id"
    return ListingFilters(
        term=all_of(plain, query.term),
        sha256=sha256,
        after_id=after_id,
        limit=limit,
        sort=sort,
        after=cursor_token.decode(after, sort) if after is not None else None,
    )
