"""pixtag get follows the attachment's redirect to another origin: a presigned S3 URL."""

import http.client
import urllib.parse
from pathlib import Path

import pytest

from tests.client.support import Pixtag, added_ids, make_image


@pytest.fixture
def storage_backend() -> str:
    return "s3"


def test_get_downloads_through_a_presigned_s3_redirect(
    pixtag: Pixtag, live_url: str, tmp_path: Path
):
    data = make_image(tmp_path / "src" / "boat.jpg", seed=21, size=(30, 20))
    (image_id,) = added_ids(pixtag("add", tmp_path / "src" / "boat.jpg"))
    # The attachment answers a redirect to another origin: the S3 server's presigned URL.
    parts = urllib.parse.urlsplit(live_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    conn.request("GET", f"/images/{image_id}/attachment/boat.jpg")
    redirect = conn.getresponse()
    redirect.read()
    conn.close()
    assert redirect.status == 302
    location = redirect.getheader("Location") or ""
    assert location.startswith("http://")
    assert urllib.parse.urlsplit(location).netloc != parts.netloc
    assert "Signature=" in location or "X-Amz-Signature=" in location
    result = pixtag("get", image_id, "-o", tmp_path / "out.jpg")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.jpg").read_bytes() == data
    assert result.stdout == f"{tmp_path / 'out.jpg'}  ({len(data)} B)\n"
