"""SLOs from the real Python OpenTelemetry SDK, checked against values this test computes.

1. Spans: three TracerProviders (three `k8s.cluster.name` resources, over gRPC, HTTP and
   HTTP+gzip) send server spans with explicit start and end times (within the last minute),
   known durations and error statuses, plus client spans the SLOs filter out. `GET
   /api/v1/slos` must show the exact good/total counts per cluster and for `all`, and p50,
   p90 and p99 within 0.1% of the nearest-rank percentiles of the exact durations.
2. Metrics: the SDK's histogram (explicit bucket boundaries) and counter instruments, from
   three clusters: cumulative temporality (the SDK default) with a second collection and a
   restarted MeterProvider (a new start time), and delta temporality. Good = observations
   at or below the largest bucket bound ≤ the threshold, bad = 5xx increments; counts must
   be exact per cluster and for `all`.

slotel is asked only through its API and `/metrics`; the SDK's bytes are its own.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from slotel_harness import Slotel
from slo_files import ERRORS, server_spans, slo_file, span_slo

SPAN_SLOS = slo_file(
    "checkout",
    span_slo("availability", 99.5, where=server_spans("checkout"), bad=ERRORS),
    span_slo("latency", 99, where=server_spans("checkout"), latency_threshold="250ms", percentiles=[50, 90, 99]),
)

METRIC_SLOS = """
service: cart
slos:
  - name: request-latency
    objective: 98.5
    window: 30d
    sli:
      metric:
        histogram: http.server.request.duration
        where: resource.attributes["service.name"] == "cart"
        threshold: 300ms
  - name: request-availability
    objective: 99
    window: 7d
    sli:
      metric:
        bad:
          name: http.server.requests
          where: attributes["http.response.status_code"] >= 500
        total: http.server.requests
"""

CLUSTERS = ["seoul-prod", "busan-prod", "tokyo-prod"]
# (protocol, gzip) per cluster, in the order of CLUSTERS.
TRANSPORTS = [("grpc", True), ("http", False), ("http", True)]
PERCENTILES = [50, 90, 99]
LATENCY_THRESHOLD_NS = 250_000_000

BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
# The largest boundary at or below the 300ms threshold.
EFFECTIVE_THRESHOLD = 0.25


def _write_slos(tmp_path: Path, text: str) -> list[str]:
    d = tmp_path / "slos"
    d.mkdir()
    (d / "slos.yaml").write_text(text)
    return [str(d / "*.yaml")]


def _span_exporter(server: Slotel, protocol: str, gzip: bool):
    if protocol == "grpc":
        from grpc import Compression
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(
            endpoint=server.grpc_endpoint,
            insecure=True,
            timeout=10,
            compression=Compression.Gzip if gzip else Compression.NoCompression,
        )
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(
        endpoint=server.http_endpoint("traces"),
        timeout=10,
        compression=Compression.Gzip if gzip else Compression.NoCompression,
    )


def _metric_exporter(server: Slotel, protocol: str, gzip: bool, temporality=None):
    kwargs = {"preferred_temporality": temporality} if temporality else {}
    if protocol == "grpc":
        from grpc import Compression
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter

        return OTLPMetricExporter(
            endpoint=server.grpc_endpoint,
            insecure=True,
            timeout=10,
            compression=Compression.Gzip if gzip else Compression.NoCompression,
            **kwargs,
        )
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter(
        endpoint=server.http_endpoint("metrics"),
        timeout=10,
        compression=Compression.Gzip if gzip else Compression.NoCompression,
        **kwargs,
    )


class CountingMetricExporter(MetricExporter):
    """Counts the data points of successful exports; the inner exporter sends."""

    def __init__(self, inner):
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self.inner = inner
        self.points = 0
        self.results = []

    def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs):
        result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        self.results.append(result)
        if result.name == "SUCCESS":
            self.points += sum(
                len(m.data.data_points)
                for rm in metrics_data.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
            )
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)


def nearest_rank(sorted_values: list[int], percent: int) -> int:
    """The smallest value with at least `percent`% of the values at or below it."""
    rank = max(1, -(-percent * len(sorted_values) // 100))  # ceil(p·n / 100), exact
    return sorted_values[rank - 1]


def entry(slos: list[dict], name: str, cluster: str) -> dict:
    for e in slos:
        if e["name"] == name and e["cluster"] == cluster:
            return e
    raise AssertionError(f"no {name}/{cluster} in {slos}")


def _wait_items(server: Slotel, signal: str, expected: int) -> None:
    got = server.wait_counter(
        "slotel_exporter_sent_items_total", expected, exporter="slo", signal=signal
    )
    assert got == expected, f"slo connector saw {got} {signal} items, sent {expected}:\n{server.log_text()}"


@pytest.fixture
def stop(request):
    servers = []
    yield servers.append
    for s in servers:
        s.kill()


# -- spans ---------------------------------------------------------------------------------


def test_spans_from_three_clusters_give_exact_counts_and_percentiles(tmp_path, stop):
    server = Slotel.start(tmp_path, slo_files=_write_slos(tmp_path, SPAN_SLOS))
    stop(server)
    rng = random.Random(20240611)
    now = time.time_ns()
    durations: dict[str, list[int]] = {}
    errors: dict[str, int] = {}
    spans_sent = 0
    for ci, (cluster, (protocol, gzip)) in enumerate(zip(CLUSTERS, TRANSPORTS)):
        provider = TracerProvider(
            resource=Resource.create({"service.name": "checkout", "k8s.cluster.name": cluster}),
            shutdown_on_exit=False,
        )
        provider.add_span_processor(
            BatchSpanProcessor(
                _span_exporter(server, protocol, gzip),
                max_queue_size=4096,
                max_export_batch_size=256,
                schedule_delay_millis=60_000,
            )
        )
        tracer = provider.get_tracer("slotel.pytest.slo", "1.0.0")
        durations[cluster], errors[cluster] = [], 0
        for i in range(400 + 150 * ci):
            # Lognormal around 80ms, heavier tail per cluster; whole nanoseconds ≥ 1µs.
            duration = max(1_000, int(80e6 * math.exp(rng.gauss(0.0, 0.6 + 0.2 * ci))))
            end = now - rng.randrange(0, 50_000_000_000)
            span = tracer.start_span(
                f"POST /api/checkout/{i % 4}",
                kind=SpanKind.SERVER,
                attributes={"http.route": f"/api/checkout/{i % 4}"},
                start_time=end - duration,
            )
            if rng.random() < 0.02 * (ci + 1):
                span.set_status(Status(StatusCode.ERROR, "failed"))
                errors[cluster] += 1
            span.end(end_time=end)
            durations[cluster].append(duration)
            spans_sent += 1
            # Client spans: not selected by `kind == SPAN_KIND_SERVER`.
            if i % 10 == 0:
                client = tracer.start_span("GET inventory", kind=SpanKind.CLIENT, start_time=end - 1_000_000)
                client.set_status(Status(StatusCode.ERROR, "ignored"))
                client.end(end_time=end)
                spans_sent += 1
        provider.shutdown()
    _wait_items(server, "traces", spans_sent)

    slos = server.slos()
    everything = sorted(d for ds in durations.values() for d in ds)
    for cluster in CLUSTERS + ["all"]:
        ds = everything if cluster == "all" else sorted(durations[cluster])
        n_err = sum(errors.values()) if cluster == "all" else errors[cluster]
        avail = entry(slos, "availability", cluster)
        assert (avail["total"], avail["good"]) == (len(ds), len(ds) - n_err), (cluster, avail)
        assert avail["error_ratio"] == pytest.approx(n_err / len(ds), rel=1e-12)
        budget = 1 - (n_err / len(ds)) / 0.005
        # Every event is within the 3d window too: its burn rate is over 1 exactly when
        # the budget is spent, so the status is `ok` or `breaching`.
        assert avail["status"] == ("breaching" if budget <= 0 else "ok"), (cluster, avail)
        assert avail["error_budget_remaining"] == pytest.approx(budget, rel=1e-9, abs=1e-12)

        lat = entry(slos, "latency", cluster)
        good = sum(1 for d in ds if d <= LATENCY_THRESHOLD_NS)
        assert (lat["total"], lat["good"]) == (len(ds), good), (cluster, lat)
        assert list(lat["latency"]) == [f"p{p}" for p in PERCENTILES]
        for p in PERCENTILES:
            want = nearest_rank(ds, p) / 1e9
            got = lat["latency"][f"p{p}"]
            assert got is not None and abs(got - want) / want <= 0.001, (cluster, p, got, want)


# -- metrics -------------------------------------------------------------------------------


class MetricClient:
    """One MeterProvider (one process of a service) with the two instruments."""

    def __init__(self, server: Slotel, cluster: str, protocol: str, gzip: bool, temporality=None):
        self.exporter = CountingMetricExporter(_metric_exporter(server, protocol, gzip, temporality))
        self.provider = MeterProvider(
            metric_readers=[PeriodicExportingMetricReader(self.exporter, export_interval_millis=3_600_000)],
            resource=Resource.create({"service.name": "cart", "k8s.cluster.name": cluster}),
            shutdown_on_exit=False,
        )
        meter = self.provider.get_meter("slotel.pytest.slo", "1.0.0")
        self.duration = meter.create_histogram(
            "http.server.request.duration",
            unit="s",
            explicit_bucket_boundaries_advisory=BOUNDARIES,
        )
        self.requests = meter.create_counter("http.server.requests", unit="1")

    def flush(self) -> None:
        assert self.provider.force_flush()

    def shutdown(self) -> int:
        self.provider.shutdown()
        assert self.exporter.results and all(r.name == "SUCCESS" for r in self.exporter.results)
        return self.exporter.points


def test_metric_slis_from_sdk_histograms_and_counters(tmp_path, stop):
    server = Slotel.start(tmp_path, slo_files=_write_slos(tmp_path, METRIC_SLOS))
    stop(server)
    rng = random.Random(7)
    # Expected per cluster: latency (total, good), availability (total, bad).
    latency = {c: [0, 0] for c in CLUSTERS}
    requests = {c: [0, 0] for c in CLUSTERS}

    def traffic(client: MetricClient, cluster: str, n: int) -> None:
        for i in range(n):
            route = f"/cart/{i % 3}"
            # Some values exactly on a boundary: (0.1, 0.25] holds 0.25.
            value = 0.25 if i % 17 == 0 else rng.lognormvariate(math.log(0.12), 0.9)
            client.duration.record(value, {"http.route": route})
            latency[cluster][0] += 1
            latency[cluster][1] += value <= EFFECTIVE_THRESHOLD
            status = 503 if rng.random() < 0.03 else (404 if rng.random() < 0.05 else 200)
            amount = rng.randint(1, 4)
            client.requests.add(amount, {"http.route": route, "http.response.status_code": status})
            requests[cluster][0] += amount
            requests[cluster][1] += amount if status >= 500 else 0

    points = 0
    # seoul: cumulative (the SDK default), two collections, then a new process of the same
    # service: the series come back with a new start time (a restart).
    seoul = MetricClient(server, "seoul-prod", "grpc", True)
    traffic(seoul, "seoul-prod", 300)
    seoul.flush()
    traffic(seoul, "seoul-prod", 200)
    seoul.flush()
    points += seoul.shutdown()  # exports the unchanged cumulative values once more
    time.sleep(0.01)
    seoul = MetricClient(server, "seoul-prod", "grpc", False)
    traffic(seoul, "seoul-prod", 150)
    points += seoul.shutdown()
    # busan: cumulative over HTTP, three collections.
    busan = MetricClient(server, "busan-prod", "http", False)
    for n in (100, 250, 80):
        traffic(busan, "busan-prod", n)
        busan.flush()
    points += busan.shutdown()
    # tokyo: delta temporality over HTTP with gzip.
    delta = {Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA}
    tokyo = MetricClient(server, "tokyo-prod", "http", True, delta)
    for n in (220, 90):
        traffic(tokyo, "tokyo-prod", n)
        tokyo.flush()
    points += tokyo.shutdown()
    _wait_items(server, "metrics", points)

    slos = server.slos()
    for cluster in CLUSTERS + ["all"]:
        total, good = (
            [sum(v[k] for v in latency.values()) for k in (0, 1)] if cluster == "all" else latency[cluster]
        )
        e = entry(slos, "request-latency", cluster)
        assert (e["total"], e["good"]) == (total, good), (cluster, e)
        assert e["error_ratio"] == pytest.approx((total - good) / total, rel=1e-12)
        # Metric SLIs carry no latencies.
        assert all(v is None for v in e["latency"].values()), e

        total, bad = (
            [sum(v[k] for v in requests.values()) for k in (0, 1)] if cluster == "all" else requests[cluster]
        )
        e = entry(slos, "request-availability", cluster)
        assert (e["total"], e["good"]) == (total, total - bad), (cluster, e)
        assert e["error_ratio"] == pytest.approx(bad / total, rel=1e-12)
        assert e["burn_rate"]["5m"] == pytest.approx(bad / total / 0.01, rel=1e-9)


def test_rules_sync_keeps_a_ruler_in_step_with_hot_reloaded_slos(tmp_path):
    """`slo.rules_sync`: the rule group of every SLO reaches the ruler API at start; a
    changed SLO file is reloaded and its group sent again, and a removed SLO's group is
    deleted, within seconds."""
    import http.server
    import threading

    seen: list[tuple[str, str, str, str]] = []

    class Ruler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _record(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode() if n else ""
            seen.append((self.command, self.path, self.headers.get("X-Scope-OrgID", ""), body))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = _record
        do_DELETE = _record

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ruler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slo_file = tmp_path / "shop.yaml"
    slo = (
        "  - name: {name}\n    objective: {objective}\n    window: 30d\n"
        "    sli: {{spans: {{where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}}}\n"
    )
    slo_file.write_text(
        "service: shop\nslos:\n" + slo.format(name="a", objective=99) + slo.format(name="b", objective=99)
    )
    base = "/prometheus/config/v1/rules/slotel"
    slotel = Slotel.start(
        tmp_path,
        slo_files=[str(slo_file)],
        slo_settings=[
            "rules_sync:",
            f"  endpoint: http://127.0.0.1:{server.server_address[1]}",
            "  tenant: team-a",
        ],
    )
    try:
        def wait_for(pred, what):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if pred():
                    return
                time.sleep(0.2)
            raise AssertionError(f"{what}: {seen}")

        posted = lambda name, text="": any(  # noqa: E731
            m == "POST" and p == base and t == "team-a" and f"name: slotel:shop:{name}\n" in b and text in b
            for m, p, t, b in seen
        )
        wait_for(lambda: posted("a") and posted("b"), "both groups at start")
        n = len(seen)
        # `a` gets a new objective, `b` goes away.
        slo_file.write_text("service: shop\nslos:\n" + slo.format(name="a", objective=99.5))
        wait_for(
            lambda: any(m == "DELETE" and p == f"{base}/slotel:shop:b" for m, p, _, _ in seen[n:]),
            "the removed SLO's group deleted",
        )
        wait_for(lambda: posted("a", "vector(0.995)"), "the changed SLO's group sent again")
    finally:
        slotel.kill()
        server.shutdown()
