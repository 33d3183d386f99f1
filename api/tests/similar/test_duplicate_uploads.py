"""Uploads of bytes another image holds: stored and named (PIXTAG_DUPLICATES=allow), or
refused with 409 and nothing kept (refuse), also when they race each other."""

import asyncio

import pytest

from pixtag.settings import Settings
from tests.support.helpers import create_form, files_under, form, problem, seeded_image


async def create(client, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return await client.post("/images", data=create_form({"filename": name}, data))


async def test_an_allowed_duplicate_is_stored_and_named(client):
    data = seeded_image("PNG", 1)
    first = await create(client, "a.png", data)
    assert first.status == 201
    assert "Pixtag-Duplicate-Of" not in first.headers
    a = (await first.json())["image_id"]
    second = await create(client, "b.png", data)
    assert second.status == 201
    assert second.headers["Pixtag-Duplicate-Of"] == str(a)
    b = (await second.json())["image_id"]
    # An attachment of those bytes names both.
    resp = await client.post("/images", json={"filename": "c.png"})
    c = (await resp.json())["image_id"]
    resp = await client.post(f"/images/{c}/attachment/c.png", data=form(data))
    assert resp.status == 201
    assert resp.headers["Pixtag-Duplicate-Of"] == f"{a}, {b}"


class TestRefused:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"duplicates": "refuse"})

    async def test_a_refused_duplicate_keeps_nothing_even_when_uploads_race(self, client, settings):
        data = seeded_image("PNG", 2)
        answers = await asyncio.gather(*(create(client, f"{n}.png", data) for n in range(6)))
        statuses = sorted(resp.status for resp in answers)
        assert statuses == [201, 409, 409, 409, 409, 409]
        kept = next(resp for resp in answers if resp.status == 201)
        image_id = (await kept.json())["image_id"]
        for resp in answers:
            if resp.status == 409:
                body = await problem(resp, 409)
                assert body["image_id"] == image_id
                assert resp.headers["Location"] == f"/images/{image_id}"
                assert f"Image <{image_id}> holds the same file already" in body["detail"]
        # One file on disk: the refused uploads left nothing.
        stored = [p for p in files_under(settings.data_dir / "media") if ".incoming" not in p.parts]
        assert len(stored) == 1
        # An attachment of those bytes to another image is refused too; other bytes are not.
        resp = await client.post("/images", json={"filename": "x.png"})
        other = (await resp.json())["image_id"]
        await problem(await client.post(f"/images/{other}/attachment/x.png", data=form(data)), 409)
        resp = await client.post(
            f"/images/{other}/attachment/x.png", data=form(seeded_image("PNG", 3))
        )
        assert resp.status == 201
        resp = await client.get(f"/images/{other}")
        assert (await resp.json())["attachment"]["sha256"] != (await kept.json())["attachment"][
            "sha256"
        ]
