"""The image documents the client reads, as plain dataclasses.

The server's pydantic models describe what it accepts and answers; the
client only reads images back, and importing pydantic with the models costs
a client command more than its request does (bench/RESULTS.md). So the
client checks the fields it uses here, keeps the document's text as sent
(``raw``, for ``--json``) and tolerates fields it does not know.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pixtag.client.errors import ClientError


@dataclass(frozen=True)
class Attachment:
    url: str
    content_type: str
    size: int
    sha256: str
    width: int
    height: int
    uploaded_at: datetime


@dataclass(frozen=True)
class Image:
    image_id: int
    filename: str
    tags: list[str]
    created_at: datetime
    attachment: Attachment | None
    raw: str = "{}"


def _typed[T](document: dict[str, Any], name: str, kind: type[T]) -> T:
    value = document[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{name} is not {kind.__name__}")
    return value


def _attachment(document: dict[str, Any]) -> Attachment:
    return Attachment(
        url=_typed(document, "url", str),
        content_type=_typed(document, "content_type", str),
        size=_typed(document, "size", int),
        sha256=_typed(document, "sha256", str),
        width=_typed(document, "width", int),
        height=_typed(document, "height", int),
        uploaded_at=datetime.fromisoformat(_typed(document, "uploaded_at", str)),
    )


def parse_image(text: str | bytes) -> Image:
    """An image document, or a ClientError saying what the answer lacks."""
    raw = text.decode() if isinstance(text, bytes) else text
    try:
        document = json.loads(raw)
        tags = _typed(document, "tags", list)
        if not all(isinstance(tag, str) for tag in tags):
            raise TypeError("tags are not all strings")
        file = document["attachment"]
        return Image(
            image_id=_typed(document, "image_id", int),
            filename=_typed(document, "filename", str),
            tags=tags,
            created_at=datetime.fromisoformat(_typed(document, "created_at", str)),
            attachment=None if file is None else _attachment(file),
            raw=raw.strip(),
        )
    except (ValueError, TypeError, KeyError) as error:
        raise ClientError(f"unexpected answer from the server: {error}") from None
