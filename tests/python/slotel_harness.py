"""Runs a real slotel process for the Python client tests and reads back what it did.

- `Slotel.start(tmp_path, ...)` writes a config (file exporter into `tmp_path`, SLO files
  from `slo_files` globs if given), starts the binary named by `SLOTEL_BIN` (default
  `target/debug/slotel` under the repo root) on free ports and waits for `GET /readyz` to
  answer 200.
- `Slotel.slos()` reads `GET /api/v1/slos`.
- `Slotel.counter(name, **labels)` reads one counter from `/metrics` (OpenMetrics text).
- `Slotel.terminate()` sends SIGTERM and returns the exit code.
- `generate_rules(slos, out_dir)` runs `slotel rules --format prometheus` and returns the
  rule file it wrote.
- `read_export_file(path)` parses the file exporter's OTLP/JSON lines; `attrs()` turns an
  OTLP/JSON attribute list into a plain dict.

The harness only observes: it never retries or patches around what slotel answers.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]

# Talk to 127.0.0.1 directly even when a developer's shell sets a proxy: requests (the HTTP
# exporter) and gRPC both honour these variables.
for _var in ("NO_PROXY", "no_proxy"):
    _existing = os.environ.get(_var, "")
    os.environ[_var] = ",".join(p for p in (_existing, "127.0.0.1", "localhost") if p)

READY_TIMEOUT_S = 15.0
EXIT_TIMEOUT_S = 30.0


def slotel_bin() -> Path:
    path = Path(os.environ.get("SLOTEL_BIN", REPO_ROOT / "target" / "debug" / "slotel"))
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_file():
        raise FileNotFoundError(
            f"slotel binary not found at {path}: run `cargo build` or set SLOTEL_BIN"
        )
    return path


def generate_rules(
    slos: str | Path, out_dir: Path, *, interval: str | None = "5s", labels: str | None = None
) -> Path:
    """`slotel rules --format prometheus` over the SLO files `slos` (a path or a glob) into
    `out_dir`; returns the Prometheus rule file it wrote. `interval` is the evaluation
    interval the rules are written for (the test Prometheus' 5s by default; `None` for the
    command's own default), `labels` the label set (`--labels`), if any."""
    args = [str(slotel_bin()), "rules", "--slos", str(slos), "--out", str(out_dir), "--format", "prometheus"]
    if labels is not None:
        args += ["--labels", labels]
    if interval is not None:
        args += ["--interval", interval]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out_dir / "prometheus-rules.yaml"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _yaml_str(value: str) -> str:
    # JSON strings are valid YAML double-quoted scalars.
    return json.dumps(value)


@dataclass
class Slotel:
    """One running slotel process."""

    proc: subprocess.Popen
    grpc_port: int
    http_port: int
    admin_port: int
    out_path: Path
    log_path: Path
    http: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def start(
        cls,
        tmp_path: Path,
        *,
        auth_tokens: list[dict] | None = None,
        env: dict[str, str] | None = None,
        slo_files: list[str] | None = None,
        exporters: list[str] | None = None,
        ports: tuple[int, int, int] | None = None,
        slo_settings: list[str] | None = None,
        admin_token: str | None = None,
        http_settings: str | None = None,
    ) -> "Slotel":
        """Starts slotel; retries with new ports if one was taken between pick and bind.

        `exporters`: YAML lines added under `exporters:` (indented by two spaces there),
        beside the `file/out` exporter every instance has. `ports`: (grpc, http, admin) to
        reuse, e.g. to restart an instance where its clients expect it. `slo_settings`: YAML
        lines added under `slo:` (with `slo_files`). `admin_token`: `service.admin.auth.token`;
        `http` then sends it.
        """
        last_error = None
        for attempt in range(3):
            try:
                return cls._start_once(
                    tmp_path, attempt, auth_tokens, env, slo_files, exporters, ports,
                    slo_settings, admin_token, http_settings,
                )
            except _PortTaken as e:
                last_error = e
        raise RuntimeError(f"slotel did not start after 3 attempts: {last_error}")

    @classmethod
    def _start_once(
        cls,
        tmp_path,
        attempt,
        auth_tokens,
        env,
        slo_files=None,
        exporters=None,
        ports=None,
        slo_settings=None,
        admin_token=None,
        http_settings=None,
    ) -> "Slotel":
        grpc_port, http_port, admin_port = ports or (free_port(), free_port(), free_port())
        out_path = tmp_path / "out.jsonl"
        log_path = tmp_path / f"slotel-{attempt}.log"
        lines = [
            "receivers:",
            "  otlp:",
            "    protocols:",
            f"      grpc: {{endpoint: 127.0.0.1:{grpc_port}}}",
            f"      http: {{endpoint: 127.0.0.1:{http_port}"
            + (f", {http_settings}" if http_settings else "")
            + "}",
        ]
        if auth_tokens:
            lines += ["    auth:", "      tokens:"]
            for t in auth_tokens:
                lines.append(f"        - token: {_yaml_str(t['token'])}")
                lines.append(f"          tenant: {_yaml_str(t['tenant'])}")
                if "cluster" in t:
                    lines.append(f"          cluster: {_yaml_str(t['cluster'])}")
        lines += [
            "exporters:",
            f"  file/out: {{path: {_yaml_str(str(out_path))}}}",
        ]
        lines += [f"  {line}" for line in exporters or []]
        if slo_files:
            lines += ["slo:", "  export_interval: 1s"]
            lines += [f"  {line}" for line in slo_settings or []]
            lines += ["  files:"] + [f"    - {_yaml_str(str(f))}" for f in slo_files]
        lines += [
            "service:",
            f"  admin: {{endpoint: 127.0.0.1:{admin_port}}}"
            if admin_token is None
            else f"  admin: {{endpoint: 127.0.0.1:{admin_port}, auth: {{token: {_yaml_str(admin_token)}}}}}",
            "  telemetry:",
            "    logs: {level: info, format: json}",
        ]
        config_path = tmp_path / "slotel.yaml"
        config_path.write_text("\n".join(lines) + "\n")

        child_env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        child_env.update(env or {})
        log = open(log_path, "wb")
        proc = subprocess.Popen(
            [str(slotel_bin()), "run", "--config", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=child_env,
            cwd=tmp_path,
        )
        log.close()
        server = cls(proc, grpc_port, http_port, admin_port, out_path, log_path)
        server.http.trust_env = False
        if admin_token is not None:
            server.http.headers["Authorization"] = f"Bearer {admin_token}"
        server._wait_ready()
        return server

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        last = "no answer"
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                log = self.log_text()
                if "in use" in log.lower():
                    raise _PortTaken(log)
                raise RuntimeError(f"slotel exited with {code} before it was ready:\n{log}")
            try:
                r = self.http.get(f"{self.admin_url}/readyz", timeout=1)
                if r.status_code == 200:
                    return
                last = f"{r.status_code} {r.text.strip()}"
            except requests.RequestException as e:
                last = str(e)
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(
            f"slotel not ready after {READY_TIMEOUT_S}s (last /readyz: {last}):\n{self.log_text()}"
        )

    def terminate(self) -> int:
        """SIGTERM, then waits for the exit code (kills after EXIT_TIMEOUT_S and fails)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"slotel did not exit within {EXIT_TIMEOUT_S}s of SIGTERM:\n{self.log_text()}"
            )

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    # -- endpoints for the SDK exporters -------------------------------------------------

    @property
    def grpc_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    def http_endpoint(self, signal_path: str) -> str:
        return f"http://127.0.0.1:{self.http_port}/v1/{signal_path}"

    # -- /api/v1/slos --------------------------------------------------------------------

    def slos(self) -> list[dict]:
        """The entries of `GET /api/v1/slos`."""
        r = self.http.get(f"{self.admin_url}/api/v1/slos", timeout=5)
        assert r.status_code == 200, f"GET /api/v1/slos answered {r.status_code}: {r.text}"
        return r.json()["slos"]

    # -- /metrics ------------------------------------------------------------------------

    def metrics_text(self) -> str:
        r = self.http.get(f"{self.admin_url}/metrics", timeout=5)
        assert r.status_code == 200, f"GET /metrics answered {r.status_code}: {r.text}"
        return r.text

    def counter(self, name: str, **labels: str) -> float:
        """The sum of the samples of `name` whose labels include `labels` (0 when absent)."""
        return sum_samples(parse_metrics(self.metrics_text()), name, labels)

    def wait_counter(self, name: str, expected: float, timeout: float = 10.0, **labels) -> float:
        """Polls until the counter equals `expected`; returns the last value seen."""
        deadline = time.monotonic() + timeout
        value = self.counter(name, **labels)
        while value != expected and time.monotonic() < deadline:
            time.sleep(0.05)
            value = self.counter(name, **labels)
        return value


class _PortTaken(Exception):
    pass


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"unparseable /metrics line: {line!r}")
        name, labels, value = m.groups()
        samples.append((name, dict(_LABEL.findall(labels or "")), float(value)))
    return samples


def sum_samples(samples, name: str, labels: dict[str, str]) -> float:
    return sum(
        v
        for n, l, v in samples
        if n == name and all(l.get(k) == want for k, want in labels.items())
    )


# -- the file exporter's output -----------------------------------------------------------


@dataclass
class Exported:
    traces: list[dict] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)

    def spans(self):
        """(resource attributes, scope, span) for every span."""
        for req in self.traces:
            for rs in req.get("resourceSpans") or []:
                resource = attrs((rs.get("resource") or {}).get("attributes"))
                for ss in rs.get("scopeSpans") or []:
                    for span in ss.get("spans") or []:
                        yield resource, ss.get("scope") or {}, span

    def metric_points(self):
        """(resource attributes, metric, kind, data point) for every data point."""
        for req in self.metrics:
            for rm in req.get("resourceMetrics") or []:
                resource = attrs((rm.get("resource") or {}).get("attributes"))
                for sm in rm.get("scopeMetrics") or []:
                    for metric in sm.get("metrics") or []:
                        for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
                            data = metric.get(kind)
                            if data:
                                for dp in data.get("dataPoints") or []:
                                    yield resource, metric, kind, dp

    def log_records(self):
        """(resource attributes, log record) for every log record."""
        for req in self.logs:
            for rl in req.get("resourceLogs") or []:
                resource = attrs((rl.get("resource") or {}).get("attributes"))
                for sl in rl.get("scopeLogs") or []:
                    for rec in sl.get("logRecords") or []:
                        yield resource, rec


def read_export_file(path: Path) -> Exported:
    out = Exported()
    if not path.exists():
        return out
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            req = json.loads(line)
        except json.JSONDecodeError as e:
            raise AssertionError(f"{path}:{n}: not JSON ({e}): {line[:200]}")
        if "resourceSpans" in req:
            out.traces.append(req)
        elif "resourceMetrics" in req:
            out.metrics.append(req)
        elif "resourceLogs" in req:
            out.logs.append(req)
        else:
            raise AssertionError(f"{path}:{n}: not an OTLP export request: {line[:200]}")
    return out


def any_value(v: dict | None):
    """An OTLP/JSON AnyValue as a Python value (int64 may be a string in OTLP/JSON)."""
    if not v:
        return None
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return v["boolValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "arrayValue" in v:
        return [any_value(x) for x in (v["arrayValue"] or {}).get("values") or []]
    if "kvlistValue" in v:
        return attrs((v["kvlistValue"] or {}).get("values"))
    if "bytesValue" in v:
        return v["bytesValue"]
    raise AssertionError(f"unknown AnyValue: {v}")


def attrs(kvs: list[dict] | None) -> dict:
    return {kv["key"]: any_value(kv.get("value")) for kv in kvs or []}


def is_hex(s, n: int) -> bool:
    return isinstance(s, str) and len(s) == n and re.fullmatch(r"[0-9a-f]+", s) is not None


def prom_label(key: str) -> str:
    """The OpenTelemetry → Prometheus translation of an attribute name."""
    name = re.sub(r"[^a-zA-Z0-9_]", "_", key)
    if name[:1].isdigit():
        return f"key_{name}"
    if name.startswith("_") and not name.startswith("__"):
        return f"key{name}"
    return name


def entry_labels(e: dict) -> dict[str, str]:
    """The label set of an API entry: slo, service, cluster and its group's labels."""
    labels = {"slo": e["name"], "service": e["service"], "cluster": e["cluster"]}
    for k, v in (e.get("group") or {}).items():
        labels[prom_label(k)] = v
    return labels


def pair_should_fire(burn: dict, long_w: str, short_w: str, factor: float) -> bool | None:
    """Whether a multiwindow burn-rate pair fires on an API entry's `burn_rate`: both
    windows above `factor`. None when a window has no rate, or a rate is within 1e-6 of the
    factor (Prometheus' arithmetic may put it on either side)."""
    if burn.get(long_w) is None or burn.get(short_w) is None:
        return None
    if any(abs(burn[w] - factor) <= 1e-6 * factor for w in (long_w, short_w)):
        return None
    return burn[long_w] > factor and burn[short_w] > factor
