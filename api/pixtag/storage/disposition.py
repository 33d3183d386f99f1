"""The Content-Disposition a stored file is served with, whichever backend serves it.

The filename is the uploader's, so it may hold any character: RFC 6266's
``filename*`` carries it exactly (UTF-8, percent-encoded), and ``filename``
gives older clients a safe ASCII approximation. Nothing the uploader chose
can end the quoted string or the header (quotes, backslashes, control
characters and line breaks all become ``_``).
"""

from urllib.parse import quote


def _ascii_fallback(filename: str) -> str:
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)


def content_disposition(filename: str, *, kind: str = "inline") -> str:
    """``inline`` (or ``attachment``: save, do not show) with ``filename`` as both an ASCII
    fallback and the exact UTF-8 name."""
    exact = quote(filename, safe="", encoding="utf-8", errors="replace")
    return f"{kind}; filename=\"{_ascii_fallback(filename)}\"; filename*=UTF-8''{exact}"
