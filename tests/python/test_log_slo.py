"""Log SLIs from the real Python OpenTelemetry SDK's logs exporter, checked against a hand
computation over the records sent.

Three LoggerProviders (three `k8s.cluster.name` resources; gRPC, HTTP and HTTP+gzip) emit
access-log records of an edge proxy: JSON string bodies (as a filelog receiver ships an
access log line) and map bodies (as a json_parser makes them), with `status` and
`request_time` (seconds) written as numbers or as strings holding numbers, nginx's `-` for a
missing time, records without the time field, malformed lines (no JSON: no fields), records
of another service, and records with and without an event timestamp (without one the
record counts at its observed time).

`GET /api/v1/slos` must show, per cluster and for `all`, the exact totals and good counts,
the unreadable latencies by reason, and nearest-rank percentiles within the HDR bound
(0.1%); `/metrics` the same events and unreadable counts.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource

from slotel_harness import Slotel
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


def test_access_logs_from_three_clusters_give_exact_counts(tmp_path, cleanup):
    d = tmp_path / "slos"
    d.mkdir()
    (d / "edge.yaml").write_text(SLOS)
    server = Slotel.start(tmp_path, slo_files=[str(d / "*.yaml")])
    cleanup(server)
    rng = random.Random(20261205)
    now = time.time_ns()
    tallies = {c: Tally() for c in CLUSTERS}
    sent = 0
    for ci, (cluster, (protocol, gzip)) in enumerate(zip(CLUSTERS, TRANSPORTS)):
        provider = LoggerProvider(
            resource=Resource.create({"service.name": "edge", "k8s.cluster.name": cluster}),
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
        logger = provider.get_logger("slotel.pytest.access", "1.0.0")
        t = tallies[cluster]
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
    other = LoggerProvider(
        resource=Resource.create({"service.name": "other", "k8s.cluster.name": CLUSTERS[0]}),
        shutdown_on_exit=False,
    )
    other.add_log_record_processor(BatchLogRecordProcessor(_exporter(server, "grpc", False)))
    for _ in range(20):
        other.get_logger("other").emit(
            body=json.dumps({"status": 500, "request_time": 9.9}), severity_number=SeverityNumber.ERROR
        )
        sent += 1
    other.shutdown()
    _wait_items(server, "logs", sent)

    slos = server.slos()
    for cluster in CLUSTERS + ["all"]:
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
        if cluster == "all":
            dash = sum(t.dash for t in ts)
            missing = sum(t.missing for t in ts)
            assert lat["unreadable_latency"] == {"dash": dash, "invalid": 0, "missing": missing}, lat

        # /metrics: the same events.
        if cluster != "all":
            for slo, (g, n) in {"availability": (total - bad, total), "latency": (good, len(lats))}.items():
                assert server.counter("slotel_slo_events_total", slo=slo, cluster=cluster, outcome="good") == g
                assert server.counter("slotel_slo_events_total", slo=slo, cluster=cluster, outcome="bad") == n - g
    dash = sum(t.dash for t in tallies.values())
    missing = sum(t.missing for t in tallies.values())
    assert server.counter("slotel_slo_log_latency_unreadable_total", slo="latency", reason="dash") == dash
    assert server.counter("slotel_slo_log_latency_unreadable_total", slo="latency", reason="missing") == missing
    assert server.counter("slotel_slo_log_latency_unreadable_total", slo="latency", reason="invalid") == 0
