#!/usr/bin/env bash
# make bench: agno-session vs the real Agno AgentOS 3.1.10 on the same PostgreSQL data (issue #5).
#
#   bash bench/run.sh             # full run: 1k + 100k sessions, 3 rounds x 15 s; writes bench/RESULTS.md (~33 min)
#   bash bench/run.sh --quick     # 1k only, 1 round x 5 s; report in bench/out/<stamp>/RESULTS.md (~3 min)
#   bash bench/run.sh --long      # plus a 5-minute mixed-load run sampling VmRSS every 5 s
#   bash bench/run.sh --profile   # plus a py-spy profile of our service per endpoint (needs py-spy, see below)
#   bash bench/run.sh --help      # every option
#
# Needs: the project venv (.venv, `make install`), PostgreSQL server binaries, wrk (installed here with
# apt-get when missing and running as root), and the AgentOS venv .venv-agentos, built on first use by the
# contract suite's bootstrap (tests/contract/agentos_venv.py, pinned agentos-requirements.txt).
# py-spy for --profile: .venv/bin/pip install py-spy (bench-only; not a project dependency).
# Everything listens on 127.0.0.1; the throwaway cluster lives in /tmp/agno-session-bench (removed at the end).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PY="$REPO/.venv/bin/python"

if [[ ! -x "$PY" ]]; then
  echo "bench: $PY missing; run 'make install' first" >&2
  exit 1
fi
if ! command -v wrk >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing wrk (apt-get install -y wrk)" >&2
    apt-get install -y -q wrk >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }
  else
    echo "bench: wrk not found; install it (Debian/Ubuntu: apt-get install -y wrk)" >&2
    exit 1
  fi
fi
if [[ " $* " == *" --profile "* ]] && [[ ! -x "$REPO/.venv/bin/py-spy" ]] && ! command -v py-spy >/dev/null 2>&1; then
  echo "bench: --profile needs py-spy: $REPO/.venv/bin/pip install py-spy" >&2
  exit 1
fi

# The AgentOS venv: the contract suite's bootstrap (reused when complete, built otherwise).
AGENTOS_PY="$("$PY" tests/contract/agentos_venv.py)"
export BENCH_AGENTOS_PYTHON="$AGENTOS_PY"

exec "$PY" -m bench.harness "$@"
