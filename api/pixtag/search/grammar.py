"""The ``q`` language: a search in one string, parsed into a tree of terms.

    cat dog          images tagged cat and dog (juxtaposition is "all")
    -cat             images not tagged cat
    cat or dog       images tagged cat or dog
    cat (dog or fox) "or" binds looser than juxtaposition: a b or c = (a b) or c
    ca*              any of the 100 most used tags starting with "ca"; none: matches nothing
    "sci fi" "-x" "a*"  quoted: one literal tag (spaces, a leading '-', '(', '*', "or", "sort:...")
    "ca"*            a quoted prefix
    text:harbour     images whose filename or description holds the word (text:harb* any
                     word starting so, text:"north pier" the words in this order)
    taken:2024-05    images taken in May 2024 (taken:2024, taken:2024-05-01, a range
                     taken:2024-05-01..2024-07-31, its ends included)
    camera:fuji      images from a camera whose name starts so (case does not matter; the model
                     alone counts too: camera:iphone); camera:"canon eos r5" with spaces
    lens:"ef 35mm"   the same for the lens
    iso:>3200        the ISO speed: a number, >N, >=N, <N, <=N or a range N..M (ends included;
                     N.. or ..M open); focal: (millimetres, decimals allowed), width: and
                     height: (pixels as displayed) the same
    orientation:portrait  taller than wide (landscape: wider than tall; square)
    has:location     images with a GPS position
    near:48.8566,2.3522,5km  within 5 km (or m, mi) of a latitude and longitude
    album:12         images of album 12 (album:"Lisbon, the best" by its name, any case): a
                     manual album's images, or a smart album's search
    similar:42       images similar to image 42 (the nearest 1,000 within the default distance,
                     as /images/42/similar lists them); similar:42~6 within 6 bits
    sort:-created    the order: id, -id (newest id first), created, -created, taken, -taken
                     (when the photo was taken, undated last); once, at the top

Inside quotes ``\\"`` is a quote and ``\\\\`` a backslash. A bare word ends at
white space, ``(``, ``)`` or ``"``; a ``*`` may only end it, and a ``-`` only
starts it as the negation (``sci-fi`` is one tag). ``or`` is a keyword in
any case. Every tag goes through the same normalisation as on create. At
most ``MAX_DEPTH`` nested parentheses, ``MAX_TERMS`` tags and prefixes and
``MAX_PREFIXES`` prefixes (each stands for up to 100 tags) and
``MAX_SIMILAR`` ``similar:`` terms (each an index search), so one request
cannot make the database plan or run a monster. An error names its
position: the 1-based index of the character where it was found.
"""

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from pixtag.errors import DomainError
from pixtag.search.terms import (
    EVERYTHING,
    MEASURED,
    SORTS,
    Any,
    Fact,
    InAlbum,
    Measure,
    Named,
    Not,
    Place,
    Prefix,
    Shape,
    Similar,
    Sort,
    Tag,
    Taken,
    Term,
    Text,
    all_of,
)
from pixtag.similar.models import DEFAULT_DISTANCE, MAX_DISTANCE
from pixtag.validation import BIGINT_MAX, normalise_tag

MAX_DEPTH = 8
MAX_TERMS = 50
# Each prefix stands for up to 100 tags: ten of them already ask about 1,000.
MAX_PREFIXES = 10
MAX_LENGTH = 4000
MAX_TEXT_LENGTH = 200
MAX_SIMILAR = 5
TEXT = "text:"
SIMILAR = "similar:"
TAKEN = "taken:"
ALBUM = "album:"
FACTS = ("camera", "lens", "iso", "focal", "width", "height", "orientation", "has", "near")
_FACT = re.compile(r"(" + "|".join(FACTS) + r"):", re.IGNORECASE)
MAX_NAME_LENGTH = 200
# The largest value of each measured fact, and whether it is a whole number.
MEASURE_LIMITS: dict[str, tuple[float, bool]] = {
    "iso": (10_000_000, True),
    "focal": (100_000, False),
    "width": (2**31 - 1, True),
    "height": (2**31 - 1, True),
}
_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")
_BOUND = re.compile(r"^(>=|<=|>|<)?(.*)$")
_NEAR = re.compile(
    r"^(-?[0-9]+(?:\.[0-9]+)?),(-?[0-9]+(?:\.[0-9]+)?),([0-9]+(?:\.[0-9]+)?)(km|m|mi)$",
    re.IGNORECASE,
)
KM_PER = {"km": 1.0, "m": 0.001, "mi": 1.609344}
# Half the Earth's circumference: every place is within it.
MAX_RADIUS_KM = 20_037.5
_DAY = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")
DELIMITERS = '()"'


class QuerySyntaxError(DomainError):
    """``q`` is not a valid query; ``position`` is the 1-based index of the fault."""

    def __init__(self, message: str, position: int, field: tuple[str, str] = ("query", "q")):
        where, name = field
        super().__init__(f"{name}: {message} at position {position}")
        self.message = message
        self.position = position
        self.extensions |= {
            "position": position,
            "errors": [
                {
                    "in": where,
                    "loc": [name],
                    "msg": message,
                    "type": "query_syntax",
                    "position": position,
                }
            ],
        }


@dataclass(frozen=True)
class Token:
    # "(", ")", "-", "or", "sort", "tag", "prefix", "text", "similar", "taken", "fact", "end"
    kind: str
    text: str
    position: int
    # of a "text", "similar", "taken", "fact" or "album" token
    term: Text | Similar | Taken | Fact | InAlbum | None = None


@dataclass(frozen=True)
class Query:
    """A parsed ``q``: what to match and, if it said, in which order."""

    term: Term
    sort: Sort | None


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The text of the quoted string opening at ``start``, and the index after it."""
    out = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
            out.append(text[i + 1])
            i += 2
        elif ch == '"':
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    raise QuerySyntaxError("unterminated quote", start + 1)


def _tag(text: str, position: int) -> str:
    try:
        return normalise_tag(text)
    except ValueError as error:
        raise QuerySyntaxError(f"invalid tag {text!r} ({error})", position) from None


def _words(value: str, position: int, *, phrase: bool = False, prefix: bool = False) -> Text:
    if len(value) > MAX_TEXT_LENGTH:
        raise QuerySyntaxError(f"text: at most {MAX_TEXT_LENGTH} characters", position)
    if not any(ch.isalnum() for ch in value):
        raise QuerySyntaxError("text: needs a word (letters or digits)", position)
    if prefix and not value.isalnum():
        raise QuerySyntaxError("a text: prefix is one word of letters and digits", position)
    return Text(value, phrase=phrase, prefix=prefix)


def _word_end(text: str, start: int) -> int:
    """The index after the bare word starting at ``start``."""
    end = start
    while end < len(text) and not (text[end].isspace() or text[end] in DELIMITERS):
        end += 1
    if end < len(text) and text[end] == '"':
        raise QuerySyntaxError("unexpected '\"' inside a word", end + 1)
    return end


def _text_token(text: str, i: int) -> tuple[Token, int]:
    """The ``text:`` term starting at ``i``, and the index after it."""
    position, start = i + 1, i + len(TEXT)
    if start < len(text) and text[start] == '"':
        value, end = _quoted(text, start)
        if end < len(text) and not (text[end].isspace() or text[end] in "()"):
            raise QuerySyntaxError(f"unexpected {text[end]!r} after a quote", end + 1)
        return Token("text", text[i:end], position, _words(value, position, phrase=True)), end
    end = _word_end(text, start)
    value = text[start:end]
    if "*" in value[:-1]:
        raise QuerySyntaxError("'*' may only end a word", start + value.index("*") + 1)
    prefix = value.endswith("*")
    term = _words(value.removesuffix("*"), position, prefix=prefix)
    return Token("text", text[i:end], position, term), end


def _similar_token(text: str, i: int) -> tuple[Token, int]:
    """The ``similar:ID[~DISTANCE]`` term starting at ``i``, and the index after it."""
    position, start = i + 1, i + len(SIMILAR)
    end = _word_end(text, start)
    value = text[start:end]
    number, tilde, distance = value.partition("~")
    if not (number.isascii() and number.isdigit() and number[0] != "0"):
        raise QuerySyntaxError("similar: needs an image id (similar:42 or similar:42~6)", position)
    if int(number) > BIGINT_MAX:
        raise QuerySyntaxError(f"similar: image id above {BIGINT_MAX}", position)
    max_distance = DEFAULT_DISTANCE
    if tilde:
        if not (distance.isascii() and distance.isdigit() and len(distance) <= 2):
            raise QuerySyntaxError(
                "similar: a distance is a number after '~'", start + 1 + len(number)
            )
        max_distance = int(distance)
        if max_distance > MAX_DISTANCE:
            raise QuerySyntaxError(
                f"similar: the distance is at most {MAX_DISTANCE}", start + 1 + len(number)
            )
    term = Similar(int(number), max_distance)
    return Token("similar", text[i:end], position, term), end


def _period(value: str, position: int) -> tuple[datetime, datetime]:
    """The first instant of the year, month or day ``value`` names, and the first after it."""
    match = _DAY.match(value)
    if match is None:
        raise QuerySyntaxError(
            f"taken: {value!r} is not a year, month or day (2024, 2024-05, 2024-05-01)", position
        )
    year, month, day = match.groups()
    try:
        start = datetime(int(year), int(month or 1), int(day or 1))
        if day is not None:
            end = start + timedelta(days=1)
        elif month is not None:
            end = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1)
        else:
            end = datetime(start.year + 1, 1, 1)
    except (ValueError, OverflowError):
        raise QuerySyntaxError(f"taken: {value!r} is not a date", position) from None
    return start, end


def _taken_token(text: str, i: int) -> tuple[Token, int]:
    """The ``taken:PERIOD[..PERIOD]`` term starting at ``i``, and the index after it."""
    position, start = i + 1, i + len(TAKEN)
    end = _word_end(text, start)
    first, dots, last = text[start:end].partition("..")
    low, high = _period(first, position)
    if dots:
        _, high = _period(last, position)
        if high <= low:
            raise QuerySyntaxError("taken: the range ends before it starts", position)
    return Token("taken", text[i:end], position, Taken(low, high)), end


def _number(fact: str, value: str, position: int) -> float:
    top, whole = MEASURE_LIMITS[fact]
    if not (_NUMBER.match(value) and (not whole or value.isdigit())):
        kind = "a whole number" if whole else "a number"
        raise QuerySyntaxError(f"{fact}: {value!r} is not {kind}", position)
    number = float(value)
    if number > top:
        raise QuerySyntaxError(f"{fact}: at most {top:g}", position)
    return number


def _measure(fact: str, value: str, position: int) -> Measure:
    """``N``, ``>N``, ``>=N``, ``<N``, ``<=N``, ``N..M``, ``N..`` or ``..M`` as a closed range."""
    low: float | None
    high: float | None
    _, whole = MEASURE_LIMITS[fact]
    first, dots, last = value.partition("..")
    if dots:
        low = _number(fact, first, position) if first else None
        high = _number(fact, last, position) if last else None
        if low is None and high is None:
            raise QuerySyntaxError(f"{fact}: a range needs at least one end", position)
    else:
        match = _BOUND.match(value)
        assert match is not None
        operator, number = match.group(1), _number(fact, match.group(2), position)
        step = 1.0 if whole else math.inf
        low = high = number
        if operator in (">", ">="):
            high = None
            if operator == ">":
                low = number + 1 if whole else math.nextafter(number, step)
        elif operator in ("<", "<="):
            low = None
            if operator == "<":
                high = number - 1 if whole else math.nextafter(number, -step)
    if low is not None and high is not None and high < low:
        raise QuerySyntaxError(f"{fact}: the range ends before it starts", position)
    measured = next(m for m in MEASURED if m == fact)
    return Measure(measured, low, high)


def _place(value: str, position: int) -> Place:
    match = _NEAR.match(value)
    if match is None:
        raise QuerySyntaxError(
            "near: needs a latitude, a longitude and a distance (near:48.8566,2.3522,5km;"
            " km, m or mi)",
            position,
        )
    latitude, longitude, radius = (float(x) for x in match.group(1, 2, 3))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise QuerySyntaxError(
            "near: the latitude is within -90..90 and the longitude within -180..180", position
        )
    radius_km = radius * KM_PER[match.group(4).lower()]
    if not 0 < radius_km <= MAX_RADIUS_KM:
        raise QuerySyntaxError(
            f"near: the distance is above 0 and at most {MAX_RADIUS_KM:g} km", position
        )
    return Place(latitude, longitude, radius_km)


def _fact_token(text: str, i: int, name: str) -> tuple[Token, int]:
    """The photo-fact term (``camera:``, ``iso:``, ``near:``...) starting at ``i``."""
    position, start = i + 1, i + len(name) + 1
    quoted = start < len(text) and text[start] == '"'
    if quoted:
        value, end = _quoted(text, start)
        if end < len(text) and not (text[end].isspace() or text[end] in "()"):
            raise QuerySyntaxError(f"unexpected {text[end]!r} after a quote", end + 1)
    else:
        end = _word_end(text, start)
        value = text[start:end]
    term: Fact
    if name in ("camera", "lens"):
        prefix = " ".join(value.removesuffix("*").split()).lower()
        if not prefix:
            raise QuerySyntaxError(f'{name}: needs a name ({name}:fuji, {name}:"a b")', position)
        if len(prefix) > MAX_NAME_LENGTH:
            raise QuerySyntaxError(f"{name}: at most {MAX_NAME_LENGTH} characters", position)
        term = Named("camera" if name == "camera" else "lens", prefix)
    elif quoted:
        raise QuerySyntaxError(f"{name}: takes no quoted value", position)
    elif name == "orientation":
        shape = value.lower()
        if shape not in ("portrait", "square", "landscape"):
            raise QuerySyntaxError("orientation: is portrait, landscape or square", position)
        term = Shape(
            "portrait" if shape == "portrait" else "square" if shape == "square" else "landscape"
        )
    elif name == "has":
        if value.lower() != "location":
            raise QuerySyntaxError("has: knows location (has:location)", position)
        term = Place()
    elif name == "near":
        term = _place(value, position)
    else:
        term = _measure(name, value, position)
    return Token("fact", text[i:end], position, term), end


def _album_token(text: str, i: int) -> tuple[Token, int]:
    """The ``album:ID`` or ``album:NAME`` term starting at ``i``, and the index after it."""
    position, start = i + 1, i + len(ALBUM)
    if start < len(text) and text[start] == '"':
        value, end = _quoted(text, start)
        if end < len(text) and not (text[end].isspace() or text[end] in "()"):
            raise QuerySyntaxError(f"unexpected {text[end]!r} after a quote", end + 1)
    else:
        end = _word_end(text, start)
        value = text[start:end]
        if value.isascii() and value.isdigit():
            if value[0] == "0" or int(value) > BIGINT_MAX:
                raise QuerySyntaxError("album: an id is 1 to 2^63-1", position)
            return Token("album", text[i:end], position, InAlbum(album_id=int(value))), end
    name = value.strip().lower()
    if not name or len(name) > 200:
        raise QuerySyntaxError('album: needs an id or a name (album:12, album:"a trip")', position)
    return Token("album", text[i:end], position, InAlbum(name=name)), end


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, each with its 1-based position."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch, position = text[i], i + 1
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(Token(ch, ch, position))
            i += 1
        elif ch == "-" and (i + 1 < len(text) and not text[i + 1].isspace()):
            tokens.append(Token("-", ch, position))
            i += 1
        elif ch == '"':
            value, i = _quoted(text, i)
            kind = "tag"
            if i < len(text) and text[i] == "*":
                kind, i = "prefix", i + 1
            if i < len(text) and not (text[i].isspace() or text[i] in "()"):
                raise QuerySyntaxError(f"unexpected {text[i]!r} after a quote", i + 1)
            tokens.append(Token(kind, _tag(value, position), position))
        elif text[i : i + len(TEXT)].lower() == TEXT:
            token, i = _text_token(text, i)
            tokens.append(token)
        elif text[i : i + len(SIMILAR)].lower() == SIMILAR:
            token, i = _similar_token(text, i)
            tokens.append(token)
        elif text[i : i + len(TAKEN)].lower() == TAKEN:
            token, i = _taken_token(text, i)
            tokens.append(token)
        elif text[i : i + len(ALBUM)].lower() == ALBUM:
            token, i = _album_token(text, i)
            tokens.append(token)
        elif fact := _FACT.match(text, i):
            token, i = _fact_token(text, i, fact.group(1).lower())
            tokens.append(token)
        else:
            end = i
            while end < len(text) and not (text[end].isspace() or text[end] in DELIMITERS):
                end += 1
            word = text[i:end]
            if end < len(text) and text[end] == '"':
                raise QuerySyntaxError("unexpected '\"' inside a word", end + 1)
            if "*" in word[:-1]:
                raise QuerySyntaxError(
                    "'*' may only end a word (quote the tag)", i + word.index("*") + 1
                )
            if word == "-":
                raise QuerySyntaxError("'-' needs a term right after it", position)
            if word.lower() == "or":
                tokens.append(Token("or", word, position))
            elif word.lower().startswith("sort:"):
                tokens.append(Token("sort", word, position))
            elif word.endswith("*"):
                if word == "*" or word == "-*":
                    raise QuerySyntaxError(
                        "a prefix needs at least one character before '*'", position
                    )
                tokens.append(Token("prefix", _tag(word[:-1], position), position))
            else:
                tokens.append(Token("tag", _tag(word, position), position))
            i = end
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


LEAVES = ("tag", "prefix", "text", "similar", "taken", "fact", "album")


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.at = 0
        self.depth = 0
        self.leaves = 0
        self.prefixes = 0
        self.similars = 0
        self.sort: Sort | None = None

    def peek(self) -> Token:
        return self.tokens[self.at]

    def take(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def unexpected(self, token: Token) -> QuerySyntaxError:
        if token.kind == "end":
            return QuerySyntaxError("unexpected end of query", token.position)
        return QuerySyntaxError(f"unexpected {token.text!r}", token.position)

    def any_of(self) -> Term:
        branches = [self.all_of(first=True)]
        while self.peek().kind == "or":
            self.take()
            branches.append(self.all_of(first=False))
        return branches[0] if len(branches) == 1 else Any(tuple(branches))

    def all_of(self, *, first: bool) -> Term:
        terms: list[Term] = []
        while True:
            token = self.peek()
            if token.kind == "sort":
                self.take()
                self.set_sort(token)
            elif token.kind in LEAVES or token.kind in ("(", "-"):
                terms.append(self.unary())
            elif terms or (first and self.depth == 0 and token.kind == "end" and self.sort):
                return all_of(*terms) if terms else EVERYTHING
            else:
                raise self.unexpected(token)

    def set_sort(self, token: Token) -> None:
        if self.depth > 0:
            raise QuerySyntaxError("sort: may only stand at the top level", token.position)
        if self.sort is not None:
            raise QuerySyntaxError("sort: given twice", token.position)
        value = token.text[5:].lower()
        if value not in SORTS:
            raise QuerySyntaxError(
                f"unknown sort {value!r} (one of {', '.join(SORTS)})", token.position
            )
        self.sort = value

    def unary(self) -> Term:
        token = self.take()
        if token.kind == "-":
            if not (self.peek().kind in LEAVES or self.peek().kind in ("(", "-")):
                raise self.unexpected(self.peek())
            return Not(self.unary())
        if token.kind in LEAVES:
            self.leaves += 1
            if self.leaves > MAX_TERMS:
                raise QuerySyntaxError(
                    f"more than {MAX_TERMS} tags, prefixes and other terms",
                    token.position,
                )
            if token.kind == "similar":
                self.similars += 1
                if self.similars > MAX_SIMILAR:
                    raise QuerySyntaxError(
                        f"more than {MAX_SIMILAR} similar: terms", token.position
                    )
            if token.term is not None:
                return token.term
            if token.kind == "prefix":
                self.prefixes += 1
                if self.prefixes > MAX_PREFIXES:
                    raise QuerySyntaxError(
                        f"more than {MAX_PREFIXES} prefixes (each stands for up to 100 tags)",
                        token.position,
                    )
            return Tag(token.text) if token.kind == "tag" else Prefix(token.text)
        # "(": the callers only come here on "(", "-", "tag" or "prefix"
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(f"more than {MAX_DEPTH} nested parentheses", token.position)
        term = self.any_of()
        closing = self.take()
        if closing.kind != ")":
            raise self.unexpected(closing)
        self.depth -= 1
        return term


def parse(text: str, field: tuple[str, str] = ("query", "q")) -> Query:
    """The query ``text`` says; ``QuerySyntaxError`` naming the position if it is not one.

    ``field`` (where, name) is where the text came from, for the error.
    """
    try:
        return _parse(text)
    except QuerySyntaxError as error:
        if field == ("query", "q"):
            raise
        raise QuerySyntaxError(error.message, error.position, field) from None


def _parse(text: str) -> Query:
    if len(text) > MAX_LENGTH:
        raise QuerySyntaxError(f"longer than {MAX_LENGTH} characters", MAX_LENGTH + 1)
    tokens = tokenize(text)
    if tokens[0].kind == "end":
        return Query(EVERYTHING, None)
    parser = _Parser(tokens)
    term = parser.any_of()
    if parser.peek().kind != "end":
        raise parser.unexpected(parser.peek())
    return Query(term, parser.sort)
