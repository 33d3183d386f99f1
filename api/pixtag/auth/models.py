"""Request bodies and responses of the access-control routes: who am I, tokens, shares."""

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from pixtag import validation

Scope = Literal["read", "write", "admin"]
# At most a year, in seconds.
Lifetime = Annotated[int, Field(ge=1, le=366 * 24 * 3600)]


class Me(BaseModel):
    """What the server makes of the request's credentials (GET /auth/me)."""

    auth_required: bool = Field(description="Whether the server asks for tokens at all.")
    authenticated: bool = Field(description="Whether the request carried a valid token.")
    scope: Scope | None = Field(description="What the request may do; admin when auth is off.")
    anonymous_read: bool = Field(description="Whether reads need no token.")
    name: str | None = Field(description="The token's name.")
    expires_at: str | None = Field(description="When the token expires (UTC, ISO 8601).")


class TokenCreate(BaseModel):
    """A new API token."""

    # Strict: true is not a lifetime of 1 s.
    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[
        str,
        Field(
            min_length=1,
            max_length=100,
            examples=["laptop"],
            description="One line: no control or format characters, not only spaces.",
            json_schema_extra={"pattern": validation.LABEL_PATTERN},
        ),
        AfterValidator(validation.check_label),
    ]
    scope: Scope
    expires_in: Lifetime | None = Field(default=None, description="Seconds until it expires.")


class TokenInfo(BaseModel):
    """An API token as listed: never the token itself, only its first characters."""

    token_id: int
    name: str
    scope: Scope
    hint: str = Field(description="The token's first characters, to tell tokens apart.")
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None


class TokenCreated(TokenInfo):
    """A token just made: ``token`` is shown this once."""

    token: str = Field(description="Send as Authorization: Bearer <token>. Shown only now.")


class ShareCreate(BaseModel):
    """A new share link for an image's file."""

    # Strict: true is not one download, nor "60" a lifetime.
    model_config = ConfigDict(extra="forbid", strict=True)

    password: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    expires_in: Lifetime | None = Field(default=None, description="Seconds until it expires.")
    max_downloads: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    strip_metadata: bool = Field(
        default=True,
        description="Send the file without its EXIF, XMP and IPTC (the date, camera, GPS"
        " position...): the same pixels, JPEG, PNG, WebP and GIF without re-encoding, other"
        " types as PNG; the EXIF orientation alone is kept. false: the file as stored.",
    )


class Share(BaseModel):
    """A share link: ``url`` (``/s/{token}``) leads to the file without an API token."""

    token: str
    url: str
    image_id: int
    expires_at: str | None
    max_downloads: int | None
    downloads: int
    has_password: bool
    created_at: str
    strip_metadata: bool = Field(description="Whether downloads leave out the metadata.")


class AlbumShare(BaseModel):
    """A share link of an album: ``url`` (``/s/{token}``) leads to its page (a browser) or its
    JSON (an API client), and to nothing outside the album."""

    token: str
    url: str
    album_id: int
    expires_at: str | None
    max_downloads: int | None = Field(
        description="Downloads it allows: each image's file or the whole zip counts one."
    )
    downloads: int
    has_password: bool
    created_at: str
    strip_metadata: bool = Field(description="Whether downloads leave out the metadata.")


class AlbumShareImage(BaseModel):
    """An image an album's share hands out, with its URLs under the link."""

    image_id: int
    filename: str
    content_type: str
    size: int
    preview: str = Field(description="Its thumbnail.")
    view: str = Field(description="Its large rendition, to look at.")
    download: str = Field(description="Its file (counts one download).")


class AlbumShareDocument(BaseModel):
    """What an album's share link shows an API client."""

    name: str
    description: str
    truncated: bool = Field(
        description="More images than listed here (1,000): download_all holds every one."
    )
    download_all: str = Field(description="Every image as one zip (counts one download).")
    images: list[AlbumShareImage]
