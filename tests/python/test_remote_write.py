"""Remote write into a real Prometheus (Debian's 2.42, native histograms on).

Spans from the Python OpenTelemetry SDK go through slotel; Prometheus's PromQL API must
then show the exact event counts, and `histogram_quantile` over the native histogram
within the schema's bucket width (schema 6: 2^(1/64) − 1 ≈ 1.09%) of the exact p99.
Scale-out: two instances each get half of the traffic; summed by (slo, service, cluster)
they must equal one instance that got all of it. Outage: Prometheus is stopped for 60 s
under load and started again on the same data directory; every counter must end at the
right value with samples covering the outage.
"""

from __future__ import annotations

import math
import random
import threading
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from prometheus_harness import Prometheus
from slotel_harness import Slotel, generate_rules
from slo_files import ERRORS, server_spans, slo_file, span_slo

SLOS = slo_file(
    "checkout",
    span_slo(
        "latency", 99, where=server_spans("checkout"), latency_threshold="250ms", bad=ERRORS, percentiles=[50, 99]
    ),
)

BUCKET_ERROR = 2 ** (1 / 64) - 1


def write_slos(tmp_path: Path) -> list[str]:
    d = tmp_path / "slos"
    d.mkdir(exist_ok=True)
    (d / "slos.yaml").write_text(SLOS)
    return [str(d / "*.yaml")]


def remote_write(prom: Prometheus, replica: str, setup: str, max_interval: str = "2s") -> list[str]:
    return [
        "prometheusremotewrite/prom:",
        f"  endpoint: {prom.write_url}",
        f"  replica: {replica}",
        f"  external_labels: {{setup: {setup}}}",
        f"  retry_on_failure: {{initial_interval: 200ms, max_interval: {max_interval}}}",
    ]


def exporter(server: Slotel):
    from grpc import Compression
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(
        endpoint=server.grpc_endpoint, insecure=True, timeout=10, compression=Compression.Gzip
    )


def provider(cluster: str, servers: list[Slotel]) -> TracerProvider:
    p = TracerProvider(
        resource=Resource.create({"service.name": "checkout", "k8s.cluster.name": cluster}),
        shutdown_on_exit=False,
    )
    for s in servers:
        p.add_span_processor(
            BatchSpanProcessor(
                exporter(s), max_queue_size=8192, max_export_batch_size=512, schedule_delay_millis=200
            )
        )
    return p


def send(p: TracerProvider, rng: random.Random, n: int, out: list[tuple[int, bool]]) -> None:
    tracer = p.get_tracer("slotel.pytest.remote_write")
    now = time.time_ns()
    for i in range(n):
        duration = max(1_000, int(60e6 * math.exp(rng.gauss(0.0, 0.9))))
        end = now - rng.randrange(0, 20_000_000_000)
        span = tracer.start_span("POST /pay", kind=SpanKind.SERVER, start_time=end - duration)
        error = rng.random() < 0.03
        if error:
            span.set_status(Status(StatusCode.ERROR, "failed"))
        span.end(end_time=end)
        out.append((duration, error))


def nearest_rank(values: list[int], q: float) -> int:
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def test_counts_and_native_histogram_quantiles_match_and_replicas_add_up(tmp_path, cleanup):
    prom = Prometheus.start(tmp_path)
    cleanup(prom)
    slos = write_slos(tmp_path)
    servers = {}
    for name, setup in [("single", "single"), ("a", "split"), ("b", "split")]:
        d = tmp_path / name
        d.mkdir()
        servers[name] = Slotel.start(d, slo_files=slos, exporters=remote_write(prom, name, setup))
        cleanup(servers[name])

    rng = random.Random(7)
    sent: dict[str, list[tuple[int, bool]]] = {}
    for cluster in ["seoul", "busan"]:
        sent[cluster] = []
        for half in ["a", "b"]:
            p = provider(cluster, [servers["single"], servers[half]])
            send(p, rng, 700, sent[cluster])
            p.shutdown()
    total = sum(len(v) for v in sent.values())

    def events(setup: str, extra: str = "") -> str:
        return f'sum(slotel_slo_events_total{{setup="{setup}",slo="latency",cluster!="all"{extra}}})'

    assert prom.wait_value(events("single"), total, timeout=60) == total
    assert prom.wait_value(events("split"), total, timeout=60) == total
    for cluster, spans in sent.items():
        bad = sum(1 for d, e in spans if e or d > 250_000_000)
        for setup in ["single", "split"]:
            for outcome, want in [("bad", bad), ("good", len(spans) - bad)]:
                q = events(setup, f',cluster="{cluster}",outcome="{outcome}"')
                assert prom.scalar(q) == want, (setup, cluster, outcome)
    # The `all` roll-up each instance writes adds up across replicas too.
    assert prom.scalar('sum(slotel_slo_events_total{setup="split",cluster="all"})') == total

    durations = [d for spans in sent.values() for d, _ in spans]
    exact = nearest_rank(durations, 0.99) / 1e9
    quantiles = {}
    for setup in ["single", "split"]:
        q = (
            "histogram_quantile(0.99, sum by (slo, service, cluster) "
            f'(slotel_slo_latency_seconds{{setup="{setup}",cluster="all"}}))'
        )
        quantiles[setup] = prom.scalar(q)
        assert quantiles[setup] is not None, q
        assert abs(quantiles[setup] - exact) / exact <= BUCKET_ERROR, (setup, quantiles[setup], exact)
    assert quantiles["split"] == pytest.approx(quantiles["single"], rel=1e-9)
    per_cluster = prom.query(
        "histogram_quantile(0.5, sum by (cluster) "
        '(slotel_slo_latency_seconds{setup="split",cluster!="all"}))'
    )
    for r in per_cluster:
        cluster = r["metric"]["cluster"]
        want = nearest_rank([d for d, _ in sent[cluster]], 0.5) / 1e9
        assert abs(float(r["value"][1]) - want) / want <= BUCKET_ERROR, (cluster, r, want)
    # Gauges arrive too, labelled per replica.
    objective = prom.query('slotel_slo_objective_ratio{setup="split"}')
    assert sorted(r["metric"]["slotel_replica"] for r in objective) == ["a", "b"]
    assert all(float(r["value"][1]) == 0.99 for r in objective)


def test_a_60s_backend_outage_loses_nothing(tmp_path, cleanup):
    prom = Prometheus.start(tmp_path)
    cleanup(prom)
    server = Slotel.start(
        tmp_path, slo_files=write_slos(tmp_path), exporters=remote_write(prom, "r1", "outage", "5s")
    )
    cleanup(server)
    sent: list[tuple[int, bool]] = []
    stop = threading.Event()

    def load() -> None:
        rng = random.Random(11)
        p = provider("seoul", [server])
        while not stop.is_set():
            send(p, rng, 50, sent)
            time.sleep(0.25)
        p.shutdown()

    t = threading.Thread(target=load)
    t.start()
    try:
        time.sleep(8)
        prom.stop()
        outage_start = time.time()
        time.sleep(60)
        outage_end = time.time()
        prom.run()
        time.sleep(8)
    finally:
        stop.set()
        t.join()
    total = len(sent)
    q = 'sum(slotel_slo_events_total{setup="outage",cluster="seoul"})'
    assert prom.wait_value(q, total, timeout=90) == total
    bad = sum(1 for d, e in sent if e or d > 250_000_000)
    assert prom.scalar(q.replace('"seoul"', '"seoul",outcome="bad"')) == bad
    # The samples taken during the outage were delivered afterwards: every 15 s of the
    # outage has samples, so rate() bridges it.
    for t_end in range(int(outage_start) + 15, int(outage_end) + 1, 15):
        r = prom.http.get(
            f"{prom.url}/api/v1/query",
            params={
                "query": 'count_over_time(slotel_slo_events_total{setup="outage",cluster="seoul",outcome="good"}[15s])',
                "time": str(t_end),
            },
            timeout=10,
        ).json()
        result = r["data"]["result"]
        assert result and float(result[0]["value"][1]) >= 5, (t_end, r)


def test_generated_rules_agree_with_the_status_api(tmp_path, cleanup):
    """`slotel rules` output loaded into the Prometheus slotel writes to: the recorded
    error ratios and burn rates must match slotel's own /api/v1/slos within 1%, and the
    latency percentile recordings must run on the native histograms."""
    slos = write_slos(tmp_path)
    rule_file = generate_rules(slos[0], tmp_path / "rules")
    prom = Prometheus.start(tmp_path, rule_files=[rule_file])
    cleanup(prom)
    server = Slotel.start(tmp_path, slo_files=slos, exporters=remote_write(prom, "r1", "rules"))
    cleanup(server)

    # One span first, so every series exists before the traffic that the rates measure
    # (rate() cannot see the increase that a series' first sample already holds).
    rng = random.Random(5)
    warmup: list[tuple[int, bool]] = []
    p = provider("seoul", [server])
    send(p, rng, 1, warmup)
    p.force_flush()
    assert prom.wait_value('count(slotel_slo_events_total{setup="rules",cluster="all"})', 2, timeout=30) == 2
    time.sleep(3)
    sent: list[tuple[int, bool]] = []
    send(p, rng, 3000, sent)
    p.shutdown()
    total = len(sent) + 1
    q = 'sum(slotel_slo_events_total{setup="rules",cluster="all"})'
    assert prom.wait_value(q, total, timeout=60) == total
    # Let the rates see a long run of samples, and the rules evaluate (every 5 s).
    time.sleep(30)

    api = next(s for s in server.slos() if s["name"] == "latency" and s["cluster"] == "all")
    detail = server.http.get(
        f"{server.admin_url}/api/v1/slos/checkout/latency", timeout=5
    ).json()
    windows = {
        w["window"]: w
        for e in detail["slos"]
        if e["cluster"] == "all"
        for w in e["windows"]
    }
    sel = '{slo="latency",service="checkout",cluster="all"}'
    for window in ["5m", "30m", "1h", "6h", "1d", "3d", "30d"]:
        recorded = prom.scalar(f"max(slo:sli_error:ratio_rate{window}{sel})")
        want = windows[window]["error_ratio"]
        assert recorded is not None and want, (window, recorded, want)
        assert abs(recorded - want) / want <= 0.01, (window, recorded, want)
    burn = prom.scalar(f"max(slo:current_burn_rate:ratio{sel})")
    assert abs(burn - api["burn_rate"]["5m"]) / api["burn_rate"]["5m"] <= 0.01, (burn, api["burn_rate"])
    period = prom.scalar(f"max(slo:period_burn_rate:ratio{sel})")
    assert abs(period - api["burn_rate"]["30d"]) / api["burn_rate"]["30d"] <= 0.01, (period, api)
    remaining = prom.scalar(f"max(slo:period_error_budget_remaining:ratio{sel})")
    assert remaining == pytest.approx(api["error_budget_remaining"], abs=0.01 * abs(1 - remaining) + 1e-9)
    # The latency recordings run on the native histogram; rate() of a histogram whose
    # buckets grew gives the quantile of the new observations.
    p99 = prom.scalar(f"max(slo:latency_seconds:quantile_rate5m{{slo=\"latency\",cluster=\"all\",quantile=\"0.99\"}})")
    exact = nearest_rank([d for d, _ in sent], 0.99) / 1e9
    assert p99 is not None and abs(p99 - exact) / exact <= 0.02, (p99, exact)
    assert not [r for r in prom.http.get(f"{prom.url}/api/v1/rules", timeout=5).json()["data"]["groups"]
                for rule in r["rules"] if rule.get("health") != "ok"]
