"""slotel's `otlp`, `otlphttp` and `loki` exporters against independent backends
(tests/python/otlp_sink.py: grpcio and http.server with the opentelemetry-proto package's
messages, a Loki push decoder of its own).

Traffic comes from the real Python SDK through slotel's receiver; what the sinks decode is
compared with what the SDK was told succeeded: counts, span ids, tenants (from bearer
tokens), compression, paths, partial-success counters, and Loki's labels, lines, metadata
and timestamps. The crash test kills slotel with SIGKILL while its disk queue holds data
the backend refused, restarts it on the same ports and queue directory, and requires every
span the receiver acknowledged to reach the sink.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from otlp_sink import ByteCounter, GrpcSink, HttpSink
from slotel_harness import Slotel, free_port

TOKENS = [{"token": "tok-a", "tenant": "team-a"}, {"token": "tok-b", "tenant": "team-b"}]
FAST_RETRY = "  retry_on_failure: {initial_interval: 100ms, max_interval: 500ms}"


class AckedSpans(SpanExporter):
    """Wraps the SDK's exporter and keeps the span ids of every export that succeeded:
    what slotel acknowledged."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.lock = threading.Lock()
        self.ids: list[bytes] = []
        self.failures = 0

    def export(self, spans):
        result = self.inner.export(spans)
        with self.lock:
            if result == SpanExportResult.SUCCESS:
                self.ids.extend(s.context.span_id.to_bytes(8, "big") for s in spans)
            else:
                self.failures += 1
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def grpc_span_exporter(server: Slotel, token: str | None = None, timeout: float = 10):
    from grpc import Compression
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(
        endpoint=server.grpc_endpoint,
        insecure=True,
        timeout=timeout,
        compression=Compression.Gzip,
        headers={"authorization": f"Bearer {token}"} if token else None,
    )


def send_spans(server: Slotel, n: int, token: str | None = None, service: str = "checkout") -> AckedSpans:
    acked = AckedSpans(grpc_span_exporter(server, token))
    p = TracerProvider(resource=Resource.create({"service.name": service}), shutdown_on_exit=False)
    p.add_span_processor(BatchSpanProcessor(acked, max_export_batch_size=100, schedule_delay_millis=100))
    tracer = p.get_tracer("slotel.pytest.otlp_export")
    for i in range(n):
        with tracer.start_as_current_span(f"op {i % 7}", kind=trace.SpanKind.SERVER) as span:
            span.set_attribute("test.index", i)
    p.shutdown()
    assert acked.failures == 0 and len(acked.ids) == n, f"slotel refused spans: {acked.failures} failed exports"
    return acked


def otlp(name: str, endpoint: str, *extra: str) -> list[str]:
    lines = [f"{name}:", f"  endpoint: {endpoint}", FAST_RETRY, *extra]
    if name.startswith("otlp/") and "://" not in endpoint:
        # A bare host:port is TLS, as in the collector; these sinks speak plaintext.
        lines.append("  tls: {insecure: true}")
    return lines


def exporter_counter(server: Slotel, family: str, exporter: str, **labels) -> float:
    return server.counter(f"{family}_total", exporter=exporter, **labels)


def test_grpc_forwards_every_span_with_its_tenant_and_gzip(tmp_path, cleanup):
    sink = GrpcSink()
    cleanup(sink)
    wire = ByteCounter(sink.port)
    cleanup(wire)
    server = Slotel.start(tmp_path, auth_tokens=TOKENS, exporters=otlp("otlp/tempo", wire.endpoint))
    cleanup(server)

    a = send_spans(server, 300, "tok-a")
    b = send_spans(server, 200, "tok-b", service="payments")

    assert sink.wait_items("traces", 500) == 500
    assert sink.items("traces", tenant="team-a") == 300
    assert sink.items("traces", tenant="team-b") == 200
    got = sink.all_span_ids()
    assert sorted(got) == sorted(a.ids + b.ids), "every acknowledged span, once"
    reqs = sink.snapshot()
    # One tenant per request: a batch is never mixed.
    for r in reqs:
        resources = {
            kv.value.string_value
            for rs in r.message.resource_spans
            for kv in rs.resource.attributes
            if kv.key == "service.name"
        }
        assert resources == ({"checkout"} if r.tenant == "team-a" else {"payments"}), r.tenant
    # gzip by default: what crossed the wire is much smaller than the requests' protobuf.
    protobuf = sum(r.message.ByteSize() for r in reqs)
    # (Random trace and span ids do not compress: about half of a span is incompressible.)
    assert wire.upstream_bytes < 0.75 * protobuf, (wire.upstream_bytes, protobuf)
    assert server.wait_counter("slotel_exporter_delivered_items_total", 500, exporter="otlp/tempo") == 500
    assert exporter_counter(server, "slotel_exporter_dropped_items", "otlp/tempo") == 0


def test_grpc_unavailable_then_ok_loses_nothing(tmp_path, cleanup):
    sink = GrpcSink()
    cleanup(sink)
    sink.fail_next(4)
    wire = ByteCounter(sink.port)
    cleanup(wire)
    server = Slotel.start(tmp_path, exporters=otlp("otlp/tempo", wire.endpoint, "  compression: none"))
    cleanup(server)

    acked = send_spans(server, 250)

    assert sink.wait_items("traces", 250) == 250
    assert sorted(sink.all_span_ids()) == sorted(acked.ids)
    assert sink.failed_calls == 4
    assert exporter_counter(server, "slotel_exporter_retries", "otlp/tempo") >= 4
    assert exporter_counter(server, "slotel_exporter_dropped_items", "otlp/tempo") == 0
    protobuf = sum(r.message.ByteSize() for r in sink.snapshot())
    assert wire.upstream_bytes > protobuf, "compression: none sends the protobuf as it is"


def test_grpc_permanent_error_is_dropped_and_counted(tmp_path, cleanup):
    import grpc

    sink = GrpcSink(fail_code=grpc.StatusCode.INVALID_ARGUMENT)
    cleanup(sink)
    sink.fail_next(1)
    server = Slotel.start(tmp_path, exporters=otlp("otlp/tempo", sink.endpoint))
    cleanup(server)
    acked = AckedSpans(grpc_span_exporter(server))
    p = TracerProvider(shutdown_on_exit=False)
    p.add_span_processor(BatchSpanProcessor(acked, schedule_delay_millis=60_000))
    tracer = p.get_tracer("t")
    for i in range(10):
        tracer.start_span(f"s{i}").end()
    p.force_flush()
    deadline = time.monotonic() + 10
    while sink.failed_calls < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    for i in range(5):
        tracer.start_span(f"t{i}").end()
    p.shutdown()
    assert sink.wait_items("traces", 5) == 5
    assert [r.items for r in sink.snapshot()] == [5]
    assert server.wait_counter(
        "slotel_exporter_dropped_items_total", 10, exporter="otlp/tempo", reason="permanent"
    ) == 10
    assert exporter_counter(server, "slotel_exporter_retries", "otlp/tempo") == 0


def make_certs(d) -> tuple[bytes, bytes, str]:
    """A CA and a server certificate for localhost/127.0.0.1 signed by it (openssl CLI).
    Returns (server key PEM, server certificate PEM, CA file path)."""
    openssl = shutil.which("openssl")
    assert openssl, "the TLS test needs the openssl command (Debian package openssl)"

    def run(*args):
        subprocess.run([openssl, *args], cwd=d, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=slotel test CA")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text(
        "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "extendedKeyUsage=serverAuth\n"
    )
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return (d / "server.key").read_bytes(), (d / "server.pem").read_bytes(), str(d / "ca.pem")


def test_grpc_over_tls_with_a_ca_file(tmp_path, cleanup):
    key, cert, ca = make_certs(tmp_path)
    sink = GrpcSink(tls=(key, cert))
    cleanup(sink)
    server = Slotel.start(
        tmp_path,
        exporters=otlp("otlp/tls", f"https://localhost:{sink.port}", f"  tls: {{ca_file: {ca}}}")
        + otlp("otlp/untrusted", f"https://127.0.0.1:{sink.port}"),
    )
    cleanup(server)
    acked = send_spans(server, 80)
    assert sink.wait_items("traces", 80) == 80
    assert sorted(sink.all_span_ids()) == sorted(acked.ids)
    # The same server is not trusted without the CA: nothing delivered, retried.
    time.sleep(0.5)
    assert sink.items("traces") == 80
    assert exporter_counter(server, "slotel_exporter_delivered_items", "otlp/untrusted") == 0
    assert exporter_counter(server, "slotel_exporter_requests", "otlp/untrusted", outcome="retryable") >= 1


@pytest.mark.parametrize("kind", ["otlp", "otlphttp"])
def test_partial_success_is_counted(tmp_path, cleanup, kind):
    sink = GrpcSink() if kind == "otlp" else HttpSink()
    cleanup(sink)
    sink.rejected_per_request = 3
    endpoint = sink.endpoint if kind == "otlp" else sink.url
    server = Slotel.start(tmp_path, exporters=otlp(f"{kind}/x", endpoint))
    cleanup(server)

    send_spans(server, 120)

    assert sink.wait_items("traces", 120) == 120
    requests = len(sink.snapshot())
    assert requests >= 1
    got = server.wait_counter(
        "slotel_exporter_partial_success_rejected_items_total", 3 * requests, exporter=f"{kind}/x"
    )
    assert got == 3 * requests
    # Partial success is still success: the items count as delivered, nothing is retried.
    assert exporter_counter(server, "slotel_exporter_retries", f"{kind}/x") == 0
    assert "rejected part of it" in server.log_text()


def send_all_signals(server: Slotel, token: str, spans: int, points: int, logs: int) -> None:
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.metrics import Counter

    headers = {"authorization": f"Bearer {token}"}
    send_spans(server, spans, token)
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(
            endpoint=server.grpc_endpoint,
            insecure=True,
            headers=headers,
            preferred_temporality={Counter: AggregationTemporality.DELTA},
        ),
        export_interval_millis=600_000,
    )
    mp = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    c = mp.get_meter("t").create_counter("test.requests")
    for i in range(points):
        c.add(i + 1, {"route": f"/r{i}"})
    mp.force_flush()
    mp.shutdown()
    lp = LoggerProvider(shutdown_on_exit=False)
    lp.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=server.grpc_endpoint, insecure=True, headers=headers))
    )
    logger = lp.get_logger("t")
    for i in range(logs):
        logger.emit(body=f"log {i}", severity_number=SeverityNumber.INFO)
    lp.shutdown()


def test_otlphttp_sends_each_signal_to_its_path(tmp_path, cleanup):
    sink = HttpSink()
    cleanup(sink)
    server = Slotel.start(
        tmp_path, auth_tokens=TOKENS, exporters=otlp("otlphttp/mimir", f"{sink.url}/otlp/")
    )
    cleanup(server)

    send_all_signals(server, "tok-b", spans=150, points=6, logs=40)

    assert sink.wait_items("traces", 150) == 150
    assert sink.wait_items("metrics", 6) == 6
    assert sink.wait_items("logs", 40) == 40
    reqs = sink.snapshot()
    assert {r.path for r in reqs} == {"/otlp/v1/traces", "/otlp/v1/metrics", "/otlp/v1/logs"}
    assert {r.content_type for r in reqs} == {"application/x-protobuf"}
    assert {r.encoding for r in reqs} == {"gzip"}
    assert {r.tenant for r in reqs} == {"team-b"}


@pytest.mark.parametrize(
    "compression,storage", [("zstd", "disk"), ("gzip", "disk"), ("none", "memory")]
)
def test_otlphttp_compression_and_queue_storage(tmp_path, cleanup, compression, storage):
    sink = HttpSink()
    cleanup(sink)
    queue = [f"  sending_queue: {{storage: disk, directory: {tmp_path / 'queue'}}}"] if storage == "disk" else []
    server = Slotel.start(
        tmp_path,
        exporters=otlp("otlphttp/tempo", sink.url, f"  compression: {compression}", *queue),
    )
    cleanup(server)
    acked = send_spans(server, 200)
    assert sink.wait_items("traces", 200) == 200
    assert sorted(sink.all_span_ids()) == sorted(acked.ids)
    assert {r.encoding for r in sink.snapshot()} == {None if compression == "none" else compression}


def test_http_503_then_ok_loses_nothing(tmp_path, cleanup):
    sink = HttpSink(fail_status=503)
    cleanup(sink)
    sink.fail_next(3)
    server = Slotel.start(tmp_path, exporters=otlp("otlphttp/tempo", sink.url))
    cleanup(server)
    acked = send_spans(server, 100)
    assert sink.wait_items("traces", 100) == 100
    assert sorted(sink.all_span_ids()) == sorted(acked.ids)
    assert exporter_counter(server, "slotel_exporter_retries", "otlphttp/tempo") >= 3


# -- Loki ----------------------------------------------------------------------------------

LOKI_LABELS = ["service.name", "k8s.cluster.name", "k8s.namespace.name"]


def test_loki_push_labels_lines_metadata_and_timestamps(tmp_path, cleanup):
    sink = HttpSink()
    cleanup(sink)
    server = Slotel.start(
        tmp_path,
        auth_tokens=TOKENS,
        exporters=[
            "loki/logs:",
            f"  endpoint: {sink.url}",
            f"  labels: [{', '.join(LOKI_LABELS)}]",
            FAST_RETRY,
        ],
    )
    cleanup(server)
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

    # An hour ago, on a whole second: within what Loki accepts (`reject_old_samples_max_age`
    # 168h, `creation_grace_period` 10m), which the exporter applies per record.
    base = (time.time_ns() // 1_000_000_000 - 3600) * 1_000_000_000
    expected: dict[str, list[tuple[int, str, dict]]] = {}
    resources = [
        ({"service.name": "orders", "k8s.cluster.name": "busan-prod", "k8s.namespace.name": 'shop "blue"\\x'},
         '{k8s_cluster_name="busan-prod", k8s_namespace_name="shop \\"blue\\"\\\\x", service_name="orders"}'),
        ({"service.name": "search", "host.name": "h1"}, '{service_name="search"}'),
    ]
    for r, (resource, selector) in enumerate(resources):
        lp = LoggerProvider(resource=Resource.create(resource), shutdown_on_exit=False)
        lp.add_log_record_processor(
            BatchLogRecordProcessor(
                OTLPLogExporter(
                    endpoint=server.grpc_endpoint, insecure=True, headers={"authorization": "Bearer tok-a"}
                ),
                schedule_delay_millis=60_000,
            )
        )
        logger = lp.get_logger("t")
        entries = []
        # Emitted newest first: the stream must come out in time order.
        for i in reversed(range(12)):
            ts = base + r * 1_000_000_000 + i * 1_000_003
            meta = {"severity_text": "WARN" if i % 3 == 0 else "INFO",
                    "severity_number": "13" if i % 3 == 0 else "9",
                    "test_index": str(i)}
            ctx = None
            if i % 4 == 0:
                tid, sid = 0x5EED << 100 | i, 0xABC << 50 | i
                sc = trace.SpanContext(tid, sid, is_remote=False, trace_flags=trace.TraceFlags(1))
                ctx = trace.set_span_in_context(trace.NonRecordingSpan(sc))
                meta["trace_id"] = f"{tid:032x}"
                meta["span_id"] = f"{sid:016x}"
            body = {"event": "paid", "n": i} if i % 5 == 0 else f"line {i} of {resource['service.name']}"
            logger.emit(
                timestamp=ts,
                body=body,
                severity_number=SeverityNumber.WARN if i % 3 == 0 else SeverityNumber.INFO,
                severity_text="WARN" if i % 3 == 0 else "INFO",
                attributes={"test.index": i},
                context=ctx,
            )
            line = f'{{"event":"paid","n":{i}}}' if isinstance(body, dict) else body
            entries.append((ts, line, meta))
        lp.shutdown()
        expected[selector] = sorted(entries)

    assert sink.wait_items("loki", 24) == 24
    reqs = sink.snapshot()
    assert {r.content_type for r in reqs} == {"application/x-protobuf"}
    assert {r.tenant for r in reqs} == {"team-a"}
    assert {r.path for r in reqs} == {"/loki/api/v1/push"}
    got: dict[str, list[tuple[int, str, dict]]] = {}
    for r in reqs:
        for stream in r.message.streams:
            ts = [e.timestamp.seconds * 10**9 + e.timestamp.nanos for e in stream.entries]
            assert ts == sorted(ts), "entries sorted by time within a stream"
            for e, t in zip(stream.entries, ts):
                meta = {p.name: p.value for p in e.structured_metadata}
                got.setdefault(stream.labels, []).append((t, e.line, meta))
    assert set(got) == set(expected)
    for selector, entries in expected.items():
        assert sorted(got[selector]) == entries, selector
    assert server.wait_counter("slotel_exporter_delivered_items_total", 24, exporter="loki/logs") == 24


def test_loki_takes_only_logs(tmp_path, cleanup):
    sink = HttpSink()
    cleanup(sink)
    server = Slotel.start(tmp_path, exporters=["loki/logs:", f"  endpoint: {sink.url}"])
    cleanup(server)
    send_spans(server, 30)
    lp = LoggerProvider(resource=Resource.create({"service.name": "a"}), shutdown_on_exit=False)
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

    lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=server.grpc_endpoint, insecure=True)))
    lp.get_logger("t").emit(body="only me", severity_number=SeverityNumber.INFO)
    lp.shutdown()
    assert sink.wait_items("loki", 1) == 1
    time.sleep(0.3)
    assert {r.signal for r in sink.snapshot()} == {"loki"}
    [stream] = [s for r in sink.snapshot() for s in r.message.streams]
    assert stream.labels == '{service_name="a"}'
    assert [e.line for e in stream.entries] == ["only me"]


# -- crash with a disk queue ---------------------------------------------------------------


def test_sigkill_with_a_disk_queue_loses_no_acknowledged_span(tmp_path, cleanup):
    sink = GrpcSink()
    cleanup(sink)
    queue_dir = tmp_path / "queue"
    exporters = otlp(
        "otlp/tempo",
        sink.endpoint,
        f"  sending_queue: {{storage: disk, directory: {queue_dir}, fsync_interval: 50ms}}",
    )
    ports = (free_port(), free_port(), free_port())
    first_dir = tmp_path / "first"
    first_dir.mkdir()
    server = Slotel.start(first_dir, exporters=exporters, ports=ports)
    cleanup(server)

    acked = AckedSpans(grpc_span_exporter(server, timeout=2))
    p = TracerProvider(resource=Resource.create({"service.name": "checkout"}), shutdown_on_exit=False)
    p.add_span_processor(
        BatchSpanProcessor(acked, max_queue_size=200_000, max_export_batch_size=200, schedule_delay_millis=20)
    )
    tracer = p.get_tracer("slotel.pytest.crash")
    stop = threading.Event()
    made = [0]

    def load():
        while not stop.is_set():
            for _ in range(50):
                tracer.start_span("op", kind=trace.SpanKind.SERVER).end()
                made[0] += 1
            time.sleep(0.002)

    t = threading.Thread(target=load, daemon=True)
    t.start()
    time.sleep(1.5)  # delivered while the sink is healthy
    sink.failing = True  # now everything piles up in the disk queue
    time.sleep(2.0)
    acked_before_kill = len(acked.ids)
    server.proc.kill()  # SIGKILL
    server.proc.wait(timeout=10)
    in_sink_at_kill = len(set(sink.all_span_ids()))
    time.sleep(0.5)
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    server2 = Slotel.start(second_dir, exporters=exporters, ports=ports)
    cleanup(server2)
    sink.failing = False
    time.sleep(1.5)
    stop.set()
    t.join(timeout=10)
    p.force_flush()
    p.shutdown()

    want = set(acked.ids)
    assert len(want) == len(acked.ids)
    assert acked_before_kill > in_sink_at_kill, "the disk queue held acknowledged spans at the kill"
    deadline = time.monotonic() + 60
    while not want <= set(sink.all_span_ids()) and time.monotonic() < deadline:
        time.sleep(0.1)
    got = sink.all_span_ids()
    missing = want - set(got)
    assert not missing, f"{len(missing)} of {len(want)} acknowledged spans never reached the sink"
    duplicates = len(got) - len(set(got))
    redelivered = exporter_counter(server2, "slotel_exporter_redelivered_items", "otlp/tempo")
    assert redelivered >= acked_before_kill - in_sink_at_kill
    assert duplicates <= redelivered, (duplicates, redelivered)
    print(
        f"crash: {made[0]} spans made, {len(want)} acknowledged, {len(got)} received "
        f"({duplicates} duplicates), redelivered counter {redelivered}"
    )

