"""The rules for filenames and tags, shared by the API, uploads and the CLI.

A filename becomes a path segment under the media root, so it must be one
safe segment; tags are normalised so that "Canon", " canon" and "canon"
are the same tag, in storage and in filters alike.
"""

import unicodedata

MAX_FILENAME_BYTES = 255
MAX_TAG_LENGTH = 100
MAX_TAGS = 100


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
    tag = unicodedata.normalize("NFC", value.strip()).lower()
    if not tag:
        raise ValueError("tag must not be empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(f"tag must be at most {MAX_TAG_LENGTH} characters")
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
