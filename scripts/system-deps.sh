#!/usr/bin/env bash
# System packages the project needs on a fresh Debian machine.
#   system-deps.sh run    PostgreSQL server binaries (`make run` and the tests start throwaway clusters) + python3-venv
#   system-deps.sh test   also curl + jq (smoke script), chromium (the /docs page and browser CORS tests run it headless)
#                         and pgbouncer (the API tests run a second time through it: tests/pgbouncer.py)
#   system-deps.sh soak   `run` + stress-ng (the background CPU load of scripts/reliability-soak.sh)
# As root, missing packages are installed with apt-get; as a user, the script says what to install.
set -euo pipefail
mode=${1:-run}

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
python3 -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
if [ "$mode" = test ]; then
  command -v curl >/dev/null || missing+=(curl)
  command -v jq >/dev/null || missing+=(jq)
  command -v chromium >/dev/null || missing+=(chromium)
  [ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null || missing+=(pgbouncer)
fi
if [ "$mode" = soak ]; then
  command -v stress-ng >/dev/null || missing+=(stress-ng)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts a default cluster on install; the project never uses it.
  if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep online >/dev/null; then
    pg_lsclusters -h | awk '$4 == "online" {print $1, $2}' | while read -r ver name; do
      pg_ctlcluster "$ver" "$name" stop || true
    done
  fi
  # likewise Debian's own pgbouncer service (the tests start their own instances)
  if [ -x /etc/init.d/pgbouncer ]; then /etc/init.d/pgbouncer stop >/dev/null 2>&1 || true; fi
else
  echo "missing system packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
