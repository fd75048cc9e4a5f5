"""One truth for SLO numbers on SLO shapes the shipped examples do not have.

The SLO files in tests/fixtures/slos/unseen/ hold shapes config/slos/ lacks:

- `group_by` with two and three keys mixing resource and span attributes (one named with a
  leading digit), and group values that are empty, missing, or hold quotes, `=`, `\\`,
  newlines and non-ASCII text, so that every path's label escaping is exercised;
- objectives 99.99 and 50; windows 7d, 28d, 30d, 90d and a calendar week in a fixed-offset
  zone; a latency threshold between native buckets (237ms) and odd percentiles (25, 99.99);
- log SLIs over JSON access-log bodies (`body["status"] >= 500`, a latency body field in
  milliseconds) grouped by a nested body field;
- metric SLIs: a cumulative explicit histogram with a threshold between bucket bounds, a
  delta exponential histogram, and a ratio of counters filtered by labels whose cumulative
  series is reset mid-run, while another cluster sends deltas;
- a weighted journey over members of another file, sampled spans (adjusted counts) next to
  the same spans counted once, an always-active budget adjustment for one cluster, and
  three SLOs called `availability` in three services and files.
- group values that are not strings (an integer, a boolean, a double; a log body's status
  as the number 503, the string "503" and the double 503.0), a timeslice SLO with groups in
  a calendar week of a fixed-offset zone, an OpenSLO SLO with groups from its annotations,
  and an exhaustion alert on a grouped SLO.

A real slotel loads them, receives the OpenTelemetry SDK's spans, logs and metrics,
remote-writes to one Prometheus and is scraped by another (both load `slotel rules`'
output), exports through its file exporter (OTLP/JSON) and captures span and log facts.
Then, for every SLO, cluster and group:

- the API's good and bad counts equal `/metrics`, both Prometheus servers and the OTLP
  file exactly, and the SDK traffic's own counts where this test can compute them;
- `/metrics`' budget, burn-rate and percentile gauges equal the API's;
- the recorded budget and burn rates of the remote-written path equal the API's within 1e-6
  (relative), native-histogram quantiles lie within one bucket of the API's percentiles, and
  every generated alert is active exactly when the API's burn rates cross its factor;
- the status page's JSON (`/api/v1/slos/{service}/{name}` and its history) says what the
  list says;
- `slotel replay` over the capture, at the time the API was asked, answers the API's
  entries of the span, log and metric SLOs.
- a second slotel answering from the remote-written Prometheus (`slo.status_source`, the
  merged view) gives the same counts and budgets.

The generated rules pass `promtool check rules`, and every series selector in them matches
series slotel wrote, with the label set the rules group by. Shapes slotel refuses (windows
under a day, group keys naming one label or a reserved one, a calendar in a zone with
daylight saving time for the rules) are refused at load with their file, line and column.
"""

from __future__ import annotations

import json
import math
import random
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import yaml
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace._sampling_experimental import (
    composable_traceid_ratio_based,
    composite_sampler,
)
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from prometheus_harness import Prometheus
from slotel_harness import Slotel, entry_labels, pair_should_fire, prom_label, read_export_file, slotel_bin

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "slos" / "unseen"
# Schema 6 native histogram buckets are 2^(1/64) wide.
NATIVE_BUCKET = 2 ** (1 / 64) - 1
THRESHOLD_S = 0.237

# Resource attributes of storefront's four SDK providers: (cluster, deployment.environment);
# None leaves the attribute out.
STOREFRONT = [
    ("seoul", "prod"),
    ("seoul", 'qa "eu"=1\\x'),
    ("busan", None),
    ("busan", ""),
]
ROUTES = ["/api/ok", "/line\nbreak", "/ünï/코드/🚀", "/health"]
BUCKETS = ["a=b", "", None, 'q"\\']
TENANTS = ["t1", 't"2', None]
UPSTREAMS = ['pay"ments', "a\\b=c", "ünï\nline", None]
EXPLICIT_BOUNDS = [0.05, 0.1, 0.25, 0.5, 1.0]


# -- label names and values ---------------------------------------------------------------


def promql_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def selector(labels: dict[str, str], group_keys: set[str], **extra: str) -> str:
    """A PromQL selector matching exactly `labels` (group labels it lacks must be absent)."""
    labels = dict(labels, **extra)
    parts = [f"{k}={promql_str(v)}" for k, v in sorted(labels.items())]
    parts += [f'{k}=""' for k in sorted(group_keys - labels.keys())]
    return "{" + ",".join(parts) + "}"


def percentile_label(key: str) -> str:
    """The `percentile` label of an API latency key: `p50` → `50`, `p999` → `99.9`."""
    digits = key[1:]
    return digits if len(digits) <= 2 else f"{digits[:2]}.{digits[2:]}"


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def unescape(v: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    """/metrics samples with their label values unescaped (`\\\\`, `\\"`, `\\n`)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"unparseable /metrics line: {line!r}"
        name, labels, value = m.groups()
        out.append((name, {k: unescape(v) for k, v in _LABEL.findall(labels or "")}, float(value)))
    return out


# -- traffic --------------------------------------------------------------------------------


class Truth:
    """What the SDK sent, for the counts this test can compute by hand."""

    def __init__(self):
        self.render = {"total": 0, "good": 0}
        self.coin = {"total": 0, "good": 0}
        self.edge = {"total": 0, "good": 0}
        self.explicit = {"total": 0, "good": 0}
        self.exp_total = 0
        self.requests = {"total": 0, "good": 0}


def _span_exporter(server: Slotel):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)


def _tracer_provider(server: Slotel, resource: dict, sampler=None) -> TracerProvider:
    p = TracerProvider(
        resource=Resource.create(resource),
        shutdown_on_exit=False,
        **({"sampler": sampler} if sampler else {}),
    )
    p.add_span_processor(
        BatchSpanProcessor(_span_exporter(server), max_queue_size=8192, schedule_delay_millis=200)
    )
    return p


def send_spans(server: Slotel, rng: random.Random, truth: Truth, n: int) -> None:
    providers = []
    for cluster, env in STOREFRONT:
        res = {"service.name": "storefront", "k8s.cluster.name": cluster}
        if env is not None:
            res["deployment.environment"] = env
        providers.append(_tracer_provider(server, res))
    search = [
        _tracer_provider(
            server,
            {"service.name": "search", "k8s.cluster.name": cluster},
            composite_sampler(composable_traceid_ratio_based(p)),
        )
        for cluster, p in (("seoul", 0.25), ("busan", 0.5))
    ]
    now = time.time_ns()
    for i in range(n):
        tracer = providers[i % len(providers)].get_tracer("slotel.pytest.unseen")
        route = ROUTES[(i // 4) % len(ROUTES)]
        duration = max(1_000_000, int(200e6 * math.exp(rng.gauss(0.0, 0.6))))
        end = now - rng.randrange(0, 20_000_000_000)
        span = tracer.start_span(f"GET {route}", kind=SpanKind.SERVER, start_time=end - duration)
        span.set_attribute("http.route", route)
        bucket = BUCKETS[(i // 4) % len(BUCKETS)]  # one per route: fewer groups, every value
        if bucket is not None:
            span.set_attribute("2xx.bucket", bucket)
        tenant = TENANTS[i % 3]
        if tenant is not None:
            span.set_attribute("tenant", tenant)
        error = rng.random() < 0.03
        span.set_attribute("http.response.status_code", 503 if error else 200)
        if error:
            span.set_status(Status(StatusCode.ERROR, "failed"))
        span.end(end_time=end)
        truth.coin["total"] += 1
        truth.coin["good"] += duration <= THRESHOLD_S * 1e9
        if route != "/health":
            truth.render["total"] += 1
            truth.render["good"] += not error and duration <= THRESHOLD_S * 1e9
        # Search: sampled spans, some failing.
        stracer = search[i % 2].get_tracer("slotel.pytest.unseen")
        s = stracer.start_span("GET /q", kind=SpanKind.SERVER, start_time=end - duration)
        s.set_attribute("http.route", "/q" if i % 5 else '/q?x="1"')
        if rng.random() < 0.02:
            s.set_status(Status(StatusCode.ERROR, "failed"))
        s.end(end_time=end)
    for p in providers + search:
        assert p.force_flush()
        p.shutdown()


def send_typed(server: Slotel, rng: random.Random, n: int) -> None:
    """Spans whose group values are an integer, a boolean and a double, and access logs
    whose `status` is the number 503 in some records and the string "503" in others."""
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    providers = [
        _tracer_provider(server, {"service.name": "typed", "k8s.cluster.name": c}) for c in ("seoul", "busan")
    ]
    now = time.time_ns()
    for i in range(n):
        tracer = providers[i % 2].get_tracer("slotel.pytest.unseen")
        duration = max(1_000_000, int(200e6 * math.exp(rng.gauss(0.0, 0.6))))
        end = now - rng.randrange(0, 20_000_000_000)
        span = tracer.start_span("GET /typed", kind=SpanKind.SERVER, start_time=end - duration)
        span.set_attribute("http.response.status_code", (200, 404, 503)[i % 3] if rng.random() < 0.5 else 200)
        span.set_attribute("cache.hit", i % 4 == 0)
        span.set_attribute("weight", (0.5, 1.0, 1e-7, 2.5e20)[i % 4])
        span.set_attribute("user.tier", ('gold "vip"', "free", "a\\b")[i % 3])
        span.end(end_time=end)
    for p in providers:
        assert p.force_flush()
        p.shutdown()
    provider = LoggerProvider(
        resource=Resource.create({"service.name": "typed-edge", "k8s.cluster.name": "seoul"}),
        shutdown_on_exit=False,
    )
    provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=server.http_endpoint("logs"), timeout=10))
    )
    logger = provider.get_logger("slotel.pytest.unseen")
    for i in range(n // 4):
        status = (200, 503, 200, 404)[i % 4]
        line = {"status": str(status) if i % 2 else status}
        logger.emit(body=json.dumps(line), timestamp=now - rng.randrange(0, 20_000_000_000),
                    severity_number=SeverityNumber.INFO)
        # A map body as well, with the status as a double.
        logger.emit(body={"status": float(status)}, timestamp=now - rng.randrange(0, 20_000_000_000),
                    severity_number=SeverityNumber.INFO)
    assert provider.force_flush()
    provider.shutdown()


def send_logs(server: Slotel, rng: random.Random, truth: Truth, n: int) -> None:
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    now = time.time_ns()
    for ci, (cluster, env) in enumerate((("seoul", "prod"), ("busan", 'st"g\\1'))):
        provider = LoggerProvider(
            resource=Resource.create(
                {"service.name": "edge", "k8s.cluster.name": cluster, "deployment.environment": env}
            ),
            shutdown_on_exit=False,
        )
        provider.add_log_record_processor(
            BatchLogRecordProcessor(
                OTLPLogExporter(endpoint=server.http_endpoint("logs"), timeout=10),
                max_queue_size=8192,
                schedule_delay_millis=200,
            )
        )
        logger = provider.get_logger("slotel.pytest.unseen")
        for i in range(n):
            status = 503 if rng.random() < 0.04 else rng.choice([200, 204, 404])
            line: dict = {"status": str(status) if i % 3 == 0 else status}
            upstream = UPSTREAMS[i % len(UPSTREAMS)]
            if upstream is not None:
                line["upstream"] = {"name": upstream}
            ms = max(1, int(150 * math.exp(rng.gauss(0.0, 0.7))))
            line["upstream_ms"] = ms if i % 2 else str(ms)
            truth.edge["total"] += 1
            truth.edge["good"] += status < 500
            logger.emit(
                body=json.dumps(line, ensure_ascii=False),
                timestamp=now - rng.randrange(0, 20_000_000_000),
                severity_number=SeverityNumber.INFO,
            )
        assert provider.force_flush()
        provider.shutdown()


def _metric_exporter(server: Slotel, delta: bool):
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    temporality = (
        {Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA} if delta else {}
    )
    return OTLPMetricExporter(
        endpoint=server.http_endpoint("metrics"), timeout=10, preferred_temporality=temporality
    )


def _meter_provider(server: Slotel, cluster: str, delta: bool) -> MeterProvider:
    return MeterProvider(
        metric_readers=[
            PeriodicExportingMetricReader(_metric_exporter(server, delta), export_interval_millis=3_600_000)
        ],
        resource=Resource.create({"service.name": "basket", "k8s.cluster.name": cluster}),
        views=[View(instrument_name="basket.exp.duration", aggregation=ExponentialBucketHistogramAggregation(max_size=40))],
        shutdown_on_exit=False,
    )


def send_metrics(server: Slotel, rng: random.Random, truth: Truth, rounds: int, n: int) -> None:
    """seoul: cumulative, its process restarted between rounds (the counters reset);
    busan: delta temporality, one process."""
    busan = _meter_provider(server, "busan", delta=True)
    for r in range(rounds):
        seoul = _meter_provider(server, "seoul", delta=False)
        for mp in (seoul, busan):
            meter = mp.get_meter("slotel.pytest.unseen")
            explicit = meter.create_histogram(
                "basket.duration", unit="s", explicit_bucket_boundaries_advisory=EXPLICIT_BOUNDS
            )
            exponential = meter.create_histogram("basket.exp.duration", unit="s")
            requests = meter.create_counter("basket.requests")
            for i in range(n):
                d = rng.lognormvariate(math.log(0.12), 0.9)
                route = ("/pay", "/health", '/q"uote')[i % 3]
                explicit.record(d, {"http.route": route})
                if route != "/health":
                    truth.explicit["total"] += 1
                    truth.explicit["good"] += d <= 0.1  # the largest bound under 237ms
                exponential.record(d)
                truth.exp_total += 1
                method = "POST" if i % 4 else "GET"
                code = 503 if rng.random() < 0.05 else 200
                requests.add(1 + i % 3, {"method": method, "code": code})
                if method == "POST":
                    truth.requests["total"] += 1 + i % 3
                    truth.requests["good"] += (1 + i % 3) * (code < 500)
            assert mp.force_flush()
        # The seoul process ends: its next round's cumulative series start again at zero.
        seoul.shutdown()
        time.sleep(1.2)
    busan.shutdown()


# -- reading back -----------------------------------------------------------------------------


class SliceAnswers(threading.Thread):
    """Polls the API's entries of the timeslice SLO (typed/slices) every second, keeping
    each distinct answer per entry."""

    def __init__(self, server: Slotel):
        super().__init__(daemon=True)
        self.server = server
        self.seen: dict[tuple, list[dict]] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                r = self.server.http.get(
                    f"{self.server.admin_url}/api/v1/slos", params={"service": "typed", "slo": "slices"}, timeout=30
                )
                entries = r.json()["slos"] if r.status_code == 200 else []
            except Exception:  # noqa: BLE001 - the process may be ending with the test
                entries = []
            with self.lock:
                for e in entries:
                    key = (e["service"], e["name"], e["cluster"], json.dumps(e.get("group"), sort_keys=True))
                    answers = self.seen.setdefault(key, [])
                    if not answers or answers[-1] != e:
                        answers.append(e)
            self.stop.wait(1)

    def answers(self, key: tuple) -> list[dict]:
        with self.lock:
            return list(reversed(self.seen.get(key, [])))


def api_slos(server: Slotel) -> list[dict]:
    """`GET /api/v1/slos`, allowing a debug build on a loaded machine its time."""
    r = server.http.get(f"{server.admin_url}/api/v1/slos", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["slos"]


def _replay(slos: list[Path], capture: Path, to: float) -> dict:
    args = [str(slotel_bin()), "replay", "--capture", str(capture), "--to", f"{to:.9f}"]
    for s in slos:
        args += ["--slos", str(s)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _rules(slos: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(slotel_bin()), "rules", "--slos", slos, "--out", str(out), "--format", "prometheus", "--interval", "5s"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def otlp_file_events(path: Path) -> dict[tuple, float]:
    """The latest `slotel_slo_events_total` point per label set in the file exporter's output."""
    latest: dict[tuple, tuple[int, float]] = {}
    for _res, metric, _kind, dp in read_export_file(path).metric_points():
        if metric["name"] != "slotel_slo_events_total":
            continue
        labels = tuple(sorted((a["key"], a["value"]["stringValue"]) for a in dp.get("attributes") or []))
        t = int(dp["timeUnixNano"])
        value = float(dp["asDouble"]) if "asDouble" in dp else float(dp["asInt"])
        if t >= latest.get(labels, (0, 0.0))[0]:
            latest[labels] = (t, value)
    return {k: v for k, (_, v) in latest.items()}


# -- the test ------------------------------------------------------------------------------------


def _config(path: Path, slo_file: Path) -> Path:
    """A config that loads `slo_file` and nothing else of note."""
    path.write_text(
        "receivers:\n  otlp:\n    protocols:\n      grpc: {endpoint: 127.0.0.1:0}\n"
        f"exporters:\n  debug: {{}}\nslo:\n  files: [{json.dumps(str(slo_file))}]\n"
    )
    return path


def test_refused_shapes_are_refused_at_load_with_their_place(tmp_path):
    checks = {
        "short-windows.yaml": ['short-windows.yaml:7:13: slos[0].window: window "1h" is shorter than 1d',
                               'short-windows.yaml:14:13: slos[1].window: window "6h" is shorter than 1d'],
        "colliding-labels.yaml": ["colliding-labels.yaml:14:9: slos[0].group_by[1]:", "would both be the label `a_b`",
                                  "colliding-labels.yaml:23:9: slos[1].group_by[0]:", "the label `cluster`"],
    }
    for name, wants in checks.items():
        f = FIXTURES / "refused" / name
        config = _config(tmp_path / f"{name}.slotel.yaml", f)
        for args in (["check", "--config", str(config)], ["rules", "--slos", str(f), "--out", str(tmp_path / "r")]):
            proc = subprocess.run([str(slotel_bin()), *args], capture_output=True, text=True, timeout=60)
            assert proc.returncode != 0, (args, proc.stdout)
            for want in wants:
                assert want in proc.stderr + proc.stdout, (args, want, proc.stderr)
    # The engine follows a calendar week in Europe/Berlin; the rules cannot, and say so.
    f = FIXTURES / "refused" / "dst-calendar.yaml"
    config = _config(tmp_path / "dst.slotel.yaml", f)
    proc = subprocess.run([str(slotel_bin()), "check", "--config", str(config)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    proc = _rules(str(f), tmp_path / "dst-rules")
    assert proc.returncode == 1 and "dst-calendar.yaml:5:11: slo `dst/weekly`" in proc.stderr, proc.stderr
    assert "daylight saving" in proc.stderr
    assert not (tmp_path / "dst-rules" / "prometheus-rules.yaml").exists()


def test_unseen_slo_shapes_read_the_same_on_every_path(tmp_path, cleanup):
    slo_dir = tmp_path / "slos"
    shutil.copytree(FIXTURES, slo_dir, ignore=shutil.ignore_patterns("refused"))
    slo_glob = str(slo_dir / "*.yaml")
    proc = _rules(slo_glob, tmp_path / "rules")
    assert proc.returncode == 0, proc.stderr
    rule_file = tmp_path / "rules" / "prometheus-rules.yaml"
    check = subprocess.run(["promtool", "check", "rules", str(rule_file)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    rw_dir = tmp_path / "rw"
    rw_dir.mkdir()
    prom_rw = Prometheus.start(rw_dir, rule_files=[rule_file])
    cleanup(prom_rw)
    capture = tmp_path / "capture"
    server = Slotel.start(
        tmp_path,
        slo_files=[slo_glob],
        slo_settings=[
            "history_interval: 1s",
            "capture:",
            f"  directory: {json.dumps(str(capture))}",
            "  rotate_every: 1h",
        ],
        exporters=[
            "prometheusremotewrite/prom:",
            f"  endpoint: {prom_rw.write_url}",
            "  retry_on_failure: {initial_interval: 200ms, max_interval: 2s}",
        ],
    )
    cleanup(server)
    scrape_dir = tmp_path / "scrape"
    scrape_dir.mkdir()
    prom_scrape = Prometheus.start(
        scrape_dir, rule_files=[rule_file], scrape_targets=[f"127.0.0.1:{server.admin_port}"]
    )
    cleanup(prom_scrape)

    rng = random.Random(24)
    truth = Truth()
    for _ in range(2):
        send_spans(server, rng, truth, 900)
        send_logs(server, rng, truth, 300)
    send_typed(server, rng, 400)
    send_metrics(server, rng, truth, rounds=3, n=200)
    # The timeslice SLO's answers from here on, every second: its numbers move at every
    # slice's end (10s), and Prometheus, fed by remote write, holds those of the last export
    # it received, which on a loaded machine trails the API by up to a minute or more.
    slice_answers = SliceAnswers(server)
    slice_answers.start()

    def api_rows() -> list[dict]:
        return [e for e in api_slos(server) if e.get("total")]

    previous = None
    for _ in range(60):
        rows = api_rows()
        key = sorted((e["name"], e["service"], e["cluster"], str(e.get("group")), e["total"]) for e in rows)
        if key == previous:
            break
        previous = key
        time.sleep(1)
    # A timeslice SLO's numbers move at every slice's end (10s): read the API within one slice.
    for _ in range(5):
        before = time.time()
        live = api_slos(server)
        asked_at = time.time()
        if before // 10 == asked_at // 10 and asked_at % 10 < 9:
            break
        time.sleep(1.5)
    rows = [e for e in live if e.get("total")]
    by_key = {(e["service"], e["name"], e["cluster"], json.dumps(e.get("group"), sort_keys=True)): e for e in rows}
    names = {(e["service"], e["name"]) for e in rows}
    assert len(names) == 15, sorted(names)

    def all_entry(service: str, name: str) -> dict:
        return by_key[(service, name, "all", "null")]

    # The traffic's own counts.
    mismatched = []
    for (service, name), want in {
        ("storefront", "coin-flip"): truth.coin,
        ("storefront", "render-latency"): truth.render,
        ("edge", "availability"): truth.edge,
        ("basket", "explicit-latency"): truth.explicit,
        ("basket", "requests"): truth.requests,
    }.items():
        e = all_entry(service, name)
        if (e["total"], e["good"]) != (want["total"], want["good"]):
            mismatched.append((service, name, (e["total"], e["good"]), want))
    e = all_entry("basket", "exponential-latency")
    if e["total"] != truth.exp_total:
        mismatched.append(("basket", "exponential-latency", e["total"], truth.exp_total))
    j = all_entry("search", "journey")
    want_j = (
        all_entry("storefront", "coin-flip")["total"] + 3 * all_entry("storefront", "render-latency")["total"],
        all_entry("storefront", "coin-flip")["good"] + 3 * all_entry("storefront", "render-latency")["good"],
    )
    if (j["total"], j["good"]) != want_j:
        mismatched.append(("search", "journey", (j["total"], j["good"]), want_j))
    assert not mismatched, mismatched
    # Sampled spans count more than they are; busan's are adjusted away from availability.
    sa, raw = all_entry("search", "availability"), all_entry("search", "raw-availability")
    assert sa["total"] > sa["raw_total"] > 0 and raw["total"] == raw["raw_total"], (sa, raw)
    assert ("search", "availability", "busan", "null") not in by_key
    assert ("search", "raw-availability", "busan", "null") in by_key
    assert any(a.get("active") for a in sa.get("adjustments") or []), sa
    # Group values as sent: escaped characters and non-ASCII text survive, empty is missing.
    groups = {json.dumps(e.get("group"), sort_keys=True, ensure_ascii=False) for e in rows}
    for want in ('"http.route": "/line\\nbreak"', '"http.route": "/ünï/코드/🚀"', '"2xx.bucket": "a=b"',
                 '"2xx.bucket": "q\\"\\\\"', '"deployment.environment": "qa \\"eu\\"=1\\\\x"',
                 '"upstream.name": "ünï\\nline"', '"tenant": "t\\"2"', '"2xx.bucket": "__missing__"',
                 '"deployment.environment": "__missing__"'):
        assert any(want in g for g in groups), (want, sorted(groups))

    group_keys: dict[tuple[str, str], set[str]] = {}
    for e in rows:
        group_keys.setdefault((e["service"], e["name"]), set()).update(
            entry_labels(e).keys() - {"slo", "service", "cluster"}
        )

    # /metrics: no duplicate series; counts, budgets, burn rates and percentiles as the API
    # (read between two equal API answers, as timeslice SLOs move at every slice's end).
    def metrics_disagree(rows: list[dict], samples) -> list:
        def metric(name: str, labels: dict[str, str]) -> float | None:
            found = [v for n, l, v in samples if n == name and l == labels]
            assert len(found) <= 1, (name, labels, found)
            return found[0] if found else None

        wrong = []
        for e in rows:
            labels = entry_labels(e)
            got = (metric("slotel_slo_events_total", dict(labels, outcome="good")),
                   metric("slotel_slo_events_total", dict(labels, outcome="bad")))
            if got != (e["good"], e["total"] - e["good"]):
                wrong.append(("events", labels, got, e["good"], e["total"] - e["good"]))
            budget = metric("slotel_slo_error_budget_remaining_ratio", labels)
            if e.get("error_budget_remaining") is not None and budget != pytest.approx(e["error_budget_remaining"], rel=1e-9):
                wrong.append(("budget", labels, budget, e["error_budget_remaining"]))
            for w, burn in (e.get("burn_rate") or {}).items():
                got_burn = metric("slotel_slo_burn_rate", dict(labels, window=w))
                if burn is not None and got_burn != pytest.approx(burn, rel=1e-9):
                    wrong.append(("burn", labels, w, got_burn, burn))
            for p, v in (e.get("latency") or {}).items():
                got_p = metric("slotel_slo_latency_percentile_seconds",
                               dict(labels, window=e["window"], percentile=percentile_label(p)))
                if v is not None and got_p != pytest.approx(v, rel=1e-9):
                    wrong.append(("percentile", labels, p, got_p, v))
        return wrong

    for _ in range(10):
        first = [e for e in api_slos(server) if e.get("total")]
        r = server.http.get(f"{server.admin_url}/metrics", timeout=30)
        assert r.status_code == 200, r.text
        samples = parse_metrics(r.text)
        if first == [e for e in api_slos(server) if e.get("total")]:
            break
    seen = set()
    for name, labels, _ in samples:
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen, f"duplicate series on /metrics: {key}"
        seen.add(key)
    wrong = metrics_disagree(first, samples)
    assert not wrong, wrong

    # Both Prometheus servers and the OTLP file hold the same counts.
    for e in rows:
        labels = entry_labels(e)
        keys = group_keys[(e["service"], e["name"])]
        good, bad = e["good"], e["total"] - e["good"]
        for prom in (prom_rw, prom_scrape):
            # (A scrape of a debug build on a loaded machine can outlast the 1s interval.)
            got_good = prom.wait_value(f"sum(slotel_slo_events_total{selector(labels, keys, outcome='good')})", good, timeout=60)
            got_bad = prom.wait_value(f"sum(slotel_slo_events_total{selector(labels, keys, outcome='bad')})", bad, timeout=60)
            assert (got_good, got_bad) == (good, bad), (
                "remote write" if prom is prom_rw else "scrape", labels, (got_good, got_bad), (good, bad),
                prom.query(f'slotel_slo_events_total{{slo="{e["name"]}",service="{e["service"]}",cluster="{e["cluster"]}"}}'))

    def otlp_matches() -> list:
        got = otlp_file_events(server.out_path)
        return [
            (entry_labels(e), got.get(tuple(sorted(dict(entry_labels(e), outcome=o).items()))), want)
            for e in rows
            for o, want in (("good", e["good"]), ("bad", e["total"] - e["good"]))
            if got.get(tuple(sorted(dict(entry_labels(e), outcome=o).items()))) != want
        ]

    deadline = time.monotonic() + 20
    while otlp_matches() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not otlp_matches(), otlp_matches()[:5]

    # Every series selector of the rules matches series slotel wrote, and the labels the
    # rules group by are the labels of those series.
    rules = yaml.safe_load(rule_file.read_text())
    written_labels: dict[tuple[str, str, str], set[str]] = {}
    for s in prom_rw.query('{__name__=~"slotel_slo_.*"}'):
        m = s["metric"]
        if "slo" in m:
            written_labels.setdefault((m["__name__"], m["service"], m["slo"]), set()).update(m)
    unmatched = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            expr = rule["expr"]
            for name, matchers in re.findall(r"(slotel_slo_[a-z_]+)\{([^}]*)\}", expr):
                sel = dict(re.findall(r'([a-zA-Z_]+)="([^"]*)"', matchers))
                have = written_labels.get((name, sel.get("service"), sel.get("slo")))
                if have is None:
                    unmatched.append((group["name"], name, matchers))
                    continue
                if not prom_rw.query(f"{name}{{{matchers}}}"):
                    unmatched.append((group["name"], name, matchers, "no series"))
            for by in re.findall(r"by \(([^)]*)\)", expr):
                wanted = {x.strip() for x in by.split(",")} - {"outcome", "window", "le", "quantile"}
                service, slo = group["name"].split(":")[1:3] if group["name"].count(":") >= 2 else (None, None)
                have = written_labels.get(("slotel_slo_events_total", service, slo))
                if have is not None and not wanted <= have:
                    unmatched.append((group["name"], "by", sorted(wanted - have)))
    assert not unmatched, unmatched[:10]

    # The recorded rules of the remote-written path, after a few evaluations.
    time.sleep(12)
    fresh = {(e["service"], e["name"], e["cluster"], json.dumps(e.get("group"), sort_keys=True)): e for e in api_rows()}
    disagree = []
    counted = {"budgets": 0, "burns": 0, "quantiles": 0}
    def disagreements(e: dict) -> list:
        key = (e["service"], e["name"], e["cluster"], json.dumps(e.get("group"), sort_keys=True))
        sel = selector(entry_labels(e), group_keys[(key[0], key[1])])
        out = []
        want = e.get("error_budget_remaining")
        if want is not None:
            got = prom_rw.scalar(f"max(slo:period_error_budget_remaining:ratio{sel})")
            if got is None or got != pytest.approx(want, rel=1e-6, abs=1e-9):
                out.append((key, "budget", got, want))
            counted["budgets"] += 1
        for window in ("5m", "30m", "1h"):
            api_burn = (e.get("burn_rate") or {}).get(window)
            ratio = prom_rw.scalar(f"max(slo:sli_error:ratio_rate{window}{sel})")
            if api_burn is None and ratio is None:
                continue
            if api_burn is None or ratio is None or ratio / (1 - e["objective"]) != pytest.approx(api_burn, rel=1e-6, abs=1e-9):
                out.append((key, window, ratio, api_burn))
            counted["burns"] += 1
        for pct, value in (e.get("latency") or {}).items():
            q = float(percentile_label(pct)) / 100
            if value is None or q > 0.99:
                continue
            got = prom_rw.scalar(f"histogram_quantile({q}, sum(slotel_slo_latency_seconds{sel}))")
            if got is None or abs(got - value) > (NATIVE_BUCKET + 0.001) * value:
                out.append((key, pct, got, value))
            counted["quantiles"] += 1
        return out

    def settled(key: tuple, check):
        """For a timeslice SLO: `check(entry)` against each answer the API gave since the
        traffic, newest first, until one agrees (Prometheus holds the numbers of the last
        export it received; each answer is an exact state of the engine)."""
        found = None
        for e in slice_answers.answers(key):
            found = check(e)
            if not found:
                return e, found
        answers = slice_answers.answers(key)
        return None, (found or [("no answer of the API", key)]) + [
            ("answers", [(a["error_budget_remaining"], (a.get("burn_rate") or {}).get("5m")) for a in answers])]

    def agreed(key: tuple, e: dict) -> list:
        """For an occurrence SLO: `disagreements(e)`, the API read again until both agree
        (at most 45 s): a log or metric SLI's records may still be arriving (the SDKs' batch
        processor and reader export on their own intervals) and Prometheus holds the numbers
        of the last export and rule evaluation. A disagreement that persists still fails."""
        deadline = time.monotonic() + 45
        while True:
            before = dict(counted)
            found = disagreements(e)
            if not found or time.monotonic() > deadline:
                return found
            counted.update(before)
            time.sleep(1)
            e = {(r["service"], r["name"], r["cluster"], json.dumps(r.get("group"), sort_keys=True)): r
                 for r in api_rows()}.get(key, e)

    for key, e in fresh.items():
        found = settled(key, disagreements)[1] if e.get("timeslices") is not None else agreed(key, e)
        disagree += found
    assert not disagree, disagree[:10]
    assert counted["budgets"] >= 30 and counted["burns"] >= 90 and counted["quantiles"] >= 20, counted

    # Alerts: active in Prometheus exactly when the API's burn rates cross the factor.
    def active_alerts() -> set:
        return {
            tuple(sorted((k, v) for k, v in a["metric"].items() if k not in ("__name__", "alertstate")))
            for a in prom_rw.query('ALERTS{alertstate=~"pending|firing"}')
        }

    active = active_alerts()
    compared = 0
    alert_wrong = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" not in rule or "short_window" not in rule["labels"]:
                continue
            labels = rule["labels"]
            factor = float(re.findall(r"> ([0-9.e+-]+)\)", rule["expr"])[0])
            long_w, short_w = labels["long_window"], labels["short_window"]
            for key, e in fresh.items():
                if (key[0], key[1]) != (labels["service"], labels["slo"]):
                    continue
                alert_key = tuple(sorted(dict(labels, alertname=rule["alert"], **{
                    k: v for k, v in entry_labels(e).items() if k not in ("slo", "service")}).items()))

                def mismatch(entry: dict) -> list:
                    burn = entry.get("burn_rate") or {}
                    want = pair_should_fire(burn, long_w, short_w, factor)
                    if want is None:
                        return []
                    got = alert_key in active
                    return [] if got == want else [(rule["alert"], entry_labels(e), long_w, short_w, factor, want, burn)]

                alert_wrong += settled(key, mismatch)[1] if e.get("timeslices") is not None else mismatch(e)
                # (Alerts were read once: `active`; a timeslice SLO's may match an earlier answer.)
                compared += 1
    assert not alert_wrong, alert_wrong[:5]
    assert compared >= 100, compared
    assert any(dict(a).get("slo") == "availability" and dict(a).get("service") == "storefront" for a in active)

    # The status page's JSON: the detail answer and the history say what the list says.
    page_wrong = []

    def get(path: str, **params) -> dict:
        r = server.http.get(f"{server.admin_url}{path}", params=params, timeout=30)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    for service, name in sorted(names):
        for _ in range(5):
            listed = get("/api/v1/slos", service=service, slo=name)["slos"]
            detail = get(f"/api/v1/slos/{service}/{name}")["slos"]
            history = get(f"/api/v1/slos/{service}/{name}/history")
            time.sleep(1.2)  # a history step (1s) after the list was read
            history = get(f"/api/v1/slos/{service}/{name}/history")
            if listed == get("/api/v1/slos", service=service, slo=name)["slos"]:
                break
        stripped = [{k: v for k, v in d.items() if k != "windows"} for d in detail]
        if stripped != listed:
            page_wrong.append(("detail", service, name, [(a, b) for a, b in zip(stripped, listed) if a != b][:2]))
        last = {h["cluster"]: h for h in history["series"]}.get("all")
        overall = [e for e in listed if e["cluster"] == "all"][0]
        if last is None or last["error_budget_remaining"][-1] != overall["error_budget_remaining"]:
            page_wrong.append(("history", service, name, last and last["error_budget_remaining"][-3:],
                               overall["error_budget_remaining"]))
    assert not page_wrong, page_wrong[:5]

    slice_answers.stop.set()

    # Replay of the span, log and metric SLOs over the capture, at the time the API was asked.
    replayed = [
        slo_dir / f
        for f in ("storefront.yaml", "edge.yaml", "sampled.yaml", "typed-groups.yaml", "typed.openslo.yaml", "cart-metrics.yaml")
    ]
    deadline = time.monotonic() + 10
    want = [e for e in live if e["service"] in ("storefront", "edge", "search", "typed", "typed-openslo", "basket")]
    def keyed(entries: list[dict]) -> dict:
        return {(e["service"], e["name"], e["cluster"], json.dumps(e.get("group"), sort_keys=True)): e for e in entries}

    while True:
        report = _replay(replayed, capture, asked_at)
        if keyed(report["slos"]) == keyed(want) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert report["warnings"] == []
    got, want = keyed(report["slos"]), keyed(want)
    assert got.keys() == want.keys(), sorted(got.keys() ^ want.keys())
    diff = {k: {f: (got[k].get(f), v) for f, v in want[k].items() if got[k].get(f) != v} for k in want if got[k] != want[k]}
    assert not diff, "\n".join(repr(x) for x in diff.items())


    # The merged view: a second slotel answering from the remote-written Prometheus
    # (`slo.status_source`) gives the same counts for every SLO, cluster and group, and the
    # same budgets (timeslice SLOs' move with every slice's end).
    merged_dir = tmp_path / "merged"
    merged_dir.mkdir()
    merged = Slotel.start(
        merged_dir,
        slo_files=[slo_glob],
        slo_settings=["status_source:", "  prometheus:", f"    endpoint: {prom_rw.url}", "    timeout: 30s"],
    )
    cleanup(merged)
    local = {k: e for k, e in keyed(api_slos(server)).items() if e.get("total")}
    r = merged.http.get(f"{merged.admin_url}/api/v1/slos", timeout=60)
    assert r.status_code == 200, r.text
    from_prom = keyed(r.json()["slos"])
    merged_wrong = [
        (k, (e["total"], e["good"]), from_prom.get(k) and (from_prom[k]["total"], from_prom[k]["good"]))
        for k, e in local.items()
        if from_prom.get(k) is None or (from_prom[k]["total"], from_prom[k]["good"]) != (e["total"], e["good"])
    ]
    merged_wrong += [
        (k, "budget", from_prom[k]["error_budget_remaining"], e["error_budget_remaining"])
        for k, e in local.items()
        if e.get("timeslices") is None and k in from_prom
        and e.get("error_budget_remaining") is not None
        and from_prom[k].get("error_budget_remaining") != pytest.approx(e["error_budget_remaining"], rel=1e-6, abs=1e-9)
    ]
    assert not merged_wrong, merged_wrong[:10]

def test_generated_alerts_fire_for_escaped_group_values_in_promtool(tmp_path):
    """`promtool test rules` over the rules of storefront.yaml (99.99% over 90d, three group
    keys): a group whose label values hold quotes, `=`, a backslash, a newline and
    non-ASCII text, failing 10% of its events, fires every burn-rate pair with exactly its
    labels, and its quiet neighbour fires nothing."""
    proc = _rules(str(FIXTURES / "storefront.yaml"), tmp_path / "rules")
    assert proc.returncode == 0, proc.stderr
    rule_file = tmp_path / "rules" / "prometheus-rules.yaml"
    rules = yaml.safe_load(rule_file.read_text())
    loud = {"cluster": "seoul", "deployment_environment": 'qa "eu"=1\\x', "http_route": "/ünï/코드/🚀\nx",
            "key_2xx_bucket": 'q"\\'}
    quiet = dict(loud, http_route="/api/ok")

    def series(labels: dict[str, str], outcome: str) -> str:
        all_labels = dict(labels, slo="availability", service="storefront", outcome=outcome)
        return "slotel_slo_events_total{" + ",".join(f"{k}={promql_str(v)}" for k, v in sorted(all_labels.items())) + "}"

    alerts = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") != "SLOErrorBudgetBurn" or rule["labels"]["slo"] != "availability":
                continue
            alerts.append({
                "exp_labels": dict(rule["labels"], **loud),
                "exp_annotations": {
                    "description": rule["annotations"]["description"],
                    "summary": "storefront/availability burns its error budget 1000.0x as fast as it may, "
                               "in cluster seoul",
                },
            })
    assert len(alerts) == 4, alerts
    test = {
        "rule_files": [str(rule_file)],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": series(loud, "good"), "values": "0+90x30"},
                {"series": series(loud, "bad"), "values": "0+10x30"},
                {"series": series(quiet, "good"), "values": "0+100x30"},
                {"series": series(quiet, "bad"), "values": "0+0x30"},
            ],
            "alert_rule_test": [{"eval_time": "10m", "alertname": "SLOErrorBudgetBurn", "exp_alerts": alerts}],
            "promql_expr_test": [{
                "expr": f"slo:sli_error:ratio_rate5m{selector(dict(quiet, slo='availability', service='storefront'), set())}",
                "eval_time": "10m",
                "exp_samples": [{"labels": "slo:sli_error:ratio_rate5m" + selector(
                    dict(quiet, slo="availability", service="storefront"), set()), "value": 0}],
            }],
        }],
    }
    test_file = tmp_path / "unseen.test.yaml"
    test_file.write_text(yaml.safe_dump(test, allow_unicode=True, sort_keys=False))
    out = subprocess.run(["promtool", "test", "rules", str(test_file)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
