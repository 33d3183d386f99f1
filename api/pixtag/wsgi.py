"""``pixtag.wsgi:app``: the application object under the name its first users knew.

``python -m aiohttp_pydantic.oas pixtag.wsgi:app`` prints the OpenAPI
document; building the application opens nothing (see ``pixtag.app``).
"""

from pixtag.app import create_app

app = create_app()
