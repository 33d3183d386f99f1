"""How the client commands show images: tables and key/value lines for people, JSON for scripts.

Tables are plain aligned columns under a rule, never wrapped, so each row
stays one line for ``grep`` and friends. They are drawn here rather than by
rich: loading rich costs a short command a third of its run time
(bench/RESULTS.md).
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import click

from pixtag.client.documents import Exposure, Image, Metadata

GAP = "   "


def human_size(size: int) -> str:
    """Bytes in the largest binary unit that keeps the number readable."""
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{size} B" if unit == 0 else f"{value:.1f} {units[unit]}"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: set[int]) -> str:
    """Columns padded to their widest cell (those in ``right`` flush right), a rule below
    the header; no trailing spaces."""
    lines = [list(headers), *(list(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]

    def row(cells: list[str]) -> str:
        padded = (
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return GAP.join(padded).rstrip()

    rule = "\u2500" * (sum(widths) + len(GAP) * (len(widths) - 1))
    return "\n".join([row(lines[0]), rule, *(row(line) for line in lines[1:])])


def images_table(images: Iterable[Image]) -> str:
    """One row per image: id, filename, tags, file size and pixels, creation time (UTC)."""
    headers = ("ID", "FILENAME", "TAGS", "SIZE", "PIXELS", "CREATED (UTC)")
    rows = []
    for image in images:
        file = image.attachment
        rows.append(
            (
                str(image.image_id),
                image.filename,
                ", ".join(image.tags),
                human_size(file.size) if file else "-",
                f"{file.width}x{file.height}" if file else "-",
                f"{image.created_at:%Y-%m-%d %H:%M:%S}",
            )
        )
    return table(headers, rows, right={0, 3, 4})


def utc_text(moment: datetime) -> str:
    """A time as the server writes it: UTC, ``Z``, no trailing zeros in the fraction."""
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += "." + f"{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def image_lines(image: Image) -> list[tuple[str, str]]:
    """The fields of one image as (name, value) pairs, the file's under it."""
    lines = [
        ("image_id", str(image.image_id)),
        ("filename", image.filename),
        ("tags", ", ".join(image.tags) or "-"),
        ("created_at", utc_text(image.created_at)),
    ]
    file = image.attachment
    if file is None:
        lines.append(("file", "none uploaded"))
        return lines
    return [
        *lines,
        ("file", f"{file.content_type}, {human_size(file.size)}, {file.width}x{file.height}"),
        ("sha256", file.sha256),
        ("url", file.url),
        ("uploaded_at", utc_text(file.uploaded_at)),
        *metadata_lines(image.metadata),
    ]


def metadata_lines(found: Metadata | None) -> list[tuple[str, str]]:
    """What the file says of the photo, a line a subject, only those it gives."""
    if found is None:
        return []
    lines = []
    if found.taken_at:
        lines.append(("taken_at", found.taken_at))
    camera = found.camera
    if camera is not None and (camera.make or camera.model):
        make, model = camera.make or "", camera.model or ""
        lines.append(("camera", model if make and model.startswith(make) else f"{make} {model}"))
    if found.lens:
        lines.append(("lens", found.lens))
    if found.exposure is not None:
        lines.append(("exposure", exposure_text(found.exposure)))
    if found.location is not None:
        place = f"{found.location.latitude:.6f}, {found.location.longitude:.6f}"
        if found.location.altitude is not None:
            place += f", {found.location.altitude:g} m"
        lines.append(("location", place))
    if found.keywords:
        lines.append(("keywords", ", ".join(found.keywords)))
    return lines


def exposure_text(exposure: Exposure) -> str:
    """``35 mm (35 mm equiv.), f/2.8, 1/250 s, ISO 3200, flash``."""
    parts = []
    if exposure.focal_length is not None:
        focal = f"{exposure.focal_length:g} mm"
        if exposure.focal_length_35mm and exposure.focal_length_35mm != exposure.focal_length:
            focal += f" ({exposure.focal_length_35mm} mm equiv.)"
        parts.append(focal)
    if exposure.aperture is not None:
        parts.append(f"f/{exposure.aperture:g}")
    if exposure.exposure_time is not None:
        time = exposure.exposure_time
        parts.append(f"1/{round(1 / time)} s" if time < 1 else f"{time:g} s")
    if exposure.iso is not None:
        parts.append(f"ISO {exposure.iso}")
    if exposure.flash:
        parts.append("flash")
    return ", ".join(parts) or "-"


def echo_image(image: Image) -> None:
    width = max(len(name) for name, _ in image_lines(image))
    for name, value in image_lines(image):
        click.echo(f"{name:<{width}}  {value}")
