"""The ``after`` token: where a sorted listing stopped, opaque to clients.

It holds the sort and the last image's sort key (its id, or its creation
time or the time it was taken, to the microsecond, and its id), as URL-safe base64 of a small JSON
array. Clients hand it back as it is; a token for another sort, or one
that does not decode, is a 400.
"""

import base64
import binascii
import json
import re
from datetime import datetime
from typing import Literal

from pixtag.errors import BadRequest
from pixtag.search.terms import SORTS, Sort

type Key = tuple[int] | tuple[str, int]
# A token continues an image listing's sort, or an album's own order ("position").
type Order = Sort | Literal["position"]
ORDERS: tuple[str, ...] = (*SORTS, "position")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$")
BIGINT_MAX = 2**63 - 1


class InvalidCursorToken(BadRequest):
    def __init__(self, reason: str) -> None:
        super().__init__(f"after: {reason}")


def encode(sort: Order, key: Key) -> str:
    """The token continuing ``sort`` after the image with this key."""
    raw = json.dumps([sort, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, sort: Order) -> Key:
    """The key a token holds; InvalidCursorToken unless it is a token of ``sort``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursorToken("not a cursor token returned by this listing") from None
    if not (isinstance(value, list) and value and value[0] in ORDERS):
        raise InvalidCursorToken("not a cursor token returned by this listing")
    if value[0] != sort:
        raise InvalidCursorToken(f"the token continues sort:{value[0]}, not sort:{sort}")
    key = value[1:]
    last = key[-1] if key else None
    if not (isinstance(last, int) and not isinstance(last, bool) and 0 < last <= BIGINT_MAX):
        raise InvalidCursorToken("not a cursor token returned by this listing")
    if sort in ("id", "-id", "position") and len(key) == 1:
        return (last,)
    if sort in ("taken", "-taken") and len(key) == 2 and key[0] in ("infinity", "-infinity"):
        return (key[0], last)  # past the dated images: the undated, by id
    if (
        sort in ("created", "-created", "taken", "-taken")
        and len(key) == 2
        and isinstance(key[0], str)
        and TIMESTAMP.match(key[0])
    ):
        try:
            datetime.fromisoformat(key[0])
        except ValueError:
            raise InvalidCursorToken("not a cursor token returned by this listing") from None
        return (key[0], last)
    raise InvalidCursorToken("not a cursor token returned by this listing")
