"""A newcomer's first command as root: `make run` in a clone inside a mode-0700 directory, which
the `postgres` OS user (who runs the local cluster's server binaries) cannot enter. The cluster's
files then live under /var/tmp/agno-session-devpg (service/dev/pg.py) and the service serves; the
tests' own clusters start from that clone too."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from service.dev.pg import free_port
from tests.image.conftest import clean_copy, http
from tests.support.http import wait_http
from tests.support.processes import clean_env

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the root case: the postgres OS user runs the server")


def test_make_run_as_root_from_a_private_directory(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    clone = private / "agno-session"
    clean_copy(clone)
    denied = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(clone)], check=False)
    assert denied.returncode != 0, "the postgres user can enter the clone: this test would prove nothing"

    port = free_port()
    env = clean_env("TEST_PG_DSN", "MAKEFLAGS", "MAKELEVEL", "VIRTUAL_ENV")
    env.update({"AGNO_SERVICE_PORT": str(port), "AGNO_SERVICE_HOST": "127.0.0.1"})
    log_path = tmp_path / "make-run.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["make", "run"], cwd=clone, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        # `make run` installs the venv first (pip), then starts the cluster and the service.
        try:
            wait_http(f"http://127.0.0.1:{port}/readyz", timeout=600, proc=proc)
        except (RuntimeError, TimeoutError) as exc:
            raise AssertionError(f"{exc}; make run's output:\n{log_path.read_text(errors='replace')}") from exc
        status, ready = http("GET", f"http://127.0.0.1:{port}/readyz")
        assert status == 200, ready
        assert ready["status"] == "ok", ready
        assert (clone / ".pgdata/server-dir").exists()
        status, _ = http("POST", f"http://127.0.0.1:{port}/sessions?type=agent", {"session_name": "first"})
        assert status == 201
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        python = clone / ".venv/bin/python"
        if python.exists():
            subprocess.run([str(python), "-m", "service.dev.pg", "stop", "--purge", ".pgdata"], cwd=clone, check=False)
    deadline = time.monotonic() + 30
    while (clone / ".pgdata").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (clone / ".pgdata").exists()

    # `make test`'s pytest from the same clone: its throwaway clusters start too (one small module).
    pytest_cmd = [str(clone / ".venv/bin/python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*pytest_cmd, "tests/api/test_pool_close.py"], cwd=clone, env=clean_env("TEST_PG_DSN"),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
