"""pixtag show, and the errors every client command reports the same way."""

import socket

from pixtag.models import Image
from tests.client.support import Pixtag, post_record


def test_show_prints_the_fields_of_an_image(pixtag: Pixtag, live_url: str):
    created = post_record(live_url, "holiday.jpg", ["Beach", "sun"])
    result = pixtag("show", created["image_id"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["image_id", str(created["image_id"])]
    assert lines[1].split() == ["filename", "holiday.jpg"]
    assert lines[2].split(None, 1) == ["tags", "beach, sun"]
    assert lines[3].split() == ["created_at", created["created_at"]]
    assert lines[4].split(None, 1) == ["file", "none uploaded"]


def test_show_json_is_the_image_document(pixtag: Pixtag, live_url: str):
    created = post_record(live_url, "a.png", ["x"])
    result = pixtag("show", created["image_id"], "--json")
    assert result.exit_code == 0, result.output
    # The same document; timestamps may differ in spelling only (trailing zeros).
    assert Image.model_validate_json(result.stdout) == Image.model_validate(created)


def test_show_missing_image_says_not_found_and_exits_1(pixtag: Pixtag):
    result = pixtag("show", "22")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "error: Image <22> is not found\n"


def test_show_refuses_an_id_that_is_not_a_positive_integer(pixtag: Pixtag):
    result = pixtag("show", "0")
    assert result.exit_code == 2
    assert "0 is not in the range" in result.stderr


def test_unreachable_server_is_one_line_and_exit_1():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        # Bound but not listening: the connection is refused.
        result = Pixtag(url)("show", "1")
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot reach the pixtag server at {url}/: connection refused\n"


def test_invalid_url_is_reported_before_any_request():
    result = Pixtag("not a url")("ls")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: invalid server URL not a url: ")


def test_url_comes_from_pixtag_url_in_the_environment(live_url: str):
    created = post_record(live_url, "env.png", [])
    result = Pixtag(None)("show", created["image_id"], env={"PIXTAG_URL": live_url})
    assert result.exit_code == 0, result.output
    assert "env.png" in result.stdout


def test_url_after_the_command_overrides_the_one_before(live_url: str):
    created = post_record(live_url, "late.png", [])
    result = Pixtag("http://127.0.0.1:9")("show", created["image_id"], "--url", live_url)
    assert result.exit_code == 0, result.output
    assert "late.png" in result.stdout


def test_url_option_wins_over_pixtag_url(live_url: str):
    created = post_record(live_url, "opt.png", [])
    result = Pixtag(live_url)("show", created["image_id"], env={"PIXTAG_URL": "http://127.0.0.1:9"})
    assert result.exit_code == 0, result.output
    assert "opt.png" in result.stdout
