"""Writes corpus.jsonl, the tenth labelled redaction set (deterministic: seed 20261207).

Each document holds one labelled PII item and one or two hard negatives, in one of the shapes
listed in README.md. Run: python3 gen_tenth.py
"""

import json
import os
import random
import urllib.parse

import values as V

SEED = 20261207
N_DOCS = 2000


def pick(rng, xs):
    return xs[rng.randrange(len(xs))]


# ------------------------------------------------------------------ items

# type: (builder returning (value, variant, shown), JSON keys, context needed, text forms)
# `shown` is the text placed in the document (it holds `value`); text forms are the ways the
# item is written in text: "{v}" stands for shown, "{k}" for a key of the type.

NEUTRAL_TEXT = [
    "lookup for {v} returned 2 rows",
    "forwarded to {v} by routing rule 7",
    "value {v} failed upstream validation",
    "sync job copied {v} into the archive",
    "customer supplied {v} at checkout",
    "duplicate submission from {v} ignored",
]


def simple(f):
    def b(rng):
        r = f(rng)
        if isinstance(r, tuple):
            return r[0], str(r[1]), r[0]
        return r, "", r

    return b


def url_password_b(rng):
    pw = V.url_userinfo_password(rng)
    scheme = pick(rng, V.URL_SCHEMES)
    host = pick(rng, ["db-eu-2.internal.tigris.iq", "mq.cedre.lb", "files.bamako.ml", "cache-1.pearl.bh", "dir.ahal.tm"])
    user = pick(rng, ["svc_orders", "app", "replicator", "ingest"])
    return pw, scheme, "%s://%s:%s@%s/%s" % (scheme, user, pw, host, pick(rng, ["prod", "orders", "inbox", "0"]))


URL_SECRET_PARAMS = ["token", "access_token", "api_key", "X-Amz-Signature", "sig", "code", "password", "refresh_token", "apikey", "client_secret", "X-Goog-Signature", "Signature"]


def url_secret_value(rng, param):
    if param in ("X-Amz-Signature", "X-Goog-Signature"):
        return V.rs(rng, V.HEX, 64)
    if param == "sig":
        return V.with_digit(rng, V.B64URL, 43)
    if param == "Signature":
        return V.with_digit(rng, V.B62, 40)
    if param == "password":
        return V.password(rng)[0]
    return V.with_digit(rng, V.B64URL, rng.choice([24, 32, 40]))


def url_secret_b(rng):
    param = pick(rng, URL_SECRET_PARAMS)
    v = url_secret_value(rng, param)
    host = pick(rng, ["api.lome.tg", "cdn.praia.cv", "shop.managua.ni", "files.dili.tl", "auth.apia.ws"])
    path = pick(rng, ["/v2/export", "/oauth/callback", "/download/report.csv", "/api/orders", "/hooks/in"])
    enc = urllib.parse.quote(v, safe="-._~")
    pre = pick(rng, ["", "page=2&", "lang=fr&", "format=json&"])
    return v, param, "https://%s%s?%s%s=%s" % (host, path, pre, param, enc)


def session_cookie_b(rng):
    name = pick(rng, V.SESSION_COOKIES)
    v = V.cookie_value(rng, name)
    return v, name, "%s=%s; lang=fr; theme=dark" % (name, v)


def card_b(rng):
    v, variant = V.card(rng)
    return v, variant, v


ITEMS = {
    "email": (simple(V.email), ["email", "customer_email", "$email", "reply_to", "contact"], False, NEUTRAL_TEXT),
    "email_eai": (simple(V.email_eai), ["email", "user_email", "owner"], False, NEUTRAL_TEXT),
    "phone_intl": (simple(V.phone_intl), ["phone", "msisdn", "mobile", "From"], False, NEUTRAL_TEXT),
    "phone_national": (simple(V.phone_national), ["phone", "mobile_no", "tel", "phoneNumber", "msisdn", "cell"], True,
                       ['{k}: {v}', '{k}="{v}"']),
    "us_phone": (simple(V.us_phone), ["phone", "caller", "callback_number"], False, NEUTRAL_TEXT),
    "kr_mobile": (simple(V.kr_mobile), ["phone", "휴대폰", "mobile"], False, NEUTRAL_TEXT),
    "kr_landline": (simple(V.kr_landline), ["tel", "office_phone", "전화번호"], False, NEUTRAL_TEXT),
    "kr_safe_number": (simple(V.kr_safe_number), ["safe_number", "안심번호", "virtual_phone"], False, NEUTRAL_TEXT),
    "credit_card": (card_b, ["card_number", "pan", "cc", "payment_card"], False, NEUTRAL_TEXT),
    "kr_rrn": (simple(lambda r: V.registration(r, False)), ["rrn", "주민등록번호", "resident_no"], False, NEUTRAL_TEXT),
    "kr_frn": (simple(lambda r: V.registration(r, True)), ["frn", "외국인등록번호", "alien_reg_no"], False, NEUTRAL_TEXT),
    "kr_brn": (simple(V.kr_brn), ["biz_no", "사업자등록번호", "brn"], False, NEUTRAL_TEXT),
    "kr_bank_account": (simple(V.kr_bank_account), ["bank_account", "acct", "계좌번호", "account"], True,
                        ["{bank} 계좌 {v}", "계좌번호: {v}", "account={v}", "입금 계좌 {v}"]),
    "kr_driver_license": (simple(V.kr_driver_license), ["license_no", "운전면허번호", "driver_license"], False, NEUTRAL_TEXT),
    "kr_passport": (simple(V.kr_passport), ["passport_no", "여권번호", "passport"], False, NEUTRAL_TEXT),
    "date_of_birth": (simple(V.dob), ["dob", "birth_date", "birthday", "date_of_birth", "생년월일", "birthDate"], True,
                      ["dob={v}", "DOB: {v}", "born {v}", "date of birth: {v}", "생년월일: {v}", "birthday={v}"]),
    "iban": (simple(V.iban), ["iban", "payout_iban", "bank_iban"], False, NEUTRAL_TEXT),
    "us_ssn": (simple(V.us_ssn), ["ssn", "social_security_number", "tax_ssn"], False, NEUTRAL_TEXT),
    "ipv4": (simple(V.ipv4), ["client_ip", "remote_addr", "ip", "source_ip"], False,
             ["connection from {v} reset", "peer {v} sent an invalid frame", "rate limit hit by {v}"]),
    "ipv6": (simple(V.ipv6), ["client_ip", "remote_addr", "ip"], False,
             ["connection from {v} reset", "peer {v} sent an invalid frame", "rate limit hit by {v}"]),
    "jwt": (simple(V.jwt), ["id_token", "jwt", "assertion"], False,
            ["rejected assertion {v} (expired)", "session upgraded with {v}"]),
    "auth_header": (simple(V.auth_header), ["authorization", "Authorization"], False,
                    ["upstream replied 401 to Authorization: {v}", "request headers: Authorization: {v}"]),
    "aws_key": (simple(V.aws_key), ["aws_access_key_id", "access_key_id"], False,
                ["AccessDenied for {v} on s3:PutObject", "rotated {v} after 90 days"]),
    "aws_secret": (simple(V.aws_secret), ["aws_secret_access_key", "secret_access_key", "AWS_SECRET_ACCESS_KEY"], True,
                   ["aws_secret_access_key={v}", "secret access key {v}"]),
    "github_token": (simple(V.github_token), ["github_token", "GH_TOKEN", "token"], False,
                     ["clone failed with {v}", "revoked {v} after push"]),
    "slack_token": (simple(V.slack_token), ["slack_token", "bot_token"], False,
                    ["chat.postMessage refused {v}", "loaded {v} from workspace settings"]),
    "google_api_key": (simple(V.google_api_key), ["maps_api_key", "google_api_key", "key"], False,
                       ["geocode quota exceeded for {v}", "loaded {v} from settings"]),
    "api_key": (simple(V.api_key), ["api_key", "stripe_key", "secret_key"], False,
                ["vendor call failed with {v}", "loaded {v} from settings", "rotated {v} after the incident"]),
    "vendor_token": (simple(V.vendor_token), ["api_token", "access_token", "auth_token", "token", "apiKey"], True,
                     ["token={v}", "api_key: {v}", "token {v}"]),
    "keyed_hex": (simple(V.keyed_hex), ["signature", "app_key", "secret_key", "api_key", "hmac_signature"], True,
                  ["signature={v}", "api_key={v}", "secret_key: {v}"]),
    "base62_secret": (simple(V.base62_secret), ["app_secret", "consumer_secret", "shared_secret", "secret"], True,
                      ["secret={v}", "app_secret={v}", "secret: {v}"]),
    "client_secret": (simple(V.client_secret), ["client_secret", "clientSecret", "oauth_client_secret"], True,
                      ["client_secret={v}", "client secret {v}"]),
    "webhook_url": (simple(V.webhook_url), ["webhook_url", "slack_webhook", "notify_url"], False,
                    ["POST {v} returned 500", "alert sent to {v}"]),
    "private_key": (simple(V.private_key), ["private_key", "tls_key", "signing_key_pem"], False,
                    ["loaded key material\n{v}\nfrom the mounted secret"]),
    "url_password": (url_password_b, ["dsn", "broker_url", "database_url"], False,
                     ["connecting to {v} failed: timeout", "pool opened {v}"]),
    "url_secret": (url_secret_b, ["callback_url", "redirect", "download_url"], False,
                   ["GET {v} returned 403", "prefetching {v}"]),
    "password": (simple(V.password), ["password", "db_password", "passwd", "pwd", "passphrase"], True,
                 ["password={v}", "pwd: {v}", "password is {v}", "비밀번호: {v}"]),
    "session_cookie": (session_cookie_b, ["cookie", "Cookie"], True,
                       ["request headers: Cookie: {v}", "Cookie: {v}"]),
}

# Item types whose shown text is a URL, a PEM block or a cookie list: not placed inside a URL query.
NOT_IN_QUERY = {"webhook_url", "url_password", "private_key", "session_cookie", "auth_header"}
NOT_IN_CELLS = {"private_key"}
# Types whose context lies in numbers around them: numeric hard negatives go elsewhere.
NUMERIC_CONTEXT = {"kr_bank_account", "phone_national", "date_of_birth"}

# ------------------------------------------------------------------ hard negatives

KEEPS = {
    "uuid": (V.uuid4, ["request_id", "correlation_id", "device_id"]),
    "trace_id": (V.trace_id, ["trace_id", "traceId"]),
    "span_id": (V.span_id, ["span_id", "parent_span_id"]),
    "sha256": (V.sha256, ["content_sha256", "image_digest"]),
    "git_sha": (V.git_sha, ["git_commit", "revision"]),
    "md5": (V.md5, ["etag", "content_md5"]),
    "semver": (V.semver, ["version", "chart_version", "sdk_version"]),
    "build_version": (V.build_version, ["app_version", "build", "release"]),
    "ua_version": (V.ua_version, ["user_agent", "userAgent"]),
    "rfc3339": (V.rfc3339, ["created_at", "received_at", "timestamp"]),
    "epoch_ms": (V.epoch_ms, ["ts_ms", "created_at", "updated_at"]),
    "epoch_s": (V.epoch_s, ["iat", "created_at", "expires"]),
    "ean13": (V.ean13, ["ean", "gtin", "barcode"]),
    "upc_a": (V.upc_a, ["upc", "barcode"]),
    "isbn13": (V.isbn13, ["isbn", "ean"]),
    "non_luhn_16": (V.non_luhn_16, ["reference", "order_ref"]),
    "luhn_order_number": (V.luhn_order_number, ["order_number", "invoice_no"]),
    "kr_rep_number": (V.kr_rep_number, ["customer_center", "대표번호"]),
    "iban_like_sku": (V.iban_like_sku, ["sku", "item_sku"]),
    "non_birth_date": (V.non_birth_date, ["ship_date", "renewal_date", "due_date"]),
    "duration": (V.duration, ["latency", "duration", "elapsed"]),
    "ga_id": (V.ga_id, ["measurement_id", "gtm_container"]),
    "ulid": (V.ulid, ["event_id", "job_id"]),
    "object_id": (V.object_id, ["_id", "doc_id"]),
    "xray_trace_id": (V.xray_trace_id, ["amzn_trace_id"]),
    "cf_ray": (V.cf_ray, ["ray_id", "cf_ray"]),
    "eni_id": (V.eni_id, ["interface_id", "eni"]),
    "aba_routing": (V.aba_routing, ["routing_number", "aba"]),
    "issn": (V.issn, ["issn", "journal_issn"]),
}
NUMERIC_KEEPS = {"epoch_ms", "epoch_s", "ean13", "upc_a", "isbn13", "non_luhn_16", "luhn_order_number",
                 "kr_rep_number", "aba_routing", "non_birth_date", "issn", "build_version", "semver", "duration"}


def keep_shown(ty, v, rng):
    """The keep as written under its key (a user agent, a digest or a trace header holds it)."""
    if ty == "ua_version":
        return "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 %s" % v
    if ty == "sha256" and rng.random() < 0.5:
        return "sha256:" + v
    if ty == "xray_trace_id":
        return "Root=%s;Sampled=1" % v
    return v


# ------------------------------------------------------------------ shapes

def ts_iso(rng):
    return V.rfc3339(rng)


def filler_ip(rng):
    return "198.51.100.%d" % rng.randint(1, 254)


def msg(rng):
    return pick(rng, ["refund failed", "checkout retried", "profile sync finished", "webhook handled", "payout queued", "signup rejected"])


def json_shapes():
    """JSON shapes: (name, build(rng, fields, message) -> object). `fields` is a list of
    (key, value) pairs, placed where the shape holds such fields."""

    def zap(rng, fields, m):
        o = {"level": "warn", "ts": round(rng.uniform(1764000000, 1796000000), 6), "caller": "billing/refund.go:%d" % rng.randint(20, 400), "msg": m}
        o.update(fields)
        return o

    def log4j2(rng, fields, m):
        return {"instant": {"epochSecond": rng.randint(1764000000, 1796000000), "nanoOfSecond": rng.randint(0, 999999999)},
                "thread": "http-nio-8080-exec-%d" % rng.randint(1, 20), "level": "WARN",
                "loggerName": "com.shop.payments.RefundService", "message": m, "endOfBatch": False,
                "loggerFqcn": "org.apache.logging.slf4j.Log4jLogger", "contextMap": dict(fields),
                "threadId": rng.randint(20, 90), "threadPriority": 5}

    def structlog(rng, fields, m):
        o = {"event": m, "level": "warning", "logger": "shop.payouts", "timestamp": ts_iso(rng)}
        o.update(fields)
        return o

    def elixir(rng, fields, m):
        md = {"request_id": "GB" + V.rs(rng, V.B62, 18), "mfa": "Shop.Payments.refund/2"}
        md.update(fields)
        return {"time": ts_iso(rng), "severity": "warning", "message": m, "metadata": md}

    def cloud_run(rng, fields, m):
        jp = {"message": m}
        jp.update(fields)
        return {"insertId": V.rs(rng, "abcdefghijklmnopqrstuvwxyz0123456789", 16),
                "jsonPayload": jp,
                "httpRequest": {"requestMethod": "POST", "requestUrl": "https://orders-%s.a.run.app/v1/refund" % V.rs(rng, "abcdefghijklmnopqrstuvwxyz", 10),
                                "status": 502, "userAgent": "Go-http-client/2.0", "protocol": "HTTP/1.1"},
                "resource": {"type": "cloud_run_revision", "labels": {"service_name": "orders", "revision_name": "orders-00042-wob", "location": "europe-west4"}},
                "timestamp": ts_iso(rng), "severity": "WARNING",
                "logName": "projects/shop-prod/logs/run.googleapis.com%2Fstdout"}

    def cloudflare(rng, fields, m):
        return {"ClientIP": filler_ip(rng), "ClientRequestHost": "shop.lome.tg", "ClientRequestMethod": "POST",
                "ClientRequestURI": "/api/checkout", "EdgeResponseStatus": 403, "SecurityAction": "block",
                "WAFMessage": m, "RequestHeaders": dict(fields)}

    def mixpanel(rng, fields, m):
        props = {"time": rng.randint(1764000000, 1796000000), "$insert_id": V.rs(rng, V.B62, 20), "mp_lib": "python", "note": m}
        props.update(fields)
        return {"event": "Checkout Completed", "properties": props}

    def amplitude(rng, fields, m):
        return {"events": [{"user_id": "u%d" % rng.randint(1000, 99999), "event_type": "purchase",
                            "event_properties": dict(fields, note=m), "platform": "Web", "insert_id": V.uuid4(rng)}]}

    def rudder(rng, fields, m):
        return {"type": "identify", "messageId": V.uuid4(rng), "anonymousId": V.uuid4(rng), "userId": "u%d" % rng.randint(1000, 99999),
                "context": {"traits": dict(fields), "library": {"name": "rudder-sdk-js", "version": "3.11.2"}, "note": m},
                "channel": "web"}

    def mongo(rng, fields, m):
        return {"t": {"$date": ts_iso(rng)}, "s": "I", "c": "COMMAND", "id": 51803, "ctx": "conn%d" % rng.randint(100, 99999),
                "msg": "Slow query",
                "attr": {"type": "command", "ns": "shop.customers",
                         "command": {"find": "customers", "filter": dict(fields), "comment": m, "$db": "shop"},
                         "planSummary": "COLLSCAN", "docsExamined": rng.randint(1000, 900000), "durationMillis": rng.randint(100, 9000)}}

    def shopify(rng, fields, m):
        return {"id": rng.randint(10**17, 19 * 10**16), "currency": "XOF", "note": m, "financial_status": "paid",
                "note_attributes": [{"name": k, "value": v} for k, v in fields]}

    def paypal(rng, fields, m):
        return {"id": "WH-%s-%s" % (V.rs(rng, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 17), V.rs(rng, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 17)),
                "event_version": "1.0", "resource_type": "capture", "event_type": "PAYMENT.CAPTURE.COMPLETED", "summary": m,
                "resource": {"status": "COMPLETED", "amount": {"currency_code": "USD", "value": "%d.%02d" % (rng.randint(1, 900), rng.randint(0, 99))},
                             "supplementary_data": dict(fields)}}

    return [("zap", zap), ("log4j2-json", log4j2), ("structlog-json", structlog), ("elixir-logger-json", elixir),
            ("cloud-run", cloud_run), ("cloudflare-logpush", cloudflare), ("mixpanel", mixpanel), ("amplitude", amplitude),
            ("rudderstack", rudder), ("mongodb-slow-query", mongo), ("shopify-order", shopify), ("paypal-webhook", paypal)]


JSON_SHAPES = json_shapes()


def ascii_key(keys):
    ks = [k for k in keys if k.isascii() and not k.startswith("$")]
    return ks or ["value"]


def text_item(rng, ty, shown, keys, extra):
    """The item written as text, and its context."""
    _, _, ctx, forms = ITEMS[ty]
    f = pick(rng, forms)
    k = pick(rng, [k for k in keys if k.isascii() and not k.startswith("$") and k[0].islower()] or keys)
    ctxname = f.split("{v}")[0].replace("{bank} ", "").strip() or "bare"
    if "{k}" in f:
        ctxname = k
    if not ctx:
        ctxname = "bare"
    s = f.replace("{k}", k).replace("{bank}", extra)
    return s.replace("{v}", shown), ctxname


def text_shapes():
    """Text shapes: (name, kind, build(rng, keeps_kv, item_text, item) -> text). kind "url" puts
    the item in a URL query, "cells" in a CSV/YAML cell, "free" in the message."""

    def kvs(keeps):
        return " ".join("%s=%s" % (k, '"%s"' % v if " " in v else v) for k, v in keeps)

    def python_logging(rng, keeps, it, item):
        return "2026-12-07 %02d:%02d:%02d,%03d WARNING [billing.refunds] %s %s" % (rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999), kvs(keeps), it)

    def structlog_console(rng, keys, it, item):
        return "%s [warning  ] %-22s %s %s" % (ts_iso(rng), msg(rng), kvs(keys), it)

    def logrus(rng, keeps, it, item):
        return 'time="%s" level=warning msg="%s" %s %s' % (ts_iso(rng), msg(rng), kvs(keeps), it)

    def elixir(rng, keeps, it, item):
        return "%02d:%02d:%02d.%03d request_id=GB%s %s [warning] %s %s" % (rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999), V.rs(rng, V.B62, 18), kvs(keeps), msg(rng), it)

    def logback(rng, keeps, it, item):
        return "2026-12-07 %02d:%02d:%02d.%03d [http-nio-8080-exec-%d] WARN  c.s.p.RefundService - %s %s %s" % (rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999), rng.randint(1, 9), msg(rng), kvs(keeps), it)

    def redis(rng, keeps, it, item):
        t = rng.randint(1764000000, 1796000000)
        lines = ['%d.%06d [0 %s:%d] "HSET" "order:%d" %s' % (t, rng.randint(0, 999999), filler_ip(rng), rng.randint(30000, 60000), rng.randint(1, 99999),
                                                           " ".join('"%s" "%s"' % (k, v) for k, v in keeps))]
        lines.append('%d.%06d [0 %s:%d] "PUBLISH" "audit" "%s"' % (t, rng.randint(0, 999999), filler_ip(rng), rng.randint(30000, 60000), it.replace("\\", "\\\\").replace('"', '\\"')))
        return "\n".join(lines)

    def grpc(rng, keeps, it, item):
        md = " ".join("%s:[%s]" % (k.lower(), v) for k, v in keeps)
        return "rpc error: code = PermissionDenied desc = refund not allowed; metadata=map[:authority:[payments.internal:50051] content-type:[application/grpc] %s x-note:[%s]]" % (md, it)

    def nginx(rng, keeps, it, item):
        q = "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="-._~:")) for k, v in keeps)
        return ('%s [error] %d#%d: *%d upstream prematurely closed connection while reading response header from upstream, '
                'client: %s, server: shop.lome.tg, request: "POST /checkout?%s&%s HTTP/1.1", upstream: "http://10.0.3.7:8080/checkout", host: "shop.lome.tg"'
                % ("2026/12/07 %02d:%02d:%02d" % (rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)), rng.randint(100, 9999), rng.randint(100, 9999),
                   rng.randint(1, 9999), filler_ip(rng), q, it))

    def alb(rng, keeps, it, item):
        q = "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="-._~:")) for k, v in keeps)
        return ('https %s app/shop-alb/%s %s:%d 10.0.4.%d:8080 0.001 0.214 0.000 200 200 512 1388 "GET https://shop.lome.tg:443/api/orders?%s&%s HTTP/1.1" '
                '"Go-http-client/2.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop/%s "Root=1-%08x-%s" "shop.lome.tg" "-" 0 %s "forward" "-" "-" "10.0.4.9:8080" "200" "-" "-"'
                % (ts_iso(rng), V.rs(rng, V.HEX, 16), filler_ip(rng), rng.randint(30000, 60000), rng.randint(2, 250), q, it, V.rs(rng, V.HEX, 16),
                   rng.randint(1764000000, 1796000000), V.rs(rng, V.HEX, 24), ts_iso(rng)))

    def s3(rng, keeps, it, item):
        q = "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="-._~:")) for k, v in keeps)
        return ('%s shop-exports [07/Dec/2026:%02d:%02d:%02d +0000] %s - %s REST.GET.OBJECT reports/daily.csv "GET /shop-exports/reports/daily.csv?%s&%s HTTP/1.1" 403 AccessDenied 243 - 9 - "-" "aws-sdk-go-v2/1.30.3" - %s SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader shop-exports.s3.eu-west-1.amazonaws.com TLSv1.2 - -'
                % (V.rs(rng, V.HEX, 64), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), filler_ip(rng), V.rs(rng, "0123456789ABCDEF", 16), q, it,
                   V.rs(rng, V.B62, 56)))

    def form(rng, keeps, it, item):
        q = "&".join("%s=%s" % (k, urllib.parse.quote_plus(v, safe="-._~:")) for k, v in keeps)
        return "POST /twilio/inbound 200 body=ToCountry=US&SmsStatus=received&NumMedia=0&%s&%s&ApiVersion=2010-04-01" % (q, it)

    def csv_rows(rng, keeps, it, item):
        header = [k for k, _ in keeps] + [item["key"]]
        row = [v for _, v in keeps] + [item["cell"]]

        def q(c):
            return '"%s"' % c.replace('"', '""') if any(x in c for x in ',"\n') else c

        return "import rejected 1 row:\n%s\n%s" % (",".join(header), ",".join(q(c) for c in row))

    def yaml(rng, keeps, it, item):
        def q(c):
            if any(x in c for x in ['"', ": ", "#", "'"]) or c[:1] in "[{&*!|>%@`-+":
                return '"%s"' % c.replace("\\", "\\\\").replace('"', '\\"')
            return c

        lines = ["applied payout config:", "payout:"] + ["  %s: %s" % (k, q(v)) for k, v in keeps] + ["  %s: %s" % (item["key"], q(item["cell"]))]
        return "\n".join(lines)

    return [("python-logging", "free", python_logging), ("structlog-console", "free", structlog_console), ("logrus", "free", logrus),
            ("elixir-logger", "free", elixir), ("logback-pattern", "free", logback), ("redis-monitor", "free", redis),
            ("grpc-metadata", "free", grpc), ("nginx-error", "url", nginx), ("alb-access", "url", alb), ("s3-access", "url", s3),
            ("twilio-form", "url", form), ("csv-in-message", "cells", csv_rows), ("yaml-in-message", "cells", yaml)]


TEXT_SHAPES = text_shapes()

# ------------------------------------------------------------------ OTLP


def any_value(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": any_value(x)} for k, x in v.items()]}}
    if isinstance(v, list):
        return {"arrayValue": {"values": [any_value(x) for x in v]}}
    return {"stringValue": v}


def otlp(rng, body, attrs, service):
    rec = {"timeUnixNano": str(rng.randint(1764000000, 1796000000) * 10**9 + rng.randint(0, 10**9 - 1)),
           "severityNumber": 13, "severityText": "WARN", "body": body,
           "attributes": [{"key": k, "value": any_value(v)} for k, v in attrs],
           "traceId": V.rs(rng, V.HEX, 32), "spanId": V.rs(rng, V.HEX, 16)}
    return {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}},
                                                          {"key": "cloud.provider", "value": {"stringValue": pick(rng, ["aws", "gcp"])}}]},
                              "scopeLogs": [{"scope": {"name": "shop.logs", "version": "1.4.0"}, "logRecords": [rec]}]}]}


def cloudwatch(rng, message):
    return {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/ecs/shop-%s" % pick(rng, ["orders", "payouts", "auth"]),
            "logStream": "web/app/%s" % V.rs(rng, V.HEX, 32), "subscriptionFilters": ["to-otel"],
            "logEvents": [{"id": V.digits(rng, 56), "timestamp": rng.randint(1764000000000, 1796000000000), "message": message}]}


def fluentbit(rng, message):
    return {"date": round(rng.uniform(1764000000, 1796000000), 6), "log": message,
            "kubernetes": {"pod_name": "orders-%s-%s" % (V.rs(rng, "bcdfghjklmnpqrstvwxz2456789", 10), V.rs(rng, "bcdfghjklmnpqrstvwxz2456789", 5)),
                           "namespace_name": "shop", "container_name": "app"}}


# ------------------------------------------------------------------ labels

def leaves(v, path):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from leaves(x, path + [k])
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from leaves(x, path + [i])
    elif isinstance(v, str):
        t = v.strip()
        if t[:1] in "{[":
            try:
                inner = json.loads(t)
                if isinstance(inner, (dict, list)):
                    yield from leaves(inner, path + ["#json"])
                    return
            except ValueError:
                pass
        yield path, v
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        yield path, json.dumps(v)


def find_path(obj, needle, exact=False):
    for p, t in leaves(obj, []):
        if (t == needle) if exact else (needle in t):
            return p
    return None


def json_escapes(s, levels):
    out = [s]
    for ascii_ in (False, True):
        x = s
        for _ in range(levels):
            x = json.dumps(x, ensure_ascii=ascii_)[1:-1]
            out.append(x)
    return out


def raw_in(doc, cands):
    best = None
    for c in cands:
        if c and c in doc and (best is None or len(c) > len(best)):
            best = c
    return best


# ------------------------------------------------------------------ generation


def balanced(rng, names, n):
    out = []
    while len(out) < n:
        xs = list(names)
        rng.shuffle(xs)
        out.extend(xs)
    return out[:n]


def build(rng, i, ty, keep_types):
    builder, keys, ctx, _ = ITEMS[ty]
    value, variant, shown = builder(rng)
    extra = variant if ty == "kr_bank_account" else ""
    if ty == "kr_bank_account":
        variant = "bank"
    doc_id = "t%04d" % i
    # The hard negatives of the document.
    keeps = []
    used_keys = set()
    for kt in keep_types:
        gen, kkeys = KEEPS[kt]
        kv = gen(rng)
        k = pick(rng, [x for x in kkeys if x not in used_keys] or kkeys)
        used_keys.add(k)
        keeps.append((kt, k, kv, keep_shown(kt, kv, rng)))
    key = pick(rng, keys)
    ascii_only = rng.random() < 0.15
    r = rng.random()
    fmt = "text" if r < 0.24 else ("line" if r < 0.58 else "otlp")
    location, context = None, None
    enc_raw = None  # an encoded spelling the shape wrote

    use_text_shape = fmt == "text" or (fmt in ("line", "otlp") and rng.random() < 0.3)
    if use_text_shape:
        cands = []
        for name, kind, fn in TEXT_SHAPES:
            if kind == "url" and ty in NOT_IN_QUERY:
                continue
            if kind == "cells" and ty in NOT_IN_CELLS:
                continue
            if name in ("redis-monitor", "grpc-metadata") and ty == "private_key":
                continue
            cands.append((name, kind, fn))
        name, kind, fn = pick(rng, cands)
        if kind == "cells" and '"' in shown:
            return None  # CSV doubles the quotes of a quoted local part: drawn again
        kk = [(k, s) for _, k, _, s in keeps]
        item = {"key": key if kind != "url" else pick(rng, ascii_key(keys)), "cell": shown}
        if kind == "url":
            if ty == "url_secret":
                q = shown.split("?", 1)[1]
                it = q
                enc_raw = q.rsplit("=", 1)[1]
                context = variant
            else:
                k2 = item["key"] if ctx else pick(rng, ["q", "ref", "note", "lookup"])
                if name == "twilio-form":
                    enc_raw = urllib.parse.quote_plus(shown, safe="-._~")
                    k2 = item["key"] if ctx else pick(rng, ["Body", "From", "Memo"])
                else:
                    enc_raw = urllib.parse.quote(shown, safe="-._~")
                it = "%s=%s" % (k2, enc_raw)
                context = k2 if ctx else "bare"
        elif kind == "cells":
            it = ""
            context = key if ctx else "bare"
        else:
            it, context = text_item(rng, ty, shown, keys, extra)
        text = fn(rng, kk, it, item)
        shape = name
        if ty in ("url_secret",) and kind != "url":
            context = variant
        if fmt == "text":
            doc = text
            location = "text"
        elif fmt == "line":
            wrap = pick(rng, [cloudwatch, fluentbit])
            doc_obj = wrap(rng, text)
            doc = json.dumps(doc_obj, ensure_ascii=ascii_only)
            location = "json_text"
            shape = name + "/" + ("cloudwatch" if wrap is cloudwatch else "fluent-bit")
        else:
            doc_obj = otlp(rng, {"stringValue": text}, [], pick(rng, ["orders", "payouts", "edge"]))
            doc = json.dumps(doc_obj, ensure_ascii=ascii_only)
            location = "otlp_body"
    else:
        name, fn = pick(rng, JSON_SHAPES)
        shape = name
        as_sentence = rng.random() < 0.35
        fields = [(k, s) for _, k, _, s in keeps]
        m = msg(rng)
        number = False
        if as_sentence:
            it, context = text_item(rng, ty, shown, keys, extra)
            m = m + ": " + it
            item_fields = []
        else:
            context = key if ctx else "bare"
            if ty == "url_secret":
                context = variant
            iv = shown
            if ty == "credit_card" and fmt == "line" and rng.random() < 0.9 and name not in ("shopify-order",):
                digits_only = V.card_number_only(rng)
                value, variant, iv = digits_only, "json-number", int(digits_only)
                number = True
            item_fields = [(key, iv)]
        allf = fields + item_fields
        obj = fn(rng, allf, m)
        if fmt == "line":
            if not number and rng.random() < 0.25:
                wrap = pick(rng, [cloudwatch, fluentbit])
                doc_obj = wrap(rng, json.dumps(obj, ensure_ascii=ascii_only))
                location = "json_nested"
                shape += "/" + ("cloudwatch" if wrap is cloudwatch else "fluent-bit")
            else:
                doc_obj = obj
                location = "json_number" if number else ("json_text" if as_sentence else "json_value")
        else:
            v = rng.random()
            svc = pick(rng, ["orders", "payouts", "edge"])
            if v < 0.34:
                doc_obj = otlp(rng, {"stringValue": json.dumps(obj, ensure_ascii=ascii_only)}, [], svc)
                location = "otlp_body_json"
            elif v < 0.67:
                doc_obj = otlp(rng, any_value(obj), [], svc)
                location = "otlp_kvlist"
                shape += "/kvlist"
            else:
                doc_obj = otlp(rng, {"stringValue": m}, allf, svc)
                location = "otlp_attribute" if not as_sentence else "otlp_body"
                shape += "/attributes"
        doc = json.dumps(doc_obj, ensure_ascii=ascii_only)

    # Labels.
    if ty == "url_secret" and enc_raw is None:
        enc_raw = urllib.parse.quote(value, safe="-._~")
    cands = json_escapes(value, 3)
    if enc_raw is not None:
        cands += json_escapes(enc_raw, 3)
    # Redis MONITOR and YAML escape quotes and backslashes with a backslash.
    bs = value.replace("\\", "\\\\").replace('"', '\\"')
    cands += json_escapes(bs, 3)
    if enc_raw is None:
        raw = raw_in(doc, [c for c in cands if c])
    else:
        raw = raw_in(doc, json_escapes(enc_raw, 3))
    assert raw is not None, (doc_id, ty, value, doc)
    pii = {"type": ty, "variant": variant, "value": value, "raw": raw, "location": location, "context": context, "shape": shape}
    if fmt != "text":
        parsed = json.loads(doc)
        p = find_path(parsed, value) or find_path(parsed, raw)
        if p is None and enc_raw is not None:
            p = find_path(parsed, enc_raw)
        assert p is not None, (doc_id, ty, value)
        pii["path"] = p
    else:
        pii["path"] = []
    keep_labels = []
    for kt, k, kv, s in keeps:
        lab = {"type": kt, "value": kv}
        if fmt != "text":
            parsed = json.loads(doc)
            p = find_path(parsed, kv, exact=True)
            if p is not None:
                lab["match"] = "exact"
            else:
                p = find_path(parsed, kv)
            if p is None:
                # percent-encoded in a query: labelled by its encoded spelling
                enc = urllib.parse.quote(kv, safe="-._~:")
                p = find_path(parsed, enc)
                lab["value"] = enc
            assert p is not None, (doc_id, kt, kv, doc)
            lab["path"] = p
        else:
            if kv not in doc:
                lab["value"] = urllib.parse.quote(kv, safe="-._~:") if urllib.parse.quote(kv, safe="-._~:") in doc else urllib.parse.quote_plus(kv, safe="-._~:")
            assert lab["value"] in doc, (doc_id, kt, kv, doc)
        keep_labels.append(lab)
    fmt_name = "text" if fmt == "text" else ("otlp" if fmt == "otlp" else "line")
    return {"id": doc_id, "format": fmt_name, "shape": shape, "doc": doc, "pii": [pii], "keep": keep_labels}


def at_path(obj, path):
    for seg in path:
        if seg == "#json":
            obj = json.loads(obj)
        else:
            obj = obj[seg]
    return obj if isinstance(obj, str) else json.dumps(obj)


def ok(rec):
    """The document is drawn again when the item occurs twice or a hard negative holds it."""
    p = rec["pii"][0]
    doc = rec["doc"]
    if rec["format"] != "text":
        leaf = at_path(json.loads(doc), p["path"])
        if p["value"] not in leaf and p["raw"] not in leaf:
            return False
    if doc.count(p["raw"]) != 1:
        return False
    for k in rec["keep"]:
        if p["raw"] in k["value"] or p["value"] in k["value"] or k["value"] in p["value"]:
            return False
    return True


def main():
    rng = random.Random(SEED)
    types = balanced(rng, sorted(ITEMS), N_DOCS)
    n_keeps = [2 if rng.random() < 0.1 else 1 for _ in range(N_DOCS)]
    keep_stream = balanced(rng, sorted(KEEPS), sum(n_keeps) + 200)
    out = []
    ki = 0
    for i, ty in enumerate(types):
        want = []
        while len(want) < n_keeps[i]:
            kt = keep_stream[ki % len(keep_stream)]
            ki += 1
            if ty in NUMERIC_CONTEXT and kt in NUMERIC_KEEPS:
                keep_stream.append(kt)
                continue
            if kt in want:
                keep_stream.append(kt)
                continue
            want.append(kt)
        for _ in range(50):
            rec = build(rng, i, ty, want)
            if rec is not None and ok(rec):
                break
        else:
            raise SystemExit("cannot place %s" % ty)
        out.append(rec)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for rec in out:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
