"""PII redaction through a real slotel process, fed by the real Python OpenTelemetry SDK.

slotel runs with `processors.redaction` on (hash key from the environment, Kubernetes pod
names pseudonymised) and a file exporter. The SDK sends log records whose bodies are the JSON
bodies of the labelled corpus (`testdata/redact/corpus.jsonl`) plus a few with PII in
attributes, and spans with PII in names, attributes and events, over gRPC and OTLP/HTTP.
After SIGTERM (exit 0) the file exporter's output must contain none of the PII values, every
hard negative, and every JSON body must still parse with the same keys in the same order.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from slotel_harness import REPO_ROOT, Slotel, _PortTaken, attrs, free_port, read_export_file, slotel_bin

CORPUS = REPO_ROOT / "testdata" / "redact" / "corpus.jsonl"
RECORDS_PER_TRANSPORT = 150
POD = "checkout-7d9f8b6c5-x2kqz"
HASH_KEY = "python-test-key-0123456789"


def corpus(kind: str = "json") -> list[dict]:
    rows = [json.loads(line) for line in CORPUS.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["kind"] == kind]


def start_redacting(tmp_path: Path) -> Slotel:
    """slotel_harness.Slotel with a `processors.redaction` block in its config."""
    for attempt in range(3):
        grpc_port, http_port, admin_port = free_port(), free_port(), free_port()
        out_path = tmp_path / "out.jsonl"
        log_path = tmp_path / f"slotel-{attempt}.log"
        config = f"""receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:{grpc_port}}}
      http: {{endpoint: 127.0.0.1:{http_port}}}
processors:
  redaction:
    detectors: {{email: hash}}
    hash: {{key: "${{env:SLOTEL_TEST_REDACTION_KEY}}"}}
    summary: true
    pseudonymize:
      attributes: [k8s.pod.name]
exporters:
  file/out: {{path: {json.dumps(str(out_path))}}}
service:
  admin: {{endpoint: 127.0.0.1:{admin_port}}}
  telemetry:
    logs: {{level: info, format: json}}
"""
        config_path = tmp_path / "slotel.yaml"
        config_path.write_text(config)
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env["SLOTEL_TEST_REDACTION_KEY"] = HASH_KEY
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [str(slotel_bin()), "run", "--config", str(config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp_path,
            )
        server = Slotel(proc, grpc_port, http_port, admin_port, out_path, log_path)
        server.http.trust_env = False
        try:
            server._wait_ready()
            return server
        except _PortTaken:
            continue
    raise RuntimeError("slotel did not start after 3 attempts")


def exporters(server: Slotel, protocol: str):
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return (
            OTLPLogExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10),
            OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10),
        )
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return (
        OTLPLogExporter(endpoint=server.http_endpoint("logs"), timeout=10),
        OTLPSpanExporter(endpoint=server.http_endpoint("traces"), timeout=10),
    )


def resource(protocol: str) -> Resource:
    return Resource.create(
        {"service.name": "checkout", "k8s.cluster.name": "seoul-prod", "k8s.pod.name": POD, "test.protocol": protocol}
    )


def send(server: Slotel, protocol: str, records: list[dict], offset: int) -> None:
    log_exporter, span_exporter = exporters(server, protocol)
    logs = LoggerProvider(resource=resource(protocol), shutdown_on_exit=False)
    logs.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    logger = logs.get_logger("slotel.redaction.pytest")
    for i, rec in enumerate(records):
        logger.emit(body=rec["body"], attributes={"test.index": offset + i})
    logger.emit(
        body="payment declined",
        attributes={
            "test.index": -1,
            "user.email": "lee.jiwon@example.com",
            "http.request.header.authorization": "Bearer t0k3n-abcdef-123456",
            "customer.rrn": "850315-2345678",
            "order.id": "4539578763621487",
        },
    )
    logs.shutdown()

    traces = TracerProvider(resource=resource(protocol), shutdown_on_exit=False)
    traces.add_span_processor(SimpleSpanProcessor(span_exporter))
    tracer = traces.get_tracer("slotel.redaction.pytest")
    with tracer.start_as_current_span(
        "GET /users/park.sora@example.com/cards/4111111111111111",
        kind=SpanKind.SERVER,
        attributes={
            "http.route": "/users/{email}/cards/{card}",
            "url.query": "access_token=sEcReT-tOkEn-42&lang=ko",
            "enduser.phone": "+82 10-5555-1234",
            "request.id": "123e4567-e89b-12d3-a456-426614174000",
        },
    ) as span:
        span.add_event("lookup", {"db.statement": "SELECT * FROM users WHERE email = 'park.sora@example.com'"})
    traces.shutdown()


def key_order(text: str) -> list:
    """Keys in document order, nested JSON strings included."""
    keys = []

    def pairs(items):
        keys.append([k for k, _ in items])
        for _, v in items:
            if isinstance(v, str) and v.lstrip().startswith(("{", "[")):
                try:
                    json.loads(v, object_pairs_hook=pairs)
                except ValueError:
                    pass
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return keys


@pytest.mark.parametrize("protocol", ["grpc", "http"])
def test_pii_never_reaches_the_exporter(tmp_path, protocol):
    records = corpus("json")[:RECORDS_PER_TRANSPORT]
    server = start_redacting(tmp_path)
    try:
        send(server, protocol, records, 0)
        assert server.wait_counter("slotel_receiver_accepted_log_records_total", len(records) + 1) == len(records) + 1
        redacted = server.counter("slotel_redactions_total", signal="logs")
        assert redacted >= len(records), server.metrics_text()
        assert server.counter("slotel_redactions_total", type="email", action="hash") > 0
    finally:
        assert server.terminate() == 0, server.log_text()

    out_text = server.out_path.read_text()
    exported = read_export_file(server.out_path)
    assert POD not in out_text, "pod name was not pseudonymised"
    for needle in [
        "lee.jiwon@example.com",
        "t0k3n-abcdef-123456",
        "850315-2345678",
        "park.sora@example.com",
        "4111111111111111",
        "sEcReT-tOkEn-42",
        "5555-1234",
    ]:
        assert needle not in out_text, f"{needle} reached the exporter"
    for rec in records:
        for ty, value in rec["pii"]:
            assert value not in out_text, f"{ty} {value} reached the exporter"
    for keep in ["seoul-prod", "checkout", "/users/{email}/cards/{card}", "123e4567-e89b-12d3-a456-426614174000", "4539578763621487"]:
        assert keep in out_text, f"{keep} was changed"

    bodies = {}
    for res, rec in exported.log_records():
        assert res["k8s.pod.name"].startswith("k8s:"), res
        a = attrs(rec.get("attributes"))
        bodies[a["test.index"]] = (rec["body"]["stringValue"], a)
    assert len(bodies) == len(records) + 1
    for i, rec in enumerate(records):
        body, a = bodies[i]
        for keep in rec["keep"]:
            assert keep in body, f"record {i}: hard negative {keep!r} changed: {body}"
        assert key_order(body) == key_order(rec["body"]), f"record {i}: structure changed: {body}"
        if rec["pii"]:
            assert a.get("slotel.redaction.count", 0) >= 1, a
    _, extra = bodies[-1]
    assert extra["user.email"].startswith("email:"), extra
    assert extra["http.request.header.authorization"] == "[REDACTED:secret]"
    assert extra["customer.rrn"] == "[REDACTED:secret]"
    assert extra["order.id"] == "4539578763621487"

    (_, _, span), = list(exported.spans())
    assert span["name"].startswith("GET /users/email:") and "[REDACTED:credit_card]" in span["name"], span["name"]
    sa = attrs(span.get("attributes"))
    assert sa["url.query"] == "access_token=[REDACTED:secret]&lang=ko", sa
    assert sa["enduser.phone"] == "[REDACTED:phone]"
    ev = attrs(span["events"][0]["attributes"])
    assert "park.sora" not in ev["db.statement"] and ev["db.statement"].startswith("SELECT * FROM users WHERE email = '")
