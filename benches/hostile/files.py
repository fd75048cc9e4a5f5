#!/usr/bin/env python3
# Files slotel reads back, crafted: capture files (Arrow IPC stream format, zstd frames built
# from RFC 8878), the SLO state (snapshot JSON, write-ahead log segments), config and SLO
# YAML (YAML 1.2 anchors and aliases), token and TLS files, FIFOs and devices in place of
# files. Each case runs the real binary under a 6 GiB address-space limit and a timeout and
# prints its exit code (or TIMEOUT), peak RSS, time and first error line. The server cases
# (a restart on a damaged state_dir, a SIGHUP reload with bad files) also print the
# /healthz probe and whether SIGTERM still stops the process.
#   files.py BIN [GROUP...]     GROUP: capture, state, yaml, tls, fifo, server (default: all)
import sys, os, json, time, struct, signal, subprocess, tempfile, shutil
from harness import Slotel, Prober, watch

BIN = os.path.abspath(sys.argv[1])
GROUPS = sys.argv[2:] or ["capture", "state", "yaml", "tls", "fifo", "server"]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "../..")
FIXTURE = os.path.join(ROOT, "tests/fixtures/capture/dictionary-layout")
D = tempfile.mkdtemp(prefix="h29-files-")
TIMEOUT = int(os.environ.get("TIMEOUT_", "60"))
SLO = ("service: checkout\nslos:\n  - name: availability\n    objective: 99.9\n    window: 30d\n"
       "    sli:\n      spans:\n        where: kind == SPAN_KIND_SERVER\n        bad: status.code == STATUS_CODE_ERROR\n")
open(D + "/slo.yaml", "w").write(SLO)
broken = []

def run(label, args, stdin=None):
    """Runs BIN ARGS with 6 GiB of address space (past it an allocation fails) for at most
    TIMEOUT seconds (then killed), reading its peak RSS (VmHWM) every 20 ms."""
    code, timed_out, dt, peak, lines = watch([BIN] + args, TIMEOUT, stdin)
    what = "TIMEOUT" if timed_out else ("signal %d" % -code if code < 0 else "exit %d" % code)
    if timed_out and any("slotel is ready" in l for l in lines):
        what, timed_out, code = "running", False, 0
    if timed_out or code < 0 or code == 101 or any("panicked" in l for l in lines):
        broken.append(label)
    first = next((l for l in lines if "error" in l.lower() or "warning" in l.lower() or "memory allocation" in l), lines[0] if lines else "")
    print("%-52s %-10s %7.2fs %6d MiB  %s" % (label[:52], what, dt, peak // 1024, first[:260]), flush=True)
    return code

# ---------------------------------------------------------------- Arrow IPC, by the spec
# Stream format: messages of <0xFFFFFFFF><int32 metadata length><Message flatbuffer, padded
# to 8><body>, ended by 0xFFFFFFFF 0x00000000. Message: version, header_type, header,
# bodyLength, custom_metadata. RecordBatch: length, nodes [FieldNode{length, null_count}],
# buffers [Buffer{offset, length}], compression. DictionaryBatch: id, data, isDelta.
# A compressed buffer: int64 uncompressed length (-1: stored as is), then a zstd frame.

def u32(b, at): return struct.unpack_from("<I", b, at)[0]
def i32(b, at): return struct.unpack_from("<i", b, at)[0]

class Table:
    def __init__(self, buf, pos): self.b, self.pos = buf, pos; self.vt = pos - i32(buf, pos)
    def field_at(self, i):
        vsize = struct.unpack_from("<H", self.b, self.vt)[0]
        if 4 + 2 * i >= vsize: return None
        off = struct.unpack_from("<H", self.b, self.vt + 4 + 2 * i)[0]
        return self.pos + off if off else None
    def table(self, i):
        at = self.field_at(i); return Table(self.b, at + u32(self.b, at)) if at is not None else None
    def vector(self, i):
        at = self.field_at(i)
        if at is None: return None, 0
        v = at + u32(self.b, at); return v + 4, u32(self.b, v)

def messages(data):
    """(start, metadata start, metadata length, body start, body length, Message table)."""
    pos, out = 0, []
    while pos + 8 <= len(data):
        assert u32(data, pos) == 0xFFFFFFFF
        ml = u32(data, pos + 4)
        if ml == 0: break
        ms = pos + 8
        msg = Table(data, ms + u32(data, ms))
        bl_at = msg.field_at(3)
        bl = struct.unpack_from("<q", data, bl_at)[0] if bl_at else 0
        out.append((pos, ms, ml, ms + ml, bl, msg))
        pos = ms + ml + bl
    return out

def batch_of(msg):
    kind = msg.b[msg.field_at(1)] if msg.field_at(1) else 0
    h = msg.table(2)
    if kind == 3: return h
    if kind == 2: return h.table(1)
    return None

def fixture():
    name = sorted(os.listdir(FIXTURE))[0]
    return bytearray(open(os.path.join(FIXTURE, name), "rb").read()), name

def first_batch(data, dictionary=False):
    for m in messages(data):
        kind = data[m[5].field_at(1)]
        if (kind == 2) == dictionary and kind in (2, 3): return m
    raise SystemExit("no batch in the fixture")

def zstd_rle(total, byte=0):
    """A zstd frame (RFC 8878 3.1.1) of `total` bytes of `byte`: a single-segment frame
    header with an 8-byte content size, then RLE blocks of 128 KiB (4 bytes each)."""
    out = bytearray(struct.pack("<I", 0xFD2FB528)) + bytes([0xE0]) + struct.pack("<Q", total)
    left = total
    while left:
        n = min(left, 128 * 1024); left -= n
        # Block_Header: Last_Block (bit 0), Block_Type 1 = RLE (bits 1-2), Block_Size.
        out += ((1 if left == 0 else 0) | (1 << 1) | (n << 3)).to_bytes(3, "little")
        out.append(byte)
    return bytes(out)

def rebuild_body(data, m, replace):
    """The file with message `m`'s body rebuilt: buffer i replaced by `replace[i]` (bytes),
    every Buffer struct and the bodyLength patched in place."""
    start, ms, ml, bs, bl, msg = m
    batch = batch_of(msg)
    vec, n = batch.vector(2)
    body, new = bytes(data[bs:bs + bl]), bytearray()
    for i in range(n):
        off, ln = struct.unpack_from("<qq", data, vec + 16 * i)
        part = replace.get(i, body[off:off + ln])
        struct.pack_into("<qq", data, vec + 16 * i, len(new), len(part))
        new += part + b"\0" * (-len(part) % 8)
    struct.pack_into("<q", data, msg.field_at(3), len(new))
    return data[:bs] + new + data[bs + bl:]

def first_compressed(data, m):
    batch = batch_of(m[5]); vec, n = batch.vector(2)
    for i in range(n):
        off, ln = struct.unpack_from("<qq", data, vec + 16 * i)
        if ln >= 8 and struct.unpack_from("<q", data, m[3] + off)[0] > 0: return i, vec + 16 * i, m[3] + off
    raise SystemExit("no compressed buffer")

def capture_case(label, data, extra_files=None, tool="replay"):
    cap = os.path.join(D, "cap-" + str(abs(hash(label)) % 10**8))
    shutil.rmtree(cap, ignore_errors=True); os.makedirs(cap)
    _, name = fixture()
    if data is not None: open(os.path.join(cap, name), "wb").write(data)
    if extra_files: extra_files(cap)
    args = (["replay", "--slos", D + "/slo.yaml", "--capture", cap, "--format", "text"] if tool == "replay"
            else ["suggest", "--capture", cap])
    run(label, args)

def capture():
    print("\n# capture files (slotel replay / suggest)")
    base, _ = fixture()
    capture_case("the fixture as written", bytes(base))
    capture_case("the fixture, suggest", bytes(base), tool="suggest")
    d = bytearray(base); m = first_batch(d)
    capture_case("length prefix 0xFFFFFFFF after the schema", bytes(d[:m[0]]) + b"\xff\xff\xff\xff\xff\xff\xff\xff" + bytes(d[m[0]:]))
    capture_case("truncated mid-message (half the file)", bytes(base[:len(base) // 2]))
    capture_case("truncated in the schema (12 bytes)", bytes(base[:12]))
    d = bytearray(base); m = first_batch(d); i, sat, bat = first_compressed(d, m)
    struct.pack_into("<q", d, bat, 1 << 40)
    capture_case("a buffer declaring 2^40 bytes decompressed", bytes(d))
    d = bytearray(base); m = first_batch(d); i, sat, bat = first_compressed(d, m)
    declared = struct.unpack_from("<q", d, bat)[0]
    d = rebuild_body(d, m, {i: struct.pack("<q", declared) + zstd_rle(declared * 1000)})
    capture_case("zstd frame inflating 1000x its declared size", bytes(d))
    capture_case("zstd frame inflating 1000x its declared size, suggest", bytes(d), tool="suggest")
    d = bytearray(base); m = first_batch(d); i, sat, bat = first_compressed(d, m)
    d = rebuild_body(d, m, {i: struct.pack("<q", 900 << 20) + zstd_rle(900 << 20)})
    capture_case("zstd frame of 900 MiB, declared honestly", bytes(d))
    capture_case("zstd frame of 900 MiB, declared honestly, suggest", bytes(d), tool="suggest")
    d = bytearray(base); m = first_batch(d); i, sat, bat = first_compressed(d, m)
    d = rebuild_body(d, m, {i: struct.pack("<q", 2 << 30) + zstd_rle(2 << 30)})
    capture_case("zstd frame of 2 GiB, declared honestly", bytes(d))
    capture_case("zstd frame of 2 GiB, declared honestly, suggest", bytes(d), tool="suggest")
    for mib in (240, 300):
        d = bytearray(base); m = first_batch(d); i, sat, bat = first_compressed(d, m)
        d = rebuild_body(d, m, {i: struct.pack("<q", mib << 20) + zstd_rle(mib << 20)})
        capture_case("zstd frame of %d MiB, declared honestly, suggest" % mib, bytes(d), tool="suggest")
    d = bytearray(base); m = first_batch(d); i, sat, bat = first_compressed(d, m)
    d = rebuild_body(d, m, {i: struct.pack("<q", 200 << 20) + zstd_rle(1 << 20)})
    capture_case("a zstd frame of 1 MiB (45 B) declaring 200 MiB, suggest", bytes(d), tool="suggest")
    def zeros_after(n):
        def extend(c):
            path = os.path.join(c, fixture()[1])
            os.truncate(path, os.path.getsize(path) + n)
        return extend
    capture_case("the fixture then 1 GiB of zeros (sparse)", bytes(base), extra_files=zeros_after(1 << 30))
    d = bytearray(base); m = first_batch(d)
    struct.pack_into("<q", d, m[5].field_at(3), 200 << 20)
    capture_case("bodyLength 200 MiB, the file 1 GiB of zeros longer", bytes(d), extra_files=zeros_after(1 << 30))
    d = bytearray(base); m = first_batch(d); i, sat, bat = first_compressed(d, m)
    struct.pack_into("<q", d, sat, -8)
    capture_case("a negative buffer offset", bytes(d))
    d = bytearray(base); m = first_batch(d)
    struct.pack_into("<q", d, m[5].field_at(3), 1 << 62)
    capture_case("bodyLength 2^62", bytes(d))
    d = bytearray(base); m = first_batch(d)
    vec, n = batch_of(m[5]).vector(1)
    struct.pack_into("<q", d, vec, 10 ** 8)
    capture_case("a column node of 10^8 rows", bytes(d))
    d = bytearray(base); m = first_batch(d)
    struct.pack_into("<q", d, batch_of(m[5]).field_at(0), 10 ** 8)
    capture_case("a batch of 10^8 rows", bytes(d))
    try:
        d = bytearray(base); m = first_batch(d, dictionary=True)
        vec, n = batch_of(m[5]).vector(1)
        struct.pack_into("<q", d, vec, 10 ** 8)
        capture_case("a dictionary of 10^8 entries", bytes(d))
        d = bytearray(base); m = first_batch(d, dictionary=True)
        i, sat, bat = first_compressed(d, m)
        d = rebuild_body(d, m, {i: struct.pack("<q", 400 << 20) + zstd_rle(400 << 20, 0)})
        vec, n = batch_of(m[5]).vector(1)
        struct.pack_into("<q", d, vec, 10 ** 8)
        struct.pack_into("<q", d, batch_of(m[5]).field_at(0), 10 ** 8)
        capture_case("a dictionary of 10^8 empty strings (400 MiB)", bytes(d))
    except SystemExit as e:
        print("  (no dictionary batch:", e, ")")
    for old, new, label in [(b"Dictionary(Int32, Utf8)", b"Dictionary(Int32, Utf9)", "null_of naming a type that does not exist"),
                            (b"slotel.signal", b"slotel.signaX", "no signal in the schema metadata"),
                            (b'attributes["http.route"].str', b'attributes["http.route"].stx', "a layout column renamed")]:
        d = bytes(base)
        if old in d: capture_case(label, d.replace(old, new))
    for label, fn in [("100,000 files in the directory (copies)", lambda c: [shutil.copy(os.path.join(FIXTURE, fixture()[1]), os.path.join(c, "facts-%020d-000001.arrows" % (10**18 + k))) for k in range(100000)]),
                      ("a symlink loop named .arrows", lambda c: os.symlink("loop.arrows", os.path.join(c, "loop.arrows"))),
                      ("a FIFO named .arrows", lambda c: os.mkfifo(os.path.join(c, "facts-01796493397113760219-000001.arrows"))),
                      ("/dev/zero linked as a capture file", lambda c: os.symlink("/dev/zero", os.path.join(c, "facts-01796493397113760219-000001.arrows"))),
                      ("a sparse 8 GiB file", lambda c: os.truncate(open(os.path.join(c, "facts-01796493397113760219-000001.arrows"), "wb").name, 8 << 30))]:
        capture_case(label, bytes(base), extra_files=fn)
    loop = os.path.join(D, "caploop"); shutil.rmtree(loop, ignore_errors=True); os.symlink(loop, loop)
    run("--capture: a symlink loop", ["replay", "--slos", D + "/slo.yaml", "--capture", loop])
    run("--capture: /dev/zero", ["replay", "--slos", D + "/slo.yaml", "--capture", "/dev/zero"])
    # A file its writer appends to while it is read: a writer appends 1 MiB chunks of a
    # valid file's messages for 20 s.
    cap = os.path.join(D, "growing"); shutil.rmtree(cap, ignore_errors=True); os.makedirs(cap)
    path = os.path.join(cap, fixture()[1])
    head = first_batch(bytearray(base))[0]
    with open(path, "wb") as f: f.write(bytes(base[:head]))
    w = subprocess.Popen([sys.executable, "-c", "import sys,time\nb=open(sys.argv[2],'rb').read()\nf=open(sys.argv[1],'ab')\nt=time.time()\n"
                          "while time.time()-t<20:\n f.write(b*100); f.flush()", path, D + "/body"], )
    m = first_batch(bytearray(base)); open(D + "/body", "wb").write(bytes(base[m[0]:m[3] + m[4]]))
    time.sleep(0.5)
    run("a file growing while read (writer appending)", ["replay", "--slos", D + "/slo.yaml", "--capture", cap, "--format", "text"])
    w.kill(); w.wait()
    run("replay --step 1s over a year", ["replay", "--slos", D + "/slo.yaml", "--capture", FIXTURE, "--from", "2025-01-01T00:00:00Z", "--to", "2026-01-01T00:00:00Z", "--step", "1s"])
    run("replay --step 1ns", ["replay", "--slos", D + "/slo.yaml", "--capture", FIXTURE, "--step", "1ns"])
    run("replay --from after --to", ["replay", "--slos", D + "/slo.yaml", "--capture", FIXTURE, "--from", "2026-01-01T00:00:00Z", "--to", "2025-01-01T00:00:00Z"])

# ---------------------------------------------------------------- YAML (YAML 1.2)
def check_cfg(label, cfg_text=None, slo_text=None, slo_path=None, env=None):
    cfg = D + "/check.yaml"
    files = [slo_path] if slo_path else []
    if slo_text is not None:
        sp = D + "/slo-check.yaml"
        with open(sp, "wb") as f: f.write(slo_text if isinstance(slo_text, bytes) else slo_text.encode())
        files = [sp]
    text = cfg_text if cfg_text is not None else (
        "receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}}\n" + f"slo: {{files: {json.dumps(files)}}}\n")
    with open(cfg, "wb") as f: f.write(text if isinstance(text, bytes) else text.encode())
    old = dict(os.environ); os.environ.update(env or {})
    try: run(label, ["check", "--config", cfg])
    finally: os.environ.clear(); os.environ.update(old)

def yaml():
    print("\n# config and SLO YAML (slotel check)")
    laughs = "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n" + "".join(
        f"a{i}: &a{i} [*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1}]\n" for i in range(1, 10))
    check_cfg("billion laughs in the config", cfg_text="receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}}}\nx-anchors:\n" + "".join("  " + l + "\n" for l in laughs.splitlines()))
    check_cfg("billion laughs in an SLO file", slo_text=laughs + SLO)
    check_cfg("a 100 MB scalar in an SLO file", slo_text="service: " + "a" * (100 << 20) + "\nslos: []\n")
    check_cfg("a 3.9 MiB scalar aliased 1000 times", slo_text="x: &x " + "a" * (3900 << 10) + "\ny: [" + ",".join(["*x"] * 1000) + "]\n" + SLO)
    check_cfg("10,000-deep flow nesting", slo_text="x: " + "[" * 10000 + "]" * 10000 + "\n" + SLO)
    check_cfg("10,000-deep flow mappings", slo_text="x: " + "{a: " * 10000 + "1" + "}" * 10000 + "\n" + SLO)
    check_cfg("100,000 duplicate keys", slo_text=SLO + "".join("service: s\n" for _ in range(100000)))
    check_cfg("!!binary service name", slo_text=SLO.replace("service: checkout", "service: !!binary aGVsbG8="))
    check_cfg("non-UTF-8 bytes", slo_text=SLO.encode().replace(b"checkout", b"check\xff\xfeout"))
    check_cfg("UTF-16 with a BOM", slo_text=b"\xff\xfe" + SLO.encode("utf-16-le"))
    check_cfg("${env:X} whose value is ${env:X}", cfg_text="receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}, auth: {tokens: [{token: \"${env:H29_LOOP}\", tenant: t}]}}}\n",
              env={"H29_LOOP": "${env:H29_LOOP}"})
    # The kernel takes at most 128 KiB per environment string.
    check_cfg("${env:X} of 120 KiB x 200 uses", cfg_text="receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}, auth: {tokens: [" +
              ",".join('{token: "${env:H29_BIG}-%d", tenant: t%d}' % (i, i) for i in range(200)) + "]}}}\n", env={"H29_BIG": "x" * (120 << 10)})
    open(D + "/tok", "w").write("t" * ((1 << 20) - 10))
    check_cfg("${file:} of 1 MiB x 100 uses", cfg_text="receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}, auth: {tokens: [" +
              ",".join('{token: "${file:%s}-%d", tenant: t%d}' % (D + "/tok", i, i) for i in range(100)) + "]}}}\n")
    big = D + "/big-token"
    with open(big, "wb") as f: f.truncate(1 << 30)
    check_cfg("${file:} of a 1 GB token file", cfg_text="receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}, auth: {tokens: [{token: \"${file:%s}\", tenant: t}]}}}\n" % big)
    check_cfg("${file:/dev/zero} token", cfg_text="receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}, auth: {tokens: [{token: \"${file:/dev/zero}\", tenant: t}]}}}\n")
    sloth = "version: prometheus/v1\nservice: s\nslos:\n  - name: a\n    objective: 99.9\n    sli:\n      events:\n        error_query: x\n        total_query: y\n"
    for label, text in [("import --from sloth: billion laughs", laughs + sloth), ("import --from sloth: 100 MB scalar", "x: " + "a" * (100 << 20) + "\n"),
                        ("import --from sloth: 10,000-deep nesting", "x: " + "[" * 10000 + "]" * 10000 + "\n" + sloth)]:
        open(D + "/sloth.yaml", "w").write(text)
        run(label, ["import", "--from", "sloth", D + "/sloth.yaml"])

# ---------------------------------------------------------------- TLS and FIFOs
def tls():
    print("\n# TLS files (slotel run exits at start when they are unusable)")
    one = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=x",
                          "-keyout", D + "/key.pem", "-out", D + "/cert.pem", "-days", "2"], capture_output=True)
    cert = open(D + "/cert.pem").read() if one.returncode == 0 else None
    def srv(label, cert_file, key_file, ca=None):
        extra = f", client_ca_file: {ca}" if ca else ""
        open(D + "/tls.yaml", "w").write("receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0, tls: {cert_file: %s, key_file: %s%s}}}}}\n"
                                         "service: {admin: {endpoint: 127.0.0.1:0}}\n" % (cert_file, key_file, extra))
        global TIMEOUT
        keep, TIMEOUT = TIMEOUT, 20
        try: run(label, ["run", "--config", D + "/tls.yaml"])
        finally: TIMEOUT = keep
    srv("cert_file /dev/zero", "/dev/zero", D + "/key.pem")
    srv("key_file /dev/zero", D + "/cert.pem", "/dev/zero")
    srv("client_ca_file /dev/zero", D + "/cert.pem", D + "/key.pem", "/dev/zero")
    if cert:
        with open(D + "/bundle.pem", "w") as f:
            for _ in range(100000): f.write(cert)
        srv("client_ca_file of 10^5 certificates (%d MiB)" % (os.path.getsize(D + "/bundle.pem") >> 20), D + "/cert.pem", D + "/key.pem", D + "/bundle.pem")
        with open(D + "/huge.pem", "wb") as f: f.truncate(1 << 30)
        srv("cert_file of 1 GB (sparse zeros)", D + "/huge.pem", D + "/key.pem")

def fifo():
    print("\n# FIFOs and devices in place of files")
    f = D + "/fifo.yaml"
    if not os.path.exists(f): os.mkfifo(f)
    check_cfg("an SLO file that is a FIFO", slo_path=f)
    check_cfg("an SLO file that is /dev/zero", slo_path="/dev/zero")
    run("--config FIFO", ["check", "--config", f])
    run("--config /dev/zero", ["check", "--config", "/dev/zero"])
    check_cfg("${file:FIFO} token", cfg_text="receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:0}}, auth: {tokens: [{token: \"${file:%s}\", tenant: t}]}}}\n" % f)
    run("import --from sloth FIFO", ["import", "--from", "sloth", f])

# ---------------------------------------------------------------- SLO state
def state():
    print("\n# slo.state_dir on restart (slotel run; ready or not, then SIGTERM)")
    def restart(label, prepare):
        s = Slotel(BIN, state=True)
        st = s.dir + "/state"
        s.stop()
        for name in os.listdir(st):
            p = os.path.join(st, name)
            if os.path.isdir(p) and not os.path.islink(p): shutil.rmtree(p)
            else: os.unlink(p)
        prepare(st)
        cfg = s.cfg
        t = time.monotonic()
        p = subprocess.Popen(["prlimit", "--as=6442450944", BIN, "--config", cfg], stdout=subprocess.DEVNULL, stderr=open(s.dir + "/log2", "w"))
        ready, peak = None, 0
        while time.monotonic() - t < TIMEOUT and p.poll() is None:
            try:
                for l in open(f"/proc/{p.pid}/status"):
                    if l.startswith("VmHWM:"): peak = int(l.split()[1])
            except Exception: pass
            try:
                import urllib.request
                urllib.request.urlopen(f"http://127.0.0.1:{s.admin}/healthz", timeout=1).read(); ready = time.monotonic() - t; break
            except Exception: time.sleep(0.05)
        p.send_signal(signal.SIGTERM)
        try: code = p.wait(15); stopped = "stopped %s" % code
        except subprocess.TimeoutExpired: p.kill(); p.wait(); stopped = "IGNORED SIGTERM"; broken.append(label)
        if ready is None and p.returncode in (None, -9): broken.append(label)
        log = [l for l in open(s.dir + "/log2").read().splitlines() if "ERROR" in l or "WARN" in l or "error" in l]
        print("%-52s %-18s peak %5d MiB, %s; %s" % (label[:52], ("ready %.2fs" % ready) if ready is not None else "NOT READY",
              peak // 1024, stopped, (log[0] if log else "")[-220:]), flush=True)
    snap = "slo-state.json"
    def write(name, data):
        def f(st):
            with open(os.path.join(st, name), "wb") as fh: fh.write(data)
        return f
    restart("snapshot: not JSON", write(snap, b"\x00" * 100))
    restart("snapshot: version 4, 10^6 SLO entries", write(snap, (b'{"version":4,"written_unix_nano":1,"wal_position":0,"slos":[' +
            b",".join([b'{"service":"s","name":"n","fingerprint":"f","groups":[]}'] * 10**6) + b"]}")))
    restart("snapshot: 100 MB string", write(snap, b'{"version":4,"x":"' + b"a" * (100 << 20) + b'"}'))
    restart("snapshot: 10^7-deep array", write(snap, b"[" * 10**7))
    restart("snapshot: /dev/zero", lambda st: os.symlink("/dev/zero", os.path.join(st, snap)))
    restart("snapshot: a FIFO", lambda st: os.mkfifo(os.path.join(st, snap)))
    restart("snapshot: sparse 600 MB", lambda st: os.truncate(open(os.path.join(st, snap), "wb").name, 600 << 20))
    def wal(data):
        def f(st):
            os.makedirs(st + "/slo-wal", exist_ok=True)
            with open(st + "/slo-wal/0000000000000000.wal", "wb") as fh: fh.write(data)
        return f
    restart("wal: 64 MiB of 0xFF", wal(b"\xff" * (64 << 20)))
    restart("wal: 16 MiB of repeated frame magic", wal(b"SLW2" * (4 << 20)))
    restart("wal: a segment that is /dev/zero", lambda st: (os.makedirs(st + "/slo-wal", exist_ok=True), os.symlink("/dev/zero", st + "/slo-wal/0000000000000000.wal")))
    restart("wal: a segment that is a FIFO", lambda st: (os.makedirs(st + "/slo-wal", exist_ok=True), os.mkfifo(st + "/slo-wal/0000000000000000.wal")))
    restart("wal: 100,000 empty segments", lambda st: (os.makedirs(st + "/slo-wal", exist_ok=True), [open(st + "/slo-wal/%016x.wal" % k, "wb").close() for k in range(100000)]))

def server():
    print("\n# SIGHUP reload with bad SLO files (the /healthz probe meanwhile; then SIGTERM)")
    for label, make in [("an SLO file replaced by a FIFO", lambda p: (os.unlink(p), os.mkfifo(p))),
                        ("an SLO file replaced by a link to /dev/zero", lambda p: (os.unlink(p), os.symlink("/dev/zero", p))),
                        ("an SLO file replaced by billion laughs", lambda p: open(p, "w").write("a0: &a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" +
                            "".join(f"a{i}: &a{i} [*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1},*a{i-1}]\n" for i in range(1, 10)))),
                        ("an SLO file of 100 MB", lambda p: open(p, "w").write("x: " + "a" * (100 << 20) + "\n"))]:
        sd = D + "/reload-slos"; shutil.rmtree(sd, ignore_errors=True); os.makedirs(sd)
        open(sd + "/shop.yaml", "w").write(SLO.replace("checkout", "h29shop"))
        s = Slotel(BIN, extra_slo_files=[sd])
        pr = Prober(s)
        make(sd + "/shop.yaml")
        t = time.monotonic()
        for _ in range(5):
            s.p.send_signal(signal.SIGHUP); time.sleep(0.4)
        r = pr.done()
        s.p.send_signal(signal.SIGTERM)
        try: code = s.p.wait(15); stopped = "stopped %s" % code
        except subprocess.TimeoutExpired: s.p.kill(); s.p.wait(); stopped = "IGNORED SIGTERM"; broken.append(label)
        log = [l for l in open(s.dir + "/log").read().splitlines() if "reload" in l.lower() or "ERROR" in l]
        print("%-52s probes %d p95 %s ms max %s ms fail %d, peak %d MiB, %s; %s" % (label[:52], r["probes"], r["p95_ms"], r["max_ms"], r["fail"],
              r["peak_rss_seen"] // 1024, stopped, (log[0] if log else "")[-200:]), flush=True)

for g in GROUPS: globals()[g]()
print("\nbroken:", broken or "none")
shutil.rmtree(D, ignore_errors=True)
sys.exit(1 if broken else 0)
