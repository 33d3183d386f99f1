"""What reading metadata costs an upload: a 24-megapixel camera JPEG uploaded to this tree and
to the tree before pixtag read metadata, in the same run.

Run by hand (two or three minutes on two cores):

    .venv/bin/python bench/metadata_upload.py [--uploads 15] [--base 975f612]

``--base`` is checked out as a git worktree (the commit before uploads read
metadata); two ``pixtag serve`` (each its own embedded PostgreSQL and data
directory), this tree and the base, take turns: each upload is a 6000x4000
JPEG (a photograph enlarged, its bytes changed per upload) carrying what a
camera and a photo manager write: EXIF (camera, lens, exposure, date with
offset, GPS), XMP with keywords and IPTC keywords, sent as ``POST /images``
multipart and timed from the first byte sent to the answer read. This tree
reads all of it, records it, makes its keywords tags, and maintains the
indexes the search terms use (fixture 028). The same server also takes the
same photos without any metadata, given the six tags the others carry: the
difference is what reading and recording metadata costs an upload, the rest
of the tree alike (the base differs by every change since). Reported: each server's median
upload time, and the CPU its processes (the server and its embedded
PostgreSQL) used per upload, with their ratios to the base: wall time on a
shared machine varies by a third from run to run (fsync), CPU much less.
"""

import argparse
import asyncio
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "api"), str(Path(__file__).parent)]

import aiohttp  # noqa: E402
import psutil  # noqa: E402
from PIL import ExifTags, Image  # noqa: E402
from PIL.TiffImagePlugin import IFDRational as Rational  # noqa: E402
from similar_upload import photo  # noqa: E402
from upload import Server, start  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
    ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:lr="http://ns.adobe.com/lightroom/1.0/">'
    "<rdf:Description><dc:subject><rdf:Bag><rdf:li>harbour</rdf:li><rdf:li>boats</rdf:li>"
    "<rdf:li>evening</rdf:li></rdf:Bag></dc:subject><lr:hierarchicalSubject><rdf:Bag>"
    "<rdf:li>Places|France|Marseille</rdf:li></rdf:Bag></lr:hierarchicalSubject>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def camera_photo(seed: int, *, bare: bool = False) -> bytes:
    """``photo(seed)`` with a camera's EXIF, XMP keywords and IPTC keywords; ``bare``: the
    same pixels encoded the same way, without any of them."""
    with Image.open(io.BytesIO(photo(seed))) as image:
        if bare:
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=92)
            return buffer.getvalue()
        exif = Image.Exif()
        base = ExifTags.Base
        exif[base.Make], exif[base.Model] = "FUJIFILM", "X-T4"
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
        ifd[base.DateTimeOriginal] = "2024:05:01 18:30:15"
        ifd[base.OffsetTimeOriginal] = "+02:00"
        ifd[base.LensModel] = "XF23mmF2 R WR"
        ifd[base.FocalLength] = Rational(23, 1)
        ifd[base.FNumber] = Rational(4, 1)
        ifd[base.ExposureTime] = Rational(1, 500)
        ifd[base.ISOSpeedRatings] = 400
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLongitudeRef] = "N", "E"
        gps[ExifTags.GPS.GPSLatitude] = (Rational(43), Rational(17), Rational(45))
        gps[ExifTags.GPS.GPSLongitude] = (Rational(5), Rational(22), Rational(12))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=92, exif=exif, xmp=XMP.encode())
    data = buffer.getvalue()
    records = b"".join(b"\x1c\x02\x19" + len(k).to_bytes(2, "big") + k for k in (b"sea", b"sun"))
    resource = b"8BIM\x04\x04\x00\x00" + len(records).to_bytes(4, "big") + records
    payload = b"Photoshop 3.0\x00" + resource + b"\x00" * (len(records) % 2)
    segment = b"\xff\xed" + (len(payload) + 2).to_bytes(2, "big") + payload
    return data[:2] + segment + data[2:]


def postmaster(data_dir: Path) -> psutil.Process:
    """The embedded PostgreSQL of the server on ``data_dir`` (not its child: pg_ctl detaches it)."""
    pgdata = str((data_dir / "postgres").resolve())
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "-D" in cmdline and pgdata in cmdline:
            return proc
    raise RuntimeError(f"no PostgreSQL runs on {pgdata}")


def tree_cpu(process: psutil.Process) -> float:
    total = 0.0
    for one in [process, *process.children(recursive=True)]:
        try:
            times = one.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def cpu_seconds(server: Server) -> tuple[float, float]:
    """CPU the server's process, and its PostgreSQL's processes, have used.

    The kernel counts it in clock ticks (10 ms): one upload's difference is a
    handful of ticks, so only sums over many uploads mean anything.
    """
    return tree_cpu(psutil.Process(server.proc.pid)), tree_cpu(postmaster(server.data_dir))


KEYWORDS = ["harbour", "boats", "evening", "marseille", "sea", "sun"]


async def upload(http: aiohttp.ClientSession, data: bytes, n: int, tags: list[str]) -> float:
    form = aiohttp.FormData()
    meta = json.dumps({"filename": f"p{n}.jpg", "tags": tags})
    form.add_field("meta", meta, content_type="application/json")
    form.add_field("image", data, filename=f"p{n}.jpg", content_type="image/jpeg")
    started = time.perf_counter()
    async with http.post("/images", data=form) as resp:
        await resp.read()
        assert resp.status == 201, resp.status
    return time.perf_counter() - started


async def measure(
    work: Path, tree: Path, base: str, files: list[bytes], bare: list[bytes], uploads: int
) -> None:
    # No background work (thumbnails, fingerprints) competing with the uploads or counted
    # in their CPU: the upload path alone.
    quiet = {"PIXTAG_RENDITION_EAGER": "", "PIXTAG_SIMILAR_INDEX": "false"}
    before_env = {**quiet, "PYTHONPATH": str(tree / "api")}
    async with AsyncExitStack() as stack:
        this = await start("this tree", work, quiet, stack)
        # (label, server, tags sent, files): the base as it was, and given the tags this
        # tree takes from the file, so that both record the same image; this tree with the
        # camera's files, and, on the same server, the same photos without metadata given
        # the same tags (the difference is what reading and recording metadata costs).
        runs = [
            (f"base {base}", await start(f"base {base}", work, before_env, stack), [], files),
            (f"base {base}, the 6 tags sent", await start("base tags", work, before_env, stack),
             KEYWORDS, files),
            ("this tree", this, [], files),
            (WITHOUT, this, KEYWORDS, bare),
            ("this tree, PIXTAG_METADATA_TAGS=off",
             await start("this tree off", work, {**quiet, "PIXTAG_METADATA_TAGS": "off"}, stack),
             [], files),
        ]  # fmt: skip
        times: dict[str, list[float]] = {label: [] for label, *_ in runs}
        cpu: dict[str, float] = {label: 0.0 for label, *_ in runs}
        cpu_pg: dict[str, float] = {label: 0.0 for label, *_ in runs}
        for _, server, tags, source in runs:  # warm: connections, imports
            await upload(server.http, source.pop(), 0, tags)
        for n in range(uploads):
            for label, server, tags, source in runs if n % 2 == 0 else runs[::-1]:
                before, before_pg = cpu_seconds(server)
                times[label].append(await upload(server.http, source.pop(), n, tags))
                after, after_pg = cpu_seconds(server)
                cpu[label] += after - before + after_pg - before_pg
                cpu_pg[label] += after_pg - before_pg
        async with this.http.get("/images/1") as resp:
            recorded = (await resp.json())["metadata"]
    assert recorded["camera"]["model"] == "X-T4", recorded  # this tree did read it
    print("\n| server | median upload, ms | ratio | CPU per upload, ms | ratio | of which PG |")
    print("|---|---|---|---|---|---|")
    for label, samples in times.items():
        reference = runs[3][0] if label == "this tree" else runs[0][0]
        median = statistics.median(samples)
        print(
            f"| {label} | {median * 1000:.1f}"
            f" | {median / statistics.median(times[reference]):.2f}x"
            f" | {cpu[label] / uploads * 1000:.1f} | {cpu[label] / cpu[reference]:.2f}x"
            f" | {cpu_pg[label] / uploads * 1000:.1f} |"
        )
    print(f"\n(the ratios of `this tree` are to `{WITHOUT}`; the others to the base)")


WITHOUT = "this tree, the same photos without metadata, the 6 tags sent"


def main(uploads: int, base: str) -> None:
    files = [camera_photo(n) for n in range(uploads * 4 + 4)]
    bare = [camera_photo(n, bare=True) for n in range(uploads + 1)]
    median = statistics.median(map(len, files))
    print(f"{len(files)} JPEGs of 6000x4000 with EXIF, XMP and IPTC, median {median:,.0f} bytes")
    with tempfile.TemporaryDirectory(prefix="pixtag-bench-") as tmp:
        tree = Path(tmp) / "base"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", str(tree), base], check=True, capture_output=True)
        try:
            asyncio.run(measure(Path(tmp), tree, base, files, bare, uploads))
        finally:
            subprocess.run([*git, "remove", "--force", str(tree)], check=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=15)
    parser.add_argument("--base", default="975f612")
    arguments = parser.parse_args()
    main(arguments.uploads, arguments.base)
