"""pixtag tags and pixtag tag ...: counts as a table, rename, aliases and implications."""

import json

from tests.client.support import Pixtag, post_record


def test_tags_prints_counts_most_used_first_and_filters_by_prefix(pixtag: Pixtag, live_url: str):
    post_record(live_url, "a.jpg", ["cat", "car"])
    post_record(live_url, "b.jpg", ["cat", "dog"])
    result = pixtag("tags")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TAG", "IMAGES"]
    assert [line.split() for line in lines[2:]] == [["cat", "2"], ["car", "1"], ["dog", "1"]]
    result = pixtag("tags", "ca", "--limit", "1", "--json")
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"tag": "cat", "image_count": 2}
    ]
    assert pixtag("tags", "zzz").stdout == "no tags\n"


def test_tag_commands_rename_alias_and_imply(pixtag: Pixtag, live_url: str):
    post_record(live_url, "a.jpg", ["cat"])
    result = pixtag("imply", "cat", "animal")
    assert result.stdout == "cat now implies animal (1 images rewritten)\n"
    result = pixtag("alias", "kitty", "cat")
    assert result.stdout == "kitty now means cat (0 images rewritten)\n"
    result = pixtag("rename-tag", "cat", "feline")
    assert result.stdout == "renamed cat to feline on 1 images\n"
    assert post_record(live_url, "b.jpg", ["kitty"])["tags"] == ["feline", "animal"]
    assert pixtag("unalias", "kitty").exit_code == 0
    assert pixtag("unimply", "feline", "animal").exit_code == 0
    result = pixtag("unimply", "feline", "animal")
    assert result.exit_code == 1
    assert result.stderr == "error: Tag <feline> does not imply <animal>\n"
