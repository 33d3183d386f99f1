"""``python -m pixtag.manage.load_fixtures --list_all | --apply_all [NAME ...]``.

The historical spelling of ``pixtag fixtures list`` / ``pixtag fixtures apply``.
"""

import argparse
import sys

from pixtag.db import fixtures as loader
from pixtag.db.embedded import NoDatabase, database_url
from pixtag.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pixtag.manage.load_fixtures")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--list_all", action="store_true", help="list fixtures and their state")
    group.add_argument(
        "--apply_all", nargs="*", metavar="NAME", help="apply pending fixtures (or only NAMEs)"
    )
    args = parser.parse_args(argv)
    try:
        with database_url(Settings()) as dsn:
            if args.list_all:
                for item in loader.status(dsn):
                    print(f"{item.state.value:<8} {item.name}")
            else:
                for name in loader.apply(dsn, names=args.apply_all):
                    print(f"applied  {name}")
    except (loader.FixtureError, NoDatabase) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
