"""Share links (fixture 015): made, listed, revoked, and followed.

A download is counted in one statement whose WHERE holds every condition
(not revoked, not expired, not used up, image still there), so concurrent
downloads can never exceed ``max_downloads``; it is counted as its bytes
start and given back if they could not all be sent. Wrong passwords
are counted in the row itself, so the rate limit holds across processes.
"""

from dataclasses import dataclass
from typing import Any

from pixtag.errors import NotFound
from pixtag.images.queries.missing import missing_image

# Wrong passwords allowed per share within the window, and the window (seconds).
MAX_FAILURES = 5
FAILURE_WINDOW = 60

SHARE_COLUMNS = """
    s.token, s.image_id, utc_iso(s.expires_at), s.max_downloads, s.downloads,
    s.password_hash IS NOT NULL, utc_iso(s.created_at), s.strip_metadata
"""

INSERT_SHARE = f"""
    INSERT INTO shares AS s (token, image_id, password_hash, expires_at, max_downloads, kind,
                             strip_metadata)
    SELECT %(token)s, i.image_id, %(password_hash)s,
           now() + make_interval(secs => %(expires_in)s), %(max_downloads)s, %(kind)s,
           %(strip_metadata)s
    FROM images AS i WHERE i.image_id = %(image_id)s
    RETURNING {SHARE_COLUMNS}
"""  # noqa: S608 - constant fragments; values bound

IMAGE_EXISTS = "SELECT 1 FROM images WHERE image_id = %(image_id)s"

SELECT_SHARES = f"""
    SELECT {SHARE_COLUMNS} FROM shares AS s
    WHERE s.image_id = %(image_id)s AND s.revoked_at IS NULL AND s.kind = 'share'
    ORDER BY s.created_at, s.token
"""  # noqa: S608 - constant fragments; values bound

REVOKE_SHARE = """
    UPDATE shares SET revoked_at = coalesce(revoked_at, now()) WHERE token = %(token)s
    RETURNING image_id
"""

# Seconds until a locked link takes passwords again (NULL: it is not locked).
LOCKED = f"""
    CASE WHEN s.failures >= {MAX_FAILURES}
              AND s.failures_since > now() - make_interval(secs => {FAILURE_WINDOW})
         THEN ceil(extract(epoch FROM s.failures_since
                           + make_interval(secs => {FAILURE_WINDOW}) - now()))::int
    END
"""

SELECT_LINK = f"""
    SELECT s.password_hash,
           s.revoked_at IS NOT NULL
             OR s.expires_at <= now()
             OR (s.max_downloads IS NOT NULL AND s.downloads >= s.max_downloads)
             OR i.image_id IS NULL,
           {LOCKED},
           i.filename, i.content_type, file_key(i), s.image_id, i.size,
           r.storage_key, r.content_type, r.size, s.strip_metadata
    FROM shares AS s
    LEFT JOIN images AS i ON i.image_id = s.image_id
    LEFT JOIN renditions AS r
           ON r.image_id = s.image_id AND r.preset = %(preview)s AND r.source_sha256 = i.sha256
    WHERE s.token = %(token)s AND s.kind = %(kind)s
"""  # noqa: S608 - constant numbers

# An attempt at the password, counted before the password is checked (as a failure
# until a download resets the count): concurrent guesses take turns on the row, each
# sees the count the one before left, and past the limit none is checked at all.
CLAIM_ATTEMPT = f"""
    UPDATE shares SET
        failures = CASE WHEN failures_since > now() - make_interval(secs => {FAILURE_WINDOW})
                        THEN failures + 1 ELSE 1 END,
        failures_since = CASE
            WHEN failures_since > now() - make_interval(secs => {FAILURE_WINDOW})
            THEN failures_since ELSE now() END
    WHERE token = %(token)s
      AND NOT (failures >= {MAX_FAILURES}
               AND failures_since > now() - make_interval(secs => {FAILURE_WINDOW}))
    RETURNING failures
"""  # noqa: S608 - constant numbers

COUNT_DOWNLOAD = """
    UPDATE shares AS s SET downloads = downloads + 1, failures = 0
    WHERE s.token = %(token)s
      AND s.revoked_at IS NULL
      AND (s.expires_at IS NULL OR s.expires_at > now())
      AND (s.max_downloads IS NULL OR s.downloads < s.max_downloads)
      AND CASE WHEN s.kind = 'album'
               THEN EXISTS (SELECT 1 FROM albums AS a WHERE a.album_id = s.album_id)
               ELSE EXISTS (SELECT 1 FROM images AS i WHERE i.image_id = s.image_id) END
    RETURNING s.downloads
"""

KIND = "SELECT kind FROM shares WHERE token = %(token)s"
LOCKED_FOR = f"""
    SELECT {LOCKED}
    FROM shares AS s WHERE s.token = %(token)s
"""  # noqa: S608 - constant numbers

ALBUM_SHARE_COLUMNS = """
    s.token, s.album_id, utc_iso(s.expires_at), s.max_downloads, s.downloads,
    s.password_hash IS NOT NULL, utc_iso(s.created_at), s.strip_metadata
"""
INSERT_ALBUM_SHARE = f"""
    INSERT INTO shares AS s (token, album_id, password_hash, expires_at, max_downloads, kind,
                             strip_metadata)
    SELECT %(token)s, a.album_id, %(password_hash)s,
           now() + make_interval(secs => %(expires_in)s), %(max_downloads)s, 'album',
           %(strip_metadata)s
    FROM albums AS a WHERE a.album_id = %(album_id)s
    RETURNING {ALBUM_SHARE_COLUMNS}
"""  # noqa: S608 - constant fragments; values bound
SELECT_ALBUM_SHARES = f"""
    SELECT {ALBUM_SHARE_COLUMNS} FROM shares AS s
    WHERE s.album_id = %(album_id)s AND s.revoked_at IS NULL AND s.kind = 'album'
    ORDER BY s.created_at, s.token
"""  # noqa: S608 - constant fragments; values bound
SELECT_ALBUM_LINK = f"""
    SELECT s.password_hash,
           s.revoked_at IS NOT NULL
             OR s.expires_at <= now()
             OR (s.max_downloads IS NOT NULL AND s.downloads >= s.max_downloads)
             OR a.album_id IS NULL,
           {LOCKED},
           s.album_id, a.name, a.description, a.query, s.strip_metadata
    FROM shares AS s LEFT JOIN albums AS a ON a.album_id = s.album_id
    WHERE s.token = %(token)s AND s.kind = 'album'
"""  # noqa: S608 - constant numbers

# A download whose bytes could not all be sent gives its count back.
UNCOUNT_DOWNLOAD = """
    UPDATE shares SET downloads = downloads - 1 WHERE token = %(token)s AND downloads > 0
"""


@dataclass(frozen=True)
class AlbumShareRow:
    token: str
    album_id: int
    expires_at: str | None
    max_downloads: int | None
    downloads: int
    has_password: bool
    created_at: str
    strip_metadata: bool


@dataclass(frozen=True)
class AlbumLink:
    """What following an album's share link needs to know."""

    password_hash: str | None
    gone: bool  # revoked, expired, used up, or its album deleted
    locked_for: int | None
    album_id: int
    name: str | None
    description: str | None
    query: str | None  # a smart album's search
    strip_metadata: bool


async def locked_for(cur: Any, token: str) -> int | None:
    """Seconds until the link takes passwords again, if it is locked."""
    await cur.execute(LOCKED_FOR, {"token": token})
    row = await cur.fetchone()
    return None if row is None or row[0] is None else int(row[0])


async def kind(cur: Any, token: str) -> str | None:
    """What the share ``token`` leads to (share, drop, album), or None."""
    await cur.execute(KIND, {"token": token})
    row = await cur.fetchone()
    return None if row is None else str(row[0])


async def create_album_share(
    cur: Any,
    *,
    token: str,
    album_id: int,
    password_hash: str | None,
    expires_in: int | None,
    max_downloads: int | None,
    strip_metadata: bool,
) -> AlbumShareRow | None:
    """Store a share of an existing album; None when there is no such album."""
    await cur.execute(
        INSERT_ALBUM_SHARE,
        {
            "token": token,
            "album_id": album_id,
            "password_hash": password_hash,
            "expires_in": expires_in,
            "max_downloads": max_downloads,
            "strip_metadata": strip_metadata,
        },
    )
    row = await cur.fetchone()
    return None if row is None else AlbumShareRow(*row)


async def album_shares(cur: Any, album_id: int) -> list[AlbumShareRow]:
    await cur.execute(SELECT_ALBUM_SHARES, {"album_id": album_id})
    return [AlbumShareRow(*row) for row in await cur.fetchall()]


async def album_link(cur: Any, token: str) -> AlbumLink | None:
    await cur.execute(SELECT_ALBUM_LINK, {"token": token})
    row = await cur.fetchone()
    return None if row is None else AlbumLink(*row)


@dataclass(frozen=True)
class ShareRow:
    token: str
    image_id: int
    expires_at: str | None
    max_downloads: int | None
    downloads: int
    has_password: bool
    created_at: str
    strip_metadata: bool


@dataclass(frozen=True)
class Link:
    """What following a share link needs to know."""

    password_hash: str | None
    gone: bool  # revoked, expired, used up, or its image deleted
    locked_for: int | None  # seconds until wrong passwords may be tried again
    filename: str | None
    content_type: str | None  # None: the image has no file
    key: str | None
    image_id: int
    size: int | None
    preview_key: str | None  # the image's small rendition, when it is ready
    preview_type: str | None
    preview_size: int | None
    strip_metadata: bool  # the download is the file without its metadata


async def create(
    cur: Any,
    *,
    token: str,
    image_id: int,
    password_hash: str | None,
    expires_in: int | None,
    max_downloads: int | None,
    kind: str = "share",
    strip_metadata: bool = False,
) -> ShareRow:
    """Store a share of an existing image (ImageNotFound / ImageGone otherwise)."""
    params = {
        "kind": kind,
        "token": token,
        "image_id": image_id,
        "password_hash": password_hash,
        "expires_in": expires_in,
        "max_downloads": max_downloads,
        "strip_metadata": strip_metadata,
    }
    await cur.execute(INSERT_SHARE, params)
    row = await cur.fetchone()
    if row is None:
        raise await missing_image(cur, image_id)
    return ShareRow(*row)


async def listing(cur: Any, image_id: int) -> list[ShareRow]:
    """The image's shares that are not revoked, oldest first."""
    await cur.execute(IMAGE_EXISTS, {"image_id": image_id})
    if await cur.fetchone() is None:
        raise await missing_image(cur, image_id)
    await cur.execute(SELECT_SHARES, {"image_id": image_id})
    return [ShareRow(*row) for row in await cur.fetchall()]


async def revoke(cur: Any, token: str) -> None:
    """Revoke a share (again is no error); NotFound for an unknown token."""
    await cur.execute(REVOKE_SHARE, {"token": token})
    if await cur.fetchone() is None:
        raise NotFound("No such share link")


async def link(cur: Any, token: str, *, kind: str = "share", preview: str = "thumb") -> Link | None:
    """The share (or drop) behind ``token``, or None; with the ``preview`` rendition's file."""
    await cur.execute(SELECT_LINK, {"token": token, "kind": kind, "preview": preview})
    row = await cur.fetchone()
    return None if row is None else Link(*row)


async def claim_attempt(cur: Any, token: str) -> bool:
    """Count an attempt at the share's password, if the limit allows one; whether it did."""
    await cur.execute(CLAIM_ATTEMPT, {"token": token})
    return await cur.fetchone() is not None


async def count_download(cur: Any, token: str) -> bool:
    """Count one download if the share still allows one; whether it did."""
    await cur.execute(COUNT_DOWNLOAD, {"token": token})
    return await cur.fetchone() is not None


async def uncount_download(cur: Any, token: str) -> None:
    """Give back a download counted for bytes that were not all sent."""
    await cur.execute(UNCOUNT_DOWNLOAD, {"token": token})
