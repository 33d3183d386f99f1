"""Storage settings: refused when unsafe or malformed, and an unreachable bucket stops start-up."""

import subprocess
import sys

import pytest
from pydantic import ValidationError

from pixtag.settings import Settings
from tests.support.processes import free_port, pixtag_env


@pytest.mark.parametrize("storage", ["s3:/bucket", "ftp://bucket", "s3://", "s3://b?x=1", "disk"])
def test_a_malformed_storage_url_is_refused(storage):
    with pytest.raises(ValidationError, match="must be 'local' or 's3://bucket"):
        Settings(storage=storage)


def test_the_bucket_and_prefix_come_from_the_storage_url():
    settings = Settings(storage="s3://photos/pixtag/main/")
    assert (settings.s3_bucket, settings.s3_prefix) == ("photos", "pixtag/main/")
    assert Settings(storage="s3://photos").s3_prefix == ""


def test_a_short_grace_is_refused_while_periodic_sweeps_run():
    with pytest.raises(ValidationError, match="sweep_grace must be at least 300 seconds"):
        Settings(sweep_grace=10)
    # Sweeping only at start (one process, nothing in flight) may use any grace.
    assert Settings(sweep_grace=0, sweep_interval=0).sweep_grace == 0


def test_the_secret_key_never_shows_in_the_settings(seaweed):
    settings = Settings(s3_secret_access_key=seaweed.secret_access_key)
    assert seaweed.secret_access_key not in repr(settings)
    assert seaweed.secret_access_key not in str(settings.model_dump())


def test_serve_with_an_unreachable_bucket_fails_in_one_line(seaweed, database_url, data_dir):
    env = pixtag_env(
        PIXTAG_STORAGE="s3://no-such-bucket/x",
        PIXTAG_S3_ENDPOINT_URL=seaweed.endpoint_url,
        PIXTAG_S3_ACCESS_KEY_ID=seaweed.access_key_id,
        PIXTAG_S3_SECRET_ACCESS_KEY=seaweed.secret_access_key,
    )
    serve = [sys.executable, "-m", "pixtag", "serve", "--host", "127.0.0.1"]
    where = ["--data-dir", str(data_dir), "--database-url", database_url]
    result = subprocess.run(
        [*serve, "--port", str(free_port()), *where],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert errors == [
        f"Error: cannot start: cannot reach S3 bucket 'no-such-bucket' at {seaweed.endpoint_url}:"
        " 404 Not Found"
    ], result.stderr
    assert "Traceback" not in result.stderr
    assert seaweed.secret_access_key not in result.stderr + result.stdout
