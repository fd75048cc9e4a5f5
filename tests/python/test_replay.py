"""`slo.capture` and `slotel replay` with traffic from the real Python OpenTelemetry SDK.

A slotel with a capture receives spans from two SDK TracerProviders (gRPC and HTTP, two
`k8s.cluster.name` resources) with known routes, HTTP statuses and durations. Then:

- the capture holds every span within seconds (a file in progress is readable);
- `slotel replay` of the same SLO files over the capture, at the time the live API was
  asked, answers exactly what `GET /api/v1/slos` answered (counts, ratios, budgets, burn
  rates, percentiles);
- a replay of an edited SLO (another latency threshold, another objective) gives the
  counts this test computes from the durations it sent;
- a damaged capture file is skipped with a warning naming it, and replay still succeeds;
- `slotel suggest` over the capture gives the counts, budgets and percentiles this test
  computes from the spans it sent.

And with metrics from the SDK's MeterProviders (cumulative over gRPC, its process restarted
between rounds; delta over HTTP): the live API counts every recorded value as this test
does, a replay of the metric SLOs answers what the API answered, and an edited threshold
(another bucket bound) and objective give the counts this test computes.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
import time
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

from slotel_harness import Slotel, slotel_bin
from slo_files import server_spans, slo_file, span_slo

SLOS = slo_file(
    "shop",
    span_slo(
        "availability", 99, window="7d", where=server_spans("shop"),
        bad='attributes["http.response.status_code"] >= 500',
        group_by=['attributes["http.route"]'], min_events=1,
    ),
    span_slo(
        "latency", 95, window="7d", where=server_spans("shop"), latency_threshold="250ms",
        percentiles=[50, 90, 99], min_events=1,
    ),
)

CLUSTERS = [("seoul", "grpc"), ("busan", "http")]
ROUTES = ["/pay", "/cart", "/items"]


def _exporter(server: Slotel, protocol: str):
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=server.http_endpoint("traces"), timeout=10)


def _send(server: Slotel) -> list[tuple[str, str, int, int]]:
    """Sends the spans; returns (cluster, route, status, duration ns) of each."""
    rng = random.Random(20261204)
    now = time.time_ns()
    sent = []
    for cluster, protocol in CLUSTERS:
        provider = TracerProvider(
            resource=Resource.create({"service.name": "shop", "k8s.cluster.name": cluster}),
            shutdown_on_exit=False,
        )
        provider.add_span_processor(
            BatchSpanProcessor(
                _exporter(server, protocol),
                max_queue_size=4096,
                max_export_batch_size=200,
                schedule_delay_millis=60_000,
            )
        )
        tracer = provider.get_tracer("slotel.pytest.replay", "1.0.0")
        for i in range(600):
            route = ROUTES[i % 3]
            duration = max(1_000, int(120e6 * math.exp(rng.gauss(0.0, 0.7))))
            status = 503 if rng.random() < 0.03 else 200
            end = now - rng.randrange(0, 40_000_000_000)
            span = tracer.start_span(
                f"GET {route}",
                kind=SpanKind.SERVER,
                attributes={"http.route": route, "http.response.status_code": status},
                start_time=end - duration,
            )
            span.end(end_time=end)
            sent.append((cluster, route, status, duration))
        provider.shutdown()
    return sent


def _replay(slos: list[str], capture: Path, *extra: str, check: bool = True) -> tuple[dict, str]:
    args = [str(slotel_bin()), "replay", "--capture", str(capture)]
    for s in slos:
        args += ["--slos", s]
    proc = subprocess.run(
        args + list(extra), capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    if not check and proc.returncode != 0:
        return {"spans": 0, "warnings": [proc.stderr]}, proc.stderr
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def _entry(slos: list[dict], name: str, cluster: str) -> dict:
    for e in slos:
        if e["name"] == name and e["cluster"] == cluster and "group" not in e:
            return e
    raise AssertionError(f"no {name}/{cluster} in {slos}")


def _suggest_matches_the_sent_spans(capture: Path, sent: list[tuple[str, str, int, int]]) -> None:
    """`slotel suggest` over the same capture: counts, budget and percentiles by hand."""
    proc = subprocess.run(
        [str(slotel_bin()), "suggest", "--capture", str(capture), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert [s["service"] for s in found["services"]] == ["shop"]
    shop = found["services"][0]
    n = len(sent)
    bad = sum(1 for s in sent if s[2] >= 500)
    assert shop["spans"] == n
    assert (shop["availability"]["events"], shop["availability"]["bad"]) == (n, bad)
    for c in shop["availability"]["objectives"]:
        spent = bad / n / (1 - c["objective"] / 100)
        assert abs(c["budget_spent"] - spent) < 1e-9, (c, spent)
        assert c["met"] == (n - bad >= c["objective"] / 100 * n - 1e-9)
    durations = sorted(s[3] for s in sent)
    for q in [50, 90, 95, 99, 99.5, 99.9]:
        exact = durations[math.ceil(q / 100 * n - 1e-9) - 1] / 1e9
        got = shop["latency"]["percentiles"]["p" + str(q).replace(".", "")]
        assert exact <= got <= exact * 1.001, (q, got, exact)
    for c in shop["latency"]["candidates"]:
        slow = sum(1 for d in durations if d > round(c["threshold_seconds"] * 1e9))
        assert (c["events"], c["bad"]) == (n, slow), c
        assert abs(c["budget_spent"] - slow / n / (1 - c["objective"] / 100)) < 1e-9, c
    suggested = [c for c in shop["latency"]["candidates"] if c.get("suggested")]
    assert {c["objective"] for c in suggested} == {90, 95, 99, 99.5, 99.9}
    assert all(c["met"] for c in suggested), suggested


def _capturing(tmp_path: Path, name: str, slos: str) -> tuple[Slotel, Path, Path]:
    """A slotel with `slos` (in `slos/NAME.yaml`) and a capture; its SLO directory and
    capture directory."""
    slo_dir = tmp_path / "slos"
    slo_dir.mkdir()
    (slo_dir / f"{name}.yaml").write_text(slos)
    capture = tmp_path / "capture"
    server = Slotel.start(
        tmp_path,
        slo_files=[str(slo_dir / "*.yaml")],
        slo_settings=["capture:", f"  directory: {json.dumps(str(capture))}", "  rotate_every: 1h"],
    )
    return server, slo_dir, capture


def test_replay_of_the_capture_answers_what_the_live_api_did(tmp_path):
    server, slo_dir, capture = _capturing(tmp_path, "shop", SLOS)
    try:
        sent = _send(server)
        got = server.wait_counter(
            "slotel_exporter_sent_items_total", len(sent), exporter="slo", signal="traces"
        )
        assert got == len(sent), server.log_text()
        live = server.slos()
        asked_at = time.time()

        # On disk within 5 s, while slotel runs (the file is still being written); until
        # the first flush the capture has no facts, which replay refuses.
        deadline = time.monotonic() + 5
        while True:
            report, _ = _replay(
                [str(slo_dir / "*.yaml")], capture, "--to", f"{asked_at:.9f}", check=False
            )
            if report["spans"] == len(sent) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert report["spans"] == len(sent), report["warnings"]
        assert report["warnings"] == []
        assert report["slos"] == live

        # The numbers are the traffic's: exact counts, percentiles present.
        avail = _entry(live, "availability", "all")
        assert avail["total"] == len(sent)
        assert avail["good"] == sum(1 for s in sent if s[2] < 500)
        lat = _entry(live, "latency", "all")
        assert lat["good"] == sum(1 for s in sent if s[3] <= 250_000_000)
        assert lat["latency"]["p99"] is not None

        # An edited SLO: another threshold and objective, counted by hand.
        edited = tmp_path / "edited.yaml"
        edited.write_text(SLOS.replace("250ms", "100ms").replace("objective: 95", "objective: 90"))
        report, _ = _replay([str(edited)], capture, "--to", f"{asked_at:.9f}")
        for cluster in ["all"] + [c for c, _ in CLUSTERS]:
            mine = [s for s in sent if cluster == "all" or s[0] == cluster]
            good = sum(1 for s in mine if s[3] <= 100_000_000)
            e = _entry(report["slos"], "latency", cluster)
            assert (e["total"], e["good"], e["objective"]) == (len(mine), good, 0.9), e
            budget = 1 - ((len(mine) - good) / len(mine)) / (1 - 0.9)
            assert abs(e["error_budget_remaining"] - budget) < 1e-9, (e, budget)
        # Per route, by hand too.
        for route in ROUTES:
            mine = [s for s in sent if s[1] == route]
            groups = [
                e
                for e in report["slos"]
                if e["name"] == "availability" and e["cluster"] == "all" and e.get("group") == {"http.route": route}
            ]
            assert groups == [], "groups are listed per cluster"
            per_cluster = [
                e
                for e in report["slos"]
                if e["name"] == "availability" and e.get("group") == {"http.route": route}
            ]
            assert sum(e["total"] for e in per_cluster) == len(mine)
            assert sum(e["good"] for e in per_cluster) == sum(1 for s in mine if s[2] < 500)
    finally:
        assert server.terminate() == 0, server.log_text()

    _suggest_matches_the_sent_spans(capture, sent)

    # A damaged file: cut short, beside garbage. Both skipped with their names; the rest
    # of the capture still counts.
    files = sorted(capture.glob("*.arrows"))
    assert len(files) == 1
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    data = files[0].read_bytes()
    # The writer gathers requests into few messages, so the cut may leave none of this
    # file's spans: a sound copy after it keeps the replay's period.
    (damaged / files[0].name).write_bytes(data[: len(data) * 2 // 3])
    (damaged / "facts-99999999999999999999-000001.arrows").write_bytes(data)
    (damaged / "facts-0-garbage.arrows").write_bytes(b"\xff\xff\xff\xff\x10\x00\x00\x00garbage")
    report, stderr = _replay([str(slo_dir / "*.yaml")], damaged, "--format", "json")
    assert len(sent) <= report["spans"] < 2 * len(sent)
    assert len(report["warnings"]) == 2, report["warnings"]
    assert "facts-0-garbage.arrows" in stderr
    assert files[0].name in stderr
    shutil.rmtree(damaged)


METRIC_SLOS = """
service: basket
slos:
  - name: latency
    objective: 95
    window: 7d
    min_events: 1
    sli:
      metric:
        histogram: basket.duration
        threshold: 250ms
    group_by:
      - attributes["http.route"]
  - name: requests
    objective: 99
    window: 7d
    min_events: 1
    sli:
      metric:
        bad:
          name: basket.requests
          where: attributes["code"] >= 500
        total: basket.requests
"""

METRIC_BOUNDS = [0.05, 0.1, 0.25, 0.5, 1.0]


def _send_metrics(server: Slotel, rounds: int = 3, n: int = 300) -> list[tuple[str, float, int]]:
    """seoul over gRPC, cumulative, its process restarted between rounds (a new start time
    each: every series starts over); busan over HTTP, delta, one process. Returns (cluster,
    duration s, status) of each request recorded."""
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpExporter
    from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
    from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader

    def provider(cluster: str) -> MeterProvider:
        if cluster == "seoul":
            exporter = GrpcExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)
        else:
            delta = {Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA}
            exporter = HttpExporter(
                endpoint=server.http_endpoint("metrics"), timeout=10, preferred_temporality=delta
            )
        return MeterProvider(
            metric_readers=[PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)],
            resource=Resource.create({"service.name": "basket", "k8s.cluster.name": cluster}),
            shutdown_on_exit=False,
        )

    rng = random.Random(20261206)
    sent = []
    busan = provider("busan")
    for _ in range(rounds):
        seoul = provider("seoul")
        for cluster, mp in (("seoul", seoul), ("busan", busan)):
            meter = mp.get_meter("slotel.pytest.replay")
            duration = meter.create_histogram("basket.duration", unit="s", explicit_bucket_boundaries_advisory=METRIC_BOUNDS)
            requests = meter.create_counter("basket.requests")
            for i in range(n):
                d = rng.lognormvariate(math.log(0.15), 0.8)
                route = ("/pay", "/cart")[i % 2]
                status = 503 if rng.random() < 0.04 else 200
                duration.record(d, {"http.route": route})
                requests.add(1, {"code": status})
                sent.append((cluster, d, status))
            # Two exports a round: the cumulative series advance, the delta ones restart.
            assert mp.force_flush()
            assert mp.force_flush()
        seoul.shutdown()
    busan.shutdown()
    return sent


def test_replay_of_metric_slos_answers_what_the_live_api_did(tmp_path):
    server, slo_dir, capture = _capturing(tmp_path, "basket", METRIC_SLOS)
    try:
        sent = _send_metrics(server)

        def requests_total() -> int:
            return sum(e["total"] for e in server.slos() if e["name"] == "requests" and e["cluster"] == "all")

        deadline = time.monotonic() + 20
        while requests_total() != len(sent) and time.monotonic() < deadline:
            time.sleep(0.2)
        live = server.slos()
        asked_at = time.time()
        # Every request counted once, by hand: the threshold's effective bound is 0.25.
        for cluster in ["all", "seoul", "busan"]:
            mine = [s for s in sent if cluster == "all" or s[0] == cluster]
            req = _entry(live, "requests", cluster)
            assert (req["total"], req["good"]) == (len(mine), sum(1 for s in mine if s[2] < 500)), req
            lat = _entry(live, "latency", cluster)
            assert (lat["total"], lat["good"]) == (len(mine), sum(1 for s in mine if s[1] <= 0.25)), lat

        deadline = time.monotonic() + 10
        while True:
            report, _ = _replay([str(slo_dir / "*.yaml")], capture, "--to", f"{asked_at:.9f}", check=False)
            if report.get("slos") == live or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert report["warnings"] == []
        assert report["metric_requests"] > 0
        assert report["slos"] == live

        # An edited SLO: the threshold at another bound (0.1) and another objective.
        edited = tmp_path / "edited.yaml"
        edited.write_text(METRIC_SLOS.replace("250ms", "100ms").replace("objective: 95", "objective: 90"))
        report, _ = _replay([str(edited)], capture, "--to", f"{asked_at:.9f}")
        for cluster in ["all", "seoul", "busan"]:
            mine = [s for s in sent if cluster == "all" or s[0] == cluster]
            e = _entry(report["slos"], "latency", cluster)
            good = sum(1 for s in mine if s[1] <= 0.1)
            assert (e["total"], e["good"], e["objective"]) == (len(mine), good, 0.9), e
    finally:
        assert server.terminate() == 0, server.log_text()
