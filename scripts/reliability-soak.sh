#!/usr/bin/env bash
# The reliability suite N times in a row (default 10) under background CPU load (`stress-ng --cpu 2`),
# stopping at the first failing run. What docs/reliability.md ("Under load") reports.
#
#   bash scripts/reliability-soak.sh [runs] [pytest args...]     # = make reliability-soak
#   SOAK_CPU=0 bash scripts/reliability-soak.sh                  # no stress-ng (another load is running)
#
# Each run's log goes to $SOAK_DIR (default a fresh temp dir); one summary line per run is printed:
#   run 3/10: passed, 41 passed in 187.2s (wall 190 s, load 1m 5.31)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=${1:-10}
[ $# -gt 0 ] && shift
PY=${PY:-.venv/bin/python}
cpu=${SOAK_CPU:-2}
dir=${SOAK_DIR:-$(mktemp -d /tmp/agno-session-soak.XXXXXX)}
mkdir -p "$dir"

stress_pid=""
if [ "$cpu" != 0 ]; then
  bash scripts/system-deps.sh soak
  stress-ng --cpu "$cpu" --timeout 0 --quiet &
  stress_pid=$!
  trap 'kill "$stress_pid" 2>/dev/null || true; wait "$stress_pid" 2>/dev/null || true' EXIT
  echo "background load: stress-ng --cpu $cpu (pid $stress_pid)"
fi
echo "logs: $dir"

passed=0
for n in $(seq 1 "$runs"); do
  log="$dir/run-$n.log"
  start=$(date +%s)
  if "$PY" -m pytest tests/reliability -q -p no:cacheprovider "$@" >"$log" 2>&1; then result=passed; else result=FAILED; fi
  wall=$(( $(date +%s) - start ))
  load=$(cut -d' ' -f1 /proc/loadavg)
  echo "run $n/$runs: $result, $(grep -E '^[=]* ?[0-9]+ (passed|failed)' "$log" | tail -1 | tr -d '=' | sed 's/^ *//;s/ *$//') (wall ${wall} s, load 1m $load)"
  if [ "$result" != passed ]; then
    grep -E '^(FAILED|ERROR) ' "$log" || tail -20 "$log"
    echo "soak: run $n failed after $passed passing runs"
    exit 1
  fi
  passed=$((passed + 1))
done
echo "soak: $passed/$runs runs passed in a row"
