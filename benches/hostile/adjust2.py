import sys, json, time, threading
from harness import *
binary = sys.argv[1]
s = Slotel(binary, [HERE + "/hostile-slos.yaml"], state=True)
A = f"http://127.0.0.1:{s.admin}/api/v1/adjustments"
rule = sys.argv[2]
body = json.dumps({"service": "shop", "reason": "r", "author": "a", "rrule": rule, "dtstart": "2026-12-07T00:00:00", "duration": "1s"}).encode()
c, d, dt = post(A, body); print("one:", c, f"{dt*1000:.1f} ms", d[:100])
pr = Prober(s); stop = time.monotonic() + 6; n = [0]; lat = []
def w():
    while time.monotonic() < stop:
        c, d, dt = post(A, body); n[0] += 1; lat.append(dt)
ts = [threading.Thread(target=w) for _ in range(8)]; [t.start() for t in ts]; [t.join() for t in ts]
lat.sort()
print(f"8 posters: {n[0]} POSTs in 6 s, p50 {lat[len(lat)//2]*1000:.0f} ms; probe", pr.done(), "hwm", s.hwm())
s.stop()
