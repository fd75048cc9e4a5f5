"""A journey SLO (checkout = login + cart + 2 × payment) from real Python SDK traffic.

Three services send server spans from two clusters through the OpenTelemetry SDK (login
over gRPC, cart and payment over HTTP). The test counts what it sent and computes the
journey by hand: per cluster and for `all`, total = Σ weight × member total and good = Σ
weight × member good. Then:

1. `GET /api/v1/slos` shows exactly those counts, and the error ratio, budget and status
   that follow at the journey's own objective;
2. `/metrics` carries them as `slotel_slo_events_total{service="shop", slo="checkout"}`;
3. the rules `slotel rules` generates, fed the members' counters as slotel wrote them on
   `/metrics`, give the API's error ratio over 5 minutes and over the 30-day window
   (`promtool test rules`).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from slotel_harness import Slotel, generate_rules, parse_metrics
from slo_files import ERRORS, server_spans, slo_file, span_slo

SLOS = "---".join([
    slo_file("login", span_slo("availability", 99.9, where=server_spans("login"), bad=ERRORS)),
    slo_file(
        "cart",
        span_slo("availability", 99.5, where=server_spans("cart"), bad=ERRORS, group_by=['attributes["http.route"]']),
    ),
    slo_file("payment", span_slo("availability", 99.95, where=server_spans("payment"), bad=ERRORS)),
    slo_file(
        "shop",
        """  - name: checkout
    objective: 99
    window: 30d
    journey:
      members:
        - slo: login/availability
        - slo: cart/availability
        - slo: payment/availability
          weight: 2
""",
    ),
])

WEIGHTS = {"login": 1, "cart": 1, "payment": 2}
CLUSTERS = ["seoul-prod", "busan-prod"]
# (service, transport): the SDK's exporters.
SERVICES = [("login", "grpc"), ("cart", "http"), ("payment", "http")]


def _exporter(server: Slotel, transport: str):
    if transport == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=server.http_endpoint("traces"), timeout=10)


def _entry(slos: list[dict], service: str, name: str, cluster: str) -> dict:
    for e in slos:
        if (e["service"], e["name"], e["cluster"]) == (service, name, cluster) and "group" not in e:
            return e
    raise AssertionError(f"no {service}/{name} {cluster} in {slos}")


def _send(server: Slotel) -> tuple[dict, int]:
    """Sends the traffic; returns {(service, cluster): [total, good]} and the spans sent."""
    rng = random.Random(20261205)
    now = time.time_ns()
    sent: dict[tuple[str, str], list[int]] = {}
    spans = 0
    for service, transport in SERVICES:
        for ci, cluster in enumerate(CLUSTERS):
            if service == "payment" and cluster == "busan-prod":
                continue  # payment runs in seoul only: busan's journey is login + cart
            provider = TracerProvider(
                resource=Resource.create({"service.name": service, "k8s.cluster.name": cluster}),
                shutdown_on_exit=False,
            )
            provider.add_span_processor(
                BatchSpanProcessor(
                    _exporter(server, transport),
                    max_queue_size=4096,
                    max_export_batch_size=256,
                    schedule_delay_millis=60_000,
                )
            )
            tracer = provider.get_tracer("slotel.pytest.journey", "1.0.0")
            counts = sent.setdefault((service, cluster), [0, 0])
            for i in range(150 + 70 * ci):
                end = now - rng.randrange(1_000_000_000, 40_000_000_000)
                route = f"/{service}/{i % 3}"
                span = tracer.start_span(
                    f"POST {route}",
                    kind=SpanKind.SERVER,
                    attributes={"http.route": route},
                    start_time=end - 20_000_000,
                )
                bad = rng.random() < {"login": 0.01, "cart": 0.03, "payment": 0.05}[service]
                if bad:
                    span.set_status(Status(StatusCode.ERROR, "failed"))
                span.end(end_time=end)
                counts[0] += 1
                counts[1] += 0 if bad else 1
                spans += 1
                if i % 7 == 0:  # client spans: not selected by any SLO
                    c = tracer.start_span("GET db", kind=SpanKind.CLIENT, start_time=end - 1_000_000)
                    c.set_status(Status(StatusCode.ERROR, "ignored"))
                    c.end(end_time=end)
                    spans += 1
            provider.shutdown()
    return sent, spans


def _journey_by_hand(sent: dict) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for (service, cluster), (total, good) in sent.items():
        w = WEIGHTS[service]
        for c in (cluster, "all"):
            acc = out.setdefault(c, [0, 0])
            acc[0] += w * total
            acc[1] += w * good
    return {c: (t, g) for c, (t, g) in out.items()}


@pytest.fixture
def server(tmp_path):
    d = tmp_path / "slos"
    d.mkdir()
    (d / "shop.yaml").write_text(SLOS)
    s = Slotel.start(tmp_path, slo_files=[str(d / "*.yaml")])
    yield s
    s.kill()


def test_journey_numbers_agree_with_a_hand_computation_on_every_path(server, tmp_path):
    sent, spans = _send(server)
    got = server.wait_counter(
        "slotel_exporter_sent_items_total", spans, exporter="slo", signal="traces"
    )
    assert got == spans, f"the slo connector saw {got} spans, sent {spans}:\n{server.log_text()}"
    want = _journey_by_hand(sent)
    assert set(want) == {"all", *CLUSTERS}

    # 1. The API.
    slos = server.slos()
    for cluster, (total, good) in want.items():
        e = _entry(slos, "shop", "checkout", cluster)
        assert (e["total"], e["good"]) == (total, good), (cluster, e)
        ratio = (total - good) / total
        assert e["error_ratio"] == pytest.approx(ratio, rel=1e-12)
        budget = 1 - ratio / 0.01
        assert e["error_budget_remaining"] == pytest.approx(budget, rel=1e-9, abs=1e-12)
        assert e["status"] == ("breaching" if budget <= 0 else "ok"), (cluster, e)
        assert e["objective"] == 0.99 and e["window"] == "30d"
        assert e["burn_rate"]["5m"] == pytest.approx(ratio / 0.01, rel=1e-9)
        # The members' own entries are what the journey weighed.
        for service, w in WEIGHTS.items():
            if (service, cluster) in sent or cluster == "all":
                m = _entry(slos, service, "availability", cluster)
                assert m["total"] == sum(
                    t for (s, c), (t, _) in sent.items() if s == service and cluster in (c, "all")
                )
    detail = server.http.get(f"{server.admin_url}/api/v1/slos/shop/checkout", timeout=5).json()
    assert [e["cluster"] for e in detail["slos"]] == ["all", "busan-prod", "seoul-prod"]

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

    # 3. The rules, fed the members' counters as /metrics shows them.
    promtool = shutil.which("promtool")
    assert promtool, "promtool is needed (Debian's `prometheus` package)"
    rules_dir = tmp_path / "rules"
    generate_rules(tmp_path / "slos" / "shop.yaml", rules_dir, interval=None)
    series = []
    for n, l, v in samples:
        if n != "slotel_slo_events_total" or l.get("service") == "shop":
            continue
        labels = ", ".join(f'{k}="{x}"' for k, x in sorted(l.items()))
        # Zero for two minutes, then the value: the increase lies inside every window.
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
    (rules_dir / "journey.test.yaml").write_text(test)
    run = subprocess.run(
        [promtool, "test", "rules", "journey.test.yaml"],
        cwd=rules_dir, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr + test
