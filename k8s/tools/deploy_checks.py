"""Offline checks of the deploy assets that the stock validators cannot make.

Run by scripts/lint-deploy.sh with the `.venv-deploy` interpreter (PyYAML, jsonschema and
kubernetes-validate installed there) and the official helm binary ($HELM, default .tools/bin/helm,
installed by scripts/image-deps.sh; KUBECONFIG on an empty file, so nothing dials a cluster).
Each subcommand prints one line per finding and exits 1 when it found anything:

    dockerfile                      Dockerfile vs .dockerignore and pyproject.toml (sources, user, port, entrypoint)
    compose FILE                    the local stack's shape (healthchecks, depends_on, volume, port)
    kustomization DIR               every manifest of DIR listed in kustomization.yaml and vice versa
    k8s [--external-secret NAME] FILE...
                                    every document: kubernetes-validate --strict 1.30 for built-in kinds,
                                    k8s/schemas/*.json for the Prometheus Operator CRDs, unknown kinds fail;
                                    duplicate YAML keys fail; then cross-object rules (selectors, ports,
                                    probes, security context, shutdown budget, alert rules = alerts.yml)
    helm-render CHART VALUES OUTDIR `helm template` (kube 1.30) into OUTDIR, one file per template, NOTES
                                    from `helm install --dry-run=client`; config and Secret changes must
                                    change the pod checksums
    helm-lint CHART [VALUES...]     helm lint --strict (kube 1.30) with the defaults and each values file
    monitoring PROMDIR DASHBOARD OUT alert tests cover every alert, the Helm copy of alerts.yml is identical,
                                    the dashboard is well-formed; writes OUT, a rules file holding every
                                    dashboard query, for `promtool check rules`
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
K8S_VERSION = "1.30.0"
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): REPO / "k8s/schemas/servicemonitor-monitoring.coreos.com-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): REPO / "k8s/schemas/prometheusrule-monitoring.coreos.com-v1.json",
}
ALERTS = REPO / "monitoring/prometheus/alerts.yml"
HELM_ALERTS = REPO / "k8s/helm/agno-session/files/alerts.yml"
JOB = "agno-session"


class Findings:
    def __init__(self, scope: str) -> None:
        self.scope = scope
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")

    def check(self, ok: object, where: str, message: str) -> bool:
        if not ok:
            self.add(where, message)
        return bool(ok)

    def exit(self, passed: str) -> int:
        for item in self.items:
            print(f"FAIL [{self.scope}] {item}")
        if self.items:
            return 1
        print(f"ok   [{self.scope}] {passed}")
        return 0


# ---- YAML with duplicate-key detection -------------------------------------------------------


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (the API server and kubectl do too)."""


def _construct_mapping(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_docs(text: str) -> list[Any]:
    return [doc for doc in yaml.load_all(text, Loader=StrictLoader) if doc is not None]


def load_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=StrictLoader)  # noqa: S506 -- StrictLoader is a SafeLoader


# ---- Dockerfile -------------------------------------------------------------------------------


def _dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes. Directory patterns cover children."""
    excluded = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.strip("/")
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatchcase(prefix.split("/")[-1], pattern[3:])
            ):
                excluded = not negate
                break
    return excluded


def cmd_dockerfile() -> int:
    f = Findings("dockerfile")
    text = (REPO / "Dockerfile").read_text()
    lines = [
        line for line in re.sub(r"\\\n", " ", text).splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    ignore = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    stages = [line for line in lines if line.upper().startswith("FROM ")]
    f.check(len(stages) >= 2, "Dockerfile", "expected a multi-stage build (a wheel stage and a runtime stage)")
    final_start = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    final = lines[final_start:]
    for line in lines:
        if line.upper().startswith("COPY ") and "--from=" not in line:
            args = [a for a in line.split()[1:] if not a.startswith("--")]
            for src in args[:-1]:
                src_path = src.rstrip("/")
                f.check((REPO / src_path).exists(), "Dockerfile", f"COPY source {src} does not exist")
                f.check(not _dockerignore_excludes(ignore, src_path), ".dockerignore", f"excludes COPY source {src}")
    user = [line.split(None, 1)[1] for line in final if line.upper().startswith("USER ")]
    f.check(
        user and re.match(r"^[1-9][0-9]*(:[0-9]+)?$", user[-1]),
        "Dockerfile",
        "the runtime stage must end with a numeric non-root USER (runAsNonRoot can only verify numbers)",
    )
    f.check(
        any(line.upper().startswith("EXPOSE ") and "8080" in line for line in final), "Dockerfile", "no EXPOSE 8080"
    )
    health = [line for line in final if line.upper().startswith("HEALTHCHECK ")]
    f.check(
        health and "/healthz" in health[-1] and "curl" not in health[-1],
        "Dockerfile",
        "HEALTHCHECK must probe /healthz without curl (not in the slim image)",
    )
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text()).get("project", {}).get("scripts", {})
    script = next((name for name, target in scripts.items() if target == "service.__main__:main"), None)
    entry = [line for line in final if line.upper().startswith("ENTRYPOINT ")]
    f.check(
        script and entry and f'"{script}"' in entry[-1],
        "Dockerfile",
        "ENTRYPOINT must be the console script pyproject.toml declares for service.__main__:main",
    )
    compilers = re.compile(r"\b(gcc|g\+\+|build-essential|clang|make|libpq-dev|python3-dev)\b")
    for line in final:
        if line.upper().startswith("RUN "):
            f.check(not compilers.search(line), "Dockerfile", f"runtime stage installs build tools: {line[:80]}")
    f.check(
        any("pip wheel" in line for line in lines[:final_start]),
        "Dockerfile",
        "the build stage must `pip wheel` the repo",
    )
    # A directory only WORKDIR creates is not kept by every builder (buildah may leave it out), and
    # a read-only root cannot create it at start: the runtime stage makes its WORKDIR itself.
    for i, line in enumerate(final):
        if line.upper().startswith("WORKDIR "):
            workdir = line.split(None, 1)[1].strip()
            made = any(
                earlier.upper().startswith("RUN ")
                and re.search(rf"\bmkdir\b[^&;|]*\s{re.escape(workdir)}(\s|$)", earlier)
                for earlier in final[:i]
            )
            f.check(made, "Dockerfile", f"WORKDIR {workdir} must be created by an earlier RUN mkdir of the stage")
    return f.exit(
        "multi-stage, COPY sources in the build context, numeric USER, EXPOSE 8080, "
        "HEALTHCHECK /healthz, ENTRYPOINT agno-session, WORKDIR created by RUN"
    )


# ---- compose ----------------------------------------------------------------------------------


def cmd_compose(path: str) -> int:
    f = Findings("compose")
    doc = load_yaml(Path(path))
    services = doc.get("services", {})
    pg = [name for name, svc in services.items() if "postgres" in str(svc.get("image", ""))]
    app = [name for name, svc in services.items() if "build" in svc]
    if not (f.check(pg, path, "no PostgreSQL service") and f.check(app, path, "no service built from the repo")):
        return f.exit("")
    pg_svc, app_svc = services[pg[0]], services[app[0]]
    f.check(pg_svc.get("healthcheck", {}).get("test"), path, "PostgreSQL has no healthcheck")
    volumes = [v.split(":")[0] for v in pg_svc.get("volumes", []) if isinstance(v, str)]
    f.check(any(v in (doc.get("volumes") or {}) for v in volumes), path, "PostgreSQL data is not on a named volume")
    dep = (app_svc.get("depends_on") or {}).get(pg[0], {})
    f.check(dep.get("condition") == "service_healthy", path, "the service must depend on PostgreSQL being healthy")
    env = app_svc.get("environment") or {}
    for name in ("AGNO_PG_DSN", "AGNO_SESSION_DSN_MAP", "OS_SECURITY_KEY"):
        f.check(name in env, path, f"the service environment lacks {name}")
    dsn = str(env.get("AGNO_PG_DSN", ""))
    f.check(f"@{pg[0]}:" in dsn, path, f"AGNO_PG_DSN must point at the {pg[0]} service")
    f.check(
        any(str(p).endswith(":8080") for p in app_svc.get("ports", [])), path, "container port 8080 is not published"
    )
    return f.exit(f"{pg[0]} (healthcheck, named volume) <- {app[0]} (service_healthy, DSN, port 8080)")


# ---- kustomization ----------------------------------------------------------------------------


def cmd_kustomization(directory: str) -> int:
    f = Findings("kustomization")
    base = Path(directory)
    kust = load_yaml(base / "kustomization.yaml")
    listed = list(kust.get("resources", []))
    on_disk = sorted(p.name for p in base.glob("*.yaml") if p.name != "kustomization.yaml")
    for name in listed:
        exists = (base / name).is_file() or (base / name / "kustomization.yaml").is_file()
        f.check(exists, str(base), f"kustomization lists {name}, which does not exist")
    for name in on_disk:
        f.check(name in listed, str(base), f"{name} is not listed in kustomization.yaml")
    f.check(len(listed) == len(set(listed)), str(base), "a resource is listed twice")
    return f.exit(f"{len(listed)} resources listed, all present")


# ---- Kubernetes documents ---------------------------------------------------------------------


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _validate_docs(f: Findings, docs: list[tuple[str, dict[str, Any]]]) -> None:
    import jsonschema
    import kubernetes_validate

    for where, doc in docs:
        if not f.check(
            isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc, where, "not a Kubernetes object"
        ):
            continue
        key = (doc["apiVersion"], doc["kind"])
        name = f"{where} {doc['kind']}/{doc.get('metadata', {}).get('name')}"
        if not f.check(isinstance(doc.get("metadata"), dict) and doc["metadata"].get("name"), name, "no metadata.name"):
            continue
        if key in CRD_SCHEMAS:
            schema = json.loads(CRD_SCHEMAS[key].read_text())
            validator = jsonschema.Draft202012Validator(schema)
            for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
                path = ".".join(str(p) for p in error.absolute_path)
                f.add(name, f"{path}: {error.message} (CRD schema {CRD_SCHEMAS[key].name})")
            continue
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            f.add(
                name,
                f"unknown kind {doc['kind']} ({doc['apiVersion']}) for Kubernetes {K8S_VERSION}, "
                "and no CRD schema in k8s/schemas",
            )
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            f.add(name, f"{path}: {error.message}")


def _config_number(configmaps: list[dict[str, Any]], key: str, default: float) -> float:
    for cm in configmaps:
        value = (cm.get("data") or {}).get(key)
        if value is not None:
            return float(value)
    return default


def _check_objects(f: Findings, docs: list[tuple[str, dict[str, Any]]], external: set[str]) -> None:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for _, doc in docs:
        if isinstance(doc, dict) and "kind" in doc:
            by_kind.setdefault(doc["kind"], []).append(doc)
    names = {(d["kind"], d["metadata"]["name"]) for _, d in docs if isinstance(d, dict) and "metadata" in d}
    deployments = by_kind.get("Deployment", [])
    f.check(len(deployments) == 1, "objects", f"expected one Deployment, found {len(deployments)}")
    for kind in ("Service", "ConfigMap"):
        f.check(by_kind.get(kind), "objects", f"no {kind}")
    if len(deployments) != 1:
        return
    dep = deployments[0]
    dname = f"Deployment/{dep['metadata']['name']}"
    pod = dep["spec"]["template"]
    pod_labels = pod["metadata"].get("labels", {})
    pod_spec = pod["spec"]
    f.check(
        _matches(dep["spec"]["selector"].get("matchLabels", {}), pod_labels),
        dname,
        "selector does not match the pod labels",
    )
    containers = pod_spec["containers"]
    main = containers[0]
    ports = {p.get("name"): p["containerPort"] for p in main.get("ports", [])}
    f.check(ports.get("http") == 8080, dname, "container port http must be 8080")

    def probe_path(probe_name: str) -> str | None:
        probe = main.get(probe_name) or {}
        http = probe.get("httpGet") or {}
        port = http.get("port")
        f.check(port in ports or port in ports.values(), dname, f"{probe_name} port {port!r} is not a container port")
        return http.get("path")

    f.check(probe_path("livenessProbe") == "/healthz", dname, "livenessProbe must GET /healthz (no database I/O)")
    f.check(probe_path("readinessProbe") == "/readyz", dname, "readinessProbe must GET /readyz")
    f.check(probe_path("startupProbe") == "/healthz", dname, "startupProbe must GET /healthz")
    resources = main.get("resources") or {}
    f.check(
        resources.get("requests") and resources.get("limits", {}).get("memory"),
        dname,
        "needs resource requests and a memory limit",
    )
    psc, csc = pod_spec.get("securityContext") or {}, main.get("securityContext") or {}
    f.check(psc.get("runAsNonRoot") or csc.get("runAsNonRoot"), dname, "runAsNonRoot is not set")
    f.check((csc.get("runAsUser") or psc.get("runAsUser") or 0) > 0, dname, "runAsUser must be a non-zero UID")
    f.check(csc.get("readOnlyRootFilesystem") is True, dname, "readOnlyRootFilesystem must be true")
    f.check(csc.get("allowPrivilegeEscalation") is False, dname, "allowPrivilegeEscalation must be false")
    f.check("ALL" in (csc.get("capabilities") or {}).get("drop", []), dname, "capabilities must drop ALL")
    volumes = {v["name"]: v for v in pod_spec.get("volumes", [])}
    mounts = {m["mountPath"]: m["name"] for m in main.get("volumeMounts", [])}
    for path in ("/tmp", "/run/prometheus-multiproc"):  # noqa: S108 -- mount paths in the pod, not temp files
        f.check(
            path in mounts and "emptyDir" in volumes.get(mounts[path], {}), dname, f"{path} must be an emptyDir mount"
        )
    for m in main.get("volumeMounts", []):
        f.check(m["name"] in volumes, dname, f"volumeMount {m['name']} has no volume")
    configmaps = by_kind.get("ConfigMap", [])
    multiproc = [cm for cm in configmaps if "PROMETHEUS_MULTIPROC_DIR" in (cm.get("data") or {})]
    if _config_number(configmaps, "AGNO_WORKERS", 1) > 1:
        f.check(
            multiproc and multiproc[0]["data"]["PROMETHEUS_MULTIPROC_DIR"] in mounts,
            dname,
            "AGNO_WORKERS > 1 needs PROMETHEUS_MULTIPROC_DIR on the emptyDir mount",
        )
    pre_stop = ((main.get("lifecycle") or {}).get("preStop") or {}).get("exec", {}).get("command", [])
    sleep = float(pre_stop[-1]) if len(pre_stop) == 2 and pre_stop[0] == "sleep" else None
    f.check(sleep is not None and sleep > 0, dname, "preStop must be `sleep N`")
    drain = _config_number(configmaps, "AGNO_DRAIN_SECONDS", 10)
    timeout = _config_number(configmaps, "AGNO_REQUEST_TIMEOUT", 60)
    grace = pod_spec.get("terminationGracePeriodSeconds", 30)
    f.check(
        grace > (sleep or 0) + drain + timeout,
        dname,
        f"terminationGracePeriodSeconds {grace} must exceed "
        f"preStop {sleep} + drain {drain} + request timeout {timeout}",
    )
    for ref in main.get("envFrom", []):
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if key in ref:
                f.check(
                    (kind, ref[key]["name"]) in names or (kind == "Secret" and ref[key]["name"] in external),
                    dname,
                    f"envFrom {kind} {ref[key]['name']} is not among the objects",
                )
    sa = pod_spec.get("serviceAccountName")
    if sa and sa != "default":
        f.check(("ServiceAccount", sa) in names, dname, f"ServiceAccount {sa} is not among the objects")
    annotations = pod["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") == "true":
        f.check(
            annotations.get("prometheus.io/port") == str(ports.get("http")),
            dname,
            "prometheus.io/port is not the http port",
        )
        f.check(annotations.get("prometheus.io/path") == "/metrics", dname, "prometheus.io/path must be /metrics")

    services = by_kind.get("Service", [])
    for svc in services:
        sname = f"Service/{svc['metadata']['name']}"
        selector = svc["spec"].get("selector", {})
        f.check(_matches(selector, pod_labels), sname, "selector does not match the Deployment's pods")
        for port in svc["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            f.check(
                target in ports or target in ports.values(), sname, f"targetPort {target!r} is not a container port"
            )
        for other in by_kind.get("Pod", []):
            f.check(
                not _matches(selector, other["metadata"].get("labels", {})),
                sname,
                f"selector also matches Pod/{other['metadata']['name']}",
            )
    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        ref = hpa["spec"]["scaleTargetRef"]
        f.check(
            ref["kind"] == "Deployment" and ref["name"] == dep["metadata"]["name"],
            f"HPA/{hpa['metadata']['name']}",
            "scaleTargetRef is not the Deployment",
        )
        f.check(
            hpa["spec"]["minReplicas"] >= 2, f"HPA/{hpa['metadata']['name']}", "minReplicas below 2 defeats the PDB"
        )
    for pdb in by_kind.get("PodDisruptionBudget", []):
        f.check(
            _matches(pdb["spec"]["selector"].get("matchLabels", {}), pod_labels),
            f"PDB/{pdb['metadata']['name']}",
            "selector does not match the Deployment's pods",
        )
        for other in by_kind.get("Pod", []):
            f.check(
                not _matches(pdb["spec"]["selector"].get("matchLabels", {}), other["metadata"].get("labels", {})),
                f"PDB/{pdb['metadata']['name']}",
                f"selector also matches Pod/{other['metadata']['name']}",
            )
    for sm in by_kind.get("ServiceMonitor", []):
        smname = f"ServiceMonitor/{sm['metadata']['name']}"
        selected = [
            s
            for s in services
            if _matches(sm["spec"]["selector"].get("matchLabels", {}), s["metadata"].get("labels", {}))
        ]
        if f.check(selected, smname, "selector matches no Service"):
            svc_ports = {p.get("name") for p in selected[0]["spec"]["ports"]}
            for ep in sm["spec"]["endpoints"]:
                f.check(ep.get("port") in svc_ports, smname, f"endpoint port {ep.get('port')!r} is not a Service port")
                f.check(ep.get("path", "/metrics") == "/metrics", smname, "endpoint path must be /metrics")
            job = selected[0]["metadata"]["labels"].get(sm["spec"].get("jobLabel", ""), selected[0]["metadata"]["name"])
            f.check(job == JOB, smname, f"scraped series get job={job!r}, the alert rules select job={JOB!r}")
    # Beside AgentOS (docs/deploy.md): /sessions to this Service, everything else elsewhere.
    own = {(s["metadata"]["name"], p["port"]) for s in services for p in s["spec"].get("ports", [])}
    own |= {(s["metadata"]["name"], p.get("name")) for s in services for p in s["spec"].get("ports", [])}
    for ing in by_kind.get("Ingress", []):
        iname = f"Ingress/{ing['metadata']['name']}"
        for rule in ing["spec"].get("rules", []):
            paths = {entry["path"]: entry for entry in rule.get("http", {}).get("paths", [])}
            sessions, root = paths.get("/sessions"), paths.get("/")
            if f.check(sessions and root, iname, "needs a /sessions rule and a / rule (the AgentOS Service)"):
                assert sessions is not None  # noqa: S101 -- narrowing after f.check
                assert root is not None  # noqa: S101
                backend = sessions["backend"]["service"]
                port = backend["port"].get("number", backend["port"].get("name"))
                f.check((backend["name"], port) in own, iname, "/sessions must go to this Service's port")
                f.check(sessions["pathType"] == "Prefix", iname, "/sessions must be pathType Prefix")
                other = root["backend"]["service"]["name"]
                f.check(other not in {n for n, _ in own}, iname, "/ must go to the AgentOS Service, not this one")
    for policy in by_kind.get("NetworkPolicy", []):
        pname = f"NetworkPolicy/{policy['metadata']['name']}"
        spec = policy["spec"]
        f.check(_matches(spec["podSelector"].get("matchLabels", {}), pod_labels), pname, "selects no pod")
        f.check(sorted(spec.get("policyTypes", [])) == ["Egress", "Ingress"], pname, "must limit ingress and egress")
        for entry in spec.get("ingress", []):
            for port in entry.get("ports", []):
                f.check(port["port"] in ports or port["port"] in ports.values(), pname, "ingress port is not the pod's")
        dns = [p for e in spec.get("egress", []) for p in e.get("ports", []) if p.get("port") == 53]
        f.check({p.get("protocol", "TCP") for p in dns} == {"UDP", "TCP"}, pname, "egress must allow DNS (53 UDP+TCP)")
    reference = load_yaml(ALERTS)
    for rule in by_kind.get("PrometheusRule", []):
        f.check(
            rule["spec"].get("groups") == reference.get("groups"),
            f"PrometheusRule/{rule['metadata']['name']}",
            "spec.groups differ from monitoring/prometheus/alerts.yml",
        )
    for pod_doc in by_kind.get("Pod", []):
        hook = pod_doc["metadata"].get("annotations", {}).get("helm.sh/hook")
        f.check(hook == "test", f"Pod/{pod_doc['metadata']['name']}", "a bare Pod is only expected as a helm test hook")
        script = json.dumps(pod_doc["spec"]["containers"][0].get("command", []))
        f.check("/readyz" in script, f"Pod/{pod_doc['metadata']['name']}", "the helm test must request /readyz")


def cmd_k8s(args: list[str]) -> int:
    """k8s [--external-secret NAME]... FILE...: NAME may be referenced without being among the objects."""
    f = Findings("k8s")
    external: set[str] = set()
    paths: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--external-secret":
            external.add(next(items))
        else:
            paths.append(arg)
    docs: list[tuple[str, dict[str, Any]]] = []
    for path in paths:
        try:
            for doc in load_docs(Path(path).read_text()):
                docs.append((path, doc))
        except yaml.YAMLError as error:
            f.add(path, f"YAML: {error}".replace("\n", " "))
    if not docs:
        f.add("input", "no Kubernetes documents")
        return f.exit("")
    _validate_docs(f, docs)
    if not f.items:
        _check_objects(f, docs, external)
    kinds = sorted({d["kind"] for _, d in docs})
    return f.exit(
        f"{len(docs)} objects ({', '.join(kinds)}) valid for {K8S_VERSION} / CRD schemas; cross-object rules hold"
    )


# ---- Helm -------------------------------------------------------------------------------------


class HelmError(RuntimeError):
    pass


def _helm(*args: str, values: dict[str, Any] | None = None) -> str:
    """The official helm binary; `values` go in as a values file. Raises HelmError on failure."""
    binary = os.environ.get("HELM", str(REPO / ".tools/bin/helm"))
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = os.environ.get("KUBECONFIG") or str(Path(tmp) / "kubeconfig")
        Path(kubeconfig).touch()
        extra: list[str] = []
        if values is not None:
            (Path(tmp) / "values.json").write_text(json.dumps(values))
            extra = ["--values", str(Path(tmp) / "values.json")]
        result = subprocess.run(
            [binary, *args, *extra],
            env={**os.environ, "KUBECONFIG": kubeconfig},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if result.returncode != 0:
        raise HelmError(f"helm {args[0]} exited {result.returncode}: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def _render(chart_dir: str, values: dict[str, Any]) -> dict[str, str]:
    """`helm template` (hooks included), split into {template path: text} by its `# Source:` lines."""
    text = _helm(
        "template", "agno-session", chart_dir, "--namespace", "agno", "--kube-version", K8S_VERSION, values=values
    )
    rendered: dict[str, str] = {}
    for chunk in re.split(r"^---\s*$", text, flags=re.MULTILINE):
        source = re.search(r"^# Source: (\S+)$", chunk, flags=re.MULTILINE)
        if source and chunk.strip():
            rendered[source.group(1)] = rendered.get(source.group(1), "") + "---" + chunk
    return rendered


def _notes(chart_dir: str, values: dict[str, Any]) -> str:
    """NOTES.txt as `helm install --dry-run=client` prints it (client-side only, no cluster)."""
    text = _helm("install", "agno-session", chart_dir, "--namespace", "agno", "--dry-run=client", values=values)
    return text.split("\nNOTES:\n", 1)[1] if "\nNOTES:\n" in text else ""


def _pod_annotations(rendered: dict[str, str]) -> dict[str, str]:
    for template, text in rendered.items():
        if template.endswith(".txt") or not text.strip():
            continue
        for doc in load_docs(text):
            if isinstance(doc, dict) and doc.get("kind") == "Deployment":
                return dict(doc["spec"]["template"]["metadata"].get("annotations", {}))
    return {}


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def cmd_helm_render(chart_dir: str, values_file: str, outdir: str) -> int:
    f = Findings(f"helm-render {Path(values_file).name if values_file != '-' else 'defaults'}")
    values: dict[str, Any] = {} if values_file == "-" else (load_yaml(Path(values_file)) or {})
    try:
        rendered = _render(chart_dir, values)
        rendered["agno-session/templates/NOTES.txt"] = _notes(chart_dir, values)
    except HelmError as error:
        f.add(chart_dir, f"render failed: {error}")
        return f.exit("")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for template, text in sorted(rendered.items()):
        if template.endswith("NOTES.txt"):
            f.check(text.strip(), template, "NOTES.txt rendered empty")
            continue
        if not text.strip():
            continue
        try:
            if not load_docs(text):
                continue
        except yaml.YAMLError as error:
            f.add(template, f"renders invalid YAML: {error}".replace("\n", " "))
        target = out / (template.replace("/", "__"))
        target.write_text(text)
        written += 1
    f.check(written, chart_dir, "rendered no manifests")
    if f.items:
        return f.exit("")
    # Checksum annotations: a config change and a Secret change must each roll the pods.
    before = _pod_annotations(rendered)
    level = values.get("config", {}).get("logLevel", "INFO")
    after_config = _pod_annotations(
        _render(chart_dir, _merge(values, {"config": {"logLevel": "ERROR" if level != "ERROR" else "DEBUG"}}))
    )
    f.check(
        before.get("checksum/config") and before.get("checksum/config") != after_config.get("checksum/config"),
        "deployment",
        "changing config.logLevel does not change the checksum/config pod annotation",
    )
    if not values.get("existingSecret"):
        after_secret = _pod_annotations(_render(chart_dir, _merge(values, {"secret": {"securityKey": "rotated-key"}})))
        f.check(
            before.get("checksum/secret") and before.get("checksum/secret") != after_secret.get("checksum/secret"),
            "deployment",
            "changing secret.securityKey does not change the checksum/secret pod annotation",
        )
    rolled = "config changes roll" if values.get("existingSecret") else "config and Secret changes roll"
    return f.exit(f"{written} manifests in {outdir}; {rolled} the pods")


def cmd_helm_lint(chart_dir: str, values_files: list[str]) -> int:
    f = Findings("helm-lint")
    for values_file in [None, *values_files]:
        values = load_yaml(Path(values_file)) if values_file else None
        label = values_file or "defaults"
        try:
            report = _helm("lint", "--strict", "--kube-version", K8S_VERSION, chart_dir, values=values)
        except HelmError as error:
            f.add(label, str(error))
            continue
        for line in report.splitlines():
            if line.startswith("[INFO]"):
                print(f"info [helm-lint] {label}: {line}")
    return f.exit(
        f"helm lint --strict (kube {K8S_VERSION}) with defaults and {', '.join(values_files) or 'no values file'}"
    )


# ---- monitoring -------------------------------------------------------------------------------

GRAFANA_VARS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}


def dashboard_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) for every target of every panel, rows' nested panels included."""
    out: list[tuple[str, str]] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            walk(panel.get("panels", []))
            for target in panel.get("targets", []):
                out.append((panel.get("title", "?"), target.get("expr", "")))

    walk(dashboard.get("panels", []))
    return out


def cmd_monitoring(promdir: str, dashboard_path: str, out_rules: str) -> int:
    f = Findings("monitoring")
    alerts = load_yaml(Path(promdir) / "alerts.yml")
    names = [r["alert"] for g in alerts["groups"] for r in g["rules"] if "alert" in r]
    f.check(len(names) == len(set(names)), "alerts.yml", "duplicate alert names")
    for rule in (r for g in alerts["groups"] for r in g["rules"]):
        f.check(f'job="{JOB}"' in rule["expr"], f"alerts.yml {rule.get('alert')}", f'expr does not select job="{JOB}"')
        f.check(
            rule.get("labels", {}).get("severity") in {"critical", "warning", "info"},
            f"alerts.yml {rule.get('alert')}",
            "needs a severity label (critical|warning|info)",
        )
        f.check(
            rule.get("annotations", {}).get("summary"), f"alerts.yml {rule.get('alert')}", "needs a summary annotation"
        )
    tests = load_yaml(Path(promdir) / "alerts_test.yml")
    fired = {
        c["alertname"] for t in tests.get("tests", []) for c in t.get("alert_rule_test", []) if c.get("exp_alerts")
    }
    quiet = {
        c["alertname"] for t in tests.get("tests", []) for c in t.get("alert_rule_test", []) if not c.get("exp_alerts")
    }
    for name in names:
        f.check(name in fired, "alerts_test.yml", f"no test expects {name} to fire")
        f.check(name in quiet, "alerts_test.yml", f"no test expects {name} to stay quiet")
    f.check(
        HELM_ALERTS.read_bytes() == (Path(promdir) / "alerts.yml").read_bytes(),
        str(HELM_ALERTS.relative_to(REPO)),
        "differs from monitoring/prometheus/alerts.yml "
        "(cp monitoring/prometheus/alerts.yml k8s/helm/agno-session/files/)",
    )
    try:
        dashboard = json.loads(Path(dashboard_path).read_text())
    except json.JSONDecodeError as error:
        f.add(dashboard_path, f"invalid JSON: {error}")
        return f.exit("")
    for key in ("title", "uid", "panels", "templating", "schemaVersion"):
        f.check(key in dashboard, dashboard_path, f"missing {key}")
    variables = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
    ids: list[int] = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            ids.append(panel.get("id"))
            walk(panel.get("panels", []))
            if panel.get("type") == "row":
                continue
            where = f"{dashboard_path} panel {panel.get('title')!r}"
            f.check(panel.get("targets"), where, "has no queries")
            f.check(panel.get("datasource"), where, "has no datasource")
            grid = panel.get("gridPos", {})
            f.check(
                all(k in grid for k in ("h", "w", "x", "y")) and grid.get("x", 0) + grid.get("w", 0) <= 24,
                where,
                "gridPos must have h/w/x/y within 24 columns",
            )

    walk(dashboard.get("panels", []))
    f.check(len(ids) == len(set(ids)) and None not in ids, dashboard_path, "panel ids must be present and unique")
    rules = []
    for i, (title, expr) in enumerate(dashboard_queries(dashboard)):
        if not f.check(expr.strip(), f"{dashboard_path} panel {title!r}", "empty expr"):
            continue
        text = expr
        for var, value in GRAFANA_VARS.items():
            text = text.replace(var, value)
        for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", text):
            f.check(var in variables, f"{dashboard_path} panel {title!r}", f"uses undefined variable ${var}")
        text = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "x", text)
        rules.append({"record": f"dashboard:query_{i}", "expr": text, "labels": {"panel": title}})
    Path(out_rules).write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, sort_keys=False)
    )
    return f.exit(
        f"{len(names)} alerts each tested firing and quiet; Helm copy identical; dashboard: "
        f"{len(ids)} panels, {len(rules)} queries written to {out_rules}"
    )


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    command, args = argv[0], argv[1:]
    if command == "dockerfile":
        return cmd_dockerfile()
    if command == "compose":
        return cmd_compose(args[0])
    if command == "kustomization":
        return cmd_kustomization(args[0])
    if command == "k8s":
        return cmd_k8s(args)
    if command == "helm-render":
        return cmd_helm_render(args[0], args[1], args[2])
    if command == "helm-lint":
        return cmd_helm_lint(args[0], args[1:])
    if command == "monitoring":
        return cmd_monitoring(args[0], args[1], args[2])
    print(f"unknown command {command!r}\n{__doc__}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
