"""Database URLs: checked when the settings are read, and masked wherever they are shown.

libpq parses the URL (or ``key=value`` string) itself; its complaints quote
the text they could not read, password included, so neither a check's
message nor a log line ever carries the URL as given.
"""

import re

from psycopg2.extensions import parse_dsn

MASK = "***"
# The password in a key=value connection string: quoted ('...', with \' escapes) or bare.
KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")


def check(url: str) -> None:
    """Raise ``ValueError``, quoting nothing of ``url``, unless libpq can read it."""
    try:
        parse_dsn(url)
    except Exception:
        raise ValueError(
            "not a PostgreSQL URL libpq can read"
            " (postgresql://user:password@host:port/dbname, or key=value pairs)"
        ) from None


def masked(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``: fit for a log line."""
    if "://" not in url:
        return KEYWORD_PASSWORD.sub(rf"\g<1>{MASK}", url)
    scheme, rest = url.split("://", 1)
    # As libpq reads it: the user info runs to the first "@", unless a "/" comes first.
    at, slash = rest.find("@"), rest.find("/")
    if at >= 0 and (slash < 0 or at < slash) and ":" in rest[:at]:
        rest = f"{rest[: rest.index(':')]}:{MASK}{rest[at:]}"
    # A password can also be a query parameter: ?password=...
    rest = re.sub(r"([?&]password=)[^&]*", rf"\g<1>{MASK}", rest)
    return f"{scheme}://{rest}"
