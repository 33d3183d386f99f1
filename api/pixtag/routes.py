"""Every route of the service, in one place."""

from aiohttp import web

from pixtag.albums.views import (
    AlbumCollectionView,
    AlbumImagesView,
    AlbumOrderView,
    AlbumSharesView,
    AlbumView,
    ImageAlbumsView,
)
from pixtag.auth import access
from pixtag.auth.views.drops import DropCollectionView, DropView
from pixtag.auth.views.shares import (
    AlbumShareImageView,
    ImageSharesView,
    ShareDownloadView,
    ShareLinkView,
    SharePreviewView,
    ShareView,
)
from pixtag.auth.views.tokens import AuthMeView, TokenCollectionView, TokenView
from pixtag.captures.seed_views import (
    ResourcesView,
    ResourceView,
    SeedBatchView,
    SeedCaptureView,
    SeedQueueView,
    SeedStatusView,
)
from pixtag.captures.views import (
    CaptureBatchView,
    CaptureCollectionView,
    CaptureRetryView,
    CaptureSwitchView,
    CaptureView,
)
from pixtag.events.views import (
    DeliveriesView,
    EventsView,
    RedeliverView,
    WebhookCollectionView,
    WebhookView,
)
from pixtag.health.views import LiveView, ReadyView
from pixtag.images.uploads import expect_handler
from pixtag.images.views.attachments import AttachmentView
from pixtag.images.views.bulk_tags import BulkTagsView
from pixtag.images.views.collection import ImageCollectionView, ImageCountView
from pixtag.images.views.item import ImageView
from pixtag.images.views.media import MediaView
from pixtag.images.views.seed_files import (
    SeedFileCollectionView,
    SeedFileDownloadView,
    SeedFileView,
    seed_files_slash,
)
from pixtag.metadata.views import CameraNamesView, LensNamesView, MetadataRebuildView
from pixtag.processing.seed_views import (
    SeedProcessingCollectionView,
    SeedProcessingRestartView,
    SeedProcessingTaskView,
    seed_processing_slash,
)
from pixtag.processing.views import (
    ProcessingCollectionView,
    ProcessingRestartView,
    ProcessingTaskView,
)
from pixtag.renditions.views import RebuildCollectionView, RebuildView, RenditionView
from pixtag.similar.views import (
    DismissView,
    DuplicatesView,
    ResolveView,
    SimilarIndexView,
    SimilarView,
)
from pixtag.tags.views import (
    TagAliasView,
    TagCollectionView,
    TagImplicationView,
    TagRelatedView,
    TagRenameView,
    TagView,
)


def setup_routes(app: web.Application) -> None:
    # Uploads refuse an oversized Content-Length before "100 Continue".
    app.router.add_view("/images", ImageCollectionView, expect_handler=expect_handler)
    app.router.add_view("/images/tags", BulkTagsView)
    app.router.add_view("/images/count", ImageCountView)
    app.router.add_view("/images/{image_id}", ImageView)
    app.router.add_view(
        "/images/{image_id}/attachment/{filename}", AttachmentView, expect_handler=expect_handler
    )
    app.router.add_view("/images/{image_id}/renditions/{preset}", RenditionView)
    app.router.add_view("/renditions/rebuild", RebuildCollectionView)
    app.router.add_view("/renditions/rebuild/{rebuild_id}", RebuildView, name="rendition_rebuild")
    app.router.add_view("/images/{image_id}/similar", SimilarView)
    app.router.add_view("/similar/index", SimilarIndexView)
    app.router.add_view("/albums", AlbumCollectionView)
    app.router.add_view("/albums/{album_id}", AlbumView, name="album")
    app.router.add_view("/albums/{album_id}/images", AlbumImagesView)
    app.router.add_view("/albums/{album_id}/order", AlbumOrderView)
    app.router.add_view("/albums/{album_id}/shares", AlbumSharesView)
    app.router.add_view("/images/{image_id}/albums", ImageAlbumsView)
    app.router.add_view("/metadata/rebuild", MetadataRebuildView)
    app.router.add_view("/events", EventsView)
    app.router.add_view("/webhooks", WebhookCollectionView)
    app.router.add_view("/webhooks/{webhook_id}", WebhookView, name="webhook")
    app.router.add_view("/webhooks/{webhook_id}/deliveries", DeliveriesView)
    app.router.add_view("/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", RedeliverView)
    app.router.add_view("/metadata/cameras", CameraNamesView)
    app.router.add_view("/metadata/lenses", LensNamesView)
    app.router.add_view("/duplicates", DuplicatesView)
    app.router.add_view("/duplicates/resolve", ResolveView)
    app.router.add_view("/duplicates/dismiss", DismissView)
    app.router.add_view("/media/{image_id}/{name}", MediaView)
    app.router.add_view("/tags", TagCollectionView)
    app.router.add_view("/tags/{tag}", TagView)
    app.router.add_view("/tags/{tag}/rename", TagRenameView)
    app.router.add_view("/tags/{tag}/related", TagRelatedView)
    app.router.add_view("/tags/{tag}/alias", TagAliasView)
    app.router.add_view("/tags/{tag}/implications/{implied}", TagImplicationView)
    app.router.add_view("/health/live", LiveView)
    app.router.add_view("/health/ready", ReadyView)
    setup_capture_routes(app)
    setup_access_routes(app)
    setup_processing_routes(app)
    setup_file_server_routes(app)


def setup_file_server_routes(app: web.Application) -> None:
    # Seed 003's file server, with and without the trailing slash (one OpenAPI entry).
    app.router.add_view("/api/file-server", SeedFileCollectionView, expect_handler=expect_handler)
    slash = app.router.add_route(
        "*", "/api/file-server/", seed_files_slash, expect_handler=expect_handler
    )
    access.declare(slash, SeedFileCollectionView.access)
    app.router.add_view("/api/file-server/{image_id}", SeedFileView)
    app.router.add_view("/api/file-server/{image_id}/download", SeedFileDownloadView)


def setup_access_routes(app: web.Application) -> None:
    app.router.add_view("/auth/me", AuthMeView)
    app.router.add_view("/tokens", TokenCollectionView)
    app.router.add_view("/tokens/{token_id}", TokenView, name="token")
    app.router.add_view("/images/{image_id}/shares", ImageSharesView)
    app.router.add_view("/shares/{token}", ShareView)
    app.router.add_view("/s/{token}", ShareLinkView, name="share_link")
    app.router.add_view("/s/{token}/download", ShareDownloadView)
    app.router.add_view("/s/{token}/preview", SharePreviewView)
    app.router.add_view("/s/{token}/images/{image_id}/{what}", AlbumShareImageView)
    # Seed 002's file drop.
    app.router.add_view("/file", DropCollectionView, expect_handler=expect_handler)
    app.router.add_view("/file/{token}", DropView, name="drop")


def setup_capture_routes(app: web.Application) -> None:
    # The fixed paths first: "switch" and "batch" are no capture ids.
    app.router.add_view("/captures", CaptureCollectionView, name="captures")
    app.router.add_view("/captures/batch", CaptureBatchView)
    app.router.add_view("/captures/switch", CaptureSwitchView)
    app.router.add_view("/captures/{capture_id}", CaptureView, name="capture")
    app.router.add_view("/captures/{capture_id}/retry", CaptureRetryView)
    # Seed 000's spellings.
    app.router.add_view("/capture", SeedCaptureView)
    app.router.add_view("/batch/capture", SeedBatchView)
    app.router.add_view("/resources", ResourcesView)
    app.router.add_view("/resources/{url:.+}", ResourceView)
    # Seed 001's URL queue.
    app.router.add_view("/queue", SeedQueueView)
    app.router.add_view("/status", SeedStatusView)


def setup_processing_routes(app: web.Application) -> None:
    app.router.add_view("/processing", ProcessingCollectionView, name="processing")
    app.router.add_view("/processing/{task_id}", ProcessingTaskView, name="processing_task")
    app.router.add_view("/processing/{task_id}/restart", ProcessingRestartView)
    # Seed 003's spellings; its clients write the collection with a trailing slash, which
    # answers the same without a second entry in the OpenAPI document.
    app.router.add_view("/api/image-processing", SeedProcessingCollectionView)
    slash = app.router.add_route("*", "/api/image-processing/", seed_processing_slash)
    access.declare(slash, SeedProcessingCollectionView.access)
    app.router.add_view("/api/image-processing/{task_id}", SeedProcessingTaskView)
    app.router.add_view("/api/image-processing/{task_id}/restart", SeedProcessingRestartView)
