"""Every endpoint of the five seeds answers, and the README's table names each one."""

import re
from pathlib import Path

import aiohttp

from tests.support.helpers import create_form, image_bytes

README = Path(__file__).resolve().parents[3] / "README.md"

# (method, path as the README's table writes it, the path requested).
ENDPOINTS = [
    ("POST", "/capture", "/capture"),
    ("POST", "/batch/capture", "/batch/capture"),
    ("GET", "/resources?status=", "/resources?status=done"),
    ("GET", "/resources/{url}", "/resources/https%3A%2F%2Fexample.com%2Fa.png"),
    ("GET", "/queue?limit=10&status=", "/queue"),
    ("POST", "/queue", "/queue"),
    ("PUT", "/queue", "/queue"),
    ("GET", "/status", "/status"),
    ("POST", "/status", "/status"),
    ("PUT", "/file", "/file"),
    ("GET", "/file/{hash}", "/file/TOKEN"),
    ("POST", "/api/file-server/", "/api/file-server/"),
    ("GET", "/api/file-server/", "/api/file-server/"),
    ("GET", "/api/file-server/{id}", "/api/file-server/1"),
    ("GET", "/api/file-server/{id}/download", "/api/file-server/1/download"),
    ("PATCH", "/api/file-server/{id}", "/api/file-server/1"),
    ("GET", "/api/image-processing/", "/api/image-processing/"),
    ("POST", "/api/image-processing/", "/api/image-processing/"),
    ("GET", "/api/image-processing/{id}", "/api/image-processing/1"),
    ("POST", ".../{id}/restart", "/api/image-processing/1/restart"),
    ("GET", "/images", "/images"),
    ("POST", "/images", "/images"),
    ("GET", "/images/{id}", "/images/1"),
    ("GET", "/images/{id}/attachment/{filename}", "/images/1/attachment/a.png"),
    ("POST", "/images/{id}/attachment/{filename}", "/images/1/attachment/a.png"),
]


def seed_section() -> str:
    text = README.read_text()
    start = text.index("## Seed compatibility")
    return text[start : text.index("\n## ", start + 1)]


def test_the_readme_table_names_every_seed_endpoint_and_command():
    section = seed_section()
    for _, written, _ in ENDPOINTS:
        assert written in section, written
    for command in ("--list_all", "--apply_all", "pixtag.wsgi:app"):
        assert command in section
    rows = [line for line in section.splitlines() if re.match(r"\| 00[0-4]", line)]
    assert {row[2:5] for row in rows} == {"000", "001", "002", "003", "004"}


async def test_no_seed_endpoint_answers_404_for_what_exists(client):
    """Each endpoint, asked about things that exist (an image with a file, a capture, a
    processing task, a drop), answers something other than 404, and never 500."""
    made = await client.post("/images", data=create_form({"filename": "a.png"}, image_bytes()))
    assert made.status == 201
    # Paused, so the capture waits and nothing leaves the machine.
    assert (await client.post("/status", json={"enabled": False})).status == 200
    url = "https://example.com/a.png"
    assert (await client.post("/capture", json={"url": url})).status == 201
    task = await client.post("/api/image-processing/", json={"file_ids": [1], "algorithm": "flip"})
    assert task.status == 202
    dropped = aiohttp.FormData(default_to_multipart=True)
    dropped.add_field("file", image_bytes(), filename="d.png")
    drop = await client.put("/file", data=dropped)
    assert drop.status == 201
    token = (await drop.json())["url"].rsplit("/", 1)[1]

    answers = {}
    for method, _, path in ENDPOINTS:
        resp = await client.request(method, path.replace("TOKEN", token))
        answers[(method, path)] = resp.status
    assert {k: v for k, v in answers.items() if v == 404 or v >= 500} == {}
