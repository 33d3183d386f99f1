"""/media preconditions and ranges as RFC 9110 orders them (If-Match, If-Range, Range)."""

import os

import pytest

from tests.support.helpers import file_key, form, new_image, noisy_png

STALE = '"0-0"'


@pytest.fixture
async def stored(client, settings):
    """An image's file: its URL, bytes, ETag, Last-Modified and path on disk."""
    image = await new_image(client, filename="photo.png")
    data = noisy_png((20, 20))
    resp = await client.post(f"/images/{image['image_id']}/attachment/photo.png", data=form(data))
    url = (await resp.json())["attachment"]["url"]
    first = await client.get(url)
    assert first.status == 200
    path = settings.media_dir / file_key(settings, image["image_id"])
    return url, data, first.headers["ETag"], first.headers["Last-Modified"], path


async def problem(resp, status: int) -> dict:
    assert resp.status == status
    assert resp.content_type == "application/problem+json"
    body = await resp.json()
    assert body["status"] == status
    assert body["error"] == body["detail"]
    assert body["type"] == "about:blank"
    return body


async def assert_whole_file(resp, data: bytes) -> None:
    assert resp.status == 200
    assert "Content-Range" not in resp.headers
    assert await resp.read() == data


async def test_if_range_with_this_files_etag_or_date_gives_the_range(client, stored):
    url, data, etag, last_modified, _ = stored
    for validator in (etag, last_modified):
        resp = await client.get(url, headers={"Range": "bytes=100-", "If-Range": validator})
        assert resp.status == 206, validator
        assert resp.headers["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
        assert resp.headers["ETag"] == etag
        assert await resp.read() == data[100:]


async def test_a_changed_file_ignores_the_range_under_a_stale_if_range(client, stored):
    """A resumed download must never be stitched from two files: the whole new file instead."""
    url, data, etag, last_modified, path = stored
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    for validator in (etag, last_modified):
        for value in ("bytes=100-", f"bytes={len(data)}-", "bytes=-0"):
            resp = await client.get(url, headers={"Range": value, "If-Range": validator})
            await assert_whole_file(resp, data)
            assert resp.headers["ETag"] != etag


async def test_an_if_range_that_cannot_name_this_file_gives_the_whole_file(client, stored):
    url, data, etag, *_ = stored
    for validator in (STALE, f"W/{etag}", "Mon, 01 Jan 2001 00:00:00 GMT", "not a validator"):
        resp = await client.get(url, headers={"Range": "bytes=0-9", "If-Range": validator})
        await assert_whole_file(resp, data)


async def test_a_zero_suffix_or_a_start_past_the_end_is_416_problem_json(client, stored):
    url, data, *_ = stored
    for value in ("bytes=-0", f"bytes={len(data)}-", f"bytes={len(data)}-{len(data) + 9}"):
        resp = await client.get(url, headers={"Range": value})
        body = await problem(resp, 416)
        assert body["detail"] == f"The range is not satisfiable: the file has {len(data)} bytes"
        assert resp.headers["Content-Range"] == f"bytes */{len(data)}"


async def test_a_malformed_byte_range_is_416_saying_so(client, stored):
    url, data, *_ = stored
    for value in ("bytes=", "bytes=9-3", "bytes=a-b", "bytes=1-2-3", "bytes= -", "bytes=0x1-"):
        resp = await client.get(url, headers={"Range": value})
        body = await problem(resp, 416)
        assert body["detail"].startswith("The range is malformed"), value
        assert resp.headers["Content-Range"] == f"bytes */{len(data)}"


async def test_an_unknown_range_unit_is_ignored(client, stored):
    url, data, *_ = stored
    for value in ("pages=1", "items=0-9", "bytes 0-9", "0-9"):
        await assert_whole_file(await client.get(url, headers={"Range": value}), data)


async def test_several_ranges_give_the_whole_file(client, stored):
    url, data, *_ = stored
    for value in ("bytes=0-1,5-6", "bytes=0-0,-1", f"bytes=0-1, {len(data)}-"):
        await assert_whole_file(await client.get(url, headers={"Range": value}), data)


async def test_range_edges_and_list_syntax(client, stored):
    url, data, *_ = stored
    cases = {
        "bytes=0-0": (0, 0),
        f"bytes=-{len(data) + 100}": (0, len(data) - 1),
        f"bytes=10-{len(data) * 2}": (10, len(data) - 1),
        "BYTES=3-4": (3, 4),
        "bytes=, 3-4 ,": (3, 4),
    }
    for value, (first, last) in cases.items():
        resp = await client.get(url, headers={"Range": value})
        assert resp.status == 206, value
        assert resp.headers["Content-Range"] == f"bytes {first}-{last}/{len(data)}"
        assert await resp.read() == data[first : last + 1]


async def test_a_failed_if_match_or_if_unmodified_since_is_412_problem_json(client, stored):
    url, _, etag, *_ = stored
    cases = [
        ({"If-Match": STALE}, "If-Match: the file's ETag is not one of those given"),
        ({"If-Match": f"W/{etag}"}, "If-Match: the file's ETag is not one of those given"),
        ({"If-Match": "garbage"}, "If-Match: the file's ETag is not one of those given"),
        (
            {"If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
            "If-Unmodified-Since: the file was modified after that date",
        ),
    ]
    for headers, detail in cases:
        for method in ("GET", "HEAD"):
            resp = await client.request(method, url, headers={**headers, "Range": "bytes=0-9"})
            assert resp.status == 412, (method, headers)
            assert resp.content_type == "application/problem+json"
            if method == "GET":
                assert (await problem(resp, 412))["detail"] == detail
            else:
                assert await resp.read() == b""


async def test_a_holding_if_match_or_if_unmodified_since_serves_the_file(client, stored):
    url, data, etag, last_modified, _ = stored
    for headers in (
        {"If-Match": etag},
        {"If-Match": f'"other", {etag}'},
        {"If-Match": "*"},
        {"If-Unmodified-Since": last_modified},
        # If-Unmodified-Since is not read beside If-Match.
        {"If-Match": etag, "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
        # Not a date: ignored.
        {"If-Unmodified-Since": "yesterday"},
    ):
        await assert_whole_file(await client.get(url, headers=headers), data)


async def test_if_none_match_comes_after_if_match(client, stored):
    url, _, etag, *_ = stored
    resp = await client.get(url, headers={"If-Match": etag, "If-None-Match": etag})
    assert resp.status == 304
    assert resp.headers["ETag"] == etag
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    resp = await client.get(url, headers={"If-Match": STALE, "If-None-Match": etag})
    assert resp.status == 412


async def test_head_ignores_the_range(client, stored):
    url, data, *_ = stored
    for value in ("bytes=0-9", "bytes=-0"):
        resp = await client.head(url, headers={"Range": value})
        assert resp.status == 200
        assert int(resp.headers["Content-Length"]) == len(data)
        assert "Content-Range" not in resp.headers


async def test_the_query_string_of_a_file_is_ignored(client, stored):
    """As nginx and CDNs serving /media ignore it: a cache-busting query still works."""
    url, data, *_ = stored
    await assert_whole_file(await client.get(f"{url}?v=2&download=1"), data)
