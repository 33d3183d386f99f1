"""Every route of the service, in one place."""

from aiohttp import web

from pixtag.uploads import expect_handler
from pixtag.views.attachments import AttachmentView
from pixtag.views.bulk_tags import BulkTagsView
from pixtag.views.health import LiveView, ReadyView
from pixtag.views.image import ImageView
from pixtag.views.images import ImageCollectionView
from pixtag.views.media import MediaView
from pixtag.views.tags import (
    TagAliasView,
    TagCollectionView,
    TagImplicationView,
    TagRenameView,
    TagView,
)


def setup_routes(app: web.Application) -> None:
    # Uploads refuse an oversized Content-Length before "100 Continue".
    app.router.add_view("/images", ImageCollectionView, expect_handler=expect_handler)
    app.router.add_view("/images/tags", BulkTagsView)
    app.router.add_view("/images/{image_id}", ImageView)
    app.router.add_view(
        "/images/{image_id}/attachment/{filename}", AttachmentView, expect_handler=expect_handler
    )
    app.router.add_view("/media/{image_id}/{name}", MediaView)
    app.router.add_view("/tags", TagCollectionView)
    app.router.add_view("/tags/{tag}", TagView)
    app.router.add_view("/tags/{tag}/rename", TagRenameView)
    app.router.add_view("/tags/{tag}/alias", TagAliasView)
    app.router.add_view("/tags/{tag}/implications/{implied}", TagImplicationView)
    app.router.add_view("/health/live", LiveView)
    app.router.add_view("/health/ready", ReadyView)
