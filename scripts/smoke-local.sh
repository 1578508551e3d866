#!/usr/bin/env bash
# Start the local stack (`make run`: .venv, a local PostgreSQL in .pgdata unless a DSN is set,
# the service on :8080 or $AGNO_SERVICE_PORT), wait for /readyz, run scripts/smoke.sh against it,
# and stop everything again, also when the smoke test fails or this script is interrupted.
#
#   make smoke                     # = bash scripts/smoke-local.sh
#   AGNO_SERVICE_PORT=18080 OS_SECURITY_KEY=secret make smoke
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PORT=${AGNO_SERVICE_PORT:-8080}
BASE_URL="http://127.0.0.1:$PORT"
READY_TIMEOUT=${SMOKE_READY_TIMEOUT:-300}
PGDATA_DIR=${PGDATA_DIR:-.pgdata}
LOG=$(mktemp "${TMPDIR:-/tmp}/smoke-local.XXXXXX.log")

for tool in curl jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing $tool (apt-get)"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
    else
      echo "smoke-local: $tool is required (apt-get install $tool)" >&2
      exit 2
    fi
  fi
done

if curl -s -o /dev/null --max-time 2 "$BASE_URL/healthz"; then
  echo "smoke-local: something already answers on $BASE_URL; stop it or set AGNO_SERVICE_PORT" >&2
  exit 2
fi

# Did this run start the local PostgreSQL? Then it stops it again at the end.
uses_devpg=false
if [ -z "${AGNO_PG_DSN:-}${DATABASE_URL:-}${AGNO_SESSION_DSN_MAP:-}" ] && [ ! -f "$PGDATA_DIR/data/postmaster.pid" ]; then
  uses_devpg=true
fi

# `make run` in its own process group (setsid), so that one signal reaches make, the service and
# any worker it forks.
export AGNO_SERVICE_PORT=$PORT
setsid make --no-print-directory run >"$LOG" 2>&1 </dev/null &
SERVER_PID=$!

stop_stack() {
  local status=$?
  trap - EXIT INT TERM
  # kill -0 -PGID: is any process of the group (make, the service, its workers) still alive?
  if kill -0 -- "-$SERVER_PID" 2>/dev/null; then
    echo "stopping the service (SIGTERM to process group $SERVER_PID)"
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 -- "-$SERVER_PID" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 -- "-$SERVER_PID" 2>/dev/null; then
      echo "still running after 20 s: SIGKILL" >&2
      kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$uses_devpg" = true ] && [ -f "$PGDATA_DIR/data/postmaster.pid" ] && [ -x .venv/bin/python ]; then
    echo "stopping the local PostgreSQL in $PGDATA_DIR"
    .venv/bin/python -m service.dev.pg stop "$PGDATA_DIR" || true
  fi
  if [ "$status" != 0 ]; then
    echo "--- last lines of the service log ($LOG) ---" >&2
    tail -n 40 "$LOG" >&2 || true
  else
    rm -f "$LOG"
  fi
  exit "$status"
}
trap stop_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "waiting for $BASE_URL/readyz (make run: first run creates .venv; log: $LOG)"
deadline=$((SECONDS + READY_TIMEOUT))
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE_URL/readyz" || true)" = 200 ]; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "smoke-local: make run exited before $BASE_URL/readyz answered 200" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "smoke-local: $BASE_URL/readyz did not answer 200 within ${READY_TIMEOUT}s" >&2
    exit 1
  fi
  sleep 1
done

bash scripts/smoke.sh "$BASE_URL" "${OS_SECURITY_KEY:-}"
