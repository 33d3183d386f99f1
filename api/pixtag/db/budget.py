"""The connection budget: what the server processes may open, against what PostgreSQL allows.

Each server process opens at most ``Settings.connections_per_process``
connections (its pool, the job engine's listener, one per
rendition being built, one while it sweeps, one while it prunes events).
``pixtag serve --workers N`` checks before any worker starts that N of them
fit in PostgreSQL's ``max_connections`` less the connections it reserves for
superusers; a configuration that cannot fit is refused in one line, rather
than found out later as refused connections
under load.
"""

import psycopg2

from pixtag.settings import Settings

AVAILABLE = """
    SELECT current_setting('max_connections')::int
           - current_setting('superuser_reserved_connections')::int
           - coalesce(current_setting('reserved_connections', true)::int, 0)
"""


class OverBudget(Exception):
    """More connections than PostgreSQL allows; the message says which settings to lower."""


def available(dsn: str) -> int:
    """How many connections PostgreSQL accepts from ordinary roles."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(AVAILABLE)
            (count,) = cur.fetchone()
            return int(count)
    finally:
        conn.close()


def check(dsn: str, settings: Settings) -> int:
    """The connections ``settings.workers`` processes may open; ``OverBudget`` beyond what
    the database at ``dsn`` allows."""
    per_process = settings.connections_per_process
    needed = settings.workers * per_process
    allowed = available(dsn)
    if needed > allowed:
        raise OverBudget(
            f"{settings.workers} workers x {per_process} connections each = {needed}, more than"
            f" the {allowed} PostgreSQL allows (max_connections less its reserved ones): lower"
            " PIXTAG_WORKERS or PIXTAG_POOL_MAX_SIZE, or raise max_connections"
        )
    return needed
