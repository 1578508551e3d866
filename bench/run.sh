#!/usr/bin/env bash
# make bench: agno-session vs the real Agno AgentOS 3.1.10 on the same PostgreSQL data (issues #5, #17).
#
#   make bench                                # = bash bench/run.sh --long --profile: the full run (<= 45 min)
#   bash bench/run.sh                         # production + simple data, 1k + 100k sessions, 3 rounds x 8 s
#   bash bench/run.sh --dataset production    # one dataset only (production or simple)
#   bash bench/run.sh --quick                 # 1k production sessions, 1 round x 5 s; report in bench/out/<stamp>/
#   bash bench/run.sh --long                  # plus a 5-minute mixed-load run on 100k sessions, VmRSS every 5 s
#   bash bench/run.sh --profile               # plus py-spy flame graphs (SVG) of our service per endpoint
#   bash bench/run.sh --help                  # every option
# The estimated wall time is printed at the start.
#
# Needs: the project venv (.venv, `make install`), PostgreSQL server binaries, wrk (installed here with
# apt-get when missing and running as root), and the AgentOS venv .venv-agentos, built on first use by the
# contract suite's bootstrap (tests/contract/agentos_venv.py, pinned agentos-requirements.txt).
# py-spy (--profile) and matplotlib (plots): the project's `bench` extra, installed by `make bench`.
# Everything listens on 127.0.0.1; the throwaway cluster lives in /tmp/agno-session-bench (--root; removed at the end).
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
  echo "bench: --profile needs py-spy: make bench (or .venv/bin/pip install -c dev-constraints.txt -e '.[bench]')" >&2
  exit 1
fi

# The AgentOS venv: the contract suite's bootstrap (reused when complete, built otherwise).
AGENTOS_PY="$("$PY" tests/contract/agentos_venv.py)"
export BENCH_AGENTOS_PYTHON="$AGENTOS_PY"

exec "$PY" -m bench.harness "$@"
