"""Log SLIs from the real Python OpenTelemetry SDK's logs exporter, checked against a hand
computation over the records sent, on every path the numbers take.

Three LoggerProviders (three `k8s.cluster.name` resources; gRPC, HTTP and HTTP+gzip) emit
access-log records of an edge proxy: JSON string bodies (as a filelog receiver ships an
access log line) and map bodies (as a json_parser makes them), with `status` and
`request_time` (seconds) written as numbers or as strings holding numbers, nginx's `-` for a
missing time, records without the time field, malformed lines (no JSON: no fields), records
of another service, and records with and without an event timestamp (without one the
record counts at its observed time).

- `GET /api/v1/slos`: per cluster and for `all`, the exact totals and good counts, the
  unreadable latencies by reason, and nearest-rank percentiles within the HDR bound (0.1%);
- `/metrics`: the same events and unreadable counts, and the percentile gauges equal to the
  API's;
- a real Prometheus fed by remote write: the same events, the same percentile gauges, and
  `histogram_quantile` over the native histogram within its bucket width of the hand
  computation;
- the rules `slotel rules` generates, evaluated in that Prometheus: the error ratio of the
  traffic exactly, the latency percentile recordings within the bucket width;
- `slotel replay` over the capture (`slo.capture`) taken meanwhile: the live API's answer.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import time
from pathlib import Path

from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from prometheus_harness import Prometheus
from slotel_harness import Slotel, generate_rules, parse_metrics, slotel_bin
from test_slo import _wait_items, entry, nearest_rank

SLOS = """
service: edge
slos:
  - name: availability
    objective: 99.5
    window: 30d
    sli:
      logs:
        where: resource.attributes["service.name"] == "edge" and body["status"] != nil
        bad: body["status"] >= 500
  - name: latency
    objective: 99
    window: 30d
    sli:
      logs:
        where: resource.attributes["service.name"] == "edge" and body["status"] != nil
        latency:
          field: body["request_time"]
          unit: s
        latency_threshold: 250ms
    percentiles: [50, 90, 99]
"""

CLUSTERS = ["seoul-prod", "busan-prod", "tokyo-prod"]
TRANSPORTS = [("grpc", False), ("http", False), ("http", True)]
PERCENTILES = [50, 90, 99]
THRESHOLD_NS = 250_000_000
# Native histogram schema 6, as slotel writes them: one bucket is 2^(1/64) − 1 wide.
NATIVE_BUCKET = 2 ** (1 / 64) - 1


def _exporter(server: Slotel, protocol: str, gzip: bool):
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

        return OTLPLogExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

    return OTLPLogExporter(
        endpoint=server.http_endpoint("logs"),
        timeout=10,
        compression=Compression.Gzip if gzip else Compression.NoCompression,
    )


class Tally:
    """What the SLOs must count, computed from the records as they are sent."""

    def __init__(self):
        self.total = 0
        self.bad = 0
        self.latencies: list[int] = []  # nanoseconds, of records the latency SLO counts
        self.dash = 0
        self.missing = 0


def _provider(server: Slotel, cluster: str, protocol: str, gzip: bool, service: str = "edge"):
    provider = LoggerProvider(
        resource=Resource.create({"service.name": service, "k8s.cluster.name": cluster}),
        shutdown_on_exit=False,
    )
    provider.add_log_record_processor(
        BatchLogRecordProcessor(
            _exporter(server, protocol, gzip),
            max_queue_size=4096,
            max_export_batch_size=200,
            schedule_delay_millis=60_000,
        )
    )
    return provider


def _send_access_logs(server: Slotel, tallies: dict[str, Tally]) -> int:
    """The three clusters' access logs and another service's records; returns how many
    records were sent."""
    rng = random.Random(20261205)
    now = time.time_ns()
    sent = 0
    for ci, (cluster, (protocol, gzip)) in enumerate(zip(CLUSTERS, TRANSPORTS)):
        provider = _provider(server, cluster, protocol, gzip)
        logger = provider.get_logger("slotel.pytest.access", "1.0.0")
        t = tallies.setdefault(cluster, Tally())
        for i in range(300 + 100 * ci):
            status = 503 if rng.random() < 0.02 * (ci + 1) else rng.choice([200, 200, 201, 304, 404])
            ms = max(1, int(60 * math.exp(rng.gauss(0.0, 0.8 + 0.2 * ci))))
            line = {"method": "GET", "path": f"/api/{i % 5}", "status": status}
            kind = rng.random()
            if kind < 0.05:
                line["request_time"] = "-"
            elif kind < 0.08:
                pass  # no request_time at all
            elif kind < 0.5:
                line["request_time"] = f"{ms / 1000:.3f}"  # a string holding a number
            else:
                line["request_time"] = ms / 1000
            if i % 3 == 0:
                line["status"] = str(status)  # "503": compares as a number
            map_body = ci == 1 or (ci == 2 and i % 2 == 0)
            body = line if map_body else json.dumps(line, separators=(",", ":"))
            # Half the records carry their event time, the rest count at their observed time.
            timestamp = now - rng.randrange(0, 30_000_000_000) if i % 2 == 0 else None
            logger.emit(body=body, timestamp=timestamp, severity_number=SeverityNumber.INFO)
            sent += 1
            t.total += 1
            t.bad += status >= 500
            if "request_time" not in line:
                t.missing += 1
            elif line["request_time"] == "-":
                t.dash += 1
            else:
                t.latencies.append(ms * 1_000_000)
            if i % 25 == 0:
                # A cut-off line: not JSON, so no status: neither SLO counts it.
                logger.emit(body='{"method":"GET","path":"/api/0","sta', severity_number=SeverityNumber.INFO)
                sent += 1
        provider.shutdown()
    # Another service's records: `where` leaves them out.
    other = _provider(server, CLUSTERS[0], "grpc", False, service="other")
    for _ in range(20):
        other.get_logger("other").emit(
            body=json.dumps({"status": 500, "request_time": 9.9}), severity_number=SeverityNumber.ERROR
        )
        sent += 1
    other.shutdown()
    return sent


def _replay(slos: str, capture: Path, to: float) -> dict:
    proc = subprocess.run(
        [str(slotel_bin()), "replay", "--slos", slos, "--capture", str(capture), "--to", f"{to:.9f}"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_access_logs_read_the_same_on_every_path_and_in_replay(tmp_path, cleanup):
    d = tmp_path / "slos"
    d.mkdir()
    (d / "edge.yaml").write_text(SLOS)
    slo_glob = str(d / "*.yaml")
    rule_file = generate_rules(slo_glob, tmp_path / "rules")
    prom_dir = tmp_path / "prom"
    prom_dir.mkdir()
    prom = Prometheus.start(prom_dir, rule_files=[rule_file])
    cleanup(prom)
    capture = tmp_path / "capture"
    server = Slotel.start(
        tmp_path,
        slo_files=[slo_glob],
        exporters=[
            "prometheusremotewrite/prom:",
            f"  endpoint: {prom.write_url}",
            "  retry_on_failure: {initial_interval: 200ms, max_interval: 2s}",
        ],
        slo_settings=["capture:", f"  directory: {json.dumps(str(capture))}", "  rotate_every: 1h"],
    )
    cleanup(server)

    # One record first, so that every series of `cluster="all"` exists before the traffic
    # whose rates the rules measure (rate() cannot see what a series' first sample holds).
    tallies: dict[str, Tally] = {"warmup": Tally()}
    warm = _provider(server, "warmup", "http", False)
    warm.get_logger("warmup").emit(
        body=json.dumps({"status": 200, "request_time": 0.05}), severity_number=SeverityNumber.INFO
    )
    warm.shutdown()
    tallies["warmup"].total = 1
    tallies["warmup"].latencies.append(50_000_000)
    _wait_items(server, "logs", 1)
    sel_all = '{slo="latency",service="edge",cluster="all"}'
    assert prom.wait_value(f"count(slotel_slo_latency_seconds{sel_all})", 1, timeout=30) == 1
    time.sleep(6)

    sent = 1 + _send_access_logs(server, tallies)
    _wait_items(server, "logs", sent)

    slos = server.slos()
    asked_at = time.time()
    samples = parse_metrics(server.metrics_text())

    def metric(name: str, **labels: str) -> float | None:
        found = [v for n, l, v in samples if n == name and all(l.get(k) == v for k, v in labels.items())]
        assert len(found) <= 1, (name, labels, found)
        return found[0] if found else None

    for cluster in list(tallies) + ["all"]:
        ts = list(tallies.values()) if cluster == "all" else [tallies[cluster]]
        total = sum(t.total for t in ts)
        bad = sum(t.bad for t in ts)
        avail = entry(slos, "availability", cluster)
        assert (avail["total"], avail["good"]) == (total, total - bad), (cluster, avail)

        lats = sorted(l for t in ts for l in t.latencies)
        lat = entry(slos, "latency", cluster)
        good = sum(1 for l in lats if l <= THRESHOLD_NS)
        assert (lat["total"], lat["good"]) == (len(lats), good), (cluster, lat)
        for p in PERCENTILES:
            want = nearest_rank(lats, p) / 1e9
            got = lat["latency"][f"p{p}"]
            assert got is not None and abs(got - want) / want <= 0.001, (cluster, p, got, want)
            # /metrics and remote write carry the API's percentiles exactly.
            labels = {"slo": "latency", "cluster": cluster, "window": "30d", "percentile": str(p)}
            assert metric("slotel_slo_latency_percentile_seconds", **labels) == got, (labels, got)
            q = "slotel_slo_latency_percentile_seconds{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
            assert prom.wait_value(f"max({q})", got, timeout=30) == got, (q, got)
        if cluster == "all":
            dash = sum(t.dash for t in ts)
            missing = sum(t.missing for t in ts)
            assert lat["unreadable_latency"] == {"dash": dash, "invalid": 0, "missing": missing}, lat
            # The native histogram, remote-written: within a bucket of the hand computation
            # (histogram_quantile interpolates inside the bucket of the rank).
            for p in PERCENTILES:
                want = nearest_rank(lats, p) / 1e9
                got = prom.scalar(f"histogram_quantile({p / 100}, sum(slotel_slo_latency_seconds{sel_all}))")
                assert got is not None and abs(got - want) <= (2 * NATIVE_BUCKET + 0.001) * want, (p, got, want)

        # /metrics and Prometheus: the same events.
        for slo, (g, n) in {"availability": (total - bad, total), "latency": (good, len(lats))}.items():
            for outcome, value in (("good", g), ("bad", n - g)):
                labels = {"slo": slo, "cluster": cluster, "outcome": outcome}
                assert metric("slotel_slo_events_total", **labels) == value, (labels, value)
                q = "slotel_slo_events_total{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
                assert prom.wait_value(f"sum({q})", value, timeout=30) == value, (q, value)
    dash = sum(t.dash for t in tallies.values())
    missing = sum(t.missing for t in tallies.values())
    assert server.counter("slotel_slo_log_latency_unreadable_total", slo="latency", reason="dash") == dash
    assert server.counter("slotel_slo_log_latency_unreadable_total", slo="latency", reason="missing") == missing
    assert server.counter("slotel_slo_log_latency_unreadable_total", slo="latency", reason="invalid") == 0

    # The generated rules, evaluated in Prometheus: the error ratio of every record in the
    # last 5 minutes (the API's 5m burn rate says the same), the percentile recordings over
    # the native histogram's rate within a bucket of the hand computation.
    time.sleep(12)
    total = sum(t.total for t in tallies.values())
    bad = sum(t.bad for t in tallies.values())
    ratio = prom.scalar('max(slo:sli_error:ratio_rate5m{slo="availability",service="edge",cluster="all"})')
    assert ratio is not None and abs(ratio - bad / total) <= 1e-6 * bad / total, (ratio, bad, total)
    api_burn = entry(slos, "availability", "all")["burn_rate"]["5m"]
    assert abs(ratio / (1 - 0.995) - api_burn) <= 1e-6 * api_burn, (ratio, api_burn)
    lats = sorted(l for t in tallies.values() for l in t.latencies)
    for p in PERCENTILES:
        want = nearest_rank(lats, p) / 1e9
        q = f'max(slo:latency_seconds:quantile_rate5m{{slo="latency",cluster="all",quantile="{p / 100}"}})'
        # The recordings are evaluated every 5 s: wait for one over the whole traffic.
        deadline = time.monotonic() + 30
        while True:
            got = prom.scalar(q)
            close = got is not None and abs(got - want) <= (2 * NATIVE_BUCKET + 0.001) * want
            if close or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert close, (p, got, want)
    assert not [r for r in prom.http.get(f"{prom.url}/api/v1/rules", timeout=5).json()["data"]["groups"]
                for rule in r["rules"] if rule.get("health") != "ok"]

    # Replay over the capture, at the time the live API answered: the same answer.
    deadline = time.monotonic() + 10
    while True:
        report = _replay(slo_glob, capture, asked_at)
        if report["log_records"] == sent or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert report["log_records"] == sent, report["warnings"]
    assert report["warnings"] == []
    # The entries are the API's, `unreadable_latency` of the `all` entry included.
    assert report["slos"] == slos
    assert report["unreadable_latency"] == [
        {"service": "edge", "name": "latency", "counts": entry(slos, "latency", "all")["unreadable_latency"]}
    ]
