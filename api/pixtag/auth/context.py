"""Access control at start-up: the signing secret, the bootstrap token, what was chosen.

The media signing secret is ``PIXTAG_SECRET_KEY``, or else one made by the
first process that starts and kept in the database, so that every process
of a deployment signs alike. ``PIXTAG_BOOTSTRAP_TOKEN`` (docker-compose's
env file) becomes an admin token named ``bootstrap`` unless it is already
stored: the first admin token without a shell on the server.
"""

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from pixtag import keys
from pixtag.auth import signing, tokens
from pixtag.auth.queries import tokens as queries

log = logging.getLogger(__name__)

SIGNING_KEY = "media_signing"


async def auth_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    async with app[keys.DATABASE].cursor() as cur:
        if settings.secret_key is not None:
            secret = settings.secret_key.get_secret_value()
        else:
            secret = await queries.secret(cur, SIGNING_KEY, signing.new_secret())
        bootstrap = settings.bootstrap_token
        if bootstrap is not None:
            token = bootstrap.get_secret_value()  # its form is checked by Settings
            if await queries.bootstrap(cur, hint=tokens.hint(token), hash=tokens.digest(token)):
                log.info("bootstrap admin token stored")
    app[keys.MEDIA_SIGNER] = signing.MediaSigner(secret, settings.media_url_ttl)
    if settings.auth_enabled:
        reads = "reads open to all" if settings.anonymous_read else "media URLs signed"
        log.info("auth: on (Bearer tokens; %s)", reads)
    else:
        level = logging.INFO if settings.loopback else logging.WARNING
        log.log(level, "auth: off on %s: %s", settings.host, _why_off(settings.loopback))
    yield


def _why_off(loopback: bool) -> str:
    if loopback:
        return "only this machine can connect (PIXTAG_AUTH=on to require tokens)"
    return "anyone who can reach this address can read, write and delete (PIXTAG_AUTH=off)"
