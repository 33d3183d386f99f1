"""The rules for filenames and tags, shared by the API, uploads and the CLI.

A filename becomes a path segment under the media root, so it must be one
safe segment; tags are normalised so that "Canon", " canon" and "canon"
are the same tag, in storage and in filters alike.
"""

import re
import unicodedata

# The largest id PostgreSQL's bigint holds.
BIGINT_MAX = 2**63 - 1

MAX_FILENAME_BYTES = 255
MAX_TAG_LENGTH = 100
MAX_TAGS = 100
MAX_DESCRIPTION_LENGTH = 4000

# Format characters (Unicode category Cf, as of Python's Unicode 15) draw
# nothing or reorder what follows: U+200B makes a tag that looks empty,
# U+202E shows "\u202egpj.exe" as "exe.jpg", and the tag characters
# U+E0020..U+E007F carry invisible ASCII ("ASCII smuggling"). Names refuse
# them all, but for the two joiners, which Persian, Indic scripts and emoji
# sequences need: those only between two visible characters. (This refuses the
# three subdivision flags too, whose emoji sequences are spelled with tag
# characters: a name cannot tell those from smuggled text.) A test checks the
# list against unicodedata.
FORMAT_RANGES = (
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200B),
    (0x200E, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
JOINERS = "\u200c\u200d"
# Letters by category that stand for nothing seen: the Hangul fillers
# (Default_Ignorable_Code_Point in Unicode, drawn as nothing), a favourite for
# names that look empty. Refused like format characters. U+2800 BRAILLE
# PATTERN BLANK is kept: it is a cell of braille text, drawn with a width,
# hiding and reordering nothing (a name of it alone looks blank, as "_" looks
# like a line; refusing it would refuse braille with word spaces).
FILLERS = "\u115f\u1160\u3164\uffa0"
# The line and paragraph separators: white space to str.strip(), a line break to a log, a
# terminal or a JavaScript string. A tag's ends are trimmed of them like of any white
# space; inside a name they are refused.
SEPARATORS = "\u2028\u2029"


def _class_body(ranges: tuple[tuple[int, int], ...]) -> str:
    """A character class body: \\u escapes in the BMP, the characters themselves beyond it.

    An escape for a character beyond the BMP has no spelling that ECMAScript
    (\\u{...} with the u flag), Python (\\U0001xxxx) and Rust read alike; the
    character itself all of them read as one character (ECMAScript with the u
    flag, as JSON Schema validators use). In openapi.json it is written as a
    JSON surrogate pair, which every JSON parser reads back as that character.
    """

    def one(code: int) -> str:
        return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)

    return "".join(one(a) if a == b else f"{one(a)}-{one(b)}" for a, b in ranges)


# The same rules as regular expressions, for the OpenAPI schema: clients and
# API fuzzers learn from it exactly which strings the functions below accept
# (a test checks that both agree). Written with \x and \u escapes, and the
# characters beyond the BMP as themselves (see _class_body), so ECMAScript,
# Python and Rust read them alike; no look-around, which Rust lacks.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_FORMAT = _class_body(FORMAT_RANGES)
_JOINER = r"\u200c\u200d"
_FILLER = "".join(f"\\u{ord(ch):04x}" for ch in FILLERS)
_HIDDEN = _CONTROL + _FORMAT + _FILLER
# What str.strip() removes: the characters for which str.isspace() is true.
_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# The white space that may stand inside a name: _SPACE but for the controls and SEPARATORS.
_BLANK = r"\x20\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
# A visible character of a tag, then one that may follow a joiner.
_TAG_CHAR = rf"[^{_HIDDEN}{_SPACE}{_JOINER},]"
_TAG_WORD = rf"{_TAG_CHAR}(?:[{_JOINER}]{_TAG_CHAR})*"
# The leading white space is spelled (?:[...]+|), not [...]*: schemathesis
# folds a string's length bounds into its pattern when it can, and writes the
# result back with Python's \U escapes for characters beyond the BMP, which
# its own ECMAScript check of the schema then refuses ("unsupported regular
# expression"); it leaves a pattern that opens with an alternation as it is.
TAG_PATTERN = rf"^(?:[{_SPACE}]+|){_TAG_WORD}(?:[{_BLANK}]*{_TAG_WORD})*[{_SPACE}]*$"
_NAME_CHAR = rf"[^{_HIDDEN}{_SPACE}{_JOINER}/\\]"
_NAME_WORD = rf"{_NAME_CHAR}(?:[{_JOINER}]{_NAME_CHAR})*"
# The first visible character is not a dot when it is the first character.
_NAME_START = rf"(?:[^.{_HIDDEN}{_SPACE}{_JOINER}/\\]|[{_BLANK}]+{_NAME_CHAR})"
FILENAME_PATTERN = rf"^{_NAME_START}(?:[{_JOINER}]{_NAME_CHAR})*(?:[{_BLANK}]|{_NAME_WORD})*$"
# A description: visible characters, white space that may stand in a name, tabs and line
# breaks (CR LF and CR are read as LF).
_TEXT_CHAR = rf"[^{_HIDDEN}{_SPACE}{_JOINER}]"
_TEXT_WORD = rf"{_TEXT_CHAR}(?:[{_JOINER}]{_TEXT_CHAR})*"
# Opened with an alternation for schemathesis, as TAG_PATTERN is (see there).
DESCRIPTION_PATTERN = rf"^(?:[{_BLANK}\t\n\r]+|)(?:[{_BLANK}\t\n\r]|{_TEXT_WORD})*$"
# A label (a token's name): one line of visible characters and spaces, not only spaces.
LABEL_PATTERN = rf"^(?:[{_BLANK}]+|){_TEXT_WORD}(?:[{_BLANK}]*{_TEXT_WORD})*[{_BLANK}]*$"
# A digest as sent: normalise_sha256 trims and lower-cases it first.
SHA256_PATTERN = rf"^[{_SPACE}]*[0-9A-Fa-f]{{64}}[{_SPACE}]*$"
# A number in a path or a query: digits only, no sign, spaces, separators or
# leading zeros, so that one number has one spelling ("1_0" is not image 10).
INTEGER_PATTERN = r"^(0|[1-9][0-9]*)$"

_FORMAT_CHARACTERS = frozenset(
    chr(code) for first, last in FORMAT_RANGES for code in range(first, last + 1)
)


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def _visible_at(value: str, index: int) -> bool:
    return 0 <= index < len(value) and not value[index].isspace() and value[index] not in JOINERS


def _check_visible(value: str, what: str) -> None:
    """Refuse format characters, fillers, line and paragraph separators, and joiners that do
    not join two visible characters."""
    for index, ch in enumerate(value):
        if ch in _FORMAT_CHARACTERS:
            raise ValueError(f"{what} must not contain the format character U+{ord(ch):04X}")
        if ch in FILLERS:
            raise ValueError(f"{what} must not contain the invisible filler U+{ord(ch):04X}")
        if ch in SEPARATORS:
            raise ValueError(
                f"{what} must not contain the line or paragraph separator U+{ord(ch):04X}"
            )
        if ch in JOINERS and not (_visible_at(value, index - 1) and _visible_at(value, index + 1)):
            raise ValueError(
                f"{what} may contain U+{ord(ch):04X} only between two visible characters"
            )


def check_filename(value: str) -> str:
    """Return ``value`` if it is one safe path segment, else raise ValueError."""
    if not value:
        raise ValueError("filename must not be empty")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_FILENAME_BYTES:
        raise ValueError(f"filename must be at most {MAX_FILENAME_BYTES} bytes in UTF-8")
    if "/" in value or "\\" in value:
        raise ValueError("filename must not contain '/' or '\\'")
    if _has_control(value):
        raise ValueError("filename must not contain control characters")
    if any(unicodedata.category(ch) == "Cs" for ch in value):
        raise ValueError("filename must be valid Unicode")
    if value.startswith("."):
        raise ValueError("filename must not start with '.'")
    if value.isspace():
        raise ValueError("filename must not be blank")
    _check_visible(value, "filename")
    return value


def normalise_description(value: str) -> str:
    """Trim and NFC-normalise a description, line breaks as LF; raise ValueError if invalid.

    At most MAX_DESCRIPTION_LENGTH characters as sent; no control characters but tab and
    line breaks; the rules of names for format characters, fillers and joiners."""
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise ValueError(f"description must be at most {MAX_DESCRIPTION_LENGTH} characters")
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n" for ch in text):
        raise ValueError("description must not contain control characters but tab and line feed")
    if any(unicodedata.category(ch) == "Cs" for ch in text):
        raise ValueError("description must be valid Unicode")
    _check_visible(text, "description")
    return unicodedata.normalize("NFC", text.strip())


def check_label(value: str) -> str:
    """Return ``value`` if it is one line people can read (a token's name), else ValueError."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError("name must not contain control characters")
    if not value or value.isspace():
        raise ValueError("name must not be blank")
    _check_visible(value, "name")
    return value


def normalise_tag(value: str) -> str:
    """Trim, NFC-normalise and lower-case a tag; raise ValueError if it is invalid."""
    # The length limit applies to the tag as sent: normalising may change its
    # length ("İ".lower() has two characters), and a limit a schema can state
    # must be on the string the client writes.
    if len(value) > MAX_TAG_LENGTH:
        raise ValueError(f"tag must be at most {MAX_TAG_LENGTH} characters")
    tag = unicodedata.normalize("NFC", value.strip()).lower()
    if not tag:
        raise ValueError("tag must not be empty")
    if _has_control(tag) or any(unicodedata.category(ch) == "Cs" for ch in tag):
        raise ValueError("tag must not contain control characters")
    if "," in tag:
        raise ValueError("tag must not contain ','")
    _check_visible(tag, "tag")
    return tag


def unique_tags(tags: list[str]) -> list[str]:
    """Drop repeated tags, keeping the first occurrence of each."""
    return list(dict.fromkeys(tags))


def normalise_sha256(value: object) -> object:
    """Trim and lower-case a hex digest so that any spelling of it matches the stored one."""
    return value.strip().lower() if isinstance(value, str) else value


def check_integer(value: object) -> object:
    """Refuse a number written other than as plain decimal digits (before pydantic reads it)."""
    if isinstance(value, str) and not re.fullmatch(INTEGER_PATTERN, value):
        raise ValueError(
            "must be a decimal integer: digits only, no sign, spaces, separators or leading zeros"
        )
    return value
