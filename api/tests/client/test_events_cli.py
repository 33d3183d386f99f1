"""``pixtag events`` and ``pixtag webhooks`` against a live server."""

import json
from pathlib import Path

from tests.client.support import Pixtag, make_image


def test_events_print_the_feed_and_resume_from_the_state_file(pixtag: Pixtag, tmp_path: Path):
    make_image(tmp_path / "a.png", seed=1, size=(20, 10))
    assert pixtag("import", tmp_path, "-t", "trip").exit_code == 0
    state = tmp_path / "cursor"
    first = pixtag("events", "--state", state, "-t", "image")
    assert first.exit_code == 0, first.output
    told = [json.loads(line) for line in first.stdout.splitlines()]
    assert [e["type"] for e in told] == ["image.created"]  # with its file: one request
    assert told[0]["data"]["attachment"]["width"] == 20
    assert state.read_text().strip() == told[-1]["id"]
    assert pixtag("rename-tag", "trip", "travel").exit_code == 0
    again = pixtag("events", "--state", state)
    told = [json.loads(line) for line in again.stdout.splitlines()]
    assert [e["type"] for e in told] == [
        "alias.created",
        "tag.renamed",
        "image.updated",
        "alias.deleted",
    ]
    assert pixtag("events", "--state", state).stdout == ""
    refused = pixtag("events", "--after", "nonsense")
    assert refused.exit_code != 0
    assert "not an event id" in refused.output


def test_webhooks_commands(pixtag: Pixtag):
    made = pixtag("webhooks", "add", "https://hooks.example/in", "-t", "image.created")
    assert made.exit_code == 0, made.output
    first, secret = made.stdout.splitlines()
    assert first == "1  https://hooks.example/in"
    assert secret.startswith("secret: whsec_")
    listed = pixtag("webhooks", "ls")
    assert listed.stdout.splitlines()[2:] == [
        " 1   https://hooks.example/in   image.created   enabled"
    ]
    assert pixtag("webhooks", "deliveries", "1").stdout == "no deliveries\n"
    refused = pixtag("webhooks", "add", "http://10.0.0.1/in")
    assert refused.exit_code != 0
    assert "not a public address" in refused.output
    assert pixtag("webhooks", "rm", "1").stdout == "deleted webhook 1\n"
    assert pixtag("webhooks", "ls").stdout == "no webhooks\n"
