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
# The combining marks that draw nothing by themselves (Unicode categories Mn and Me, as of
# Unicode 15.0): a name may not begin with one, having nothing for it to combine with (a
# name of marks alone is a floating accent, or nothing). A test checks the list against
# unicodedata. Hex code points and ranges, as the database's CHECK lists them too.
_MARKS = """
0300-036F 0483-0489 0591-05BD 05BF 05C1-05C2 05C4-05C5 05C7 0610-061A 064B-065F 0670
06D6-06DC 06DF-06E4 06E7-06E8 06EA-06ED 0711 0730-074A 07A6-07B0 07EB-07F3 07FD
0816-0819 081B-0823 0825-0827 0829-082D 0859-085B 0898-089F 08CA-08E1 08E3-0902 093A
093C 0941-0948 094D 0951-0957 0962-0963 0981 09BC 09C1-09C4 09CD 09E2-09E3 09FE
0A01-0A02 0A3C 0A41-0A42 0A47-0A48 0A4B-0A4D 0A51 0A70-0A71 0A75 0A81-0A82 0ABC
0AC1-0AC5 0AC7-0AC8 0ACD 0AE2-0AE3 0AFA-0AFF 0B01 0B3C 0B3F 0B41-0B44 0B4D 0B55-0B56
0B62-0B63 0B82 0BC0 0BCD 0C00 0C04 0C3C 0C3E-0C40 0C46-0C48 0C4A-0C4D 0C55-0C56
0C62-0C63 0C81 0CBC 0CBF 0CC6 0CCC-0CCD 0CE2-0CE3 0D00-0D01 0D3B-0D3C 0D41-0D44 0D4D
0D62-0D63 0D81 0DCA 0DD2-0DD4 0DD6 0E31 0E34-0E3A 0E47-0E4E 0EB1 0EB4-0EBC 0EC8-0ECE
0F18-0F19 0F35 0F37 0F39 0F71-0F7E 0F80-0F84 0F86-0F87 0F8D-0F97 0F99-0FBC 0FC6
102D-1030 1032-1037 1039-103A 103D-103E 1058-1059 105E-1060 1071-1074 1082 1085-1086
108D 109D 135D-135F 1712-1714 1732-1733 1752-1753 1772-1773 17B4-17B5 17B7-17BD 17C6
17C9-17D3 17DD 180B-180D 180F 1885-1886 18A9 1920-1922 1927-1928 1932 1939-193B
1A17-1A18 1A1B 1A56 1A58-1A5E 1A60 1A62 1A65-1A6C 1A73-1A7C 1A7F 1AB0-1ACE 1B00-1B03
1B34 1B36-1B3A 1B3C 1B42 1B6B-1B73 1B80-1B81 1BA2-1BA5 1BA8-1BA9 1BAB-1BAD 1BE6
1BE8-1BE9 1BED 1BEF-1BF1 1C2C-1C33 1C36-1C37 1CD0-1CD2 1CD4-1CE0 1CE2-1CE8 1CED 1CF4
1CF8-1CF9 1DC0-1DFF 20D0-20F0 2CEF-2CF1 2D7F 2DE0-2DFF 302A-302D 3099-309A A66F-A672
A674-A67D A69E-A69F A6F0-A6F1 A802 A806 A80B A825-A826 A82C A8C4-A8C5 A8E0-A8F1 A8FF
A926-A92D A947-A951 A980-A982 A9B3 A9B6-A9B9 A9BC-A9BD A9E5 AA29-AA2E AA31-AA32
AA35-AA36 AA43 AA4C AA7C AAB0 AAB2-AAB4 AAB7-AAB8 AABE-AABF AAC1 AAEC-AAED AAF6 ABE5
ABE8 ABED FB1E FE00-FE0F FE20-FE2F 101FD 102E0 10376-1037A 10A01-10A03 10A05-10A06
10A0C-10A0F 10A38-10A3A 10A3F 10AE5-10AE6 10D24-10D27 10EAB-10EAC 10EFD-10EFF
10F46-10F50 10F82-10F85 11001 11038-11046 11070 11073-11074 1107F-11081 110B3-110B6
110B9-110BA 110C2 11100-11102 11127-1112B 1112D-11134 11173 11180-11181 111B6-111BE
111C9-111CC 111CF 1122F-11231 11234 11236-11237 1123E 11241 112DF 112E3-112EA
11300-11301 1133B-1133C 11340 11366-1136C 11370-11374 11438-1143F 11442-11444 11446
1145E 114B3-114B8 114BA 114BF-114C0 114C2-114C3 115B2-115B5 115BC-115BD 115BF-115C0
115DC-115DD 11633-1163A 1163D 1163F-11640 116AB 116AD 116B0-116B5 116B7 1171D-1171F
11722-11725 11727-1172B 1182F-11837 11839-1183A 1193B-1193C 1193E 11943 119D4-119D7
119DA-119DB 119E0 11A01-11A0A 11A33-11A38 11A3B-11A3E 11A47 11A51-11A56 11A59-11A5B
11A8A-11A96 11A98-11A99 11C30-11C36 11C38-11C3D 11C3F 11C92-11CA7 11CAA-11CB0
11CB2-11CB3 11CB5-11CB6 11D31-11D36 11D3A 11D3C-11D3D 11D3F-11D45 11D47 11D90-11D91
11D95 11D97 11EF3-11EF4 11F00-11F01 11F36-11F3A 11F40 11F42 13440 13447-13455
16AF0-16AF4 16B30-16B36 16F4F 16F8F-16F92 16FE4 1BC9D-1BC9E 1CF00-1CF2D 1CF30-1CF46
1D167-1D169 1D17B-1D182 1D185-1D18B 1D1AA-1D1AD 1D242-1D244 1DA00-1DA36 1DA3B-1DA6C
1DA75 1DA84 1DA9B-1DA9F 1DAA1-1DAAF 1E000-1E006 1E008-1E018 1E01B-1E021 1E023-1E024
1E026-1E02A 1E08F 1E130-1E136 1E2AE 1E2EC-1E2EF 1E4EC-1E4EF 1E8D0-1E8D6 1E944-1E94A
E0100-E01EF
"""
MARK_RANGES = tuple(
    (int(first, 16), int(last, 16))
    for first, _, last in (item.partition("-") for item in _MARKS.split())
    for last in (last or first,)
)


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
_MARK = _class_body(MARK_RANGES)
# What str.strip() removes: the characters for which str.isspace() is true.
_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# The white space that may stand inside a name: _SPACE but for the controls and SEPARATORS.
_BLANK = r"\x20\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
# A visible character of a tag, then one that may follow a joiner.
_TAG_CHAR = rf"[^{_HIDDEN}{_SPACE}{_JOINER},]"
# The first visible character of a name is not a combining mark.
_TAG_FIRST = rf"[^{_HIDDEN}{_SPACE}{_JOINER},{_MARK}](?:[{_JOINER}]{_TAG_CHAR})*"
# The leading white space is spelled (?:[...]+|), not [...]*: schemathesis
# folds a string's length bounds into its pattern when it can, and writes the
# result back with Python's \U escapes for characters beyond the BMP, which
# its own ECMAScript check of the schema then refuses ("unsupported regular
# expression"); it leaves a pattern that opens with an alternation as it is.
#
# After the first word, (?:[blank]*word)* is spelled as the same language with one
# character per branch where it can be, (?:[blank]|char|char(?:joiner char)+)*: a
# generator (Hypothesis' from_regex, which schemathesis uses) then draws most characters
# with one choice instead of three nested ones, about 4x faster for the long strings of
# the boundary tests (the test of every check took 140 s, then 116 s). Spelled further as
# one class per character, [blank or char]*(?:char(?:joiner char)+[blank or char]*)*,
# schemathesis took longer (198 s): its length search handles that shape worse.
TAG_PATTERN = (
    rf"^(?:[{_SPACE}]+|){_TAG_FIRST}"
    rf"(?:[{_BLANK}]|{_TAG_CHAR}|{_TAG_CHAR}(?:[{_JOINER}]{_TAG_CHAR})+)*[{_SPACE}]*$"
)
_NAME_CHAR = rf"[^{_HIDDEN}{_SPACE}{_JOINER}/\\]"
# The first visible character is not a dot when it is the first character.
_NAME_START = (
    rf"(?:[^.{_HIDDEN}{_SPACE}{_JOINER}/\\{_MARK}]"
    rf"|[{_BLANK}]+[^{_HIDDEN}{_SPACE}{_JOINER}/\\{_MARK}])"
)
FILENAME_PATTERN = (
    rf"^{_NAME_START}(?:[{_JOINER}]{_NAME_CHAR})*"
    rf"(?:[{_BLANK}]|{_NAME_CHAR}|{_NAME_CHAR}(?:[{_JOINER}]{_NAME_CHAR})+)*$"
)
# A description: visible characters, white space that may stand in a name, tabs and line
# breaks (CR LF and CR are read as LF).
_TEXT_CHAR = rf"[^{_HIDDEN}{_SPACE}{_JOINER}]"
# Opened with an alternation for schemathesis, as TAG_PATTERN is (see there).
DESCRIPTION_PATTERN = (
    rf"^(?:[{_BLANK}\t\n\r]+|)"
    rf"(?:[{_BLANK}\t\n\r]|{_TEXT_CHAR}|{_TEXT_CHAR}(?:[{_JOINER}]{_TEXT_CHAR})+)*$"
)
# A label (a token's name): one line of visible characters and spaces, not only spaces.
_TEXT_FIRST = rf"[^{_HIDDEN}{_SPACE}{_JOINER}{_MARK}](?:[{_JOINER}]{_TEXT_CHAR})*"
LABEL_PATTERN = (
    rf"^(?:[{_BLANK}]+|){_TEXT_FIRST}"
    rf"(?:[{_BLANK}]|{_TEXT_CHAR}|{_TEXT_CHAR}(?:[{_JOINER}]{_TEXT_CHAR})+)*$"
)
# A digest as sent: normalise_sha256 trims and lower-cases it first.
SHA256_PATTERN = rf"^[{_SPACE}]*[0-9A-Fa-f]{{64}}[{_SPACE}]*$"
# A number in a path or a query: digits only, no sign, spaces, separators or
# leading zeros, so that one number has one spelling ("1_0" is not image 10).
INTEGER_PATTERN = r"^(0|[1-9][0-9]*)$"

_FORMAT_CHARACTERS = frozenset(
    chr(code) for first, last in FORMAT_RANGES for code in range(first, last + 1)
)
_MARK_CHARACTERS = frozenset(
    chr(code) for first, last in MARK_RANGES for code in range(first, last + 1)
)


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def _visible_at(value: str, index: int) -> bool:
    return 0 <= index < len(value) and not value[index].isspace() and value[index] not in JOINERS


def _check_visible(value: str, what: str, *, name: bool = True) -> None:
    """Refuse format characters, fillers, line and paragraph separators, joiners that do
    not join two visible characters, and in a name a combining mark as the first visible
    character."""
    first = value.lstrip()[:1]
    if name and first in _MARK_CHARACTERS:
        raise ValueError(
            f"{what} must not begin with the combining mark U+{ord(first):04X}"
            " (it has nothing to combine with)"
        )
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
    _check_visible(text, "description", name=False)
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
