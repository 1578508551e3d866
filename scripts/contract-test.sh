#!/usr/bin/env bash
# Contract suite: agno-session against the real Agno AgentOS 3.1.10 on a throwaway PostgreSQL.
#
#   bash scripts/contract-test.sh [pytest args...]      # what `make contract-test` runs
#   CONTRACT_SUT=agentos bash scripts/contract-test.sh  # AgentOS against a second AgentOS (harness check)
#
# Builds (or reuses) .venv-agentos with the pinned agno/FastAPI/pydantic versions of
# tests/contract/agentos-requirements.txt, then runs tests/contract. Prints "N/N cases JSON-equal".
# See docs/contract-testing.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=${PY:-.venv/bin/python}
if [[ ! -x $PY ]]; then
  echo "contract-test: $PY not found; run 'make install' first (or set PY=...)" >&2
  exit 2
fi

# Build the AgentOS venv up front so its (one-off, ~1 min) install is not counted in a test's timeout.
"$PY" tests/contract/agentos_venv.py >/dev/null

exec "$PY" -m pytest tests/contract -p no:cacheprovider -q -rf "$@"
