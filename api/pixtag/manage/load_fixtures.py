"""``python -m pixtag.manage.load_fixtures --list_all | --apply_all [NAME ...]``.

The historical spelling of ``pixtag fixtures list`` / ``pixtag fixtures apply``:
``--list_all`` prints the fixture files as one Python list, the form its
first users scripted against; ``--apply_all`` applies what is pending, in
name order, and never drops a table (a fresh start is
``pixtag fixtures reset --yes``).
"""

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from pixtag.cli.server import settings_error
from pixtag.db import fixtures as loader
from pixtag.db.embedded import NoDatabase, database_url
from pixtag.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pixtag.manage.load_fixtures")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--list_all", action="store_true", help="print the fixture files as a list")
    group.add_argument(
        "--apply_all", nargs="*", metavar="NAME", help="apply pending fixtures (or only NAMEs)"
    )
    parser.add_argument("--data-dir", type=Path, help="where the embedded database lives")
    parser.add_argument("--database-url", help="an external PostgreSQL instead")
    args = parser.parse_args(argv)
    overrides = {"data_dir": args.data_dir, "database_url": args.database_url}
    try:
        settings = Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as error:
        print(f"error: {settings_error(error)}", file=sys.stderr)
        return 1
    try:
        with database_url(settings) as dsn:
            if args.list_all:
                print([item.name for item in loader.status(dsn)])
            else:
                for name in loader.apply(dsn, names=args.apply_all):
                    print(f"applied  {name}")
    except (loader.FixtureError, NoDatabase) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
