"""Every route of the service, in one place."""

from aiohttp import web

from pixtag.views.images import ImageCollectionView, ImageView


def setup_routes(app: web.Application) -> None:
    app.router.add_view("/images", ImageCollectionView)
    app.router.add_view("/images/{image_id}", ImageView)
