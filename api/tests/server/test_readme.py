"""README.md is a transcript: its ```console blocks run, in order, as one shell session.

Every ```console block of the README is read in document order: a line
starting with ``$ `` is a command (continued by lines ending in ``\\``, and
through the terminator of a ``<<'EOF'`` here-document), and the lines after
it, up to the next ``$ ``, are what it prints (stdout and stderr together, as
a terminal shows them). The commands run one after the other in one bash
session, in a scratch directory holding the files the README uses (made
here, deterministically, so their sizes and sha256s are the README's),
against a real ``pixtag serve`` on a fresh database.

What a reader types stays in the README: the test rewrites
``http://localhost:8080`` (and ``--port 8080``) in commands to the live
server, sets ``PIXTAG_URL``, ``PIXTAG_DATABASE_URL`` and ``PIXTAG_DATA_DIR``
in the session (the server's own, as ``make run`` would share ./data), and
maps the live address back to ``localhost:8080`` in what the commands print.

Masked, because they vary from run to run and nothing else does:

- times: ISO 8601 (``2026-11-21T07:57:34.354649Z``), HTTP dates, the
  ``2026-11-21 08:34:58`` of ``pixtag ls`` and ``fixtures list``;
- the ``Server:`` header's versions;
- a signed media URL's ``md5=`` and ``expires=``, and a token's shown start;
- the random half of a storage key (``/media/1/<sha256 prefix>-<random>.jpg``),
  ETags, API tokens, share-link tokens, event ids and webhook secrets: bound, not ignored. The n-th
  distinct value the README shows must be the n-th distinct value the server
  gives, wherever it appears again, and a later command that names it is run
  with the live value.

Ids, sizes, sha256s, statuses and messages must match exactly. Trailing
white space is ignored, and a line ``...`` in an expected output stands for
any number of lines.

Blocks that cannot run here (Docker, nginx, S3, ``make``) are ```sh or plain
``` blocks, or a ```console block right after a line
``<!-- not run: reason -->``.

To update the README after a change, run this test with
``PIXTAG_README_TRANSCRIPT=/some/file``: it writes there every command with
what the session printed (live address mapped back, nothing masked).
"""

import io
import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from tests.metadata.test_reading import XMP, camera_exif, saved
from tests.support.helpers import SVG
from tests.support.processes import ServeProcess, pixtag_env

README = Path(__file__).resolve().parents[3] / "README.md"
NOT_RUN = re.compile(r"<!--\s*not run\b.*-->")
HEREDOC = re.compile(r"<<-?\s*'?([A-Za-z_]+)'?")
README_URL = "http://localhost:8080"
END = "@@readme-command-end@@"
# The whole session, under load included; it takes a few seconds.
# (On two CPUs shared with other test runs it has taken over 90 s.)
SESSION_TIMEOUT = 240.0


@dataclass
class Command:
    block: int  # 1-based, among the README's ```console blocks
    line: int  # of the README, where the command starts
    text: str
    expected: str


def readme_commands(text: str) -> list[Command]:
    """Every command of every runnable ```console block, with its expected output, in order."""
    lines = text.splitlines()
    commands: list[Command] = []
    block = 0
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        block += 1
        previous = next((line for line in reversed(lines[:i]) if line.strip()), "")
        end = lines.index("```", i + 1)
        if not NOT_RUN.search(previous):
            commands += block_commands(block, lines, i + 1, end)
        i = end + 1
    return commands


def block_commands(block: int, lines: list[str], start: int, end: int) -> list[Command]:
    commands: list[Command] = []
    i = start
    while i < end:
        assert lines[i].startswith("$ "), f"README line {i + 1}: output before any command"
        first = i
        command = [lines[i][2:]]
        while command[-1].endswith("\\"):
            i += 1
            command.append(lines[i])
        heredoc = HEREDOC.search(command[0])
        if heredoc:
            while lines[i] != heredoc.group(1):
                i += 1
                command.append(lines[i])
        i += 1
        output_start = i
        while i < end and not lines[i].startswith("$ "):
            i += 1
        expected = "\n".join(lines[output_start:i])
        commands.append(Command(block, first + 1, "\n".join(command), expected))
    return commands


class Bindings:
    """Values that vary but must vary consistently: the n-th distinct one on each side pair up."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)
        self.readme: dict[str, int] = {}
        self.live: dict[str, int] = {}

    def mask(self, text: str, side: dict[str, int], name: str) -> str:
        def token(match: re.Match[str]) -> str:
            value = match.group("v")
            number = side.setdefault(value, len(side) + 1)
            start, end = match.span("v")
            whole = match.group(0)
            offset = match.start(0)
            return f"{whole[: start - offset]}<{name} {number}>{whole[end - offset :]}"

        return self.pattern.sub(token, text)

    def to_live(self, command: str) -> str:
        """A command naming a value the README showed, with the live value paired with it."""
        pairs = {number: value for value, number in self.live.items()}

        def swap(match: re.Match[str]) -> str:
            number = self.readme.get(match.group("v"))
            if number is None or number not in pairs:
                return match.group(0)
            start, end = match.span("v")
            offset = match.start(0)
            whole = match.group(0)
            return whole[: start - offset] + pairs[number] + whole[end - offset :]

        return self.pattern.sub(swap, command)


MASKS = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d([+-]\d{4})?"), "<time>"),
    (re.compile(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"), "<http date>"),
    (re.compile(r"(?m)^Server: .*$"), "Server: <server>"),
    # A JSON body is compared in full; its length follows its timestamps, whose
    # fraction is written without trailing zeros (one to six digits).
    (
        re.compile(r"(?m)^(Content-Type: application/json[^\n]*\nContent-Length: )\d+(?=\r?$)"),
        r"\1<length>",
    ),
    # A signed media URL's signature and expiry, and the shown start of a token.
    (re.compile(r"md5=[A-Za-z0-9_-]{22}&expires=\d+"), "md5=<signature>&expires=<time>"),
    (re.compile(r"\bpxt_[A-Za-z0-9_-]{4}\.\.\."), "pxt_<hint>..."),
]


class Transcript:
    """Normalises what the README shows and what the session prints, the same way."""

    def __init__(self, live_url: str, port: int) -> None:
        self.live_url = live_url
        self.port = port
        self.keys = Bindings(r"/\d+/[0-9a-f]{16}-(?P<v>[0-9a-f]{16})\.")
        self.etags = Bindings(r'"(?P<v>[0-9a-f]+-[0-9a-f]+)"')
        self.tokens = Bindings(r"\bpxt_(?P<v>[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")
        self.shares = Bindings(r"/s/(?P<v>[A-Za-z0-9_-]{32})(?![A-Za-z0-9_-])")
        self.events = Bindings(
            r'(?:(?<="id":")|(?<=after=)|(?<=Cursor: )|(?<=--after ))(?P<v>\d+-\d+)'
        )
        self.secrets = Bindings(r"\bwhsec_(?P<v>[A-Za-z0-9+/]{43}=)")

    def command(self, text: str) -> str:
        text = text.replace(README_URL, self.live_url).replace("--port 8080", f"--port {self.port}")
        for bindings in (self.keys, self.etags, self.tokens, self.shares, self.events):
            text = bindings.to_live(text)
        return text

    def expected(self, text: str) -> str:
        return self.normalise(text, "readme")

    def unmasked(self, text: str) -> str:
        """What the session printed, with the live address written as the README's."""
        text = text.replace(self.live_url, README_URL)
        return re.sub(rf":{self.port}\b", ":8080", text).strip("\n")

    def actual(self, text: str) -> str:
        return self.normalise(self.unmasked(text), "live")

    def normalise(self, text: str, side: str) -> str:
        text = self.keys.mask(text, getattr(self.keys, side), "key")
        text = self.events.mask(text, getattr(self.events, side), "event")
        text = self.etags.mask(text, getattr(self.etags, side), "etag")
        text = self.tokens.mask(text, getattr(self.tokens, side), "token")
        text = self.shares.mask(text, getattr(self.shares, side), "share")
        text = self.secrets.mask(text, getattr(self.secrets, side), "secret")
        for pattern, replacement in MASKS:
            text = pattern.sub(replacement, text)
        return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def matches(expected: str, actual: str) -> bool:
    """Line for line, a ``...`` line standing for any number of lines."""
    want, got = expected.splitlines(), actual.splitlines()
    if "..." not in want:
        return want == got
    pattern = "".join(r"(?:.*\n)*?" if line == "..." else re.escape(line + "\n") for line in want)
    return re.fullmatch(pattern, "".join(line + "\n" for line in got)) is not None


class Shell:
    """One bash session fed command by command; each answer is read up to a marker line."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.buffer = b""
        self.run("set -o pipefail", deadline=time.monotonic() + 30)

    def run(self, command: str, *, deadline: float) -> tuple[str, int]:
        """The command's output (stdout and stderr) and exit status."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        # Commands never read the session's own input (the rest of this script).
        script = f"{{ {command}\n}} </dev/null 2>&1\nprintf '\\n{END} %d\\n' $?\n"
        self.proc.stdin.write(script.encode())
        self.proc.stdin.flush()
        end = re.compile(rb"\n" + END.encode() + rb" (\d+)\n")
        while not (found := end.search(self.buffer)):
            left = deadline - time.monotonic()
            assert left > 0, f"timed out running: {command}\noutput so far:\n{self.buffer!r}"
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                assert chunk, f"the shell ended while running: {command}"
                self.buffer += chunk
        output = self.buffer[: found.start()].decode(errors="replace")
        self.buffer = self.buffer[found.end() :]
        return output, int(found.group(1))

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def picture(path: Path, size: tuple[int, int], tint: int) -> None:
    """A deterministic image (gradients), so its bytes, size and sha256 never change."""
    red = Image.linear_gradient("L").resize(size)
    green = Image.radial_gradient("L").resize(size)
    blue = Image.new("L", size, tint)
    Image.merge("RGB", (red, green, blue)).save(path)


def make_files(root: Path) -> None:
    """The files the README's commands use."""
    picture(root / "example.jpg", (640, 480), 40)
    picture(root / "example-2.jpg", (800, 600), 80)
    picture(root / "beach.png", (320, 200), 120)
    picture(root / "cat.jpg", (640, 427), 160)
    picture(root / "dog.png", (320, 240), 200)
    picture(root / "small-dog.png", (160, 120), 200)
    (root / "drawing.svg").write_bytes(SVG)
    (root / "paris.jpg").write_bytes(saved("JPEG", exif=camera_exif(), xmp=XMP.encode()))
    # 60 MB, over the 50 MiB limit; never read as an image, so a sparse file will do.
    with (root / "big.jpg").open("wb") as big:
        big.truncate(60_000_000)
    photos = root / "photos"
    photos.mkdir()
    picture(photos / "dunes.jpg", (1200, 800), 10)
    picture(photos / "sunset.png", (640, 480), 60)
    picture(photos / "harbour.jpg", (800, 600), 110)
    picture(photos / "beach.jpg", (1024, 768), 210)
    (photos / "notes.txt").write_text("not an image\n")


@pytest.mark.heavy
def test_readme_console_blocks_run_as_one_session_and_print_what_they_show(
    tmp_path: Path, database_url: str
) -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert commands, "README.md has no ```console block"
    work = tmp_path / "session"
    work.mkdir()
    make_files(work)
    data_dir = tmp_path / "data"
    # pixtag_env queues no thumbnail behind the session's back: what an image's
    # JSON shows would depend on timing (the README says so where renditions appear).
    settings = {"PIXTAG_DATABASE_URL": database_url, "PIXTAG_DATA_DIR": str(data_dir)}
    with ServeProcess(log=tmp_path / "serve.log", env=pixtag_env(**settings)) as server:
        server.start()
        env = pixtag_env(**settings, PIXTAG_URL=server.url)
        # `python` and `pixtag` are this environment's.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        transcript = Transcript(server.url, server.port)
        shell = Shell(work, env)
        deadline = time.monotonic() + SESSION_TIMEOUT
        failures = []
        printed = []
        try:
            for command in commands:
                output, status = shell.run(transcript.command(command.text), deadline=deadline)
                expected = transcript.expected(command.expected)
                actual = transcript.actual(output)
                printed.append(f"$ {command.text}\n{transcript.unmasked(output)}")
                if not matches(expected, actual):
                    failures.append(describe(command, expected, actual, status))
        finally:
            shell.close()
            if dump := os.environ.get("PIXTAG_README_TRANSCRIPT"):
                Path(dump).write_text("\n".join(printed) + "\n", encoding="utf-8")
    assert not failures, (
        f"{len(failures)} of {len(commands)} README commands differ "
        "(masked values shown as <...>):\n\n" + "\n\n".join(failures)
    )


def describe(command: Command, expected: str, actual: str, status: int) -> str:
    out = io.StringIO()
    out.write(f"console block {command.block}, README.md line {command.line}:\n")
    out.write(f"$ {command.text}\n")
    out.write(f"--- expected\n{expected}\n--- actual (exit status {status})\n{actual}\n---")
    return out.getvalue()
