"""The browser side of the gallery tests: Chromium, viewports, what a page must not do."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.processes import ServeProcess

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class Watch:
    """What a page did that it must not: requests elsewhere, uncaught errors, dialogs."""

    elsewhere: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


# How long an action or an assertion waits for the page (a deadline, not a pause): two
# suites on two shared cores upload, render and answer several times slower than alone.
WAIT_MS = 30_000


def open_context(browser: Any, live: ServeProcess, watch: Watch, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, base_url=live.url)
    context.set_default_timeout(WAIT_MS)

    def route(route: Any) -> None:
        if route.request.url.startswith(live.url + "/"):
            route.continue_()
        else:
            watch.elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    return context
