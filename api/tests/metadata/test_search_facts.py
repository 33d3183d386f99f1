"""The photo-fact terms of ``q`` (``camera:``, ``lens:``, ``iso:``, ``focal:``, ``width:``,
``height:``, ``orientation:``, ``has:location``, ``near:``) against a ground truth computed
here, alone, negated, combined with tags and ``or``, for each plan the listing may choose."""

import json
import math
import random

import pytest

from pixtag.search import queries as search
from pixtag.search import terms as t
from pixtag.search.grammar import parse
from tests.metadata.test_ingest import PHOTO, upload
from tests.metadata.test_reading import saved
from tests.support.helpers import problem
from tests.support.processes import sql

CAMERAS = [
    ("Canon", "Canon EOS R5"),
    ("NIKON CORPORATION", "NIKON D850"),
    ("FUJIFILM", "X-T4"),
    ("Apple", "iPhone 15 Pro"),
    (None, "Mystery 100%_1"),
    ("Leica", None),
]
LENSES = ["EF 35mm f/1.4L", "EF 24-70mm", "XF23mmF2 R WR", "100% sharp_lens"]
PLACES = [
    (48.8566, 2.3522),  # Paris
    (48.8600, 2.3400),  # a kilometre and a bit away
    (51.5074, -0.1278),  # London, 344 km away
    (-16.5, 179.99),  # Fiji, east of the antimeridian
    (-16.5, -179.99),  # and two kilometres away, west of it
    (89.99, 0.0),  # by the North Pole
    (89.99, 180.0),
]


def camera_name(make: str | None, model: str | None) -> str | None:
    if model is None:
        return make.lower() if make else None
    if make is None or model.lower().startswith(make.split(" ")[0].lower()):
        return model.lower()
    return f"{make} {model}".lower()


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (lat1, lon1), (lat2, lon2) = a, b
    h = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1))
        * math.cos(math.radians(lat2))
        * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * search.EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def random_photo(rng: random.Random) -> dict:
    camera = rng.choice([*CAMERAS, None])
    exposure = {}
    if rng.random() < 0.8:
        exposure["iso"] = rng.choice([100, 200, 800, 3200, 3201, 6400, 25600])
    if rng.random() < 0.8:
        exposure["focal_length"] = rng.choice([23.0, 24.0, 35.0, 35.5, 50.0, 70.0, 70.1, 200.0])
    metadata = {
        "camera": None
        if camera is None
        else {k: v for k, v in zip(("make", "model"), camera, strict=True) if v is not None},
        "lens": rng.choice([*LENSES, None]),
        "exposure": exposure or None,
        "location": None,
    }
    if rng.random() < 0.6:
        lat, lon = rng.choice(PLACES)
        metadata["location"] = {"latitude": lat, "longitude": lon}
    width, height = rng.choice([(4000, 3000), (3000, 4000), (5000, 5000), (640, 480), (None, None)])
    return {
        "metadata": {k: v for k, v in metadata.items() if v is not None} or None,
        "width": width,
        "height": height,
        "tags": rng.sample(["a", "b", "c"], rng.randint(0, 2)),
    }


def holds(term: t.Term, photo: dict) -> bool:
    m = photo["metadata"] or {}
    if isinstance(term, t.Not):
        return not holds(term.term, photo)
    if isinstance(term, t.All):
        return all(holds(x, photo) for x in term.terms)
    if isinstance(term, t.Any):
        return any(holds(x, photo) for x in term.terms)
    if isinstance(term, t.Tag):
        return term.tag in photo["tags"]
    if isinstance(term, t.Named):
        if term.fact == "lens":
            return (m.get("lens") or "").lower().startswith(term.prefix) and "lens" in m
        camera = m.get("camera") or {}
        names = [camera_name(camera.get("make"), camera.get("model")), camera.get("model")]
        return any(n is not None and n.lower().startswith(term.prefix) for n in names)
    if isinstance(term, t.Measure):
        value = {
            "iso": (m.get("exposure") or {}).get("iso"),
            "focal": (m.get("exposure") or {}).get("focal_length"),
            "width": photo["width"],
            "height": photo["height"],
        }[term.fact]
        return (
            value is not None
            and (term.low is None or value >= term.low)
            and (term.high is None or value <= term.high)
        )
    if isinstance(term, t.Shape):
        if photo["width"] is None:
            return False
        sign = (photo["width"] > photo["height"]) - (photo["width"] < photo["height"])
        return sign == {"portrait": -1, "square": 0, "landscape": 1}[term.shape]
    assert isinstance(term, t.Place)
    location = m.get("location")
    if location is None:
        return False
    if term.radius_km is None:
        return True
    here = (location["latitude"], location["longitude"])
    return distance_km(here, (term.latitude, term.longitude)) <= term.radius_km


QUERIES = [
    "camera:canon",
    'camera:"canon eos r5"',
    "CAMERA:Nikon",
    "camera:fuji",
    "camera:iphone",
    'camera:"apple iphone 15"',
    "camera:leica",
    "camera:mystery",
    'camera:"mystery 100%_"',
    "camera:mystery_",
    "camera:x",
    "camera:nothing",
    "lens:ef",
    'lens:"ef 35mm"',
    "lens:100%",
    "lens:100_",
    "iso:3200",
    "iso:>3200",
    "iso:>=3200",
    "iso:<800",
    "iso:<=800",
    "iso:200..3200",
    "iso:3201..",
    "iso:..100",
    "focal:24..70",
    "focal:>35",
    "focal:<35.5",
    "focal:70.1",
    "width:>=4000",
    "width:<1000",
    "height:4000",
    "orientation:portrait",
    "orientation:landscape",
    "orientation:square",
    "has:location",
    "-has:location",
    "near:48.8566,2.3522,5km",
    "near:48.8566,2.3522,1000m",
    "near:48.8566,2.3522,400km",
    "near:48.8566,2.3522,213mi",
    "near:-16.5,179.995,1km",
    "near:-16.5,-179.995,5km",
    "near:90,0,10km",
    "near:0,0,20000km",
    "-iso:>3200",
    "-camera:canon",
    "camera:canon iso:>=800",
    "a orientation:portrait",
    "camera:fuji or lens:ef",
    "(camera:iphone or has:location) -b",
    "-(focal:24..70 or width:<1000)",
]


@pytest.fixture
async def photos(client, database_url):  # type: ignore[no-untyped-def]
    rng = random.Random(28)
    made = [random_photo(rng) for _ in range(120)]
    rows = sql(
        database_url,
        "INSERT INTO images (filename, tags, metadata, width, height,"
        "                    content_type, size, sha256, uploaded_at)"
        " SELECT 'p' || n || '.jpg', ARRAY(SELECT json_array_elements_text(p -> 'tags')),"
        "        p -> 'metadata', (p ->> 'width')::int, (p ->> 'height')::int,"
        "        f.content_type, f.size, f.sha256, f.uploaded_at"
        " FROM json_array_elements(%s::json) WITH ORDINALITY AS x(p, n)"
        " LEFT JOIN LATERAL (SELECT 'image/jpeg' AS content_type, 1 AS size,"
        "     encode(sha256(n::text::bytea), 'hex') AS sha256, now() AS uploaded_at"
        "     WHERE p ->> 'width' IS NOT NULL) AS f ON true"
        " ORDER BY n RETURNING image_id",
        (json.dumps(made),),
    )
    sql(database_url, "ANALYZE images")
    return {image_id: photo for (image_id,), photo in zip(rows, made, strict=True)}


async def ids_of(client, q: str, **params: str) -> list[int]:  # type: ignore[no-untyped-def]
    resp = await client.get("/images", params={"q": q, **params})
    assert resp.status == 200, (q, await resp.text())
    body = json.loads(await resp.text())
    return [image["image_id"] for chunk in body[:-1] for image in chunk]


async def test_every_fact_term_matches_the_ground_truth(client, photos):
    for q in QUERIES:
        term = parse(q).term
        expected = sorted(i for i, photo in photos.items() if holds(term, photo))
        assert await ids_of(client, q) == expected, q
        assert await ids_of(client, f"{q} sort:-id") == expected[::-1], q
    # Not vacuous: most queries match some of the images and leave out others.
    sizes = [sum(holds(parse(q).term, p) for p in photos.values()) for q in QUERIES]
    assert sum(0 < n < len(photos) for n in sizes) >= len(QUERIES) - 3, sizes


async def test_the_walk_and_the_index_give_the_same_answer(client, photos):
    """A chunk of one row makes the plan choice walk the key for common facts and go
    through the index for rare ones; both must match the truth, whichever it took."""
    for q in ["iso:>3200", "camera:canon", "has:location", "near:48.8566,2.3522,5km"]:
        expected = sorted(i for i, p in photos.items() if holds(parse(q).term, p))
        for limit in ("1", "7", "500"):
            found: list[int] = []
            after = None
            while True:
                params = {"limit": limit, **({"after": after} if after else {})}
                resp = await client.get("/images", params={"q": q, **params})
                body = json.loads(await resp.text())
                found += [image["image_id"] for chunk in body[:-1] for image in chunk]
                after = body[-1].get("after")
                if after is None:
                    break
            assert found == expected, (q, limit)


def test_each_fact_has_its_index(database_url):
    """What each term writes is what an index holds: with sequential scans off, the plan
    reads the term's own index."""
    expected = {
        "camera:canon": ("images_camera", "images_model"),
        "lens:ef": ("images_lens",),
        "iso:>3200": ("images_iso",),
        "focal:24..70": ("images_focal",),
        "width:>=4000": ("images_width",),
        "height:<100": ("images_height",),
        "orientation:square": ("images_shape",),
        "has:location": ("images_point",),
        "near:-16.5,179.995,100km": ("images_point",),
    }
    for q, indexes in expected.items():
        params: dict = {}
        condition = search.condition(parse(q).term, search.Resolution(), params)
        plan = sql(
            database_url,
            "SET enable_seqscan = off; SET enable_indexscan = off;"
            f" EXPLAIN SELECT image_id FROM images AS i WHERE {condition.sql}",
            params,
        )
        text = "\n".join(row[0] for row in plan)
        for index in indexes:
            assert f"Bitmap Index Scan on {index}" in text, (q, text)
        assert "Seq Scan" not in text, (q, text)


def test_estimates_follow_the_statistics(database_url):
    sql(
        database_url,
        "INSERT INTO images (filename, metadata, width, height,"
        "                    content_type, size, sha256, uploaded_at)"
        " SELECT 'x.jpg', json_build_object("
        "   'exposure', json_build_object('iso', 100 * (g %% 10)),"
        "   'camera', json_build_object("
        "       'make', CASE WHEN g %% 100 = 0 THEN 'Canon' ELSE 'Sony' END),"
        "   'location', CASE WHEN g %% 4 = 0"
        "       THEN json_build_object('latitude', 10, 'longitude', 20) END),"
        "   100 + g %% 2, 100, 'image/jpeg', 1, encode(sha256(g::text::bytea), 'hex'), now()"
        " FROM generate_series(1, 10000) AS g",
    )
    sql(database_url, "ANALYZE images")

    def estimate(fact, low=None, high=None, pattern=None, area=None) -> float:  # type: ignore[no-untyped-def]
        ((rows,),) = sql(
            database_url,
            "SELECT photo_estimate(%s, %s, %s, %s, %s::box)",
            (fact, low, high, pattern, area),
        )
        return rows

    assert 800 <= estimate("iso", 900, 2**31 - 1) <= 1200  # 1,000 at ISO 900
    assert estimate("camera", pattern="canon%") <= 300  # 100
    assert estimate("camera", pattern="sony%") >= 8000  # 9,900
    assert 2000 <= estimate("location", area=search.WORLD) <= 3000  # 2,500
    assert 4000 <= estimate("shape", 1) <= 6000  # 5,000
    with pytest.raises(Exception, match="no condition"):
        estimate("serial")


async def test_bad_fact_terms_are_400_naming_the_position(client):
    for q, words in [
        ("cat iso:fast", "iso: 'fast' is not a whole number"),
        ("iso:3.5", "whole number"),
        ("focal:70..24", "ends before it starts"),
        ("width:99999999999", "at most"),
        ("near:48.8,2.3", "needs a latitude, a longitude and a distance"),
        ("near:91,0,1km", "latitude is within"),
        ("near:0,0,0km", "above 0"),
        ("near:0,0,30000km", "at most"),
        ("orientation:diagonal", "portrait, landscape or square"),
        ("has:gps", "has: knows location"),
        ('camera:""', "needs a name"),
        ('iso:"3200"', "takes no quoted value"),
    ]:
        body = await problem(await client.get("/images", params={"q": q}), 400)
        assert words in body["detail"], (q, body)
        assert body["position"] == (5 if q.startswith("cat ") else 1), (q, body)


async def test_an_uploaded_photo_is_found_by_what_its_file_says(client):
    """End to end: the EXIF of an upload is what the terms search; 40x30 pixels stored with
    orientation 6 (a quarter turn) are 30 wide and 40 high as displayed."""
    photo = await upload(client, PHOTO, ["p"])
    other = await upload(client, saved("JPEG"), ["p"])
    assert (photo["attachment"]["width"], photo["attachment"]["height"]) == (30, 40)
    assert (other["attachment"]["width"], other["attachment"]["height"]) == (40, 30)
    found = [photo["image_id"]]
    for q in [
        "camera:canon", 'camera:"canon eos r5"', 'lens:"rf35mm f1.8"', "iso:3200",
        "iso:>=3200", "focal:35", "focal:30..40", "has:location",
        "near:48.8566,-2.3522,100m", "orientation:portrait", "height:40 width:<=30",
    ]:  # fmt: skip
        assert await ids_of(client, q) == found, q
    for q in ["-has:location", "orientation:landscape", "-camera:canon"]:
        assert await ids_of(client, q) == [other["image_id"]], q
    assert await ids_of(client, "near:48.8566,2.3522,100km") == []  # east, not west, of Greenwich


async def test_camera_and_lens_names_for_autocomplete(client, photos):
    cameras = sorted(
        {
            camera_name(c.get("make"), c.get("model"))
            for p in photos.values()
            if (c := (p["metadata"] or {}).get("camera"))
        }
    )
    lenses = sorted(
        {m["lens"].lower() for p in photos.values() if (m := p["metadata"]) and "lens" in m}
    )
    for path, names in [("/metadata/cameras", cameras), ("/metadata/lenses", lenses)]:
        for prefix in ["", "c", "N", "ef ", "ef  3", "100%", "100_", "zz"]:
            resp = await client.get(path, params={"prefix": prefix, "limit": "50"})
            assert resp.status == 200, await resp.text()
            wanted = " ".join(prefix.split()).lower()
            expected = [n for n in names if n.startswith(wanted)]
            assert (await resp.json())["names"] == expected, (path, prefix)
        resp = await client.get(path, params={"limit": "2"})
        assert (await resp.json())["names"] == names[:2]
    assert len(cameras) >= 5
    assert len(lenses) >= 4
    for bad in [{"limit": "0"}, {"limit": "51"}, {"prefix": "a\x01"}, {"other": "1"}]:
        assert (await client.get("/metadata/cameras", params=bad)).status == 400, bad
