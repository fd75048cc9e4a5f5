# OTLP/HTTP framing, third pass: 1,000 pipelined requests on one connection (8
# connections at once), with and without a token; a 1 MiB header line and 10,000 headers
# before the token is checked; `Content-Encoding` stacks; `Content-Length` lies; zstd frames
# that declare a 2 GiB window or no content size. Prints each answer (or how many), peak
# RSS and the /healthz probe.
import sys, os, re, json, time, socket, gzip, subprocess, concurrent.futures as cf
from harness import *
binary = sys.argv[1]
s = Slotel(binary)
print("start hwm KiB", s.hwm())
pr = Prober(s)
now = now_ns()
body = json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [
    {"traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef", "name": "GET", "kind": 2,
     "startTimeUnixNano": str(now - 1000), "endTimeUnixNano": str(now)}] * 20}]}]}).encode()

def raw(data, read_until_close=True, timeout=30, half_close=False):
    c = socket.create_connection(("127.0.0.1", s.http), timeout=timeout)
    t = time.monotonic()
    try:
        c.sendall(data)
    except OSError as e:
        pass
    if half_close:
        c.shutdown(socket.SHUT_WR)
    out = b""
    try:
        while True:
            d = c.recv(1 << 20)
            if not d: break
            out += d
            if not read_until_close and b"\r\n\r\n" in out: break
    except OSError as e:
        out += b" <" + str(e).encode() + b">"
    c.close()
    return out, time.monotonic() - t

def req(token=True, extra=b"", b=body, length=None, path=b"/v1/traces"):
    h = b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    if token: h += b"Authorization: Bearer tok-u\r\n"
    h += extra + b"Content-Length: %d\r\n\r\n" % (len(b) if length is None else length)
    return h + b

def statuses(out):
    codes = {}
    for k in re.findall(rb"HTTP/1.1 (\d\d\d) ", out):
        codes[k.decode()] = codes.get(k.decode(), 0) + 1
    return codes

def show(label, out, dt):
    global pr
    p = pr.done(); pr = Prober(s)
    print("%-52s %s in %.2fs; hwm %d MiB; probe p95 %s max %s ms" % (label, statuses(out) or out[:120], dt, s.hwm() >> 10,
          p["p95_ms"], p["max_ms"]), flush=True)

# Pipelining
pipe = req() * 1000
out, dt = raw(pipe, half_close=True); show("1,000 pipelined requests, token", out, dt)
pipe_u = req(token=False) * 1000
out, dt = raw(pipe_u, half_close=True); show("1,000 pipelined requests, no token", out, dt)
with cf.ThreadPoolExecutor(8) as ex:
    rs = list(ex.map(lambda _: raw(pipe, half_close=True), range(8)))
show("8 connections x 1,000 pipelined, token", b"".join(r[0] for r in rs), max(r[1] for r in rs))
big = json.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [
    {"traceId": "0123456789abcdef0123456789abcdef", "spanId": "0123456789abcdef", "name": "x" * 1000, "kind": 2,
     "startTimeUnixNano": str(now - 1000), "endTimeUnixNano": str(now)}] * 3000}]}]}).encode()
with cf.ThreadPoolExecutor(8) as ex:
    rs = list(ex.map(lambda _: raw(req(b=big) * 100, half_close=True), range(8)))
show("8 connections x 100 pipelined 3 MB requests", b"".join(r[0] for r in rs), max(r[1] for r in rs))

# Headers before the token
out, dt = raw(req(token=False, extra=b"X-Long: " + b"a" * (1 << 20) + b"\r\n"))
show("one 1 MiB header line, no token", out, dt)
out, dt = raw(req(token=False, extra=b"".join(b"X-H%d: v\r\n" % i for i in range(10000))))
show("10,000 headers, no token", out, dt)
with cf.ThreadPoolExecutor(8) as ex:
    rs = list(ex.map(lambda _: raw(req(token=False, extra=b"X-Long: " + b"a" * (16 << 20) + b"\r\n")), range(8)))
show("8 x a 16 MiB header line, no token", b"".join(r[0] for r in rs), max(r[1] for r in rs))

# Content-Encoding stacks
gz = gzip.compress(body); gzgz = gzip.compress(gz)
for enc, b in [(b"gzip, gzip", gzgz), (b"identity, gzip", gz), (b"gzip, identity", gz), (b"gzip,gzip", gzgz),
               (b"GZIP", gz), (b"x-gzip", gz), (b"deflate", gz), (b"br", gz), (b"", body)]:
    out, dt = raw(req(extra=b"Content-Encoding: " + enc + b"\r\nConnection: close\r\n", b=b))
    show("Content-Encoding: %r" % enc.decode(), out, dt)
    print("   ", out.split(b"\r\n\r\n", 1)[-1][:160])
out, dt = raw(req(extra=b"Content-Encoding: gzip\r\nContent-Encoding: gzip\r\nConnection: close\r\n", b=gzgz))
show("two Content-Encoding: gzip headers", out, dt); print("   ", out.split(b"\r\n\r\n", 1)[-1][:160])

# Content-Length lies
out, dt = raw(req(length=10**9, extra=b"Connection: close\r\n"))
show("Content-Length 10^9, 1 KB sent", out, dt)
out, dt = raw(req(length=2**64 - 1, extra=b"Connection: close\r\n"))
show("Content-Length 2^64-1", out, dt)
out, dt = raw(req(length=-1, extra=b"Connection: close\r\n"))
show("Content-Length -1", out, dt)
out, dt = raw(req(length=10, extra=b"Connection: close\r\n"))
show("Content-Length 10, 1 KB sent", out, dt)
out, dt = raw(req(extra=b"Content-Length: 5\r\nConnection: close\r\n"))
show("two different Content-Length headers", out, dt)
out, dt = raw(req(extra=b"Transfer-Encoding: chunked\r\nConnection: close\r\n"))
show("Content-Length and Transfer-Encoding: chunked", out, dt)

# zstd frames
def zstd(data, *args):
    return subprocess.run(["zstd", "-q", "-c", *args], input=data, capture_output=True).stdout
zeros = b"\0" * (64 << 20)
for label, z in [("zstd --long=31 of the body (2 GiB window, from a pipe)", zstd(body, "--long=31", "--ultra", "-22")),
                 ("zstd --long=31 of 64 MiB of zeros", zstd(zeros, "--long=31", "--ultra", "-19"))]:
    with cf.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(lambda _: raw(req(extra=b"Content-Encoding: zstd\r\nConnection: close\r\n", b=z)), range(8)))
    show(label + " x8", b"".join(r[0] for r in rs), max(r[1] for r in rs))
    print("   ", rs[0][0].split(b"\r\n\r\n", 1)[-1][:160])
print("probe", pr.done(), "alive", s.alive(), "final hwm KiB", s.hwm())
s.stop()
