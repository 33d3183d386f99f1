"""Metadata at ingest: what an upload's file says is in its image JSON, its keywords are tags
(through aliases and implications), and the settings turn keywords and location off."""

import pytest

from pixtag.settings import Settings
from tests.metadata.test_reading import BILLION_LAUGHS, XMP, camera_exif, iptc, saved
from tests.support.helpers import create_form, form
from tests.support.processes import sql

PHOTO = iptc(saved("JPEG", exif=camera_exif(), xmp=XMP.encode()), [b"Harbour"])
EXPECTED = {
    "taken_at": "2024-05-01T10:30:15.25+02:00",
    "camera": {"make": "Canon", "model": "Canon EOS R5"},
    "lens": "RF35mm F1.8 MACRO IS STM",
    "exposure": {
        "focal_length": 35.0, "focal_length_35mm": 35, "aperture": 2.8,
        "exposure_time": 0.004, "iso": 3200, "flash": True,
    },
    "location": {"latitude": 48.8566, "longitude": -2.3522, "altitude": 35.5},
    "orientation": 6,
    "software": "Firmware 1.8.1",
    "keywords": ["Paris", "Eiffel Tower", "Alice", "Harbour"],
}  # fmt: skip


async def upload(client, data: bytes, tags: list[str]) -> dict:  # type: ignore[no-untyped-def]
    resp = await client.post("/images", data=create_form({"filename": "p.jpg", "tags": tags}, data))
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def test_an_upload_shows_what_its_file_says_and_its_keywords_become_tags(client):
    assert (await client.put("/tags/eiffel tower/alias", json={"target": "eiffel"})).status in (
        200, 201, 204,
    )  # fmt: skip
    image = await upload(client, PHOTO, ["mine"])
    assert image["metadata"] == EXPECTED
    assert image["tags"] == ["mine", "paris", "eiffel", "alice", "harbour"]
    again = await (await client.get(f"/images/{image['image_id']}")).json()
    assert again["metadata"] == EXPECTED
    # A file without metadata: null, and the replaced file's metadata goes with it; the new
    # file's keywords join the tags the image has.
    assert (await upload(client, saved("PNG"), []))["metadata"] is None
    resp = await client.post("/images", json={"filename": "p.jpg"})
    plain = await resp.json()
    assert plain["metadata"] is None
    resp = await client.post(f"/images/{plain['image_id']}/attachment/p.jpg", data=form(PHOTO))
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["metadata"] == EXPECTED
    resp = await client.post(
        f"/images/{plain['image_id']}/attachment/p.jpg", data=form(saved("PNG"))
    )
    replaced = await resp.json()
    assert replaced["metadata"] is None
    assert replaced["tags"] == ["paris", "eiffel", "alice", "harbour"]


async def test_hostile_metadata_does_not_stop_an_upload(client):
    image = await upload(client, saved("JPEG", xmp=BILLION_LAUGHS.encode()), ["x"])
    assert image["metadata"] is None
    assert image["tags"] == ["x"]


class TestOff:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"metadata_tags": "off", "metadata_location": "drop"})

    async def test_keywords_stay_metadata_and_no_position_is_stored(self, client, settings):
        image = await upload(client, PHOTO, ["mine"])
        assert image["tags"] == ["mine"]
        assert image["metadata"]["keywords"] == EXPECTED["keywords"]
        assert "location" not in image["metadata"]
        stored = sql(settings.database_url, "SELECT metadata::text FROM images")
        assert "48.85" not in stored[0][0]


async def test_taken_at_is_corrected_with_patch_and_goes_with_the_file(client):
    image = await upload(client, PHOTO, [])
    path = f"/images/{image['image_id']}"
    for given, shown in [
        ("2024-05-02T08:00:00", "2024-05-02T08:00:00"),
        ("2020-01-02T08:00:00", "2020-01-02T08:00:00"),  # years ending in 0 too
        ("1000-01-02T08:00:00", "1000-01-02T08:00:00"),
        ("2024-05-02T08:00:00.5Z", "2024-05-02T08:00:00.5+00:00"),
        ("2024-05-02T08:00-05:30", "2024-05-02T08:00:00-05:30"),
    ]:
        resp = await client.patch(path, json={"taken_at": given})
        assert resp.status == 200, await resp.text()
        metadata = (await resp.json())["metadata"]
        assert metadata["taken_at"] == shown
        assert metadata["camera"] == EXPECTED["camera"]  # the rest as the file says
    for bad in [
        "0000-01-01T00:00:00",
        "2024-05-02",
        "yesterday",
        "2024-13-02T08:00:00",
        "2024-05-02T08:00:00+19:00",
    ]:
        resp = await client.patch(path, json={"taken_at": bad})
        assert resp.status == 400, (bad, await resp.text())
    assert (await client.patch(path, json={"taken_at": None})).status == 400
    # Without its file, an image has no metadata.
    resp = await client.delete(f"{path}/attachment/p.jpg")
    assert resp.status == 204, await resp.text()
    assert (await (await client.get(path)).json())["metadata"] is None
