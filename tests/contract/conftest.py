"""Fixtures of the contract suite: the AgentOS venv, seeded databases and both services (session scope).

Environment knobs
- CONTRACT_SUT=agentos        run the matrix AgentOS against a second AgentOS (checks the harness itself)
- CONTRACT_AGENTOS_VENV=DIR   where the AgentOS virtualenv lives (default: <repo>/.venv-agentos)
- CONTRACT_LOG_DIR=DIR        keep the servers' and seeders' logs there (default: a pytest temp dir)
- CONTRACT_CHECK_CONTENT_TYPE=0   do not compare the content-type header
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .agentos_venv import ensure_venv
from .harness import ContractEnv, build_env, copy_logs

_ENV: dict[str, Any] = {}


@pytest.fixture(scope="session")
def contract_env(pg_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractEnv]:
    sut = os.environ.get("CONTRACT_SUT", "service")
    if sut not in ("service", "agentos"):
        raise pytest.UsageError("CONTRACT_SUT must be 'service' or 'agentos'")
    started = time.monotonic()
    python = ensure_venv()
    venv_seconds = time.monotonic() - started
    logdir = Path(os.environ.get("CONTRACT_LOG_DIR") or tmp_path_factory.mktemp("contract-logs"))
    logdir.mkdir(parents=True, exist_ok=True)
    env = build_env(pg_cluster, logdir, python, sut)
    env.timings["venv"] = venv_seconds
    _ENV["env"] = env
    _ENV["setup_seconds"] = time.monotonic() - started
    _ENV["logdir"] = logdir
    try:
        yield env
    finally:
        env.stop()
        if os.environ.get("CONTRACT_LOG_DIR"):
            copy_logs(env, logdir)


def pytest_collection_finish(session: pytest.Session) -> None:
    _ENV["selected"] = sum(1 for item in session.items if getattr(item, "originalname", "") == "test_contract_case")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    env: ContractEnv | None = _ENV.get("env")
    if env is None:
        return
    total = _ENV.get("selected", 0)
    ran = len(env.results)
    ok = sum(1 for r in env.results if r.ok)
    divs = sum(1 for r in env.results if r.ok and r.divergence)
    tr = terminalreporter
    tr.section("contract: agno-session vs AgentOS 3.1.10")
    target = "a second AgentOS (CONTRACT_SUT=agentos)" if env.sut_kind == "agentos" else "agno-session"
    t = env.timings
    tr.write_line(
        f"service under test: {target}; setup {_ENV['setup_seconds']:.1f}s (AgentOS venv {t.get('venv', 0):.1f}s, "
        f"seeding {t.get('seed', 0):.1f}s, servers {t.get('servers', 0):.1f}s)"
    )
    tr.write_line(f"server logs: {_ENV['logdir']}")
    if ran < total:
        tr.write_line(f"{total - ran} of {total} selected cases did not run")
    failed = [r.name for r in env.results if not r.ok]
    if failed:
        tr.write_line("not equal: " + ", ".join(failed))
    how = "documented divergences" if env.sut_kind == "service" else "marked divergences, compared as usual"
    tr.write_line(f"{ok}/{ran} cases JSON-equal ({divs} of them {how})", bold=True)
