#!/usr/bin/env bash
# Smoke test of a running agno-session: every endpoint once, against BASE_URL.
#
#   scripts/smoke.sh http://127.0.0.1:8080 [TOKEN]
#
# TOKEN is the OS_SECURITY_KEY of the server, when it has one (also read from $OS_SECURITY_KEY).
# Stops at the first surprise, printing the request, what was expected and what came back; exits
# non-zero then. Sessions it creates are named smoke-<random> and deleted again.
set -euo pipefail

BASE_URL=${1:?usage: scripts/smoke.sh BASE_URL [TOKEN]}
BASE_URL=${BASE_URL%/}
TOKEN=${2:-${OS_SECURITY_KEY:-}}

for tool in curl jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing $tool (apt-get)"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool" >/dev/null
    else
      echo "smoke: $tool is required (apt-get install $tool)" >&2
      exit 2
    fi
  fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/smoke.XXXXXX")
BODY="$WORK/body"
STATUS=""
LAST=""
CREATED=()
STEPS=0

cleanup() {
  local id
  for id in "${CREATED[@]}"; do
    curl -sS -o /dev/null -X DELETE "${AUTH[@]}" "$BASE_URL/sessions/$id" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

AUTH=()
if [ -n "$TOKEN" ]; then
  AUTH=(-H "Authorization: Bearer $TOKEN")
fi

fail() {
  echo "FAIL: $LAST" >&2
  echo "  expected: $1" >&2
  echo "  got:      $2" >&2
  echo "  body:     $(head -c 2000 "$BODY")" >&2
  exit 1
}

# req METHOD PATH [JSON_BODY] [extra curl args...]: sets STATUS, leaves the body in $BODY.
req() {
  local method=$1 path=$2 data=${3:-}
  shift $(($# < 3 ? $# : 3))
  local args=(-sS -o "$BODY" -w '%{http_code}' -X "$method" --max-time 30)
  if [ -n "$data" ]; then
    args+=(-H "Content-Type: application/json" --data "$data")
  fi
  LAST="$method $path${data:+ $data}"
  if ! STATUS=$(curl "${args[@]}" "$@" "$BASE_URL$path"); then
    fail "an HTTP answer" "no answer (curl failed)"
  fi
  STEPS=$((STEPS + 1))
}

# api METHOD PATH [JSON_BODY]: an authenticated request.
api() {
  req "$1" "$2" "${3:-}" "${AUTH[@]}"
}

expect_status() {
  [ "$STATUS" = "$1" ] || fail "HTTP $1" "HTTP $STATUS"
}

# expect_json 'jq filter' : the filter must print true for the body.
expect_json() {
  local got
  got=$(jq -c "$1" "$BODY" 2>/dev/null) || fail "a JSON body where $1" "not JSON"
  [ "$got" = "true" ] || fail "$1" "$(jq -c . "$BODY" 2>/dev/null | head -c 300)"
}

ok() {
  printf 'ok  %s  %s\n' "$STATUS" "$LAST" | cut -c1-120
}

RUN="smoke-$(date +%s)-$$-$RANDOM"
SID="$RUN-a"

# ---- health, readiness, metrics (never need the token) -----------------------------------------
req GET /healthz
expect_status 200
expect_json '.status == "ok"'
ok
req GET /health
expect_status 200
expect_json '.status == "ok" and (.instantiated_at | type == "string")'
ok
req GET /readyz
expect_status 200
ok
req GET /metrics
expect_status 200
grep -q '^# TYPE http_requests_total counter' "$BODY" || fail "a Prometheus exposition with http_requests_total" "$(head -c 200 "$BODY")"
ok

if [ -n "$TOKEN" ]; then
  req GET /sessions
  expect_status 401
  expect_json '.detail == "Authorization header required"'
  ok
  req GET /sessions "" -H "Authorization: Bearer not-$TOKEN"
  expect_status 401
  expect_json '.detail == "Invalid authentication token"'
  ok
fi

# ---- list, create, get ---------------------------------------------------------------------------
api GET "/sessions?limit=1"
expect_status 200
expect_json '(.data | type == "array") and .meta.page == 1 and .meta.limit == 1 and (.meta.total_count | type == "number")'
ok

api POST "/sessions?type=agent" "{\"session_id\":\"$SID\",\"session_name\":\"smoke test\",\"session_state\":{\"step\":1},\"user_id\":\"$RUN-user\",\"agent_id\":\"smoke-agent\"}"
expect_status 201
CREATED+=("$SID")
expect_json ".session_id == \"$SID\" and .session_name == \"smoke test\" and .session_state.step == 1 and .chat_history == []"
ok

api POST "/sessions?type=agent" "{\"session_id\":\"$SID\"}"
expect_status 409
ok

api GET "/sessions/$SID"
expect_status 200
expect_json ".session_id == \"$SID\" and .agent_id == \"smoke-agent\" and .user_id == \"$RUN-user\" and .session_name == \"smoke test\""
ok

api GET "/sessions?type=agent&user_id=$RUN-user"
expect_status 200
expect_json ".meta.total_count == 1 and .data[0].session_id == \"$SID\" and .data[0].session_type == \"agent\""
ok

# ---- rename, patch, runs -------------------------------------------------------------------------
api POST "/sessions/$SID/rename" '{"session_name":"smoke renamed"}'
expect_status 200
expect_json '.session_name == "smoke renamed"'
ok

api PATCH "/sessions/$SID" '{"session_state":{"step":2},"metadata":{"source":"smoke"}}'
expect_status 200
expect_json '.session_state.step == 2 and .metadata.source == "smoke" and .session_name == "smoke renamed"'
ok

api GET "/sessions/$SID/runs"
expect_status 200
expect_json '. == []'
ok

# ---- delete one, bulk delete -----------------------------------------------------------------------
api DELETE "/sessions/$SID"
expect_status 204
ok
api GET "/sessions/$SID"
expect_status 404
expect_json ".detail == \"Session with id '$SID' not found\""
ok

api POST "/sessions?type=agent" "{\"session_id\":\"$RUN-b\",\"user_id\":\"$RUN-user\"}"
expect_status 201
CREATED+=("$RUN-b")
api POST "/sessions?type=team" "{\"session_id\":\"$RUN-c\",\"team_id\":\"smoke-team\",\"user_id\":\"$RUN-user\"}"
expect_status 201
CREATED+=("$RUN-c")
ok
api DELETE /sessions "{\"session_ids\":[\"$RUN-b\",\"$RUN-c\"],\"session_types\":[\"agent\"]}"
expect_status 400
ok
# b and c belong to $RUN-user (a is gone): the rejected delete removed nothing, and the total must
# drop to 0 after the bulk delete below (this count is also the one the service may reuse)
api GET "/sessions?user_id=$RUN-user"
expect_status 200
expect_json '.meta.total_count == 2'
ok
api DELETE /sessions "{\"session_ids\":[\"$RUN-b\",\"$RUN-c\"],\"session_types\":[\"agent\",\"team\"]}"
expect_status 204
ok
api GET "/sessions?user_id=$RUN-user"
expect_status 200
expect_json '.meta.total_count == 0'
for id in "$RUN-b" "$RUN-c"; do
  api GET "/sessions/$id"
  expect_status 404
done
ok

# ---- errors: 404 and 422 ---------------------------------------------------------------------------
api GET "/sessions/$RUN-never-created"
expect_status 404
expect_json '.detail | type == "string"'
ok
api GET "/sessions?type=bogus"
expect_status 422
expect_json '.detail[0].loc == ["query","type"] and .detail[0].type == "enum"'
ok

echo "smoke: all $STEPS requests answered as expected against $BASE_URL"
