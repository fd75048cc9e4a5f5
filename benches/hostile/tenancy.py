#!/usr/bin/env python3
"""Identity and tenancy boundaries: what a sender can do to data, numbers and policies that
are not its own. slotel runs with tokens on (`tok-a`: tenant `t` bound to cluster `a`;
`tok-u`: tenant `u`, unbound), its traces and logs forwarded by `otlphttp` and its metrics
(the SLO series included) by `prometheusremotewrite` into a real Prometheus
(`--web.enable-remote-write-receiver`) and by `otlphttp`; the OTLP backend is a local server
that keeps every request's headers and body.

Groups (default: all):
- `binding`: `tok-a` names cluster `b` in resource, scope, span, event, link, data point,
  exemplar and log record attributes, twice in one list, under keys a backend reads as the
  same label (`k8s_cluster_name`, `k8s-cluster-name`, `k8s/cluster/name`), in case and
  Unicode variants, empty, and as int, array, kvlist and bytes values; then `/api/v1/slos`,
  `/metrics`, the status page, the forwarded OTLP bodies, Prometheus' series, the capture
  through `slotel replay` and the SLO state after a restart must name no cluster but `a`.
- `forge`: `tok-a` sends metrics named as slotel's SLO series (`slotel_slo_events_total`,
  `slotel.slo.events`, …) with `cluster="b"`: Prometheus and the OTLP backend must hold no
  SLO series that slotel's engine did not write.
- `reserved`: `tok-u` (unbound) names cluster `a`, which `tok-a` is bound to: cluster `a`'s
  numbers must stay `tok-a`'s.
- `tenant`: `X-Scope-OrgID` and similar headers from the sender (`a|b`, lists, 10 KB, CR/LF
  in the gRPC metadata), tokens in the query string: the OTLP backend must see the token's
  tenant only.
- `policy`: redaction policies chosen by tenant and by `service.name`: which one a sender
  gets with another tenant's service name, case variants, two `service.name` keys.
- `preauth`: every listener and route without a token (or with a wrong one): status, what
  the answer reveals, whether a write route changes anything; admin routes with
  `service.admin.auth` on.
- `logs`: slotel at `level: trace` while tokens and PII values arrive: the log must hold
  neither.

Usage: tenancy.py BIN [GROUP...]   (exits 1 when a boundary broke)
"""
import base64, json, os, re, shutil, socket, subprocess, sys, tempfile, time
import urllib.parse, urllib.request
import harness
from harness import HERE, Prometheus, Sink, Slotel, check, failures, note, free_port, get, post, now_ns

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

BIN = os.path.abspath(sys.argv[1])
GROUPS = sys.argv[2:] or ["binding", "forge", "reserved", "tenant", "policy", "preauth", "logs"]
CK = "k8s.cluster.name"


# ---------------------------------------------------------------- backends

def start(tmp, sink, prom, **kw):
    ep = f"http://127.0.0.1:{sink.port}"
    exporters = (f"  otlphttp/t:\n    endpoint: {ep}\n    compression: none\n"
                 f"  prometheusremotewrite/m:\n    endpoint: http://127.0.0.1:{prom.port}/api/v1/write\n")
    pipes = {"traces": ["otlphttp/t"], "metrics": ["prometheusremotewrite/m", "otlphttp/t"],
             "logs": ["otlphttp/t"]}
    return Slotel(BIN, exporters=exporters, pipelines=pipes, **kw)


def restart(s):
    harness.restart(s, BIN)


# ---------------------------------------------------------------- requests

def kv(attrs, key, value):
    a = attrs.add(); a.key = key
    if isinstance(value, bool):
        a.value.bool_value = value
    elif isinstance(value, int):
        a.value.int_value = value
    elif isinstance(value, bytes):
        a.value.bytes_value = value
    elif isinstance(value, list):
        for v in value:
            a.value.array_value.values.add().string_value = v
    elif isinstance(value, dict):
        for k, v in value.items():
            x = a.value.kvlist_value.values.add(); x.key = k; x.value.string_value = v
    else:
        a.value.string_value = value
    return a


# Keys and values a sender may use to name cluster `b`.
VARIANT_KEYS = ["k8s_cluster_name", "k8s-cluster-name", "k8s/cluster/name", "k8s cluster name",
                "K8s.Cluster.Name", "k8s.cluster.name\x00", "k8s.cluster.name ", "k8ѕ.cluster.name"]
# Keys a Prometheus-style backend turns into the label `k8s_cluster_name`.
SAME_LABEL = {"k8s_cluster_name", "k8s-cluster-name", "k8s/cluster/name", "k8s cluster name"}


def label_name(key):
    return re.sub(r"[^a-zA-Z0-9_]", "_", key)


def cluster_attrs(attrs, value="b"):
    """Every way of naming cluster `value` in one attribute list."""
    kv(attrs, CK, value)
    kv(attrs, CK, value + "2")
    for k in VARIANT_KEYS:
        kv(attrs, k, value)


RESOURCE_VARIANTS = [("string b", "b"), ("empty", ""), ("int", 7), ("array", ["b", "c"]),
                     ("kvlist", {"name": "b"}), ("bytes", b"b"), ("absent", None)]


def traces(service="checkout", resources=RESOURCE_VARIANTS, t=None, route="/api/pay", spans=3, status=1,
           attack=True):
    t = t or now_ns()
    req = ExportTraceServiceRequest()
    for i, (_, v) in enumerate(resources):
        rs = req.resource_spans.add()
        kv(rs.resource.attributes, "service.name", service)
        if v is not None:
            kv(rs.resource.attributes, CK, v)
            if attack:
                kv(rs.resource.attributes, CK, v)  # the key twice
        if attack:
            for k in VARIANT_KEYS:
                kv(rs.resource.attributes, k, "b")
        ss = rs.scope_spans.add()
        if attack:
            cluster_attrs(ss.scope.attributes)
        for j in range(spans):
            sp = ss.spans.add()
            sp.trace_id = bytes([i + 1]) * 16; sp.span_id = bytes([j + 1]) * 8
            sp.name = "POST " + route; sp.kind = 2
            sp.start_time_unix_nano = t - 1_000_000; sp.end_time_unix_nano = t
            sp.status.code = status
            kv(sp.attributes, "http.route", route)
            if attack:
                cluster_attrs(sp.attributes)
                e = sp.events.add(); e.name = "e"; e.time_unix_nano = t; cluster_attrs(e.attributes)
                ln = sp.links.add(); ln.trace_id = bytes([9]) * 16; ln.span_id = bytes([9]) * 8
                cluster_attrs(ln.attributes)
    return req


def resource(attrs, service, cluster, attack):
    """A resource of `service` in `cluster`; attacked, the cluster's other spellings name "b"."""
    kv(attrs, "service.name", service)
    kv(attrs, CK, cluster)
    if attack:
        for k in VARIANT_KEYS:
            kv(attrs, k, "b")


def metrics(service="cart", cluster="b", t=None, name="http.server.requests", attack=True, value=5):
    t = t or now_ns()
    req = ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    resource(rm.resource.attributes, service, cluster, attack)
    sm = rm.scope_metrics.add()
    if attack:
        cluster_attrs(sm.scope.attributes)
    m = sm.metrics.add(); m.name = name
    m.sum.is_monotonic = True; m.sum.aggregation_temporality = 2
    p = m.sum.data_points.add(); p.start_time_unix_nano = t - 10**9; p.time_unix_nano = t; p.as_int = value
    kv(p.attributes, "http.response.status_code", 200)
    if attack:
        cluster_attrs(p.attributes)
        ex = p.exemplars.add(); ex.time_unix_nano = t; ex.as_int = 1; cluster_attrs(ex.filtered_attributes)
    g = sm.metrics.add(); g.name = "tenancy_probe"
    q = g.gauge.data_points.add(); q.time_unix_nano = t; q.as_double = 1.0
    if attack:
        cluster_attrs(q.attributes)
    return req


def logs(service="orders", cluster="b", body=None, attack=True, t=None):
    t = t or now_ns()
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    resource(rl.resource.attributes, service, cluster, attack)
    sl = rl.scope_logs.add()
    if attack:
        cluster_attrs(sl.scope.attributes)
    r = sl.log_records.add(); r.time_unix_nano = t
    r.body.string_value = body or json.dumps({"msg": "request completed", "http": {"status": 200, "route": "/r"}})
    if attack:
        cluster_attrs(r.attributes)
    return req


def send(s, path, req, token="tok-a", headers=None, fmt="proto"):
    h = {"authorization": f"Bearer {token}"}
    if fmt == "proto":
        h["content-type"] = "application/x-protobuf"
        body = req.SerializeToString()
    else:
        body = req
    h.update(headers or {})
    return post(f"http://127.0.0.1:{s.http}{path}", body, headers=h)


def slos(s, headers=None):
    c, d, _ = get(f"http://127.0.0.1:{s.admin}/api/v1/slos", headers=headers)
    return json.loads(d)["slos"] if c == 200 else []


def clusters(s, service=None):
    return sorted({x["cluster"] for x in slos(s) if service is None or x["service"] == service})


def wait_total(s, pred, secs=10):
    """Polls the API until pred(slos) holds (the engine counts after the request is answered)."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        got = slos(s)
        if pred(got):
            return got
        time.sleep(0.2)
    return slos(s)


def total(rows, service, name, cluster):
    return sum(x.get("total") or 0 for x in rows
               if x["service"] == service and x["name"] == name and x["cluster"] == cluster)


def walk_attrs(msg, out, where=""):
    """Every (where, key, value) attribute list entry in a decoded OTLP message."""
    from google.protobuf.message import Message
    for f, v in msg.ListFields():
        repeated = getattr(f, "is_repeated", None)
        repeated = repeated if repeated is not None else f.label == f.LABEL_REPEATED
        if repeated and f.message_type is not None:
            for i, x in enumerate(v):
                if f.message_type.name == "KeyValue":
                    out.append((where + "." + f.name, x.key, x))
                else:
                    walk_attrs(x, out, f"{where}.{f.name}[{i}]")
        elif f.message_type is not None and isinstance(v, Message):
            walk_attrs(v, out, where + "." + f.name)
    return out


def foreign_cluster(msg, allowed=("a",)):
    """Attributes of a forwarded message that name a cluster other than `allowed` under the
    cluster key or a key a backend reads as its label; and resources whose key is not once."""
    bad = []
    for where, key, x in walk_attrs(msg, []):
        if key == CK or label_name(key) == label_name(CK):
            v = x.value.string_value if x.value.WhichOneof("value") == "string_value" else str(x.value).strip()
            if v not in allowed:
                bad.append(f"{where}: {key!r}={v!r}")
    return bad


def cluster_once(msg, resources_field):
    bad = []
    for i, r in enumerate(getattr(msg, resources_field)):
        keys = [kv_.key for kv_ in r.resource.attributes if kv_.key == CK]
        if len(keys) != 1:
            bad.append(f"resource {i}: {len(keys)} copies")
    return bad


# ---------------------------------------------------------------- groups

def g_binding(tmp):
    sink, prom = Sink(), Prometheus(tmp + "/pb")
    s = start(tmp, sink, prom, capture=True, state=True)
    try:
        t = now_ns()
        c, d, _ = send(s, "/v1/traces", traces(t=t))
        note("tok-a traces with cluster b everywhere", f"{c} {d[:200]!r}")
        c, d, _ = send(s, "/v1/metrics", metrics(t=t))
        note("tok-a metrics with cluster b everywhere", f"{c} {d[:200]!r}")
        c, d, _ = send(s, "/v1/logs", logs(t=t))
        note("tok-a logs with cluster b everywhere", f"{c} {d[:200]!r}")
        # OTLP/JSON: duplicate members and a duplicate key in one list.
        j = ('{"resourceSpans":[{"resource":{"attributes":[{"key":"k8s.cluster.name","value":{"stringValue":"b"}},'
             '{"key":"service.name","value":{"stringValue":"checkout"}},'
             '{"key":"k8s.cluster.name","value":{"stringValue":"c"}}]},'
             '"resource":{"attributes":[{"key":"k8s.cluster.name","value":{"stringValue":"d"}},'
             '{"key":"service.name","value":{"stringValue":"checkout"}}]},'
             '"scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"0102030405060708",'
             '"name":"POST /api/pay","kind":2,"startTimeUnixNano":"%d","endTimeUnixNano":"%d",'
             '"attributes":[{"key":"http.route","value":{"stringValue":"/api/pay"}},'
             '{"key":"k8s_cluster_name","value":{"stringValue":"b"}}]}]}]}]}' % (t - 10**6, t))
        c, d, _ = send(s, "/v1/traces", j.encode(), headers={"content-type": "application/json"}, fmt="json")
        note("tok-a OTLP/JSON with duplicate members", f"{c} {d[:200]!r}")
        rows = wait_total(s, lambda r: total(r, "checkout", "pay-latency", "a") >= 21)
        got = sorted({x["cluster"] for x in rows})
        check("/api/v1/slos names no cluster but a and all", set(got) <= {"a", "all"}, got)
        check("/api/v1/slos counted tok-a's spans as cluster a",
              total(rows, "checkout", "pay-latency", "a") >= 21, total(rows, "checkout", "pay-latency", "a"))
        _, m, _ = get(f"http://127.0.0.1:{s.admin}/metrics")
        bad = sorted({l.split("cluster=")[1].split(",")[0].split("}")[0] for l in m.decode().splitlines()
                      if 'cluster="' in l and not l.startswith("#")} - {'"a"', '"all"'})
        check("/metrics names no cluster but a and all", not bad, bad)
        time.sleep(2.5)
        for path, cls, field in [("/v1/traces", ExportTraceServiceRequest, "resource_spans"),
                                 ("/v1/metrics", ExportMetricsServiceRequest, "resource_metrics"),
                                 ("/v1/logs", ExportLogsServiceRequest, "resource_logs")]:
            bad, once, n = [], [], 0
            for h, b in sink.bodies(path):
                msg = cls(); msg.ParseFromString(b)
                # slotel's own SLO series carry no resource cluster; read the received ones.
                if path == "/v1/metrics" and not any(
                        m.name in ("http.server.requests", "tenancy_probe")
                        for r in msg.resource_metrics for sm in r.scope_metrics for m in sm.metrics):
                    continue
                n += 1
                bad += foreign_cluster(msg)
                once += cluster_once(msg, field)
            check(f"forwarded OTLP {path}: no cluster but a under any key a backend reads as it",
                  n > 0 and not bad, f"{n} bodies; " + "; ".join(bad[:8]))
            check(f"forwarded OTLP {path}: the cluster key once per resource", n > 0 and not once, once[:4])
        res = prom.query('{k8s_cluster_name!=""}') or []
        vals = sorted({r["metric"].get("k8s_cluster_name") for r in res})
        check("Prometheus: no series with k8s_cluster_name other than a", set(vals) <= {"a"},
              f"{len(res)} series, values {vals}: " + json.dumps([r['metric'] for r in res[:2]]))
        res = prom.query('{__name__=~"tenancy_probe|http_server_requests_total"}') or []
        note("Prometheus: the received series' labels", json.dumps([r["metric"] for r in res[:1]]))
        res = prom.query('slotel_slo_events_total{cluster!~"a|all"}') or []
        check("Prometheus: SLO series of no cluster but a and all", not res, json.dumps(res[:2]))
        # Capture and replay.
        s.stop()
        out = subprocess.run([BIN, "replay", "--slos", os.path.join(HERE, "../../config/slos"),
                              "--capture", s.dir + "/capture", "--format", "json"],
                             capture_output=True, timeout=120)
        try:
            rep = json.loads(out.stdout)
            rc = sorted({x["cluster"] for x in rep.get("slos", [])})
        except Exception:
            rc = out.stderr.decode(errors="replace")[:300]
        check("slotel replay over the capture names no cluster but a and all",
              isinstance(rc, list) and set(rc) <= {"a", "all"} and "a" in rc, rc)
        # The SLO state (write-ahead log) after a restart.
        restart(s)
        got = clusters(s)
        check("after a restart (state + WAL) no cluster but a and all", set(got) <= {"a", "all"} and "a" in got, got)
    finally:
        s.stop(); prom.stop()


SLO_NAMES = ["slotel_slo_events_total", "slotel.slo.events", "slotel_slo_events", "slotel..slo..events_total",
             "slotel_slo_error_budget_remaining_ratio", "slotel.slo.burn_rate", "slotel_slo_latency_seconds"]


def g_forge(tmp):
    sink, prom = Sink(), Prometheus(tmp + "/pf")
    s = start(tmp, sink, prom)
    try:
        t = now_ns()
        req = ExportMetricsServiceRequest()
        rm = req.resource_metrics.add()
        kv(rm.resource.attributes, "service.name", "checkout")
        sm = rm.scope_metrics.add()
        for name in SLO_NAMES:
            m = sm.metrics.add(); m.name = name
            if "events" in name:
                m.sum.is_monotonic = True; m.sum.aggregation_temporality = 2
                pts = m.sum.data_points
            else:
                pts = m.gauge.data_points
            for outcome in ["good", "bad"]:
                p = pts.add(); p.start_time_unix_nano = t - 10**9; p.time_unix_nano = t
                p.as_double = 1e6 if outcome == "bad" else 1
                for k, v in [("slo", "availability"), ("service", "checkout"), ("cluster", "b"),
                             ("outcome", outcome), ("window", "5m")]:
                    kv(p.attributes, k, v)
        for token in ["tok-a", "tok-u"]:
            c, d, _ = send(s, "/v1/metrics", req, token=token)
            note(f"{token}: metrics named as slotel's SLO series", f"{c} {d[:300]!r}")
        # Real traffic, so slotel's own series exist too.
        send(s, "/v1/traces", traces(attack=False, resources=[("a", "a")]))
        time.sleep(4)
        res = prom.query('{__name__=~"slotel_slo_.*", cluster="b"}') or []
        check("Prometheus: no SLO series with cluster b (slotel's engine wrote none)", not res,
              f"{len(res)} series: " + json.dumps([r['metric'] for r in res[:3]]))
        res = prom.query('{__name__=~"slotel_slo_.*", job!=""}') or []
        check("Prometheus: no SLO series that came from a sender (job label)", not res,
              f"{len(res)} series: " + json.dumps([r['metric'] for r in res[:2]]))
        res = prom.query('sum by (cluster) (slotel_slo_events_total{slo="availability",outcome="bad"})') or []
        note("Prometheus: bad events of availability by cluster", json.dumps(res))
        fwd = []
        for h, b in sink.bodies("/v1/metrics"):
            msg = ExportMetricsServiceRequest(); msg.ParseFromString(b)
            for r in msg.resource_metrics:
                svc = [x.value.string_value for x in r.resource.attributes if x.key == "service.name"]
                for sm in r.scope_metrics:
                    for m in sm.metrics:
                        if re.sub(r"[^a-zA-Z0-9]+", "_", m.name).startswith("slotel_slo_") and svc:
                            fwd.append(m.name)
        check("forwarded OTLP metrics: no sender metric named as an SLO series", not fwd, sorted(set(fwd)))
    finally:
        s.stop(); prom.stop()


def g_reserved(tmp):
    sink, prom = Sink(), Prometheus(tmp + "/pr")
    s = start(tmp, sink, prom)
    try:
        t = now_ns()
        send(s, "/v1/traces", traces(attack=False, resources=[("a", "a")], spans=4, t=t))
        rows = wait_total(s, lambda r: total(r, "checkout", "pay-latency", "a") >= 4)
        before = total(rows, "checkout", "pay-latency", "a")
        c, d, _ = send(s, "/v1/traces", traces(attack=False, resources=[("a", "a")] * 5, spans=40, t=t, status=2),
                       token="tok-u")
        note("tok-u: 200 error spans naming cluster a", f"{c} {d[:300]!r}")
        c2, d2, _ = send(s, "/v1/metrics", metrics(cluster="a", attack=False, value=10**6), token="tok-u")
        note("tok-u: metrics naming cluster a", f"{c2} {d2[:300]!r}")
        time.sleep(1.5)
        rows = slos(s)
        after = total(rows, "checkout", "pay-latency", "a")
        check("tok-u cannot add events to cluster a (bound to tok-a)", after == before,
              f"pay-latency{{cluster=a}} total {before} -> {after}")
        fwd = 0
        for h, b in sink.bodies("/v1/traces"):
            if h.get("x-scope-orgid") == "u":
                msg = ExportTraceServiceRequest(); msg.ParseFromString(b)
                fwd += sum(1 for r in msg.resource_spans for x in r.resource.attributes
                           if x.key == CK and x.value.string_value == "a")
        check("tok-u's data is not forwarded as cluster a", fwd == 0, f"{fwd} resources")
    finally:
        s.stop(); prom.stop()


def grpc_export(port, metadata, req):
    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc
    ch = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        trace_service_pb2_grpc.TraceServiceStub(ch).Export(req, metadata=metadata, timeout=10)
        return "OK"
    except grpc.RpcError as e:
        return f"{e.code().name}: {e.details()}"
    except Exception as e:
        return f"client refused: {e}"
    finally:
        ch.close()


def g_tenant(tmp):
    sink, prom = Sink(), Prometheus(tmp + "/pt")
    s = start(tmp, sink, prom)
    try:
        req = traces(attack=False, resources=[("c", "c")], spans=1)  # a cluster no token is bound to
        hdrs = [{"X-Scope-OrgID": "a|b"}, {"X-Scope-OrgID": "t,u"}, {"X-Scope-OrgID": "x" * 10240},
                {"x-scope-orgid": "t"}, {"tenant": "t"}, {"X-Tenant": "t"}]
        for h in hdrs:
            c, d, _ = send(s, "/v1/traces", req, token="tok-u", headers=h)
            note(f"tok-u over HTTP with {list(h)[0]}={list(h.values())[0][:20]!r}", c)
        for md in [[("authorization", "Bearer tok-u"), ("x-scope-orgid", "t")],
                   [("authorization", "Bearer tok-u"), ("x-scope-orgid", "a|b")]]:
            note(f"tok-u over gRPC with metadata {md[1]}", grpc_export(s.grpc, md, req))
        # CR/LF cannot be sent in HTTP/1.1 or gRPC metadata by these clients: a raw socket.
        body = req.SerializeToString()
        raw = (f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok-u\r\n"
               f"Content-Type: application/x-protobuf\r\nX-Scope-OrgID: t\r\n\tb\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
        c = socket.create_connection(("127.0.0.1", s.http), timeout=10); c.sendall(raw)
        note("tok-u with an obs-fold X-Scope-OrgID line", c.recv(200).split(b"\r\n")[0]); c.close()
        # A token in the query string is not a token.
        c, d, _ = post(f"http://127.0.0.1:{s.http}/v1/traces?token=tok-a&access_token=tok-a",
                       body, headers={"authorization": "", "content-type": "application/x-protobuf"})
        check("a token in the query string is refused", c == 401, c)
        time.sleep(2.5)
        tenants = sorted({h.get("x-scope-orgid") for h, b in sink.bodies("/v1/traces")})
        check("the OTLP backend sees the token's tenant only", tenants == ["u"], tenants)
        slo_tenants = sorted({str(h.get("x-scope-orgid")) for h, b in sink.bodies("/v1/metrics")})
        note("tenant header of slotel's own SLO series", slo_tenants)
    finally:
        s.stop(); prom.stop()


POLICIES = """processors:
  redaction:
    detectors: {email: replace}
    policies:
      - name: team-t
        match: {tenants: [t]}
        detectors: {email: mask}
      - name: debug                     # e-mails left alone
        match: {services: [debug-svc]}
        allow: {patterns: ['.*']}
"""


def g_policy(tmp):
    sink, prom = Sink(), Prometheus(tmp + "/pp")
    s = None
    try:
        s = start(tmp, sink, prom, extra_cfg=POLICIES)
        mail = "alice@corp.example"
        cases = [("tok-u", "orders", "default"), ("tok-a", "orders", "team-t"),
                 ("tok-u", "debug-svc", "debug"), ("tok-u", "Debug-Svc", "default"),
                 ("tok-u", "debug-svc\x00", "default"), ("tok-u", "debug-svc ", "default")]
        for token, svc, want in cases:
            sink.requests.clear()
            send(s, "/v1/logs", logs(service=svc, cluster="c", attack=False, body=f"user {mail} logged in"), token=token)
            for _ in range(40):
                if sink.bodies("/v1/logs"):
                    break
                time.sleep(0.1)
            got = [ExportLogsServiceRequest.FromString(b) for h, b in sink.bodies("/v1/logs")]
            line = got[0].resource_logs[0].scope_logs[0].log_records[0].body.string_value if got else None
            kind = ("none" if line is None else "debug" if mail in (line or "") else
                    "default" if "[REDACTED" in line else "team-t")
            check(f"{token} with service.name={svc!r} gets policy {want}", kind == want, f"{kind}: {line!r}")
        # Two service.name keys: the policy and what the backends read must agree.
        sink.requests.clear()
        req = logs(service="debug-svc", cluster="c", attack=False, body=f"user {mail}")
        kv(req.resource_logs[0].resource.attributes, "service.name", "orders")
        send(s, "/v1/logs", req, token="tok-u")
        time.sleep(2)
        got = [ExportLogsServiceRequest.FromString(b) for h, b in sink.bodies("/v1/logs")]
        if got:
            r = got[0].resource_logs[0]
            names = [x.value.string_value for x in r.resource.attributes if x.key == "service.name"]
            line = r.scope_logs[0].log_records[0].body.string_value
            note("two service.name keys (debug-svc, orders)", f"forwarded names {names}, body {line!r}")
    finally:
        if s:
            s.stop()
        prom.stop()


ADMIN_TOKEN = "admin-token-0123456789"


def g_preauth(tmp):
    sink, prom = Sink(), Prometheus(tmp + "/pa")
    s = start(tmp, sink, prom)
    try:
        send(s, "/v1/traces", traces(attack=False, resources=[("a", "a")], spans=2))
        time.sleep(1)
        body = traces(attack=False, resources=[("a", "a")], spans=1).SerializeToString()
        for name, headers in [("no token", {}), ("wrong token", {"authorization": "Bearer tok-x"}),
                              ("basic", {"authorization": "Basic " + base64.b64encode(b"tok-a:").decode()}),
                              ("token in another header", {"x-api-key": "tok-a"})]:
            h = {"content-type": "application/x-protobuf", "authorization": ""}
            h.update(headers)
            for path in ["/v1/traces", "/v1/metrics", "/v1/logs", "/v1/nothing", "/", "/metrics", "/api/v1/slos"]:
                c, d, _ = post(f"http://127.0.0.1:{s.http}{path}", body, headers=h)
                ok = c in (401, 404, 405) and b"tok-" not in d
                check(f"receiver {path} with {name}: refused, nothing echoed", ok, f"{c} {d[:120]!r}")
        note("gRPC without a token", grpc_export(s.grpc, [], traces(attack=False, resources=[("a", "a")])))
        note("gRPC with a wrong token", grpc_export(s.grpc, [("authorization", "Bearer tok-x")],
                                                      traces(attack=False, resources=[("a", "a")])))
        echo = grpc_export(s.grpc, [("authorization", "Bearer secret-guess-XYZ")], traces(attack=False))
        check("gRPC does not echo a presented token", "secret-guess-XYZ" not in echo, echo)
        c, d, _ = post(f"http://127.0.0.1:{s.admin}/api/v1/adjustments", b"{}", headers={"authorization": ""})
        note("admin POST /api/v1/adjustments without service.admin.auth (open by design)", f"{c} {d[:100]!r}")
    finally:
        s.stop()
    # The admin listener with service.admin.auth on.
    cfg = open(s.cfg).read().replace(f"  admin: {{endpoint: 127.0.0.1:{s.admin}}}",
                                     f"  admin: {{endpoint: 127.0.0.1:{s.admin}, auth: {{token: {ADMIN_TOKEN}}}}}")
    open(s.cfg, "w").write(cfg)
    restart(s)
    try:
        send(s, "/v1/traces", traces(attack=False, resources=[("a", "a")], spans=2))
        time.sleep(1)
        base = f"http://127.0.0.1:{s.admin}"
        for path in ["/api/v1/slos", "/api/v1/slos/checkout/availability/history",
                     "/api/v1/slos/checkout/availability/definition", "/api/v1/adjustments"]:
            c, d, _ = get(base + path)
            check(f"admin GET {path} without the admin token: 401", c == 401, f"{c} {d[:120]!r}")
        adj = json.dumps({"service": "checkout", "slo": "availability", "author": "x", "reason": "y",
                          "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}).encode()
        for tok in [None, "tok-a", ADMIN_TOKEN[:-1], ADMIN_TOKEN + "x"]:
            h = {"content-type": "application/json"}
            if tok:
                h["authorization"] = f"Bearer {tok}"
            c, d, _ = post(base + "/api/v1/adjustments", adj, headers=h)
            check(f"admin POST /api/v1/adjustments with {tok!r}: 401", c == 401, f"{c} {d[:120]!r}")
            c, d, _ = post(base + "/api/v1/adjustments/x?author=a&reason=b", b"", headers=h, method="DELETE")
            check(f"admin DELETE /api/v1/adjustments/x with {tok!r}: 401", c == 401, f"{c} {d[:120]!r}")
        c, d, _ = get(base + "/api/v1/slos", headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
        check("admin GET /api/v1/slos with the admin token: 200", c == 200, c)
        for path in ["/", "/slo/checkout/availability", "/healthz", "/readyz", "/debug/pprof", "/api/v2/x"]:
            c, d, _ = get(base + path)
            leaks = [w for w in (b"availability", b"tok-", b"tenant") if w in d]
            note(f"admin {path} without a token", f"{c}, {len(d)} bytes, names {leaks}")
        c, d, _ = get(base + "/metrics")
        text = d.decode(errors="replace")
        reveals = sorted({m for m in re.findall(r'(?:slo|cluster|tenant|service)="[^"]*"', text)})
        note("admin /metrics without a token (open by design)", f"{c}; reveals {reveals[:12]}")
    finally:
        s.stop(); prom.stop()


def g_logs(tmp):
    sink, prom = Sink(), Prometheus(tmp + "/pl")
    secret = "tok-a"
    s = start(tmp, sink, prom, log_level="trace", extra_cfg="processors:\n  redaction:\n    detectors: {email: replace}\n")
    try:
        mail = "carol.secret@corp.example"
        send(s, "/v1/logs", logs(service="orders", cluster="a", attack=False, body=f"mail {mail}"))
        send(s, "/v1/traces", traces(attack=False, resources=[("a", "a")], spans=1))
        post(f"http://127.0.0.1:{s.http}/v1/traces", b"\x0a\xff", headers={"authorization": "Bearer tok-a",
                                                                           "content-type": "application/x-protobuf"})
        post(f"http://127.0.0.1:{s.http}/v1/traces", b"x", headers={"authorization": "Bearer wrong-token-Q7"})
        grpc_export(s.grpc, [("authorization", "Bearer tok-a")], traces(attack=False, resources=[("a", "a")]))
        grpc_export(s.grpc, [("authorization", "Bearer wrong-token-Q7")], traces(attack=False))
        time.sleep(3)
    finally:
        s.stop(); prom.stop()
    text = open(s.dir + "/log", errors="replace").read()
    note("log at level trace", f"{len(text.splitlines())} lines")
    for what, needle in [("token tok-a", "Bearer tok-a"), ("wrong token", "wrong-token-Q7"),
                         ("e-mail it redacts", mail)]:
        at = [l for l in text.splitlines() if needle in l]
        check(f"slotel's own log (trace) holds no {what}", not at, at[:2])


def main():
    tmp = tempfile.mkdtemp(prefix="tenancy-")
    for g in GROUPS:
        print(f"== {g}", flush=True)
        globals()["g_" + g](tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    print("broke:", failures if failures else "nothing")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
