"""A trace-aware journey over traffic sampled by the real Python SDK's consistent
probability samplers, whose thresholds reach slotel in each kept span's `tracestate`.

A checkout trace starts at login (the root) and crosses to cart and payment through the
W3C `traceparent` and `tracestate` headers (inject, then extract). The trace ids come from
an id generator that places each trace's randomness (the id's last 56 bits) in a chosen
eighth of its range, so which spans each sampler keeps is known in advance:

1. One threshold per trace: login, cart and payment each sample 1 in 4 (`ot=th:c`) with
   the SDK's consistent `composable_traceid_ratio_based`; reading the same randomness at
   the same threshold, they keep the same traces, as a parent-based setup would. (The SDK,
   1.45, does not hand a child's sampler its parent's `tracestate`, so its
   `composable_parent_threshold` erases the threshold of child spans: they would count 1.)
   Every block of four identical checkouts has exactly one trace whose randomness reaches
   `c…`: it arrives whole, with adjusted count 4, and the journey's adjusted counts equal
   the unsampled truth exactly, on the API and on `/metrics`; `raw_total` is the traces
   kept.
2. Unequal thresholds: payment samples on its own, 1 in 8 (`ot=th:e`), so a kept trace can
   lack its payment span. Each block of eight identical checkouts puts one trace in every
   eighth of the randomness: two reach login's threshold, one of them payment's too. By the
   README's rule (a bad trace counts the smallest adjusted count of its bad member spans,
   a good one the smallest of all its member spans) the bad count equals the truth
   exactly, and the total exceeds it by exactly 4 per block whose only failure is its
   payment (the trace kept without its payment span is counted good).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace._sampling_experimental import (
    composable_traceid_ratio_based,
    composite_sampler,
)
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from cdp import Browser
from slotel_harness import Slotel, parse_metrics
from slo_files import ERRORS, server_spans, slo_file, span_slo

SLOS = "---".join([
    slo_file("login", span_slo("availability", 99.9, where=server_spans("login"), bad=ERRORS)),
    slo_file("cart", span_slo("availability", 99.5, where=server_spans("cart"), bad=ERRORS)),
    slo_file("payment", span_slo("fast", 99, where=server_spans("payment"), bad=ERRORS, latency_threshold="300ms")),
    slo_file(
        "shop",
        """  - name: checkout
    objective: 99
    window: 30d
    journey:
      mode: trace
      max_wait: 5s
      members:
        - slo: login/availability
        - slo: cart/availability
        - slo: payment/fast
""",
    ),
])

MS = 1_000_000
EIGHTH = 1 << 53  # an eighth of the 56-bit randomness range
PROPAGATOR = TraceContextTextMapPropagator()


class Randomness(IdGenerator):
    """Trace ids whose last 56 bits fall in the eighths of the randomness range given in
    order (`eighths`), at a random place within each."""

    def __init__(self, eighths: list[int], seed: int):
        self.eighths = list(eighths)
        self.rng = random.Random(seed)

    def generate_span_id(self) -> int:
        return self.rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        k = self.eighths.pop(0)
        low = k * EIGHTH + self.rng.getrandbits(53)
        return (self.rng.getrandbits(72) << 56) | low


def _exporter(server: Slotel):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)


def _provider(server: Slotel, service: str, sampler, id_generator=None) -> TracerProvider:
    kwargs = {"id_generator": id_generator} if id_generator else {}
    p = TracerProvider(
        resource=Resource.create({"service.name": service, "k8s.cluster.name": "seoul-prod"}),
        sampler=sampler,
        shutdown_on_exit=False,
        **kwargs,
    )
    p.add_span_processor(
        BatchSpanProcessor(_exporter(server), max_queue_size=8192, max_export_batch_size=256)
    )
    return p


def _checkouts(rng: random.Random, blocks: int) -> list[dict]:
    """One checkout per block: login and cart errors, payment's error or slowness."""
    out = []
    for _ in range(blocks):
        out.append(
            {
                "login": rng.random() < 0.15,
                "cart": rng.random() < 0.1,
                "payment_ms": rng.choice([80, 120, 250, 400]),
                "payment_err": rng.random() < 0.1,
            }
        )
    return out


def _send(server: Slotel, checkouts: list[dict], copies: int, eighths: list[int], payment_sampler) -> None:
    """Sends each checkout `copies` times, the i-th copy with randomness in `eighths[i]`."""
    root = composite_sampler(composable_traceid_ratio_based(0.25))
    follow = composite_sampler(composable_traceid_ratio_based(0.25))
    ids = Randomness([k for _ in checkouts for k in eighths[:copies]], seed=3)
    providers = {
        "login": _provider(server, "login", root, ids),
        "cart": _provider(server, "cart", follow),
        "payment": _provider(server, "payment", payment_sampler),
    }
    tracers = {s: p.get_tracer("slotel.pytest.journey_sampling") for s, p in providers.items()}
    now = time.time_ns()

    def span(service, name, start, end, error, headers=None):
        ctx = PROPAGATOR.extract(headers) if headers is not None else None
        s = tracers[service].start_span(name, context=ctx, kind=SpanKind.SERVER, start_time=start)
        if error:
            s.set_status(Status(StatusCode.ERROR, "failed"))
        s.end(end_time=end)
        out: dict[str, str] = {}
        PROPAGATOR.inject(out, context=trace.set_span_in_context(s))
        return out

    for i, c in enumerate(checkouts):
        for _ in range(copies):
            base = now - (3_000 + i) * MS
            h = span("login", "POST /login", base, base + 40 * MS, c["login"])
            h = span("cart", "POST /cart", base + 50 * MS, base + 80 * MS, c["cart"], h)
            s = base + 90 * MS
            span("payment", "POST /pay", s, s + c["payment_ms"] * MS, c["payment_err"], h)
    for p in providers.values():
        assert p.force_flush(30_000)
        p.shutdown()


def _bad(c: dict) -> tuple[bool, bool]:
    """(bad at login or cart, bad at payment)."""
    return c["login"] or c["cart"], c["payment_err"] or c["payment_ms"] > 300


def _entry(server: Slotel) -> dict:
    for e in server.slos():
        if (e["service"], e["name"], e["cluster"]) == ("shop", "checkout", "all"):
            return e
    raise AssertionError("no shop/checkout entry")


def _wait_traces(server: Slotel, traces: int, timeout: float = 40.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        e = _entry(server)
        if e.get("raw_total") == traces or time.monotonic() > deadline:
            return e
        time.sleep(0.2)


def _start(tmp_path: Path) -> Slotel:
    d = tmp_path / "slos"
    d.mkdir()
    (d / "shop.yaml").write_text(SLOS)
    return Slotel.start(tmp_path, slo_files=[str(d / "*.yaml")])


def _events(server: Slotel) -> tuple[float, float]:
    samples = parse_metrics(server.metrics_text())
    lbl = {"service": "shop", "slo": "checkout", "cluster": "all"}

    def value(outcome):
        vals = [
            v
            for n, l, v in samples
            if n == "slotel_slo_events_total" and l.get("outcome") == outcome
            and all(l.get(k) == x for k, x in lbl.items())
        ]
        assert len(vals) == 1, (outcome, vals)
        return vals[0]

    return value("good"), value("bad")


def test_one_threshold_per_trace_gives_the_unsampled_truth_exactly(cleanup, tmp_path):
    server = _start(tmp_path)
    cleanup(server)
    checkouts = _checkouts(random.Random(41), 150)
    # Eighths 0, 2, 4 are below `c…` (6/8): dropped; eighth 6 is kept.
    follow = composite_sampler(composable_traceid_ratio_based(0.25))
    _send(server, checkouts, 4, [0, 2, 4, 6], follow)

    truth_total = 4 * len(checkouts)
    truth_bad = 4 * sum(1 for c in checkouts if any(_bad(c)))
    assert 0 < truth_bad < truth_total
    e = _wait_traces(server, len(checkouts))
    assert e["raw_total"] == len(checkouts), e
    assert (e["total"], e["total"] - e["good"]) == (truth_total, truth_bad), e
    assert e["raw_total"] - e["raw_good"] == truth_bad // 4
    assert e["error_ratio"] == truth_bad / truth_total
    assert _events(server) == (truth_total - truth_bad, truth_bad)
    # The members count their spans' adjusted counts: the unsampled truth too.
    login = next(x for x in server.slos() if (x["service"], x["name"], x["cluster"]) == ("login", "availability", "all"))
    assert (login["total"], login["raw_total"]) == (truth_total, len(checkouts)), login
    assert (e["raw_unit"], login["raw_unit"]) == ("traces", "spans")

    # The status page says what the raw count counts: the journey's traces, a member's spans.
    n = len(checkouts)
    browser = Browser.start(server.log_path.parent)
    try:
        tab = browser.page()
        tab.goto(f"{server.admin_url}/")
        tab.wait_for("document.querySelectorAll('#slos tbody tr').length > 0")
        raw = tab.eval(
            """Object.fromEntries([...document.querySelectorAll('#slos tbody tr[data-cluster="all"]')]
              .map(tr => [tr.dataset.service + "/" + tr.dataset.slo,
                          tr.querySelector('[data-field="raw_total"]')?.textContent]))"""
        )
        assert raw["shop/checkout"] == f"{n:,} traces received", raw
        assert raw["login/availability"] == f"{n:,} spans received", raw
        tab.goto(f"{server.admin_url}/slo/shop/checkout")
        tab.wait_for("document.querySelector('.card[data-field=\"raw_total\"]') !== null")
        card = tab.eval("document.querySelector('.card[data-field=\"raw_total\"]').textContent")
        assert card == f"Traces received (good / all){e['raw_good']:,} / {n:,}", card
        assert not tab.problems(), tab.problems()
    finally:
        browser.close()


def test_unequal_thresholds_count_bad_traces_exactly_and_total_within_them(cleanup, tmp_path):
    server = _start(tmp_path)
    cleanup(server)
    checkouts = _checkouts(random.Random(43), 120)
    # One copy in every eighth: 6 and 7 reach login's `c…` (1 in 4), 7 payment's `e…`
    # (1 in 8, decided by payment itself).
    payment = composite_sampler(composable_traceid_ratio_based(0.125))
    _send(server, checkouts, 8, list(range(8)), payment)

    truth_total = 8 * len(checkouts)
    truth_bad = 8 * sum(1 for c in checkouts if any(_bad(c)))
    only_payment = sum(1 for c in checkouts if _bad(c) == (False, True))
    assert only_payment > 0 and truth_bad > 8 * only_payment
    e = _wait_traces(server, 2 * len(checkouts))
    assert e["raw_total"] == 2 * len(checkouts), e
    bad = e["total"] - e["good"]
    assert bad == truth_bad, (bad, truth_bad)
    assert e["total"] == truth_total + 4 * only_payment, (e, truth_total, only_payment)
    assert _events(server) == (e["good"], bad)
    # Payment alone counts its kept spans (1 in 8) with 8 each: its own truth exactly.
    pay = next(x for x in server.slos() if (x["service"], x["name"], x["cluster"]) == ("payment", "fast", "all"))
    assert (pay["total"], pay["raw_total"]) == (truth_total, len(checkouts)), pay
