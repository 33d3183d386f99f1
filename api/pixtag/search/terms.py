"""The terms a search is made of, whatever spelled them (``q`` or the plain parameters).

A search is a tree: tags and tag prefixes at the leaves, ``All`` (every
child), ``Any`` (at least one) and ``Not`` above them. The grammar builds it
from ``q``; ``from_parameters`` builds the same tree from ``tag``,
``tags_all``, ``tags_any`` and ``tags_none``, so both go through one
compiler and one plan choice.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

type Sort = Literal["id", "-id", "created", "-created", "taken", "-taken"]
SORTS: tuple[Sort, ...] = ("id", "-id", "created", "-created", "taken", "-taken")


@dataclass(frozen=True)
class Tag:
    """Images having this tag."""

    tag: str


@dataclass(frozen=True)
class Prefix:
    """Images having any of the most used tags starting with ``prefix``."""

    prefix: str


@dataclass(frozen=True)
class Text:
    """Images whose filename and description hold these words (``text:``).

    ``phrase``: the words in this order, next to each other; ``prefix``: one word, and
    any word starting with it matches."""

    words: str
    phrase: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class Similar:
    """Images similar to ``image_id`` within ``max_distance`` (``similar:``): the nearest
    ``GET /images/{id}/similar`` lists, the image itself not among them."""

    image_id: int
    max_distance: int


@dataclass(frozen=True)
class Taken:
    """Images taken (the photo's wall clock) from ``start`` up to, not including, ``end``
    (``taken:``)."""

    start: datetime
    end: datetime


type Measured = Literal["iso", "focal", "width", "height"]
MEASURED: tuple[Measured, ...] = ("iso", "focal", "width", "height")


@dataclass(frozen=True)
class Measure:
    """Images whose ``fact`` lies from ``low`` to ``high``, both included (``iso:``,
    ``focal:``, ``width:``, ``height:``); ``None``: no bound. The ISO speed and the focal
    length (millimetres) are the photo's; width and height are the pixels as displayed."""

    fact: Measured
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Named:
    """Images whose camera or lens name starts with ``prefix`` (lower-case; ``camera:``,
    ``lens:``)."""

    fact: Literal["camera", "lens"]
    prefix: str


@dataclass(frozen=True)
class Place:
    """Images taken within ``radius_km`` of a point (``near:``), or anywhere (``has:location``:
    every bound None)."""

    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None


@dataclass(frozen=True)
class Shape:
    """Images taller than wide, wider than tall, or square, as displayed (``orientation:``)."""

    shape: Literal["portrait", "square", "landscape"]


type Fact = Measure | Named | Place | Shape


@dataclass(frozen=True)
class InAlbum:
    """Images of an album (``album:``), named by its id or its name (lower-case); before the
    search runs it becomes ``Members`` (a manual album), the album's own search (a smart
    one), or nothing (no such album)."""

    album_id: int | None = None
    name: str | None = None


@dataclass(frozen=True)
class Members:
    """Images of the manual album ``album_id``, which holds ``count`` of them."""

    album_id: int
    count: int


@dataclass(frozen=True)
class Not:
    """Images not matching ``term``."""

    term: "Term"


@dataclass(frozen=True)
class All:
    """Images matching every term."""

    terms: tuple["Term", ...]


@dataclass(frozen=True)
class Any:
    """Images matching at least one term."""

    terms: tuple["Term", ...]


type Term = (
    Tag
    | Prefix
    | Text
    | Similar
    | Taken
    | Measure
    | Named
    | Place
    | Shape
    | InAlbum
    | Members
    | Not
    | All
    | Any
)

EVERYTHING = All(())


def all_of(*terms: Term) -> Term:
    """``All`` of the terms, flattened: nested ``All`` merge, and one term stands alone."""
    flat: list[Term] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, All) else (term,))
    return flat[0] if len(flat) == 1 else All(tuple(flat))


def from_parameters(tags_all: list[str], tags_any: list[str], tags_none: list[str]) -> Term:
    """The tree of the plain parameters: all of ``tags_all``, any of ``tags_any``, none of
    ``tags_none``."""
    terms: list[Term] = [Tag(t) for t in tags_all]
    if tags_any:
        terms.append(Any(tuple(Tag(t) for t in tags_any)))
    if tags_none:
        terms.append(Not(Any(tuple(Tag(t) for t in tags_none))))
    return all_of(*terms)


def leaves(term: Term) -> tuple[set[str], set[str]]:
    """The tags and the prefixes a tree names."""
    tags: set[str] = set()
    prefixes: set[str] = set()
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, Tag):
            tags.add(node.tag)
        elif isinstance(node, Prefix):
            prefixes.add(node.prefix)
        elif isinstance(node, Not):
            stack.append(node.term)
        elif isinstance(node, All | Any):
            stack.extend(node.terms)
    return tags, prefixes


def texts(term: Term) -> list[Text]:
    """The distinct ``text:`` terms of a tree, in one fixed order."""
    return sorted(_found(term, Text), key=repr)


def similars(term: Term) -> list[Similar]:
    """The distinct ``similar:`` terms of a tree, in one fixed order."""
    return sorted(_found(term, Similar), key=repr)


def takens(term: Term) -> list[Taken]:
    """The distinct ``taken:`` terms of a tree, in one fixed order."""
    return sorted(_found(term, Taken), key=repr)


def facts(term: Term) -> list[Fact]:
    """The distinct photo-fact terms of a tree, in one fixed order."""
    found: set[Fact] = set()
    found |= _found(term, Measure)
    found |= _found(term, Named)
    found |= _found(term, Place)
    found |= _found(term, Shape)
    return sorted(found, key=repr)


def albums(term: Term) -> list[InAlbum]:
    """The distinct ``album:`` terms of a tree, in one fixed order."""
    return sorted(_found(term, InAlbum), key=repr)


def replaced(term: Term, by: dict[InAlbum, Term]) -> Term:
    """The tree with each ``album:`` term replaced as ``by`` says."""
    if isinstance(term, InAlbum):
        return by[term]
    if isinstance(term, Not):
        return Not(replaced(term.term, by))
    if isinstance(term, All):
        return all_of(*(replaced(x, by) for x in term.terms))
    if isinstance(term, Any):
        return Any(tuple(replaced(x, by) for x in term.terms))
    return term


def _found[T: (Text, Similar, Taken, Measure, Named, Place, Shape, InAlbum)](
    term: Term, kind: type[T]
) -> set[T]:
    found: set[T] = set()
    stack = [term]
    while stack:
        node = stack.pop()
        if isinstance(node, kind):
            found.add(node)
        elif isinstance(node, Not):
            stack.append(node.term)
        elif isinstance(node, All | Any):
            stack.extend(node.terms)
    return found
