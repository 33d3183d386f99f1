"""Durations on the command line: ``90s``, ``15m``, ``12h``, ``30d``, ``2w`` or plain seconds."""

import re

import click

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DURATION = re.compile(r"^\s*(\d{1,9})\s*([smhdw]?)\s*$")


class Duration(click.ParamType[int]):
    """A click type that reads a duration as whole seconds."""

    name = "duration"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        match = DURATION.match(str(value).lower())
        if match is None or int(match[1]) == 0:
            self.fail(f"{value!r} is not a duration like 90s, 15m, 12h, 30d or 2w", param, ctx)
        return int(match[1]) * UNITS[match[2] or "s"]
