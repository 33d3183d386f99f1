"""/health/live and /health/ready: what a container orchestrator or a load balancer asks.

Live says the process serves HTTP, nothing more, so a database outage never
gets the API restarted; ready says it can do its work (the database answers
within ``READY_TIMEOUT`` seconds), so traffic goes elsewhere until it can.
"""

import asyncio
import logging
from typing import Any, ClassVar

import psycopg2
from aiohttp_pydantic.oas.typing import r200, r503

from pixtag.errors import DatabaseUnavailable, Unavailable
from pixtag.health import queries
from pixtag.models import Liveness, Problem, Readiness
from pixtag.views.base import ProblemView, json_document

log = logging.getLogger(__name__)
# A probe every few seconds while the database is down: one line per interval, counted.
not_ready = Unavailable(what="not ready: the database did not answer", counted="probes", logger=log)

# Below the 5 s a probe is given in docker-compose.yml, so the probe gets an answer.
READY_TIMEOUT = 3.0


class LiveView(ProblemView):
    """Liveness."""

    access: ClassVar[dict[str, str]] = {"GET": "public"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "checkLiveness",
        },
    }

    async def get(self) -> r200[Liveness]:
        """
        Say that the process is up; it checks nothing else.

        Tags: health
        Status Codes:
            200: The process serves HTTP.
        """
        return json_document(Liveness().model_dump_json())


class ReadyView(ProblemView):
    """Readiness."""

    access: ClassVar[dict[str, str]] = {"GET": "public"}
    operations: ClassVar[dict[str, dict[str, Any]]] = {
        "GET": {
            "operationId": "checkReadiness",
        },
    }

    async def get(self) -> r200[Readiness] | r503[Problem]:
        """
        Say whether the server can serve requests: its database answers a query.

        Tags: health
        Status Codes:
            200: Ready: the database answered.
            503: Not ready: the database did not answer in time, or refused.
        """
        try:
            async with asyncio.timeout(READY_TIMEOUT), self.db.cursor() as cur:
                await queries.ping(cur)
        except (psycopg2.Error, OSError, TimeoutError) as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else "timed out"
            not_ready.count(reason)
            raise DatabaseUnavailable("The database did not answer; not ready") from None
        return json_document(Readiness().model_dump_json())
