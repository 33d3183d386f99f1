"""The rules for filenames and tags, shared by the API, uploads and the CLI.

A filename becomes a path segment under the media root, so it must be one
safe segment; tags are normalised so that "Canon", " canon" and "canon"
are the same tag, in storage and in filters alike.
"""

import re
import unicodedata

MAX_FILENAME_BYTES = 255
MAX_TAG_LENGTH = 100
MAX_TAGS = 100

# Format characters (Unicode category Cf, as of Unicode 15, in the BMP) draw
# nothing or reorder what follows: U+200B makes a tag that looks empty,
# U+202E shows "\u202egpj.exe" as "exe.jpg". Names refuse them all, but for
# the two joiners, which Persian, Indic scripts and emoji sequences need:
# those only between two visible characters. The few format characters beyond
# the BMP (U+110BD, U+13430.., U+1BCA0.., U+1D173.., U+E0001, U+E0020..) are
# not refused: a schema pattern cannot name them for fuzzers and ECMAScript
# without the u flag, which read them as surrogate pairs. (A test checks the
# list against unicodedata.)
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
)
JOINERS = "\u200c\u200d"


def _class_body(ranges: tuple[tuple[int, int], ...]) -> str:
    """A character class body of \\u escapes."""
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)


# The same rules as regular expressions, for the OpenAPI schema: clients and
# API fuzzers learn from it exactly which strings the functions below accept
# (a test checks that both agree). Written with \x and \u escapes only, so
# ECMAScript, Python and Rust read them alike; no look-around, which Rust lacks.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_FORMAT = _class_body(FORMAT_RANGES)
_JOINER = r"\u200c\u200d"
_HIDDEN = _CONTROL + _FORMAT
# What str.strip() removes: the characters for which str.isspace() is true.
_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# The white space that may stand inside a name: _SPACE but for the controls.
_BLANK = r"\x20\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# A visible character of a tag, then one that may follow a joiner.
_TAG_CHAR = rf"[^{_HIDDEN}{_SPACE}{_JOINER},]"
_TAG_WORD = rf"{_TAG_CHAR}(?:[{_JOINER}]{_TAG_CHAR})*"
TAG_PATTERN = rf"^[{_SPACE}]*{_TAG_WORD}(?:[{_BLANK}]*{_TAG_WORD})*[{_SPACE}]*$"
_NAME_CHAR = rf"[^{_HIDDEN}{_SPACE}{_JOINER}/\\]"
_NAME_WORD = rf"{_NAME_CHAR}(?:[{_JOINER}]{_NAME_CHAR})*"
# The first visible character is not a dot when it is the first character.
_NAME_START = rf"(?:[^.{_HIDDEN}{_SPACE}{_JOINER}/\\]|[{_BLANK}]+{_NAME_CHAR})"
FILENAME_PATTERN = rf"^{_NAME_START}(?:[{_JOINER}]{_NAME_CHAR})*(?:[{_BLANK}]|{_NAME_WORD})*$"
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
    """Refuse format characters, and joiners that do not join two visible characters."""
    for index, ch in enumerate(value):
        if ch in _FORMAT_CHARACTERS:
            raise ValueError(f"{what} must not contain the format character U+{ord(ch):04X}")
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
