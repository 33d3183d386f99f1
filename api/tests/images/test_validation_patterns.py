"""The schema's patterns for tags, filenames and digests accept exactly what the server does.

The OpenAPI document states the rules as regular expressions, so clients and
fuzzers know them; the server enforces them in Python with readable errors.
These properties keep the two from drifting apart.
"""

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from pixtag import validation
from pixtag.models import Sha256

# Characters on the edges of the rules: white space of every kind, controls,
# separators, dots and commas, combining marks, case-changing letters.
TRICKY = "\t\n\x0b\x0c\r\x1c\x1f \x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
TRICKY += "\x00\x07\x7f\x9f\ufeff,./\\\u0301Ii\u0130aé"
# Format characters and the joiners, which count only between visible characters.
TRICKY += "\u00ad\u200b\u200c\u200d\u200e\u202e\u2066\U000e0041\U0001f468"
# Beyond the BMP: format characters on the edges of their ranges and their
# neighbours; the Hangul fillers and the braille blank (kept).
TRICKY += "\U000110bd\U000110cd\U0001343f\U00013440\U0001bca3\U0001d17a\U0001d17b"
TRICKY += "\U000e0001\U000e0020\U000e007f\U000e0080\U000e0100\U0001f3f4"
TRICKY += "\u115f\u1160\u3164\uffa0\u2800\u1100\u1161\u20dd\u0340\u0903"
# JSON Schema strings are Unicode scalar values: lone surrogates cannot occur.
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=300) | st.text(
    st.sampled_from(TRICKY), max_size=8
)


def accepts(rule, value: str) -> bool:
    try:
        rule(value)
    except (ValueError, ValidationError):
        return False
    return True


@settings(database=None, max_examples=500)
@given(TEXT)
def test_tag_pattern_and_length_match_normalise_tag(value):
    by_schema = re.fullmatch(validation.TAG_PATTERN, value) is not None
    by_schema = by_schema and len(value) <= validation.MAX_TAG_LENGTH
    assert by_schema == accepts(validation.normalise_tag, value)


@settings(database=None, max_examples=500)
@given(TEXT)
def test_filename_pattern_matches_check_filename_but_for_the_byte_limit(value):
    by_schema = re.fullmatch(validation.FILENAME_PATTERN, value) is not None
    within_limit = len(value.encode()) <= validation.MAX_FILENAME_BYTES
    assert (by_schema and within_limit) == accepts(validation.check_filename, value)


@settings(database=None, max_examples=500)
@given(TEXT)
def test_description_pattern_and_length_match_normalise_description(value):
    by_schema = re.fullmatch(validation.DESCRIPTION_PATTERN, value) is not None
    by_schema = by_schema and len(value) <= validation.MAX_DESCRIPTION_LENGTH
    assert by_schema == accepts(validation.normalise_description, value)


@settings(database=None, max_examples=500)
@given(TEXT)
def test_label_pattern_matches_check_label(value):
    by_schema = re.fullmatch(validation.LABEL_PATTERN, value) is not None
    assert by_schema == accepts(validation.check_label, value)


def test_the_format_characters_are_every_category_cf_but_for_the_joiners():
    listed = {
        chr(code) for first, last in validation.FORMAT_RANGES for code in range(first, last + 1)
    }
    known = {chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) == "Cf"}
    assert listed == known - set(validation.JOINERS)
    assert max(map(ord, listed)) > 0xFFFF


def test_the_marks_are_every_category_mn_and_me():
    listed = {
        chr(code) for first, last in validation.MARK_RANGES for code in range(first, last + 1)
    }
    known = {
        chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) in ("Mn", "Me")
    }
    assert listed == known
    assert {"\u0301", "\U000e0100"} <= listed


def test_the_fillers_are_the_hangul_fillers():
    assert [unicodedata.name(ch) for ch in validation.FILLERS] == [
        "HANGUL CHOSEONG FILLER",
        "HANGUL JUNGSEONG FILLER",
        "HANGUL FILLER",
        "HALFWIDTH HANGUL FILLER",
    ]


INVISIBLE = [
    chr(code) for first, last in validation.FORMAT_RANGES for code in range(first, last + 1)
] + list(validation.FILLERS)


def test_every_format_character_and_filler_is_refused_by_both():
    for ch in INVISIBLE:
        for value in (ch, f"a{ch}b", f"\U0001f3f4{ch}"):
            assert re.fullmatch(validation.TAG_PATTERN, value) is None
            assert re.fullmatch(validation.FILENAME_PATTERN, value) is None
            assert not accepts(validation.normalise_tag, value)
            assert not accepts(validation.check_filename, value)


def test_the_schema_validators_engine_reads_the_patterns_as_python_does():
    """schemathesis checks responses with jsonschema-rs (Rust regex) and draws values with
    Python's re: both read the literal characters beyond the BMP as one character each."""
    import jsonschema_rs

    for pattern in (validation.TAG_PATTERN, validation.FILENAME_PATTERN):
        validator = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
        for ch in [*INVISIBLE, "\U0001f468", "\U000e0100", "\u2800", "\U00013440"]:
            value = f"a{ch}b"
            assert validator.is_valid(value) == (re.fullmatch(pattern, value) is not None)


def test_whitespace_only_tags_are_refused_by_both():
    for value in (" ", "\u3000", "\t \n"):
        assert re.fullmatch(validation.TAG_PATTERN, value) is None
        assert not accepts(validation.normalise_tag, value)


DIGESTS = st.text(st.sampled_from("0123456789abcdefABCDEFg \t\n\u3000\u0130\u212a"), max_size=70)


@settings(database=None, max_examples=500)
@given(DIGESTS | TEXT | st.sampled_from(["a" * 64, " " + "F" * 64 + "\n", "a" * 63 + "g"]))
def test_sha256_pattern_matches_what_the_sha256_parameter_accepts(value):
    by_schema = re.fullmatch(validation.SHA256_PATTERN, value) is not None
    assert by_schema == accepts(TypeAdapter(Sha256).validate_python, value)


NUMBERS = st.text(st.sampled_from("0123456789 +-_.e\u0660\uff11"), max_size=6)


@settings(database=None, max_examples=500)
@given(NUMBERS | st.integers(min_value=0).map(str))
def test_integer_pattern_matches_check_integer(value):
    by_schema = re.fullmatch(validation.INTEGER_PATTERN, value) is not None
    assert by_schema == accepts(validation.check_integer, value)
    if by_schema:
        assert str(int(value)) == value


def test_the_committed_document_holds_the_characters_beyond_the_bmp_as_themselves():
    """openapi.json spells them as JSON surrogate pairs; a JSON parser reads back the character."""
    import json
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "openapi.json").read_text()
    assert "\\udb40\\udc20-\\udb40\\udc7f" in text
    patterns = set()

    def collect(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.add(node["pattern"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(json.loads(text))
    assert {validation.TAG_PATTERN, validation.FILENAME_PATTERN} <= patterns
    assert "\U000e0020-\U000e007f" in validation.TAG_PATTERN


def test_schemathesis_keeps_the_patterns_as_written():
    """schemathesis folds length bounds into a pattern it can rewrite, and writes characters
    beyond the BMP back as Python's \\U escapes, which its ECMAScript check of the schema then
    refuses; the patterns are shaped so that it keeps them as they are (see TAG_PATTERN). The
    schemathesis run shows the whole; this says quickly which part broke."""
    from schemathesis.core.jsonschema.patterns import update_quantifier

    tag, filename = validation.TAG_PATTERN, validation.FILENAME_PATTERN
    assert update_quantifier(tag, 1, validation.MAX_TAG_LENGTH) == tag
    assert update_quantifier(filename, 1, validation.MAX_FILENAME_BYTES) == filename
