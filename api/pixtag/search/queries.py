"""A search tree as SQL: tags resolved, prefixes expanded, and a guess of how many match.

Resolution is one statement for the whole tree, run in the transaction that
then lists or changes the images: each tag through ``tag_aliases`` (asking
for an alias means its target), each prefix to its ``PREFIX_CAP`` most used
tags (by exact count, ``tag_counts``), and with them every tag's exact image
count and the table's size. Prefix patterns are bound per prefix, so
PostgreSQL sees each one as a constant and walks ``tags_prefix`` for it.

The tree is then written as one condition. Plain tags under an ``All`` merge
into one ``tags @> array`` and tags and prefixes under an ``Any`` into one
``tags && array``, the two shapes the GIN index serves; values are bound
(psycopg2 inlines them, so the planner sees each array). The same pass
estimates the share of images that match from the exact counts, taking
tags as independent: the listing's plan choice needs nothing more.

A ``text:`` term is PostgreSQL full-text search over ``image_words(filename,
description)`` (fixtures/018_descriptions.sql), which the ``images_words``
GIN index serves; the words are bound and read by the same 'simple'
configuration, with '.', '_' and '-' as spaces, as the index reads the rows.
Nothing counts words ahead of time: a text term's share is PostgreSQL's own
estimate (``words_estimate``, fixtures/020_word_estimates.sql: the planner's
row count from the index's word statistics), asked in the same statement
that resolves the tags.

A ``taken:`` term is a range of the date taken, which the ``images_taken``
index serves (fixture 026), its share PostgreSQL's own estimate
(``taken_estimate``, fixture 027).

The photo's facts (``camera:``, ``lens:``, ``iso:``, ``focal:``,
``width:``, ``height:``, ``orientation:``, ``has:location``, ``near:``) are
conditions on the functions of fixture 028, each served by an index on the
same expression (names as prefixes of a "C"-collated B-tree, the position
as a box of a GiST index on a point, the exact distance tested on what the
box finds), their shares PostgreSQL's own estimates (``photo_estimate``).

An ``album:`` term is read before all that (``album_statement``, one more
statement when there is one): a manual album becomes a condition on its
images (``album_images``), a smart album its own search (albums in it read
in turn, ``MAX_ALBUM_DEPTH`` deep), an unknown album nothing.

A ``similar:`` term is resolved in that statement too, to the ids of the
nearest ``SIMILAR_CAP`` images ``similar_images`` finds (fixture 023, what
``GET /images/{id}/similar`` answers), and written as a primary-key
condition: an image unknown, deleted or without a file matches nothing, as
an unknown tag does.
"""

import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pixtag.errors import BadRequest
from pixtag.search import terms as t
from pixtag.tags.queries import counts as tag_counts

PREFIX_CAP = 100
SIMILAR_CAP = 1000
WORDS = "image_words(i.filename, i.description)"
TSQUERY = {
    "words": "plainto_tsquery('simple', translate(%({name})s::text, '._-', '   '))",
    "phrase": "phraseto_tsquery('simple', translate(%({name})s::text, '._-', '   '))",
    # The word is letters and digits only (the grammar checks), so it is one lexeme.
    "prefix": "to_tsquery('simple', %({name})s::text || ':*')",
}

RESOLVE_TAGS = f"""
    SELECT 'tag', a.tag, a.target, {tag_counts.exact_count("a.target")}
    FROM (
        SELECT a.tag, coalesce(al.target, a.tag) AS target
        FROM unnest(%(tags)s::text[]) AS a(tag)
        LEFT JOIN tag_aliases AS al ON al.alias = a.tag
    ) AS a
"""  # noqa: S608 - constant fragments; values bound
RESOLVE_PREFIX = f"""
    SELECT 'prefix', %(prefix_{{n}})s::text, p.tag, p.image_count FROM (
        {tag_counts.exact_top("%(like_{n})s", "%(prefix_cap)s")}
    ) AS p
"""  # noqa: S608 - constant fragments; values bound
ESTIMATE_TEXT = """
    SELECT 'text', %(text_key_{n})s::text, NULL, words_estimate({tsquery})::bigint
"""
RESOLVE_SIMILAR = """
    SELECT 'similar', %(similar_key_{n})s::text, m.image_id::text, m.distance::bigint
    FROM similar_images(
        %(similar_id_{n})s::bigint, %(similar_distance_{n})s::integer, %(similar_cap)s::integer
    ) AS m
"""
ESTIMATE_TAKEN = """
    SELECT 'taken', %(taken_key_{n})s::text, NULL,
           taken_estimate(%(taken_start_{n})s::timestamp, %(taken_end_{n})s::timestamp)::bigint
"""
ESTIMATE_FACT = """
    SELECT 'fact', %(fact_key_{n})s::text, NULL,
           photo_estimate(%(fact_{n})s::text, %(fact_low_{n})s::double precision,
                          %(fact_high_{n})s::double precision, %(fact_pattern_{n})s::text,
                          %(fact_area_{n})s::box)::bigint
"""
EARTH_RADIUS_KM = 6371.0088  # as photo_distance_km
INTEGER = (-(2**31), 2**31 - 1)
# What a row test costs, a tag test 1 (seconds per row of a scan, measured on 200,000 rows:
# a tag 0.34 us, ISO 1.8, a camera 5.1, a position 2.4-2.9, width or date 0.3).
ROW_COST = {"iso": 5.0, "focal": 5.0, "width": 1.0, "height": 1.0, "camera": 15.0,
            "lens": 8.0, "place": 8.0, "shape": 1.0, "text": 5.0}  # fmt: skip
# Each fact's expression over ``images AS i`` and the type its bounds are bound as.
MEASURES: dict[str, tuple[str, str]] = {
    "iso": ("photo_iso(i.metadata)", "integer"),
    "focal": ("photo_focal(i.metadata)", "double precision"),
    "width": ("i.width", "integer"),
    "height": ("i.height", "integer"),
}
CAMERA = 'photo_camera(i.metadata) COLLATE "C"'
MODEL = 'photo_model(i.metadata) COLLATE "C"'
LENS = 'photo_lens(i.metadata) COLLATE "C"'
POINT = "photo_point(i.metadata)"
SHAPE = "sign(i.width - i.height)"
SHAPES = {"portrait": -1, "square": 0, "landscape": 1}
WORLD = "((-180,-90),(180,90))"
# The date taken as the order and the index have it: the undated past every period.
TAKEN = "coalesce(i.taken_at, 'infinity'::timestamp)"
MAX_ALBUM_DEPTH = 3
SELECT_ALBUMS = """
    SELECT a.album_id, lower(a.name), a.query, a.image_count FROM albums AS a
    WHERE a.album_id = ANY(%(ids)s::bigint[]) OR lower(a.name) = ANY(%(names)s::text[])
"""
MEMBERS = "i.image_id IN (SELECT ai.image_id FROM album_images AS ai WHERE ai.album_id = {})"
COUNT_IMAGES = """
    SELECT 'images', NULL, NULL, greatest(reltuples, 0)::bigint
    FROM pg_class WHERE oid = 'images'::regclass
"""


@dataclass
class Resolution:
    """What the database said about a tree's tags and prefixes."""

    targets: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    expansions: dict[str, list[str]] = field(default_factory=dict)
    texts: dict[int, float] = field(default_factory=dict)  # by place in terms.texts
    similar: dict[int, list[int]] = field(default_factory=dict)  # by place in terms.similars
    taken: dict[int, float] = field(default_factory=dict)  # by place in terms.takens
    facts: dict[int, float] = field(default_factory=dict)  # by place in terms.facts
    images: float = 0.0


def like_pattern(prefix: str) -> str:
    """A LIKE pattern matching the strings that start with ``prefix``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def boxes(place: t.Place) -> list[str]:
    """The boxes (longitude, latitude) that hold every point of ``place``: one, or two when
    it crosses the antimeridian."""
    if place.latitude is None or place.longitude is None or place.radius_km is None:
        return [WORLD]
    angle = place.radius_km / EARTH_RADIUS_KM
    south = place.latitude - math.degrees(angle)
    north = place.latitude + math.degrees(angle)
    cosine = math.cos(math.radians(place.latitude))
    if south <= -90 or north >= 90 or math.sin(angle) >= cosine:
        west, east = -180.0, 180.0  # a pole is within reach: every longitude is
    else:
        spread = math.degrees(math.asin(math.sin(angle) / cosine))
        west, east = place.longitude - spread, place.longitude + spread
    south, north = max(south, -90.0), min(north, 90.0)
    if west < -180:
        return [_box(west + 360, south, 180, north), _box(-180, south, east, north)]
    if east > 180:
        return [_box(west, south, 180, north), _box(-180, south, east - 360, north)]
    return [_box(west, south, east, north)]


def _box(west: float, south: float, east: float, north: float) -> str:
    return f"(({west!r},{south!r}),({east!r},{north!r}))"


def _estimates(
    fact: t.Fact,
) -> list[tuple[str, float | None, float | None, str | None, str | None]]:
    """The arguments of ``photo_estimate`` for a fact (summed when several)."""
    if isinstance(fact, t.Measure):
        whole = MEASURES[fact.fact][1] == "integer"
        low = fact.low if fact.low is not None else INTEGER[0] if whole else -math.inf
        high = fact.high if fact.high is not None else INTEGER[1] if whole else math.inf
        return [(fact.fact, low, high, None, None)]
    if isinstance(fact, t.Named):
        return [(fact.fact, None, None, like_pattern(fact.prefix), None)]
    if isinstance(fact, t.Shape):
        return [("shape", SHAPES[fact.shape], None, None, None)]
    return [("location", None, None, None, box) for box in boxes(fact)]


def album_statement(term: t.Term) -> tuple[str, dict[str, Any]] | None:
    """The statement reading the albums the tree names (None: it names none)."""
    named = t.albums(term)
    if not named:
        return None
    ids = [a.album_id for a in named if a.album_id is not None]
    names = [a.name for a in named if a.name is not None]
    return SELECT_ALBUMS, {"ids": ids, "names": names}


def with_albums(term: t.Term, rows: Sequence[tuple[Any, ...]]) -> t.Term:
    """The tree with its ``album:`` terms replaced by what ``rows`` (of ``album_statement``)
    say the albums are; the smart albums' searches may name albums in turn."""
    from pixtag.search.grammar import QuerySyntaxError, parse  # the grammar builds terms

    by_id = {int(row[0]): row for row in rows}
    by_name = {_text(row[1]): row for row in rows}
    found: dict[t.InAlbum, t.Term] = {}
    for album in t.albums(term):
        row = by_id.get(album.album_id or 0) if album.name is None else by_name.get(album.name)
        if row is None:
            found[album] = NOTHING
        elif row[2] is None:
            found[album] = t.Members(int(row[0]), int(row[3]))
        else:
            try:
                found[album] = parse(_text(row[2])).term
            except QuerySyntaxError:
                found[album] = NOTHING  # its query no longer reads: GET /albums/{id} says why
    return t.replaced(term, found)


NOTHING: t.Term = t.Any(())


class AlbumsTooDeep(BadRequest):
    def __init__(self) -> None:
        super().__init__(
            f"q: smart albums name albums more than {MAX_ALBUM_DEPTH} deep (or in a circle)"
        )


type Fetch = Callable[[str, dict[str, Any]], Awaitable[Sequence[tuple[Any, ...]]]]


async def compile_term(
    fetch: Fetch, term: t.Term, *, with_size: bool, also: Sequence[str] = ()
) -> tuple[t.Term, Resolution]:
    """The tree with its albums read (``album_statement``, as deep as they go) and what the
    database says of its tags and terms, and of the tags ``also`` (``resolve_statement``);
    ``fetch`` runs a statement and returns its rows."""
    for _ in range(MAX_ALBUM_DEPTH):
        albums = album_statement(term)
        if albums is None:
            break
        term = with_albums(term, await fetch(*albums))
    else:
        if album_statement(term) is not None:
            raise AlbumsTooDeep()
    resolution = Resolution()
    lookup = t.all_of(term, *(t.Tag(tag) for tag in also))
    resolving = resolve_statement(lookup, with_size=with_size)
    if resolving is not None:
        resolution = read_resolution(await fetch(*resolving))
    return term, resolution


def resolve_statement(term: t.Term, *, with_size: bool) -> tuple[str, dict[str, Any]] | None:
    """The one statement resolving the tree's tags and prefixes (None: nothing to resolve)."""
    tags, prefixes = t.leaves(term)
    parts = [RESOLVE_TAGS] if tags else []
    params: dict[str, Any] = {"tags": sorted(tags), "prefix_cap": PREFIX_CAP}
    for n, prefix in enumerate(sorted(prefixes)):
        parts.append(RESOLVE_PREFIX.replace("{n}", str(n)))
        params[f"prefix_{n}"], params[f"like_{n}"] = prefix, like_pattern(prefix)
    for n, text in enumerate(t.texts(term)):
        tsquery = TSQUERY[_kind(text)].format(name=f"text_{n}")
        parts.append(ESTIMATE_TEXT.replace("{n}", str(n)).replace("{tsquery}", tsquery))
        params[f"text_{n}"], params[f"text_key_{n}"] = text.words, str(n)
    for n, taken in enumerate(t.takens(term)):
        parts.append(ESTIMATE_TAKEN.replace("{n}", str(n)))
        params[f"taken_key_{n}"] = str(n)
        params[f"taken_start_{n}"], params[f"taken_end_{n}"] = taken.start, taken.end
    n = 0
    for place, fact in enumerate(t.facts(term)):
        for name, low, high, pattern, area in _estimates(fact):
            parts.append(ESTIMATE_FACT.replace("{n}", str(n)))
            params[f"fact_key_{n}"], params[f"fact_{n}"] = str(place), name
            params[f"fact_low_{n}"], params[f"fact_high_{n}"] = low, high
            params[f"fact_pattern_{n}"], params[f"fact_area_{n}"] = pattern, area
            n += 1
    for n, similar in enumerate(t.similars(term)):
        parts.append(RESOLVE_SIMILAR.replace("{n}", str(n)))
        params[f"similar_key_{n}"], params[f"similar_id_{n}"] = str(n), similar.image_id
        params[f"similar_distance_{n}"], params["similar_cap"] = similar.max_distance, SIMILAR_CAP
    if not parts:
        return None
    if with_size:
        parts.append(COUNT_IMAGES)
    return " UNION ALL ".join(parts), params


def read_resolution(rows: Sequence[tuple[Any, ...]]) -> Resolution:
    """The rows of ``resolve_statement`` as a Resolution."""
    found = Resolution()
    for kind, asked, tag, count in rows:
        asked, tag = _text(asked), _text(tag)
        if kind in ("tag", b"tag"):
            found.targets[asked] = tag
            found.counts[tag] = int(count)
        elif kind in ("prefix", b"prefix"):
            found.expansions.setdefault(asked, []).append(tag)
            found.counts[tag] = int(count)
        elif kind in ("text", b"text"):
            found.texts[int(asked)] = float(count)
        elif kind in ("taken", b"taken"):
            found.taken[int(asked)] = float(count)
        elif kind in ("fact", b"fact"):
            found.facts[int(asked)] = found.facts.get(int(asked), 0.0) + float(count)
        elif kind in ("similar", b"similar"):
            found.similar.setdefault(int(asked), []).append(int(tag))
        else:
            found.images = float(count)
    return found


def _text(value: Any) -> Any:
    return value.decode() if isinstance(value, bytes) else value


@dataclass
class Condition:
    """A tree as SQL over ``images AS i``, with its estimated share of matches."""

    sql: str
    share: float
    indexed: bool  # the GIN index can find its matches (no negation at the top)
    # What testing one row costs, against a tag test (bench/RESULTS.md, "Photo search"):
    # a JSON fact parses the row's metadata, a text term its words.
    row_cost: float = 1.0
    # The share of images the index path reads to collect the matches: the matches
    # themselves for one term, the most selective indexed term's for several together.
    index_share: float | None = None

    @property
    def index_reads(self) -> float:
        return self.share if self.index_share is None else self.index_share


class _Writer:
    def __init__(self, resolution: Resolution, params: dict[str, Any], term: t.Term) -> None:
        self.resolution = resolution
        self.params = params
        self.text_places = {text: n for n, text in enumerate(t.texts(term))}
        self.similar_places = {similar: n for n, similar in enumerate(t.similars(term))}
        self.taken_places = {taken: n for n, taken in enumerate(t.takens(term))}
        self.fact_places = {fact: n for n, fact in enumerate(t.facts(term))}

    def value(self, value: Any) -> str:
        name = f"q{len(self.params)}"
        self.params[name] = value
        return f"%({name})s"

    def bind(self, value: list[str]) -> str:
        name = f"q{len(self.params)}"
        self.params[name] = value
        return f"%({name})s::text[]"

    def share(self, tag: str) -> float:
        images = max(self.resolution.images, 1.0)
        return min(1.0, self.resolution.counts.get(tag, 0) / images)

    def tags_of(self, term: t.Term) -> list[str]:
        if isinstance(term, t.Tag):
            return [self.resolution.targets.get(term.tag, term.tag)]
        assert isinstance(term, t.Prefix)
        return self.resolution.expansions.get(term.prefix, [])

    def text(self, term: t.Text) -> Condition:
        name = f"q{len(self.params)}"
        self.params[name] = term.words
        estimate = self.resolution.texts.get(self.text_places.get(term, -1), 0.0)
        share = min(1.0, estimate / max(self.resolution.images, 1.0))
        sql = f"{WORDS} @@ {TSQUERY[_kind(term)].format(name=name)}"
        return Condition(sql, share, True, ROW_COST["text"])

    def similar(self, term: t.Similar) -> Condition:
        ids = self.resolution.similar.get(self.similar_places.get(term, -1), [])
        if not ids:
            return Condition("false", 0.0, True)
        name = f"q{len(self.params)}"
        self.params[name] = ids
        share = min(1.0, len(ids) / max(self.resolution.images, 1.0))
        return Condition(f"i.image_id = ANY(%({name})s::bigint[])", share, True)

    def taken(self, term: t.Taken) -> Condition:
        start, end = f"q{len(self.params)}", f"q{len(self.params) + 1}"
        self.params[start], self.params[end] = term.start, term.end
        estimate = self.resolution.taken.get(self.taken_places.get(term, -1), 0.0)
        share = min(1.0, estimate / max(self.resolution.images, 1.0))
        sql = f"{TAKEN} >= %({start})s::timestamp AND {TAKEN} < %({end})s::timestamp"
        return Condition(sql, share, True)

    def fact(self, term: t.Fact) -> Condition:
        estimate = self.resolution.facts.get(self.fact_places.get(term, -1), 0.0)
        share = min(1.0, estimate / max(self.resolution.images, 1.0))
        return Condition(self.fact_sql(term), share, True, ROW_COST[_fact_name(term)])

    def fact_sql(self, term: t.Fact) -> str:
        if isinstance(term, t.Measure):
            expression, kind = MEASURES[term.fact]
            bounds = []
            if term.low is not None:
                bounds.append(f"{expression} >= {self.value(term.low)}::{kind}")
            if term.high is not None:
                bounds.append(f"{expression} <= {self.value(term.high)}::{kind}")
            return " AND ".join(bounds)
        if isinstance(term, t.Named):
            pattern = self.value(like_pattern(term.prefix))
            if term.fact == "lens":
                return f"{LENS} LIKE {pattern}"
            return f"({CAMERA} LIKE {pattern} OR {MODEL} LIKE {pattern})"
        if isinstance(term, t.Shape):
            return f"{SHAPE} = {self.value(SHAPES[term.shape])}::integer"
        within = " OR ".join(f"{POINT} <@ {self.value(box)}::box" for box in boxes(term))
        if term.radius_km is None:
            return within
        latitude, longitude = self.value(term.latitude), self.value(term.longitude)
        distance = f"photo_distance_km({POINT}, {latitude}::float8, {longitude}::float8)"
        return f"({within}) AND {distance} <= {self.value(term.radius_km)}::float8"

    def members(self, term: t.Members) -> Condition:
        name = f"q{len(self.params)}"
        self.params[name] = term.album_id
        share = min(1.0, term.count / max(self.resolution.images, 1.0))
        return Condition(MEMBERS.format(f"%({name})s::bigint"), share, True)

    def write(self, term: t.Term) -> Condition:
        if isinstance(term, t.Members):
            return self.members(term)
        if isinstance(term, t.Measure | t.Named | t.Place | t.Shape):
            return self.fact(term)
        if isinstance(term, t.Text):
            return self.text(term)
        if isinstance(term, t.Taken):
            return self.taken(term)
        if isinstance(term, t.Similar):
            return self.similar(term)
        if isinstance(term, t.Not):
            inner = self.write(term.term)
            # IS NOT TRUE: a fact the image lacks (NULL) does not match, so its negation does.
            sql = f"({inner.sql}) IS NOT TRUE"
            return Condition(sql, 1.0 - inner.share, False, inner.row_cost)
        if isinstance(term, t.Tag | t.Prefix):
            return self.any_of([term])
        if isinstance(term, t.All):
            return self.all_of(term.terms)
        if isinstance(term, t.InAlbum):  # with_albums replaces them before
            raise TypeError("an album: term is read before the search is written")
        return self.any_of(list(term.terms))

    def all_of(self, terms: Sequence[t.Term]) -> Condition:
        tags = list(
            dict.fromkeys(tag for x in terms if isinstance(x, t.Tag) for tag in self.tags_of(x))
        )
        parts = (
            [Condition(f"i.tags @> {self.bind(tags)}", math.prod(map(self.share, tags)), True)]
            if tags
            else []
        )
        parts += [self.write(x) for x in terms if not isinstance(x, t.Tag)]
        if not parts:
            return Condition("true", 1.0, False)
        indexed = [p.index_reads for p in parts if p.indexed]
        return Condition(
            " AND ".join(f"({p.sql})" for p in parts) if len(parts) > 1 else parts[0].sql,
            math.prod(p.share for p in parts),
            bool(indexed),
            max(p.row_cost for p in parts),
            min(indexed, default=1.0),
        )

    def any_of(self, terms: Sequence[t.Term]) -> Condition:
        leaves = [x for x in terms if isinstance(x, t.Tag | t.Prefix)]
        parts: list[Condition] = []
        if leaves:
            tags = list(dict.fromkeys(tag for x in leaves for tag in self.tags_of(x)))
            if tags:
                miss = math.prod(1.0 - self.share(tag) for tag in tags)
                parts.append(Condition(f"i.tags && {self.bind(tags)}", 1.0 - miss, True))
        parts += [self.write(x) for x in terms if not isinstance(x, t.Tag | t.Prefix)]
        if not parts:  # only prefixes, none matching a tag
            return Condition("false", 0.0, True)
        return Condition(
            " OR ".join(f"({p.sql})" for p in parts) if len(parts) > 1 else parts[0].sql,
            1.0 - math.prod(1.0 - p.share for p in parts),
            all(p.indexed for p in parts),
            sum(p.row_cost for p in parts),
            min(1.0, sum(p.index_reads for p in parts)),
        )


def condition(term: t.Term, resolution: Resolution, params: dict[str, Any]) -> Condition:
    """The tree as SQL; its values are added to ``params``."""
    if term == t.EVERYTHING:
        return Condition("true", 1.0, False)
    return _Writer(resolution, params, term).write(term)


def _fact_name(term: t.Fact) -> str:
    if isinstance(term, t.Measure | t.Named):
        return term.fact
    return "place" if isinstance(term, t.Place) else "shape"


def _kind(term: t.Text) -> str:
    return "phrase" if term.phrase else "prefix" if term.prefix else "words"
