"""Hard negatives: values that look like PII or secrets to a careless detector but are not,
each with the keys it is normally logged under and, for some, a phrase it sits in inside
free text. Each generator returns a string, or an int for values logged as JSON numbers.
"""

import hashlib
import string
import uuid

from values import DIGITS, HEX, gtin_check, luhn_check_digit, luhn_ok, rs


def kr_rep_number(r):
    prefix = r.choice(["1588", "1577", "1566", "1544", "1600", "1644", "1661", "1670", "1688",
                       "1800", "1833", "1855", "1899", "1522", "1599"])
    return f"{prefix}-{rs(r, DIGITS, 4)}"


def dotted_version(r):
    v = r.choice(["ipv4like", "ipv4like", "chrome", "windows"])
    if v == "ipv4like":
        return ".".join(str(r.randint(0, 255)) for _ in range(4))
    if v == "chrome":
        return f"{r.randint(100, 131)}.0.{r.randint(4000, 6999)}.{r.randint(1, 250)}"
    return f"10.0.{r.randint(10000, 22631)}.{r.randint(1, 4000)}"


def ga_id(r):
    v = r.choice(["ua", "g", "gtm"])
    if v == "ua":
        return f"UA-{rs(r, DIGITS, r.choice([8, 9]))}-{r.randint(1, 9)}"
    if v == "g":
        return "G-" + rs(r, string.ascii_uppercase + DIGITS, 10)
    return "GTM-" + rs(r, string.ascii_uppercase + DIGITS, 7)


def ean13(r):
    # GS1 prefixes: 880 Korea, 400-440 Germany, 450-459/490-499 Japan, 00-13 US/Canada.
    prefix = r.choice(["880", "880", "880", "400", "450", "490", "590", "690", "760"])
    body = prefix + rs(r, DIGITS, 12 - len(prefix))
    code = body + gtin_check(body)
    return int(code) if r.random() < 0.3 else code


def upc_a(r):
    body = str(r.randint(0, 9)) + rs(r, DIGITS, 10)
    return body + gtin_check(body)


USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c} Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{m} Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c} Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{m} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 KAKAOTALK 10.4.{m}",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{f}.0) Gecko/20100101 Firefox/{f}.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{c} Safari/537.36 Edg/{c}",
    "Mozilla/5.0 (Linux; Android 13; SM-G991N Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/{c} Mobile Safari/537.36 NAVER(inapp; search; 2000; 12.{m}.1)",
    "okhttp/4.{m}.0",
    "curl/8.{m}.1",
    "Go-http-client/2.0",
    "python-requests/2.{m}.0",
    "Apache-HttpClient/5.{m} (Java/17.0.{m})",
]


def user_agent(r):
    t = r.choice(USER_AGENTS)
    c = f"{r.randint(100, 131)}.0.{r.randint(4000, 6999)}.{r.randint(10, 250)}"
    return t.format(c=c, m=r.randint(1, 9), f=r.randint(100, 133))


def a_uuid(r):
    return str(uuid.UUID(int=r.getrandbits(128), version=4))


def trace_id(r):
    return rs(r, HEX, 32)


def span_id(r):
    return rs(r, HEX, 16)


def timestamp_iso(r):
    y, mo, d = r.randint(2023, 2026), r.randint(1, 12), r.randint(1, 28)
    h, mi, s, ms = r.randint(0, 23), r.randint(0, 59), r.randint(0, 59), r.randint(0, 999)
    z = r.choice(["Z", "+09:00", "Z", "+00:00"])
    v = r.choice(["ms", "s", "us", "space"])
    if v == "ms":
        return f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}{z}"
    if v == "us":
        return f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}{r.randint(0, 999):03d}{z}"
    if v == "space":
        return f"{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d},{ms:03d}"
    return f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{z}"


def epoch_s(r):
    v = r.randint(1672531200, 1798761600)
    return v if r.random() < 0.7 else str(v)


def epoch_ms(r):
    v = r.randint(1672531200000, 1798761600000)
    return v if r.random() < 0.7 else str(v)


def epoch_ns(r):
    v = r.randint(1672531200, 1798761600) * 10**9 + r.randint(0, 10**9 - 1)
    return v if r.random() < 0.5 else str(v)


def semver(r):
    v = f"{r.randint(0, 20)}.{r.randint(0, 40)}.{r.randint(0, 30)}"
    return r.choice([v, "v" + v, v + "-rc." + str(r.randint(1, 5)), v + "+build." + str(r.randint(1, 999))])


def md5_hex(r):
    return hashlib.md5(r.randbytes(16)).hexdigest()


def sha1_hex(r):
    return hashlib.sha1(r.randbytes(16)).hexdigest()


def sha256_hex(r):
    return hashlib.sha256(r.randbytes(16)).hexdigest()


def git_sha(r):
    h = hashlib.sha1(r.randbytes(16)).hexdigest()
    return h if r.random() < 0.7 else h[:r.choice([7, 8, 12])]


def non_luhn_16(r):
    while True:
        n = r.choice(["4", "5", "9", "1", "3"]) + rs(r, DIGITS, 15)
        if not luhn_ok(n):
            return int(n) if r.random() < 0.4 else n


def non_rrn_13(r):
    # The date part is not a calendar date (month 00 or 13-99), and the whole fails Luhn
    # (so it is no 13-digit card number either).
    while True:
        yy = rs(r, DIGITS, 2)
        mm = r.choice(["00", str(r.randint(13, 99))])
        dd = "%02d" % r.randint(0, 99)
        n = yy + mm + dd + rs(r, DIGITS, 7)
        if n[0] != "0" and not luhn_ok(n):
            return int(n) if r.random() < 0.4 else n


def duration(r):
    v = r.choice(["ms", "s", "iso", "go", "clock", "num"])
    if v == "ms":
        return f"{r.randint(1, 9999)}ms"
    if v == "s":
        return f"{r.randint(0, 99)}.{r.randint(0, 999):03d}s"
    if v == "iso":
        return f"PT{r.randint(1, 59)}M{r.randint(1, 59)}S"
    if v == "go":
        return f"{r.randint(1, 23)}h{r.randint(1, 59)}m{r.randint(1, 59)}s"
    if v == "clock":
        return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{r.randint(0, 999):03d}"
    return r.randint(1, 600000)


def event_date(r):
    y, m, d = r.randint(2015, 2027), r.randint(1, 12), r.randint(1, 28)
    return r.choice([f"{y}-{m:02d}-{d:02d}", f"{y}/{m:02d}/{d:02d}", f"{y}.{m:02d}.{d:02d}",
                     f"{y}년 {m}월 {d}일", f"{m:02d}/{d:02d}/{y}"])


def order_id(r):
    v = r.choice(["ord", "alnum", "date"])
    if v == "ord":
        return f"ORD-{r.randint(2023, 2026)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}-{rs(r, DIGITS, 6)}"
    if v == "alnum":
        return rs(r, string.ascii_uppercase + DIGITS, 10)
    return f"{r.randint(2023, 2026)}{r.randint(1, 12):02d}{r.randint(1, 28):02d}{rs(r, DIGITS, 6)}"


def port(r):
    p = r.choice([80, 443, 3306, 5432, 6379, 8080, 8443, 9092, 9200, 27017, r.randint(1024, 65535)])
    return p if r.random() < 0.7 else str(p)


def http_status(r):
    return r.choice([200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504])


def price(r):
    v = r.choice(["krw_num", "krw_text", "usd", "usd_text", "float"])
    if v == "krw_num":
        return r.randint(10, 99999) * 100
    if v == "krw_text":
        return f"{r.randint(1, 999):,},{r.randint(0, 9)}00원"
    if v == "usd":
        return f"${r.randint(1, 9999):,}.{r.randint(0, 99):02d}"
    if v == "usd_text":
        return f"{r.randint(1, 999)}.{r.randint(0, 99):02d} USD"
    return f"{r.randint(1, 9999)}.{r.randint(0, 99):02d}"


# type: (generator, keys, free-text phrases with {v})
NEGATIVES = {
    "kr_rep_number": (kr_rep_number, ["support_phone", "hotline", "cs_tel", "고객센터", "대표번호", "contact"],
                      ["고객센터 {v}로 문의하세요", "call {v} for support", "대표번호 {v}"]),
    "dotted_version": (dotted_version, ["version", "app_version", "build", "build_number", "fw_version",
                                        "driver_version", "client_version"], []),
    "ga_id": (ga_id, ["tracking_id", "ga_id", "measurement_id", "gtm_id", "analytics_property"],
              ["gtag config {v} loaded"]),
    "ean13": (ean13, ["sku", "barcode", "ean", "gtin", "product_barcode"], []),
    "upc_a": (upc_a, ["upc", "barcode", "sku"], []),
    "user_agent": (user_agent, ["user_agent", "userAgent", "http.user_agent", "ua"], ['ua="{v}"']),
    "uuid": (a_uuid, ["request_id", "id", "user_id", "device_id", "correlation_id", "event_id"],
             ["request {v} done"]),
    "trace_id": (trace_id, ["trace_id", "traceId", "trace.id"], ["trace_id={v}"]),
    "span_id": (span_id, ["span_id", "spanId", "parent_span_id"], ["span={v}"]),
    "timestamp_iso": (timestamp_iso, ["timestamp", "ts", "time", "@timestamp", "received_at"], []),
    "epoch_s": (epoch_s, ["epoch", "ts_s", "unix_time", "iat", "exp"], ["at {v}"]),
    "epoch_ms": (epoch_ms, ["ts_ms", "timestamp_ms", "time_ms", "eventTime"], ["ts={v}"]),
    "epoch_ns": (epoch_ns, ["time_unix_nano", "ts_ns", "observed_ns"], []),
    "semver": (semver, ["version", "sdk_version", "app.version", "release"], ["deployed {v}"]),
    "md5": (md5_hex, ["md5", "etag", "checksum", "content_md5"], []),
    "sha1": (sha1_hex, ["sha1", "checksum", "digest", "fingerprint"], []),
    "sha256": (sha256_hex, ["sha256", "hash", "digest", "checksum", "image_digest"], []),
    "git_sha": (git_sha, ["commit", "git_sha", "revision", "vcs.revision"], ["built from {v}"]),
    "non_luhn_16": (non_luhn_16, ["order_no", "tracking_number", "invoice_id", "shipment_id", "member_no"], []),
    "non_rrn_13": (non_rrn_13, ["object_id", "doc_no", "ticket_id", "batch_id"], []),
    "duration": (duration, ["duration", "elapsed", "latency", "took", "duration_ms"], ["took {v}"]),
    "event_date": (event_date, ["created_at", "updated_at", "event_date", "order_date", "due_date",
                                "주문일", "expires"], ["order placed on {v}"]),
    "order_id": (order_id, ["order_id", "orderId", "주문번호", "cart_id"], ["order {v} paid"]),
    "port": (port, ["port", "server.port", "db_port", "listen_port"], []),
    "http_status": (http_status, ["status", "status_code", "http.status_code", "code"], ["status={v}"]),
    "price": (price, ["price", "amount", "total", "결제금액", "unit_price"], []),
}
