"""slotel against the real Python OpenTelemetry SDK and its OTLP exporters.

Each test starts its own slotel (file exporter into pytest's tmp dir), sends spans, metric
data points and log records through the SDK's providers and the stock OTLP exporters
(gRPC with gzip, HTTP/protobuf plain and gzip), then checks three views of the same traffic:

1. what the SDK exporters report (every export SUCCESS, item counts),
2. slotel's own counters on `/metrics`,
3. what the file exporter wrote, parsed as OTLP/JSON, after SIGTERM (which must exit 0).

Exporters are wrapped only to record the result of each `export()` call; the bytes on the
wire are the SDK's own.
"""

from __future__ import annotations

import json
from collections import Counter as Tally
from dataclasses import dataclass, field

import pytest
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, _Gauge
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    MetricExporter,
    MetricExportResult,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from slotel_harness import Slotel, attrs, is_hex, read_export_file

# -- what is sent --------------------------------------------------------------------------

# (k8s.cluster.name, service.name, spans): 137 spans over three resources.
SPAN_GROUPS = [("seoul-prod", "checkout", 50), ("busan-prod", "payments", 47), ("seoul-prod", "search", 40)]
SPANS_SENT = sum(n for _, _, n in SPAN_GROUPS)

COUNTER_SERIES = 7  # test.requests: one data point per route
HISTOGRAM_SERIES = 5  # test.latency
GAUGE_SERIES = 3  # test.queue_depth
POINTS_SENT = COUNTER_SERIES + HISTOGRAM_SERIES + GAUGE_SERIES

LOGS_SENT = 61

DELTA = AggregationTemporality.DELTA


@dataclass(frozen=True)
class Transport:
    id: str
    protocol: str  # the `protocol` label slotel counts under
    gzip: bool


TRANSPORTS = [
    Transport("grpc-gzip", "grpc", True),
    Transport("http-protobuf", "http", False),
    Transport("http-protobuf-gzip", "http", True),
]


def _exporters(server: Slotel, t: Transport, headers: dict[str, str] | None = None):
    """The SDK's OTLP exporter classes for a transport, bound to `server`."""
    if t.protocol == "grpc":
        from grpc import Compression
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        common = dict(
            endpoint=server.grpc_endpoint,
            insecure=True,
            timeout=10,
            compression=Compression.Gzip if t.gzip else Compression.NoCompression,
            headers=headers,
        )
        return (
            lambda: OTLPSpanExporter(**common),
            lambda: OTLPMetricExporter(preferred_temporality=_delta(), **common),
            lambda: OTLPLogExporter(**common),
        )
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    common = dict(
        timeout=10,
        compression=Compression.Gzip if t.gzip else Compression.NoCompression,
        headers=headers,
    )
    return (
        lambda: OTLPSpanExporter(endpoint=server.http_endpoint("traces"), **common),
        lambda: OTLPMetricExporter(
            endpoint=server.http_endpoint("metrics"), preferred_temporality=_delta(), **common
        ),
        lambda: OTLPLogExporter(endpoint=server.http_endpoint("logs"), **common),
    )


def _delta():
    # Delta temporality: the collection at shutdown finds nothing new and exports nothing,
    # so every data point is sent exactly once.
    return {Counter: DELTA, Histogram: DELTA, _Gauge: DELTA}


# -- recording wrappers (results only; the inner exporter does the sending) ----------------


@dataclass
class Record:
    items: int = 0
    results: list = field(default_factory=list)

    def all_ok(self) -> bool:
        return bool(self.results) and all(r.name == "SUCCESS" for r in self.results)

    def summary(self) -> str:
        return f"{self.items} items in {len(self.results)} exports: {[r.name for r in self.results]}"


class RecordingSpanExporter(SpanExporter):
    def __init__(self, inner, record: Record):
        self.inner, self.record = inner, record

    def export(self, spans):
        result = self.inner.export(spans)
        self.record.items += len(spans)
        self.record.results.append(result)
        return result

    def shutdown(self, *args, **kwargs):
        return self.inner.shutdown(*args, **kwargs)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


class RecordingLogExporter(LogRecordExporter):
    def __init__(self, inner, record: Record):
        self.inner, self.record = inner, record

    def export(self, batch):
        result = self.inner.export(batch)
        self.record.items += len(batch)
        self.record.results.append(result)
        return result

    def shutdown(self, *args, **kwargs):
        return self.inner.shutdown(*args, **kwargs)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


class RecordingMetricExporter(MetricExporter):
    def __init__(self, inner, record: Record):
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self.inner, self.record = inner, record

    def export(self, metrics_data, timeout_millis: float = 10_000, **kwargs):
        result = self.inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
        self.record.items += sum(
            len(m.data.data_points)
            for rm in metrics_data.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
        )
        self.record.results.append(result)
        return result

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self.inner.force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs) -> None:
        self.inner.shutdown(timeout_millis=timeout_millis, **kwargs)


# -- senders -------------------------------------------------------------------------------


def send_spans(new_exporter, groups, name_prefix: str = "") -> tuple[Record, dict]:
    """Sends the span groups, one TracerProvider per resource. Returns the export record and
    the expected spans keyed by (service.name, test.index)."""
    record = Record()
    expected = {}
    for cluster, service, n in groups:
        provider = TracerProvider(
            resource=Resource.create({"service.name": service, "k8s.cluster.name": cluster}),
            shutdown_on_exit=False,
        )
        provider.add_span_processor(
            BatchSpanProcessor(
                RecordingSpanExporter(new_exporter(), record),
                max_export_batch_size=32,
                schedule_delay_millis=60_000,
            )
        )
        tracer = provider.get_tracer("slotel.pytest", "1.0.0")
        root = None
        for i in range(n):
            name = f"{name_prefix}{service} op-{i % 5}"
            attributes = {
                "test.index": i,
                "http.route": f"/api/items/{i % 7}",
                "test.ratio": i / 8,
                "test.even": i % 2 == 0,
                "test.tags": ["slo", f"t{i}"],
            }
            if i % 3 == 0:
                if root is not None:
                    root.end()
                root = tracer.start_span(name, kind=SpanKind.SERVER, attributes=attributes)
                span = root
            else:
                ctx = trace.set_span_in_context(root)
                span = tracer.start_span(name, context=ctx, kind=SpanKind.CLIENT, attributes=attributes)
            if i % 10 == 9:
                span.set_status(Status(StatusCode.ERROR, "boom"))
            if span is not root:
                span.end()
            expected[(service, i)] = {"name": name, "cluster": cluster, "attributes": attributes}
        root.end()
        provider.shutdown()  # flushes the batch processor, then shuts the exporter down
    return record, expected


def send_metrics(new_exporter) -> tuple[Record, dict]:
    """One collection of a counter, a histogram and a gauge. Returns the export record and
    the expected data points keyed by (metric name, series attribute)."""
    record = Record()
    reader = PeriodicExportingMetricReader(
        RecordingMetricExporter(new_exporter(), record), export_interval_millis=3_600_000
    )
    provider = MeterProvider(
        metric_readers=[reader],
        resource=Resource.create({"service.name": "inventory", "k8s.cluster.name": "seoul-prod"}),
        shutdown_on_exit=False,
    )
    meter = provider.get_meter("slotel.pytest", "1.0.0")
    requests_total = meter.create_counter("test.requests", unit="1", description="requests")
    latency = meter.create_histogram("test.latency", unit="s", description="latency")
    depth = meter.create_gauge("test.queue_depth", unit="1", description="queue depth")
    expected = {}
    for j in range(COUNTER_SERIES):
        a = {"http.route": f"/r{j}", "http.response.status_code": 200}
        requests_total.add(j + 1, a)
        requests_total.add(j + 1, a)
        expected[("test.requests", f"/r{j}")] = 2 * (j + 1)
    for j in range(HISTOGRAM_SERIES):
        values = [0.001 * (k + 1) * (j + 1) for k in range(j + 3)]
        for v in values:
            latency.record(v, {"http.route": f"/h{j}"})
        expected[("test.latency", f"/h{j}")] = len(values)
    for j in range(GAUGE_SERIES):
        depth.set(10.5 * (j + 1), {"queue": f"q{j}"})
        expected[("test.queue_depth", f"q{j}")] = 10.5 * (j + 1)
    provider.force_flush()
    provider.shutdown()
    return record, expected


def send_logs(new_exporter) -> tuple[Record, dict]:
    """Log records with JSON string bodies through the SDK logs API. Returns the export
    record and the expected bodies keyed by test.index."""
    record = Record()
    provider = LoggerProvider(
        resource=Resource.create({"service.name": "orders", "k8s.cluster.name": "busan-prod"}),
        shutdown_on_exit=False,
    )
    provider.add_log_record_processor(
        BatchLogRecordProcessor(
            RecordingLogExporter(new_exporter(), record),
            max_export_batch_size=25,
            schedule_delay_millis=60_000,
        )
    )
    logger = provider.get_logger("slotel.pytest", "1.0.0")
    expected = {}
    for i in range(LOGS_SENT):
        # Every fifth record carries a trace context, as a log emitted inside a span would.
        trace_id, span_id = 0x5EED0000_00000000_00000000_00000000 + i, 0xABC00000_00000000 + i
        ctx = None
        if i % 5 == 0:
            span_context = trace.SpanContext(trace_id, span_id, is_remote=False, trace_flags=trace.TraceFlags(1))
            ctx = trace.set_span_in_context(trace.NonRecordingSpan(span_context))
        body = json.dumps(
            {"event": "order_placed", "order": i, "items": [i, i + 1], "shipping": {"express": i % 2 == 0}},
            separators=(",", ":"),
        )
        severity = SeverityNumber.WARN if i % 4 == 0 else SeverityNumber.INFO
        logger.emit(
            body=body,
            severity_number=severity,
            severity_text=severity.name,
            attributes={"test.index": i, "log.source": "pytest"},
            context=ctx,
        )
        expected[i] = {
            "body": body,
            "severity": severity.value,
            "trace_id": f"{trace_id:032x}" if ctx else "",
            "span_id": f"{span_id:016x}" if ctx else "",
        }
    provider.shutdown()
    return record, expected


# -- tests ---------------------------------------------------------------------------------


@pytest.fixture
def slotel(tmp_path):
    server = Slotel.start(tmp_path)
    yield server
    server.kill()


def _exit_cleanly(server: Slotel) -> None:
    code = server.terminate()
    assert code == 0, f"slotel exited with {code} after SIGTERM:\n{server.log_text()}"


@pytest.mark.parametrize("transport", TRANSPORTS, ids=lambda t: t.id)
def test_sdk_exporters_round_trip(slotel: Slotel, transport: Transport):
    new_span_exp, new_metric_exp, new_log_exp = _exporters(slotel, transport)

    span_rec, spans_expected = send_spans(new_span_exp, SPAN_GROUPS)
    metric_rec, points_expected = send_metrics(new_metric_exp)
    log_rec, logs_expected = send_logs(new_log_exp)

    # 1. The SDK saw every export succeed.
    assert span_rec.all_ok() and span_rec.items == SPANS_SENT, span_rec.summary()
    assert metric_rec.all_ok() and metric_rec.items == POINTS_SENT, metric_rec.summary()
    assert log_rec.all_ok() and log_rec.items == LOGS_SENT, log_rec.summary()

    # 2. slotel counted them under the right protocol, and nothing under the other one.
    other = "http" if transport.protocol == "grpc" else "grpc"
    for name, sent in [
        ("slotel_receiver_accepted_spans_total", SPANS_SENT),
        ("slotel_receiver_accepted_metric_points_total", POINTS_SENT),
        ("slotel_receiver_accepted_log_records_total", LOGS_SENT),
    ]:
        assert slotel.counter(name, receiver="otlp", protocol=transport.protocol) == sent, name
        assert slotel.counter(name, receiver="otlp", protocol=other) == 0, name
    metrics_text = slotel.metrics_text()
    assert "slotel_receiver_refused_" not in "\n".join(
        l for l in metrics_text.splitlines() if not l.startswith("#")
    ), metrics_text
    for signal, sent in [("traces", SPANS_SENT), ("metrics", POINTS_SENT), ("logs", LOGS_SENT)]:
        got = slotel.wait_counter(
            "slotel_exporter_sent_items_total", sent, exporter="file/out", signal=signal
        )
        assert got == sent, f"file/out sent {got} {signal} items, expected {sent}"

    # 3. SIGTERM drains and exits 0; then the file holds exactly what was sent.
    _exit_cleanly(slotel)
    out = read_export_file(slotel.out_path)
    check_spans(out, spans_expected)
    check_metric_points(out, points_expected)
    check_logs(out, logs_expected)


def check_spans(out, expected: dict) -> None:
    spans = list(out.spans())
    assert len(spans) == len(expected), f"{len(spans)} spans written, {len(expected)} sent"
    seen = {}
    span_ids = {}
    for resource, scope, span in spans:
        a = attrs(span.get("attributes"))
        key = (resource.get("service.name"), a.get("test.index"))
        assert key in expected, f"unexpected span {key}: {span}"
        assert key not in seen, f"span {key} written twice"
        seen[key] = span
        want = expected[key]
        assert span["name"] == want["name"]
        assert resource.get("k8s.cluster.name") == want["cluster"]
        assert a == want["attributes"], f"attributes of {key}: {a} != {want['attributes']}"
        assert scope.get("name") == "slotel.pytest", scope
        assert is_hex(span.get("traceId"), 32), f"trace id {span.get('traceId')!r}"
        assert span["traceId"] != "0" * 32
        assert is_hex(span.get("spanId"), 16), f"span id {span.get('spanId')!r}"
        span_ids[span["spanId"]] = span["traceId"]
    for (service, i), span in seen.items():
        parent = span.get("parentSpanId") or ""
        if i % 3 == 0:
            assert parent == "", f"root span {service}/{i} has parent {parent!r}"
        else:
            assert span_ids.get(parent) == span["traceId"], f"child {service}/{i}: parent {parent!r}"
    errors = sum(1 for _, _, s in spans if (s.get("status") or {}).get("code") in (2, "STATUS_CODE_ERROR"))
    assert errors == sum(1 for (_, i) in expected if i % 10 == 9)
    groups = Tally(r.get("service.name") for r, _, _ in spans)
    assert groups == Tally({svc: n for _, svc, n in SPAN_GROUPS})


def check_metric_points(out, expected: dict) -> None:
    points = list(out.metric_points())
    assert len(points) == POINTS_SENT, f"{len(points)} data points written, {POINTS_SENT} sent"
    kinds = Tally((m["name"], kind) for _, m, kind, _ in points)
    assert kinds == Tally(
        {
            ("test.requests", "sum"): COUNTER_SERIES,
            ("test.latency", "histogram"): HISTOGRAM_SERIES,
            ("test.queue_depth", "gauge"): GAUGE_SERIES,
        }
    ), kinds
    for resource, metric, kind, dp in points:
        assert resource.get("service.name") == "inventory"
        a = attrs(dp.get("attributes"))
        if kind == "sum":
            assert metric["sum"].get("isMonotonic") is True
            assert a["http.response.status_code"] == 200
            assert int(dp["asInt"]) == expected[(metric["name"], a["http.route"])]
        elif kind == "histogram":
            count = int(dp["count"])
            assert count == expected[(metric["name"], a["http.route"])]
            assert sum(int(c) for c in dp["bucketCounts"]) == count
        else:
            assert float(dp["asDouble"]) == expected[(metric["name"], a["queue"])]


def check_logs(out, expected: dict) -> None:
    records = list(out.log_records())
    assert len(records) == LOGS_SENT, f"{len(records)} log records written, {LOGS_SENT} sent"
    seen = set()
    for resource, rec in records:
        assert resource.get("service.name") == "orders"
        assert resource.get("k8s.cluster.name") == "busan-prod"
        a = attrs(rec.get("attributes"))
        i = a["test.index"]
        assert i not in seen, f"log record {i} written twice"
        seen.add(i)
        assert a["log.source"] == "pytest"
        assert rec["body"] == {"stringValue": expected[i]["body"]}, rec["body"]
        assert json.loads(rec["body"]["stringValue"])["order"] == i
        assert (rec.get("traceId") or "") == expected[i]["trace_id"], rec
        assert (rec.get("spanId") or "") == expected[i]["span_id"], rec
        assert rec.get("severityNumber") in (expected[i]["severity"], SeverityNumber(expected[i]["severity"]).name)


@pytest.mark.parametrize("transport", TRANSPORTS[:2], ids=lambda t: t.id)
def test_bearer_token(tmp_path, transport: Transport):
    token = "pytest-token-7f3a"
    server = Slotel.start(
        tmp_path,
        auth_tokens=[{"token": "${env:SLOTEL_PYTEST_TOKEN}", "tenant": "t1", "cluster": "token-cluster"}],
        env={"SLOTEL_PYTEST_TOKEN": token},
    )
    try:
        good_spans, _, _ = _exporters(server, transport, headers={"authorization": f"Bearer {token}"})
        wrong_spans, _, _ = _exporters(server, transport, headers={"authorization": "Bearer not-the-token"})
        anonymous_spans, _, _ = _exporters(server, transport)

        good, expected = send_spans(good_spans, [("spoofed-cluster", "checkout", 12)], "good ")
        assert good.all_ok() and good.items == 12, good.summary()

        refused = dict(protocol=transport.protocol, signal="traces", reason="unauthenticated")
        for n, new_exporter in enumerate([wrong_spans, anonymous_spans], 1):
            bad, _ = send_spans(new_exporter, [("seoul-prod", "intruder", 5)], "bad ")
            assert bad.results and all(r.name == "FAILURE" for r in bad.results), bad.summary()
            assert server.counter("slotel_receiver_refused_requests_total", **refused) == n

        accepted = server.counter("slotel_receiver_accepted_spans_total", protocol=transport.protocol)
        assert accepted == 12
        got = server.wait_counter("slotel_exporter_sent_items_total", 12, exporter="file/out", signal="traces")
        assert got == 12
        _exit_cleanly(server)
    finally:
        server.kill()

    spans = list(read_export_file(server.out_path).spans())
    assert len(spans) == 12, [s["name"] for _, _, s in spans]
    for resource, _, span in spans:
        assert span["name"].startswith("good "), span["name"]
        assert resource.get("service.name") == "checkout"
        # The token is bound to a cluster: it overrides what the sender claims.
        assert resource.get("k8s.cluster.name") == "token-cluster", resource
    assert {attrs(s["attributes"])["test.index"] for _, _, s in spans} == {i for (_, i) in expected}
