"""A trace-aware journey (`mode: trace`) from real Python SDK traffic.

Four services send spans through the OpenTelemetry SDK (login and payment over gRPC, cart
and search over HTTP), each from its own tracer provider. A checkout trace crosses them the
way a real one does: login starts it, its W3C `traceparent` goes to cart and payment
(inject, then extract on the other side), so one trace's spans arrive in different export
requests, from different resources and clusters — busan's checkouts pay in seoul.

The test keeps every trace it sent and computes the journey by hand, by the README's rules:
one event per trace with a member span (a server span of login, cart or payment), bad when
any member span is bad (login or cart: error status; payment: error or slower than 300 ms),
in the cluster of the member span that started first. Client spans and search's spans are
no member's, whatever their status. Then:

1. `GET /api/v1/slos` shows exactly those counts (per cluster and `all`), and the error
   ratio, budget, burn rate and status that follow at the journey's objective;
2. `/metrics` carries them as `slotel_slo_events_total{service="shop", slo="checkout"}`,
   with every trace closed after its wait and none open;
3. the rules `slotel rules` generates give the API's error ratio from the journey's own
   counters (`promtool test rules`);
4. with a long wait, the traces open at SIGTERM close at shutdown, and with `state_dir`
   their events are there after a restart.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from slotel_harness import Slotel, generate_rules, parse_metrics
from slo_files import ERRORS, server_spans, slo_file, span_slo

MEMBERS = "---".join([
    slo_file("login", span_slo("availability", 99.9, where=server_spans("login"), bad=ERRORS)),
    slo_file("cart", span_slo("availability", 99.5, where=server_spans("cart"), bad=ERRORS)),
    slo_file("payment", span_slo("fast", 99, where=server_spans("payment"), bad=ERRORS, latency_threshold="300ms")),
])

JOURNEY = """
---
service: shop
slos:
  - name: checkout
    objective: 99
    window: 30d
    journey:
      mode: trace
      max_wait: {wait}
      max_traces: 10000
      members:
        - slo: login/availability
        - slo: cart/availability
        - slo: payment/fast
"""

CLUSTERS = ["seoul-prod", "busan-prod"]
# service -> transport; payment runs in seoul only.
TRANSPORT = {"login": "grpc", "cart": "http", "payment": "grpc", "search": "http"}
MS = 1_000_000
PROPAGATOR = TraceContextTextMapPropagator()


def _exporter(server: Slotel, transport: str):
    if transport == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=server.http_endpoint("traces"), timeout=10)


class Fleet:
    """One tracer provider per (service, cluster), exporting when shut down."""

    def __init__(self, server: Slotel):
        self.providers: dict[tuple[str, str], TracerProvider] = {}
        self.server = server

    def tracer(self, service: str, cluster: str):
        key = (service, cluster)
        if key not in self.providers:
            p = TracerProvider(
                resource=Resource.create({"service.name": service, "k8s.cluster.name": cluster}),
                shutdown_on_exit=False,
            )
            p.add_span_processor(
                BatchSpanProcessor(
                    _exporter(self.server, TRANSPORT[service]),
                    max_queue_size=8192,
                    max_export_batch_size=128,
                    schedule_delay_millis=60_000,
                )
            )
            self.providers[key] = p
        return self.providers[key].get_tracer("slotel.pytest.journey_trace", "1.0.0")

    def shutdown(self):
        for p in self.providers.values():
            p.shutdown()


def _send(server: Slotel, n: int, seed: int) -> tuple[list[dict], int]:
    """Sends `n` checkouts (and noise); returns each trace's member spans and the spans sent.

    A member span is recorded as {"start", "cluster", "bad"} as the README defines them."""
    rng = random.Random(seed)
    fleet = Fleet(server)
    now = time.time_ns()
    traces: list[dict] = []
    sent = 0

    def span(service, cluster, name, kind, start, end, error, context=None):
        nonlocal sent
        s = fleet.tracer(service, cluster).start_span(name, context=context, kind=kind, start_time=start)
        if error:
            s.set_status(Status(StatusCode.ERROR, "failed"))
        s.end(end_time=end)
        sent += 1
        return s

    for i in range(n):
        cluster = CLUSTERS[i % 2]
        base = now - rng.randrange(2_000, 60_000) * MS
        members = []
        headers: dict[str, str] = {}
        with_login = rng.random() < 0.85
        if with_login:
            err = rng.random() < 0.04
            root = span("login", cluster, "POST /login", SpanKind.SERVER, base, base + 40 * MS, err)
            members.append({"start": base, "cluster": cluster, "bad": err})
            PROPAGATOR.inject(headers, context=trace.set_span_in_context(root))
            # The login service's own call out: a client span, no member's, sometimes failed.
            span("login", cluster, "GET users-db", SpanKind.CLIENT, base + MS, base + 3 * MS,
                 rng.random() < 0.2, context=trace.set_span_in_context(root))
        ctx = PROPAGATOR.extract(headers) if headers else None
        start = base + 50 * MS
        err = rng.random() < 0.05
        cart = span("cart", cluster, "POST /cart", SpanKind.SERVER, start, start + 30 * MS, err, context=ctx)
        members.append({"start": start, "cluster": cluster, "bad": err})
        headers = {}
        PROPAGATOR.inject(headers, context=trace.set_span_in_context(cart))
        if rng.random() < 0.3:
            # Search is no member: its errors do not count.
            s = base + 55 * MS
            span("search", cluster, "GET /search", SpanKind.SERVER, s, s + 5 * MS,
                 rng.random() < 0.5, context=PROPAGATOR.extract(headers))
        if rng.random() < 0.9:
            # Payment runs in seoul: busan's checkouts cross clusters.
            s = base + 90 * MS
            took = rng.choice([80, 120, 250, 400]) * MS
            err = rng.random() < 0.03
            span("payment", "seoul-prod", "POST /pay", SpanKind.SERVER, s, s + took, err,
                 context=PROPAGATOR.extract(headers))
            members.append({"start": s, "cluster": "seoul-prod", "bad": err or took > 300 * MS})
        traces.append({"members": members})
    # A trace of a search span alone: no journey event.
    span("search", "seoul-prod", "GET /search", SpanKind.SERVER, now - 3_000 * MS, now - 2_990 * MS, True)
    fleet.shutdown()
    return traces, sent


def _by_hand(traces: list[dict]) -> dict[str, tuple[int, int]]:
    """{cluster: (total, good)} with `all`: one event per trace with a member span."""
    out: dict[str, list[int]] = {}
    for t in traces:
        if not t["members"]:
            continue
        first = min(t["members"], key=lambda m: m["start"])
        good = 0 if any(m["bad"] for m in t["members"]) else 1
        for c in (first["cluster"], "all"):
            acc = out.setdefault(c, [0, 0])
            acc[0] += 1
            acc[1] += good
    return {c: (t, g) for c, (t, g) in out.items()}


def _entry(slos: list[dict], service: str, name: str, cluster: str) -> dict | None:
    for e in slos:
        if (e["service"], e["name"], e["cluster"]) == (service, name, cluster) and "group" not in e:
            return e
    return None


def _write_slos(tmp_path, wait: str):
    d = tmp_path / "slos"
    d.mkdir(exist_ok=True)
    (d / "shop.yaml").write_text(MEMBERS + JOURNEY.format(wait=wait))
    return d


def _wait_journey(server: Slotel, total: int, timeout: float = 40.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        slos = server.slos()
        e = _entry(slos, "shop", "checkout", "all")
        if e is not None and e["total"] >= total or time.monotonic() > deadline:
            return slos
        time.sleep(0.2)


def test_trace_journey_matches_a_hand_count_over_the_sent_traces(cleanup, tmp_path):
    # 8 s: the providers export one after another when shut down, so one trace's spans
    # reach slotel up to a few seconds apart on a busy machine.
    d = _write_slos(tmp_path, "8s")
    server = Slotel.start(tmp_path, slo_files=[str(d / "*.yaml")])
    cleanup(server)
    traces, spans = _send(server, 400, 20261205)
    got = server.wait_counter(
        "slotel_exporter_sent_items_total", spans, exporter="slo", signal="traces"
    )
    assert got == spans, f"the slo connector saw {got} spans, sent {spans}:\n{server.log_text()}"
    want = _by_hand(traces)
    assert set(want) == {"all", *CLUSTERS}
    assert 0 < want["all"][1] < want["all"][0], want

    # 1. The API, once every trace has waited 8 s without a member span.
    slos = _wait_journey(server, want["all"][0])
    for cluster, (total, good) in want.items():
        e = _entry(slos, "shop", "checkout", cluster)
        assert e is not None, (cluster, slos)
        assert (e["total"], e["good"]) == (total, good), (cluster, e)
        ratio = (total - good) / total
        assert e["error_ratio"] == pytest.approx(ratio, rel=1e-12)
        budget = 1 - ratio / 0.01
        assert e["error_budget_remaining"] == pytest.approx(budget, rel=1e-9, abs=1e-12)
        assert e["status"] == ("breaching" if budget <= 0 else "ok"), (cluster, e)
        assert e["objective"] == 0.99 and e["window"] == "30d"
        assert e["burn_rate"]["5m"] == pytest.approx(ratio / 0.01, rel=1e-9)
    # The members count their own spans, one event each.
    member_spans = sum(len(t["members"]) for t in traces)
    member_totals = sum(
        _entry(slos, s, n, "all")["total"]
        for s, n in [("login", "availability"), ("cart", "availability"), ("payment", "fast")]
    )
    assert member_totals == member_spans

    # 2. /metrics.
    samples = parse_metrics(server.metrics_text())

    def value(name, **labels):
        vals = [v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items())]
        assert len(vals) == 1, (name, labels, vals)
        return vals[0]

    for cluster, (total, good) in want.items():
        lbl = {"service": "shop", "slo": "checkout", "cluster": cluster}
        assert value("slotel_slo_events_total", outcome="good", **lbl) == good
        assert value("slotel_slo_events_total", outcome="bad", **lbl) == total - good
    j = {"service": "shop", "slo": "checkout"}
    assert value("slotel_slo_journey_traces_total", closed="waited", **j) == want["all"][0]
    assert value("slotel_slo_journey_traces_total", closed="forced", **j) == 0
    assert value("slotel_slo_journey_open_traces", **j) == 0
    assert value("slotel_slo_journey_ignored_spans_total", reason="no_trace_id", **j) == 0
    assert value("slotel_slo_journey_ignored_spans_total", reason="trace_closed", **j) == 0

    # 3. The rules, fed the journey's own counters as /metrics shows them.
    promtool = shutil.which("promtool")
    assert promtool, "promtool is needed (Debian's `prometheus` package)"
    rules_dir = tmp_path / "rules"
    generate_rules(d / "shop.yaml", rules_dir, interval=None)
    series = []
    for n, l, v in samples:
        if n != "slotel_slo_events_total" or l.get("service") != "shop":
            continue
        labels = ", ".join(f'{k}="{x}"' for k, x in sorted(l.items()))
        series.append(f"      - series: '{n}{{{labels}}}'\n        values: '0 0 {v:.0f}x8'")
    expected = []
    for cluster, (total, good) in want.items():
        ratio = (total - good) / total
        expected.append(
            f"          - {{labels: '{{service=\"shop\", slo=\"checkout\", cluster=\"{cluster}\"}}', "
            f"value: {round(ratio * 1e9)}}}"
        )
    checks = "".join(
        f"      - expr: round({rec}{{service=\"shop\", slo=\"checkout\"}} * 1e9)\n"
        f"        eval_time: 10m\n        exp_samples:\n" + "\n".join(expected) + "\n"
        for rec in ["slo:sli_error:ratio_rate30m", "slo:sli_error:ratio_rate30d"]
    )
    test = (
        "rule_files: [prometheus-rules.yaml]\nevaluation_interval: 1m\ntests:\n"
        "  - interval: 1m\n    input_series:\n" + "\n".join(series) + "\n"
        "    promql_expr_test:\n" + checks
    )
    (rules_dir / "journey_trace.test.yaml").write_text(test)
    run = subprocess.run(
        [promtool, "test", "rules", "journey_trace.test.yaml"],
        cwd=rules_dir, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr + test


def test_open_traces_close_at_shutdown_and_survive_a_restart(cleanup, tmp_path):
    d = _write_slos(tmp_path, "10m")
    state = tmp_path / "state"
    settings = [f"state_dir: {state}"]
    server = Slotel.start(tmp_path, slo_files=[str(d / "*.yaml")], slo_settings=settings)
    cleanup(server)
    traces, spans = _send(server, 120, 7)
    server.wait_counter("slotel_exporter_sent_items_total", spans, exporter="slo", signal="traces")
    want = _by_hand(traces)
    # Every trace waits (10 minutes): nothing counted yet, all open.
    j = {"service": "shop", "slo": "checkout"}
    assert server.counter("slotel_slo_journey_open_traces", **j) == want["all"][0]
    e = _entry(server.slos(), "shop", "checkout", "all")
    assert e is not None and e["total"] == 0, e
    assert server.terminate() == 0, server.log_text()

    again = Slotel.start(
        tmp_path, slo_files=[str(d / "*.yaml")], slo_settings=settings,
        ports=(server.grpc_port, server.http_port, server.admin_port),
    )
    cleanup(again)
    slos = again.slos()
    for cluster, (total, good) in want.items():
        e = _entry(slos, "shop", "checkout", cluster)
        assert e is not None and (e["total"], e["good"]) == (total, good), (cluster, e)
    assert again.counter("slotel_slo_journey_open_traces", **j) == 0
