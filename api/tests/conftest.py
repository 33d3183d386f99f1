"""Shared fixtures: a real PostgreSQL server for the session, a fresh database per test.

The template database is built by the fixtures loader itself, so the tests
exercise the very schema a deployment gets; each test clones it (cheap) and
drops its clone afterwards.
"""

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from pixtag.app import create_app
from pixtag.db import fixtures
from pixtag.db.embedded import EmbeddedPostgres
from pixtag.settings import Settings
from tests.support.origin import Origin, run_origin
from tests.support.processes import connection, sql
from tests.support.s3_server import S3_BUCKET, SeaweedS3, create_bucket, run_seaweed

TEMPLATE = "pixtag_template"
# For the modules whose every test runs against both storage backends.
BACKENDS = ["local", "s3"]


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres.start(tmp_path_factory.mktemp("pg") / "cluster")
    # The tests' cluster does not wait for the disk: what a test kills is a process, and its
    # writes stay in the kernel's cache whatever fsync says (only a crash of the machine
    # would lose them, and the cluster is thrown away with the run). Commits stay
    # synchronous: an asynchronous one delays hint bits, and so VACUUM's all-visible pages
    # that index-only scans (and the plan tests) rely on.
    admin_execute(
        server,
        "ALTER SYSTEM SET fsync = off",
        "ALTER SYSTEM SET full_page_writes = off",
        "SELECT pg_reload_conf()",
    )
    yield server
    server.stop()


def admin_execute(server: EmbeddedPostgres, *statements: str) -> None:
    for statement in statements:
        sql(server.uri(), statement)


@pytest.fixture(scope="session")
def template_db(pg_server: EmbeddedPostgres) -> str:
    admin_execute(pg_server, f"DROP DATABASE IF EXISTS {TEMPLATE}", f"CREATE DATABASE {TEMPLATE}")
    fixtures.apply(pg_server.uri(TEMPLATE))
    return TEMPLATE


@pytest.fixture
def empty_database_url(pg_server: EmbeddedPostgres) -> Iterator[str]:
    """A database with no schema at all."""
    name = f"test_{uuid.uuid4().hex}"
    admin_execute(pg_server, f"CREATE DATABASE {name}")
    yield pg_server.uri(name)
    admin_execute(pg_server, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def database_url(pg_server: EmbeddedPostgres, template_db: str) -> Iterator[str]:
    """A fresh database with the schema, cloned from the template."""
    name = f"test_{uuid.uuid4().hex}"
    # A file copy of the template: twice as fast as logging each page (the default) on a
    # cluster that does not wait for the disk.
    admin_execute(pg_server, f"CREATE DATABASE {name} TEMPLATE {template_db} STRATEGY FILE_COPY")
    yield pg_server.uri(name)
    admin_execute(pg_server, f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def db(database_url: str) -> Iterator[Any]:
    """A psycopg2 connection to the test's database (not autocommit), closed afterwards."""
    with connection(database_url) as conn:
        yield conn


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """An empty directory with a short path, for Unix sockets (at most 107 bytes to a socket,
    which pytest's temporary directories under a deep checkout exceed)."""
    path = Path(tempfile.mkdtemp(prefix="pixtag-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked ``heavy`` first: the parallel workers start on them and share out the
    rest, instead of one worker finishing a long test alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_backends`` (or in a module so marked) run once per storage backend."""
    marked = metafunc.definition.get_closest_marker("both_backends")
    if marked is not None and "storage_backend" in metafunc.fixturenames:
        metafunc.parametrize("storage_backend", BACKENDS)


@pytest.fixture
def storage_backend() -> str:
    """The storage the test's server uses: local, or each of them when marked both_backends."""
    return "local"


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, database_url: str, data_dir: Path, storage_backend: str
) -> Settings:
    backend: dict[str, object] = {}
    if storage_backend == "s3":
        s3: SeaweedS3 = request.getfixturevalue("seaweed")
        backend = {
            "storage": f"s3://{S3_BUCKET}/{uuid.uuid4().hex}",
            "s3_endpoint_url": s3.endpoint_url,
            "s3_region": s3.region,
            "s3_access_key_id": s3.access_key_id,
            "s3_secret_access_key": s3.secret_access_key,
        }
    # No periodic sweep, no thumbnail queued by a store: a test sweeps, and
    # builds renditions, when it means to (an image's JSON then stays as it was read).
    # No fold of tag counts either: the counts read must be exact with changes pending.
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        chunk_size=1000,
        sweep_interval=0,
        tag_count_fold_interval=0,
        rendition_eager=(),
        similar_index=False,
        **backend,
    )


@pytest.fixture
async def client(settings: Settings, aiohttp_client) -> TestClient:  # type: ignore[no-untyped-def]
    """The app on a test server, closed before its database goes (settings first: torn down
    last). A module changes what it runs with by overriding ``settings``."""
    return await aiohttp_client(create_app(settings))


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """A SeaweedFS S3 server for the session, with the bucket ``pixtag-test``."""
    with run_seaweed(tmp_path_factory.mktemp("seaweed")) as server:
        create_bucket(server, S3_BUCKET)
        yield server


@pytest.fixture
def origin() -> Iterator[Origin]:
    """A local HTTP server that captures download from (``tests.support.origin``)."""
    with run_origin() as server:
        yield server
