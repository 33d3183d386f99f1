"""Typed keys for everything the application keeps in its state."""

import aiopg
from aiohttp import web

from pixtag.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
DATABASE_URL = web.AppKey("database_url", str)
POOL = web.AppKey("pool", aiopg.Pool)
