"""Uploads of bytes another image holds: stored and named (PIXTAG_DUPLICATES=allow), or
refused with 409 and nothing kept (refuse), also when they race each other."""

import asyncio
import io

import pytest
from PIL import Image

from pixtag.settings import Settings
from tests.similar.test_similar import with_exif
from tests.support.helpers import (
    create_form,
    files_under,
    form,
    photo,
    problem,
    seeded_image,
    sha256,
)


async def create(client, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return await client.post("/images", data=create_form({"filename": name}, data))


async def test_an_allowed_duplicate_is_stored_and_named(client):
    data = seeded_image("PNG", 1)
    first = await create(client, "a.png", data)
    assert first.status == 201
    assert "Pixtag-Duplicate-Of" not in first.headers
    assert (await first.json())["near_duplicates"] == []
    a = (await first.json())["image_id"]
    second = await create(client, "b.png", data)
    assert second.status == 201
    assert second.headers["Pixtag-Duplicate-Of"] == str(a)
    answer = await second.json()
    assert answer["near_duplicates"] == [{"image_id": a, "match": "bytes", "distance": 0}]
    b = answer["image_id"]
    # An attachment of those bytes names both.
    resp = await client.post("/images", json={"filename": "c.png"})
    c = (await resp.json())["image_id"]
    resp = await client.post(f"/images/{c}/attachment/c.png", data=form(data))
    assert resp.status == 201
    assert resp.headers["Pixtag-Duplicate-Of"] == f"{a}, {b}"


async def test_check_similar_lists_every_rung_in_the_answer(client):
    """With check_similar=true the upload is fingerprinted before its answer, which lists the
    same pixels and the same picture too (nearest first), as the header does; without it,
    the same bytes only (the fingerprint follows). A record without a file takes no
    check_similar."""
    original = photo("astronaut.png")
    first = await client.post(
        "/images", params={"check_similar": "true"}, data=create_form({"filename": "a"}, original)
    )
    assert (await first.json())["near_duplicates"] == []
    a = (await first.json())["image_id"]
    resized = photo("astronaut.png", "JPEG", scale=0.25, quality=60)
    resp = await client.post(
        "/images",
        params={"check_similar": "true"},
        data=create_form({"filename": "r.jpg"}, resized),
    )
    assert resp.status == 201, await resp.text()
    (found,) = (await resp.json())["near_duplicates"]
    assert (found["image_id"], found["match"]) == (a, "perceptual")
    assert found["distance"] <= 14
    assert resp.headers["Pixtag-Duplicate-Of"] == str(a)
    r = (await resp.json())["image_id"]

    # An attachment of the same pixels in another file: found on the pixels rung first.
    resp = await client.post("/images", json={"filename": "e.png"})
    e = (await resp.json())["image_id"]
    resp = await client.post(
        f"/images/{e}/attachment/e.png",
        params={"check_similar": "1"},
        data=form(with_exif(original)),
    )
    assert resp.status == 201, await resp.text()
    rungs = [(m["image_id"], m["match"]) for m in (await resp.json())["near_duplicates"]]
    assert rungs == [(a, "pixels"), (r, "perceptual")]
    assert resp.headers["Pixtag-Duplicate-Of"] == f"{a}, {r}"

    # Unchecked: the file is not decoded before the answer, so only same bytes could show.
    resp = await create(client, "r2.jpg", photo("astronaut.png", "JPEG", scale=0.5))
    assert (await resp.json())["near_duplicates"] == []
    assert "Pixtag-Duplicate-Of" not in resp.headers

    resp = await client.post("/images", params={"check_similar": "true"}, json={"filename": "x"})
    assert "check_similar applies to an upload with a file" in (await problem(resp, 400))["detail"]
    resp = await client.post(
        "/images", params={"check_similar": "maybe"}, data=create_form({"filename": "y"}, original)
    )
    await problem(resp, 400)


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

    async def test_the_same_pixels_in_other_files_are_refused_too_even_racing(
        self, client, settings
    ):
        """Three files of one picture (other metadata, another compression level) race:
        one is stored, with its fingerprint at once; the others are 409s naming it. A
        resized copy (the same picture, not the same pixels) is stored, and named so."""
        original = photo("coffee.png", scale=0.25)
        variants = [original, with_exif(original), lossless(original)]
        assert len({sha256(v) for v in variants}) == 3
        answers = await asyncio.gather(
            *(create(client, f"{n}.png", data) for n, data in enumerate(variants))
        )
        assert sorted(resp.status for resp in answers) == [201, 409, 409]
        kept = next(resp for resp in answers if resp.status == 201)
        image_id = (await kept.json())["image_id"]
        for resp in answers:
            if resp.status == 409:
                body = await problem(resp, 409)
                assert body["image_id"] == image_id
                assert "holds a file of the same pixels already" in body["detail"]
        resp = await client.get(f"/images/{image_id}/similar")
        assert (await resp.json())["indexed"] is True  # recorded with the image
        resized = await create(client, "small.png", photo("coffee.png", scale=0.2))
        assert resized.status == 201, await resized.text()
        answer = await resized.json()
        # Fingerprinted before its answer (refuse mode), which lists the picture it copies.
        (near,) = answer["near_duplicates"]
        assert (near["image_id"], near["match"]) == (image_id, "perceptual")
        assert resized.headers["Pixtag-Duplicate-Of"] == str(image_id)
        # An attachment of the same pixels to another image: refused as well.
        resp = await client.post("/images", json={"filename": "x.png"})
        other = (await resp.json())["image_id"]
        resp = await client.post(f"/images/{other}/attachment/x.png", data=form(variants[1]))
        assert (await problem(resp, 409))["image_id"] == image_id


def lossless(data: bytes) -> bytes:
    """The same pixels, another file: PNG at another compression level."""
    with Image.open(io.BytesIO(data)) as image:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()
