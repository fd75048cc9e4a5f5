# Backends answering badly: slotel's otlphttp (traces), loki (logs) and
# prometheusremotewrite (metrics and the SLO series) exporters point at a raw-socket
# server that answers every request with ATTACK. 8 clients send for 10 s; prints what the
# backend saw, slotel's peak RSS, the /healthz probe, the exporters' self-metrics, then
# the time SIGTERM takes (`shutdown_timeout: 5s`).
#   backend.py BIN ATTACK [ATTACK...]
# ATTACK: huge (200 with a 1 GB body), huge500 (500 with a 1 GB body), chunked (a chunked
# body that never ends), trickle (a body of one byte a second), redirect (307 to itself),
# retry (429 and 503 with Retry-After: 999999999), gzip (200 with an invalid gzip body),
# headers (100,000 header lines), silent (accepts, never answers), tlshang (the exporters
# use https; the server accepts TCP and never answers the TLS handshake), ok (204).
import sys, os, json, time, socket, threading, concurrent.futures as cf
from harness import *
binary, attacks = sys.argv[1], sys.argv[2:]

class Backend:
    def __init__(self, attack):
        self.attack, self.requests, self.bytes_out = attack, 0, 0
        self.sock = socket.socket(); self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0)); self.sock.listen(512); self.port = self.sock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self.accept, daemon=True).start()
    def accept(self):
        while not self.stop:
            try: c, _ = self.sock.accept()
            except OSError: return
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()
    def read_request(self, c, buf):
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d: return None
            buf += d
        head, rest = buf.split(b"\r\n\r\n", 1)
        n = 0
        for l in head.split(b"\r\n")[1:]:
            if l.lower().startswith(b"content-length:"): n = int(l.split(b":")[1])
        while len(rest) < n:
            d = c.recv(65536)
            if not d: return None
            rest += d
        self.requests += 1
        return head.split(b"\r\n")[0], rest[n:]
    def send(self, c, data):
        c.sendall(data); self.bytes_out += len(data)
    def serve(self, c):
        a = self.attack; buf = b""
        try:
            if a == "tlshang":
                self.requests += 1
                while c.recv(65536): pass
                return
            while True:
                r = self.read_request(c, buf)
                if r is None: return
                line, buf = r
                if a == "silent":
                    while c.recv(65536): pass
                    return
                if a == "ok":
                    self.send(c, b"HTTP/1.1 204 No Content\r\n\r\n"); continue
                if a in ("huge", "huge500"):
                    code = b"200 OK" if a == "huge" else b"500 Internal Server Error"
                    self.send(c, b"HTTP/1.1 " + code + b"\r\nContent-Length: 1000000000\r\nContent-Type: application/x-protobuf\r\n\r\n")
                    chunk = b"\x0a" * 1048576
                    for _ in range(1000): self.send(c, chunk)
                    continue
                if a == "chunked":
                    self.send(c, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-protobuf\r\n\r\n")
                    chunk = b"%x\r\n" % 65536 + b"\x0a" * 65536 + b"\r\n"
                    while True: self.send(c, chunk)
                if a == "trickle":
                    self.send(c, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                    while True: self.send(c, b"\x0a"); time.sleep(1)
                if a == "redirect":
                    path = line.split()[1]
                    self.send(c, b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:%d%s\r\nContent-Length: 0\r\n\r\n" % (self.port, path)); continue
                if a == "retry":
                    code = b"429 Too Many Requests" if self.requests % 2 else b"503 Service Unavailable"
                    self.send(c, b"HTTP/1.1 " + code + b"\r\nRetry-After: 999999999\r\nContent-Length: 0\r\n\r\n"); continue
                if a == "gzip":
                    self.send(c, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: application/x-protobuf\r\nContent-Length: 64\r\n\r\n" + b"\x1f\x8b\x08\x00" + b"\xff" * 60); continue
                if a == "headers":
                    self.send(c, b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(100000)) + b"Content-Length: 0\r\n\r\n"); continue
        except OSError:
            return
        finally:
            c.close()

def traffic(s, seconds):
    t0 = time.monotonic(); codes = {}
    now = now_ns()
    tr = json.dumps({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
        "scopeSpans": [{"spans": [{"traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef", "name": "GET", "kind": 2,
            "startTimeUnixNano": str(now - 10**6), "endTimeUnixNano": str(now), "attributes": [{"key": "a", "value": {"stringValue": "x" * 200}}]}] * 200}]}]}).encode()
    lg = json.dumps({"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": [{"timeUnixNano": str(now), "body": {"stringValue": "y" * 300}}] * 200}]}]}).encode()
    def send(i):
        n = 0
        while time.monotonic() - t0 < seconds:
            path, body = ("/v1/traces", tr) if (i + n) % 2 else ("/v1/logs", lg)
            c, _, _ = post(f"http://127.0.0.1:{s.http}{path}", body, timeout=30); n += 1
            codes[c] = codes.get(c, 0) + 1
    with cf.ThreadPoolExecutor(8) as ex: list(ex.map(send, range(8)))
    return codes

for attack in attacks:
    b = Backend(attack)
    scheme = "https" if attack == "tlshang" else "http"
    ep = f"{scheme}://127.0.0.1:{b.port}"
    exporters = (f"  otlphttp/t:\n    endpoint: {ep}\n"
                 f"  loki/l:\n    endpoint: {ep}\n"
                 f"  prometheusremotewrite/m:\n    endpoint: {ep}/api/v1/push\n")
    s = Slotel(binary, exporters=exporters, pipelines={"traces": ["otlphttp/t"], "logs": ["loki/l"], "metrics": ["prometheusremotewrite/m"]},
               service="  shutdown_timeout: 5s\n", extra_cfg="")
    pr = Prober(s)
    codes = traffic(s, 10)
    c, m, _ = get(f"http://127.0.0.1:{s.admin}/metrics")
    keep = [l for l in m.decode().splitlines() if not l.startswith("#") and l.startswith("slotel_exporter") and not l.endswith(" 0")
            and 'exporter="slo"' not in l and '_bucket' not in l]
    probe = pr.done()
    hwm = s.hwm()
    t = time.monotonic(); s.p.terminate()
    try: rc = s.p.wait(60)
    except Exception: rc = "killed"; s.p.kill()
    stop_s = time.monotonic() - t
    print(f"== {attack}: backend saw {b.requests} requests, wrote {b.bytes_out >> 20} MiB; clients {codes}")
    print(f"   peak RSS {hwm >> 10} MiB; probe {probe}; SIGTERM -> exit {rc} in {stop_s:.1f}s")
    for l in keep[:30]: print("  ", l[:180])
    log = open(s.dir + "/log").read().splitlines()
    for l in log[-4:]: print("   log:", l[:260])
    b.stop = True; b.sock.close()
