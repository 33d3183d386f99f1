"""Opening the configured storage when the application starts, and closing it at the end."""

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from pixtag import keys as app_keys
from pixtag.auth.signing import MediaSigner
from pixtag.db.database import Database
from pixtag.images.ingest import Ingest, Limits
from pixtag.settings import Settings
from pixtag.storage import migrate
from pixtag.storage.backend import Storage
from pixtag.storage.local import LocalStorage

log = logging.getLogger(__name__)


class StorageError(Exception):
    """The configured storage cannot be used; the message says why, in one line."""


async def open_storage(settings: Settings, signer: MediaSigner | None = None) -> Storage:
    """The backend ``PIXTAG_STORAGE`` names, ready for use.

    With ``signer`` (media behind auth) local URLs are signed, and S3's presigned
    URLs live ``PIXTAG_MEDIA_URL_TTL`` seconds instead of ``PIXTAG_S3_PRESIGN_EXPIRES``.
    """
    if settings.storage == "local":
        local = LocalStorage(settings.media_dir, settings.media_url, signer)
        await asyncio.to_thread(local.spool_dir.mkdir, parents=True, exist_ok=True)
        return local
    from pixtag.storage.s3 import S3Storage, StorageUnavailable  # only for S3 users

    secret = settings.s3_secret_access_key
    try:
        return await S3Storage.open(
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            presign_expires=signer.ttl if signer is not None else settings.s3_presign_expires,
            spool_dir=settings.data_dir / "incoming",
        )
    except StorageUnavailable as error:
        raise StorageError(str(error)) from None


async def storage_ctx(app: web.Application) -> AsyncIterator[None]:
    """Open the storage, move files stored before keys, and offer the ingest path."""
    settings = app[app_keys.SETTINGS]
    db = app[app_keys.DATABASE]
    signer = app[app_keys.MEDIA_SIGNER] if settings.media_signed else None
    storage = await open_storage(settings, signer)
    try:
        log.info("storing files in %s", storage.description)
        await upgrade(db, storage, settings)
        app[app_keys.STORAGE] = storage
        app[app_keys.INGEST] = Ingest(
            db,
            storage,
            Limits(settings.max_upload_size, settings.max_image_pixels, settings.max_image_side),
            queue_renditions=bool(settings.rendition_eager),
            queue_fingerprints=settings.similar_index,
            refuse_duplicates=settings.duplicates == "refuse",
            budget=app[app_keys.IMAGE_MEMORY],
            keyword_tags=settings.metadata_tags == "keywords",
            keep_location=settings.metadata_location == "keep",
        )
        yield
    finally:
        await storage.close()


async def upgrade(db: Database, storage: Storage, settings: Settings) -> None:
    """Move files stored before keys to keys (local storage only: S3 never had them)."""
    count = await migrate.pending(db)
    if not count:
        return
    if storage.root is None:
        raise StorageError(
            f"{count} images still have files in the local layout from before storage keys;"
            " run `pixtag storage migrate` with the local storage first"
        )
    log.info("moving %d files stored before storage keys to keys", count)
    report = await migrate.migrate(db, storage, max_pixels=settings.max_image_pixels)
    log.info("storage migration: %s", report)
