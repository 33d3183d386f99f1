"""The rules for filenames and tags, shared by the API, uploads and the CLI.

A filename becomes a path segment under the media root, so it must be one
safe segment; tags are normalised so that "Canon", " canon" and "canon"
are the same tag, in storage and in filters alike.
"""

import unicodedata

MAX_FILENAME_BYTES = 255
MAX_TAG_LENGTH = 100
MAX_TAGS = 100

# The same rules as regular expressions, for the OpenAPI schema: clients and
# API fuzzers learn from it exactly which strings the functions below accept
# (a test checks that both agree). Written with \x and \u escapes only, so
# ECMAScript, Python and Rust read them alike.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
# What str.strip() removes: the characters for which str.isspace() is true.
_SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_TAG_EDGE = rf"[^{_CONTROL}{_SPACE},]"
TAG_PATTERN = rf"^[{_SPACE}]*{_TAG_EDGE}(?:[^{_CONTROL},]*{_TAG_EDGE})?[{_SPACE}]*$"
FILENAME_PATTERN = rf"^[^.{_CONTROL}/\\][^{_CONTROL}/\\]*$"
# A digest as sent: normalise_sha256 trims and lower-cases it first.
SHA256_PATTERN = rf"^[{_SPACE}]*[0-9A-Fa-f]{{64}}[{_SPACE}]*$"


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


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
    return tag


def unique_tags(tags: list[str]) -> list[str]:
    """Drop repeated tags, keeping the first occurrence of each."""
    return list(dict.fromkeys(tags))


def normalise_sha256(value: object) -> object:
    """Trim and lower-case a hex digest so that any spelling of it matches the stored one."""
    return value.strip().lower() if isinstance(value, str) else value
