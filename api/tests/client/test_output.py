"""How the client shows sizes and images to people."""

from datetime import UTC, datetime

import pytest

from pixtag.cli.output import human_size, image_lines, utc_text
from pixtag.client.documents import Attachment, Image


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (5 * 1024**2, "5.0 MiB"),
        (3 * 1024**4, "3.0 TiB"),
        (2048 * 1024**4, "2048.0 TiB"),
    ],
)
def test_human_size_uses_the_largest_readable_binary_unit(size: int, shown: str):
    assert human_size(size) == shown


def test_image_lines_show_utc_times_with_z_and_the_file_summary():
    when = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    image = Image(
        image_id=7,
        filename="a.png",
        tags=[],
        created_at=when,
        attachment=Attachment(
            url="/media/7/a.png",
            content_type="image/png",
            size=2048,
            sha256="0" * 64,
            width=3,
            height=2,
            uploaded_at=when,
        ),
    )
    assert dict(image_lines(image)) == {
        "image_id": "7",
        "filename": "a.png",
        "tags": "-",
        "created_at": "2026-11-21T08:00:00Z",
        "file": "image/png, 2.0 KiB, 3x2",
        "sha256": "0" * 64,
        "url": "/media/7/a.png",
        "uploaded_at": "2026-11-21T08:00:00Z",
    }


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 21, 8, 0, tzinfo=UTC), "2026-11-21T08:00:00Z"),
        (datetime(2026, 11, 21, 8, 0, 1, 350000, tzinfo=UTC), "2026-11-21T08:00:01.35Z"),
        (datetime(2026, 11, 21, 8, 0, 1, 10, tzinfo=UTC), "2026-11-21T08:00:01.00001Z"),
        (datetime(2026, 11, 21, 8, 0, 1, 123456, tzinfo=UTC), "2026-11-21T08:00:01.123456Z"),
    ],
)
def test_times_are_shown_as_the_server_writes_them(moment: datetime, text: str):
    """PostgreSQL drops trailing zeros of the fraction; `show` prints the same text."""
    assert utc_text(moment) == text
    assert utc_text(datetime.fromisoformat(text)) == text
