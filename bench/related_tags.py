"""GET /tags/{tag}/related on 1,000,000 images: the first answer for tags of every size.

Run by hand (a few minutes on two cores, most of it the data):

    .venv/bin/python bench/related_tags.py [--images 1000000] [--rounds 7]

The listing benchmark's data (``listing_data.SEED``: about five tags per
image on a Zipf-like law, ``t1`` on a third of the images, ``t10000`` on a
few dozen; ``fresh`` on the newest few hundred ids, ``burst`` on the newest
2%) on a fresh embedded PostgreSQL 18, written with the event triggers off
(a million ``image.created`` events would only slow the seeding), then
``VACUUM ANALYZE``. ``pixtag serve`` runs in its own process. For each tag:
the very first request after the server started (cold: nothing of the
plan or the pages it reads cached by this server's connections), then the
median of ``--rounds`` more, tags alternating. Target: the first answer
within 100 ms.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import aiohttp  # noqa: E402
from descriptions import execute  # noqa: E402
from listing_data import ANALYZE, SEED  # noqa: E402
from listing_server import Server  # noqa: E402

from pixtag.db import fixtures  # noqa: E402
from pixtag.db.embedded import EmbeddedPostgres  # noqa: E402

TAGS = ["t1", "t2", "t10", "t100", "t1000", "t10000", "fresh", "burst"]
QUIET = [
    "ALTER TABLE images DISABLE TRIGGER images_apply_tag_rules",
    "ALTER TABLE images DISABLE TRIGGER images_events_inserted",
    "ALTER TABLE images DISABLE TRIGGER images_events_updated",
]


async def timed(session: aiohttp.ClientSession, url: str) -> tuple[float, dict]:
    started = time.perf_counter()
    async with session.get(url) as resp:
        body = await resp.json()
        assert resp.status == 200, body
    return time.perf_counter() - started, body


async def measure(api: Server, rounds: int) -> None:
    async with aiohttp.ClientSession() as session:
        first: dict[str, float] = {}
        bodies: dict[str, dict] = {}
        for tag in TAGS:
            first[tag], bodies[tag] = await timed(session, f"{api.url}/tags/{tag}/related")
        later: dict[str, list[float]] = {tag: [] for tag in TAGS}
        for n in range(rounds):
            for tag in TAGS if n % 2 == 0 else TAGS[::-1]:
                later[tag].append((await timed(session, f"{api.url}/tags/{tag}/related"))[0])
    print("\n| tag | images | sampled | first answer | median of the next |")
    print("|---|---|---|---|---|")
    for tag in TAGS:
        body = bodies[tag]
        print(
            f"| {tag} | {body['image_count']:,} | {body['sampled']:,}"
            f" | {first[tag] * 1000:.1f} ms | {statistics.median(later[tag]) * 1000:.1f} ms |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        Path(tmp).chmod(0o755)  # the embedded server runs as its own user
        server = EmbeddedPostgres.start(Path(tmp) / "postgres")
        try:
            dsn = server.uri()
            fixtures.apply(dsn)
            for statement in QUIET:
                execute(dsn, statement)
            params = {
                "rows": args.images,
                "distinct": 20000,
                "fresh": 300,
                "burst": args.images // 50,
            }
            for statement in SEED:
                execute(dsn, statement, params)
            for statement in QUIET:
                execute(dsn, statement.replace("DISABLE", "ENABLE"))
            execute(dsn, "SELECT fold_tag_counts(100000000)")
            execute(dsn, ANALYZE)
            with Server(dsn, Path(tmp) / "data") as api:
                asyncio.run(measure(api, args.rounds))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
