"""Writes corpus.jsonl, the eighth labelled redaction set (deterministic: seed 20261207).

Each document holds one labelled item (`pii`) and one or two hard negatives (`keep`) in a
document shape, wrapped as plain text, a JSON log line or an OTLP/JSON export. Values come
from `values.py`; paths and raw spellings are computed from the document as written.
"""

import json
import os
import random

import values as V

SEED = 20261207
N_DOCS = 2016
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus.jsonl")


class Nested:
    """A JSON document written as a string inside another."""

    def __init__(self, obj):
        self.obj = obj


class Num:
    """A JSON number that is the labelled item itself."""

    def __init__(self, sentinel):
        self.sentinel = sentinel


P = "\x00P0\x00"
P1 = "\x00P1\x00"


def K(i):
    return f"\x00K{i}\x00"


def esc(s, ascii_only=False):
    return json.dumps(s, ensure_ascii=ascii_only)[1:-1]


# ---- labelled items ---------------------------------------------------------------------

def item(ty, variant, value, key, tpl=P, sentence=None, bare=False):
    return {"type": ty, "variant": variant, "value": value, "key": key, "tpl": tpl,
            "sentence": sentence, "bare": bare}


def make_item(ty, r):
    pk = V.pick
    if ty == "email":
        return item(ty, "ascii", V.email_ascii(r), pk(r, ["email", "contact_email", "mail", "notify_to"]), bare=True)
    if ty == "email_intl":
        s, v = V.email_intl(r)
        return item(ty, s, v, pk(r, ["email", "reply_to", "mail"]), bare=True)
    if ty == "phone_intl":
        var, v = V.e164_spelled(r)
        return item(ty, var, v, pk(r, ["phone", "mobile", "msisdn", "contact_number"]), bare=var == "compact")
    if ty == "phone_national":
        cc, v = V.national_mobile(r)
        return item(ty, cc, v, pk(r, ["phone", "mobile_no", "telefon", "phoneNumber", "cell"]))
    if ty == "us_phone":
        var, v = V.nanp(r)
        return item(ty, var, v, pk(r, ["phone", "callback_phone", "tel"]), bare=True)
    if ty == "kr_mobile":
        var, v = V.kr_mobile(r)
        return item(ty, var, v, pk(r, ["mobile", "hp", "연락처"]), sentence=f"연락처 {P}", bare=var != "spaced")
    if ty == "kr_landline":
        var, v = V.kr_landline(r)
        return item(ty, var, v, pk(r, ["tel", "office_phone", "전화번호"]), sentence=f"전화 {P}", bare=True)
    if ty == "kr_safe_number":
        var, v = V.kr_safe(r)
        return item(ty, var, v, pk(r, ["safe_number", "안심번호", "virtual_phone"]), bare=True)
    if ty == "credit_card":
        issuer, n = V.card(r)
        style = r.randrange(4)
        if style == 0:
            return item(ty, issuer + "/plain", n, pk(r, ["card_number", "pan", "cc_number"]), bare=True)
        if style == 1:
            return item(ty, issuer + "/spaced", V.group_card(n, " "), pk(r, ["card_number", "pan"]), bare=True)
        if style == 2:
            return item(ty, issuer + "/dashed", V.group_card(n, "-"), pk(r, ["card_number", "pan"]), bare=True)
        it = item(ty, issuer + "/number", n, pk(r, ["card_number", "pan"]), bare=True)
        it["number"] = True
        return it
    if ty in ("kr_rrn", "kr_frn"):
        n = V.kr_registration(r, ty == "kr_frn")
        v = n[:6] + "-" + n[6:]
        key = pk(r, ["rrn", "주민등록번호", "resident_no"]) if ty == "kr_rrn" else pk(r, ["frn", "외국인등록번호", "alien_reg_no"])
        return item(ty, "dashed", v, key, bare=True)
    if ty == "kr_brn":
        n = V.kr_brn(r)
        return item(ty, "dashed", f"{n[:3]}-{n[3:5]}-{n[5:]}", pk(r, ["biz_no", "사업자등록번호", "brn"]),
                    sentence=f"사업자등록번호 {P}", bare=True)
    if ty == "kr_bank_account":
        bank, v = V.kr_bank_account(r)
        return item(ty, bank, v, pk(r, ["bank_account", "계좌번호", "acct"]), sentence=f"{bank} 계좌 {P}")
    if ty == "kr_driver_license":
        return item(ty, "dashed", V.kr_driver(r), pk(r, ["driver_license", "운전면허번호", "license_no"]), bare=True)
    if ty == "kr_passport":
        return item(ty, "letter8", V.kr_passport(r), pk(r, ["passport_no", "여권번호", "passport"]), bare=True)
    if ty == "us_ssn":
        return item(ty, "dashed", V.us_ssn(r), pk(r, ["ssn", "social_security_number", "applicant_ssn"]),
                    sentence=f"SSN {P}", bare=True)
    if ty == "iban":
        c, var, v = V.iban(r)
        return item(ty, f"{c}/{var}", v, pk(r, ["iban", "payout_iban", "beneficiary_iban"]), bare=True)
    if ty == "date_of_birth":
        var, v = V.birth_date(r)
        word = V.pick(r, ["born", "DOB", "date of birth:", "생년월일"])
        return item(ty, var, v, pk(r, ["dob", "birth_date", "birthDate", "date_of_birth", "생년월일"]),
                    sentence=f"{word} {P}")
    if ty == "ipv4":
        return item(ty, "public", V.ipv4(r), pk(r, ["client_ip", "remote_addr", "peer_ip"]), bare=True)
    if ty == "ipv6":
        var, v = V.ipv6(r)
        return item(ty, var, v, pk(r, ["client_ip", "remote_addr", "peer_ip"]), bare=True)
    if ty == "jwt":
        alg, v = V.jwt(r)
        return item(ty, alg, v, pk(r, ["id_token", "assertion", "jwt"]), bare=True)
    if ty == "bearer_token":
        v = V.bearer(r)
        return item(ty, "opaque", v, pk(r, ["Authorization", "authorization"]), tpl=f"Bearer {P}", bare=False)
    if ty == "basic_auth":
        v = V.basic(r)
        return item(ty, "user_pass", v, pk(r, ["Authorization", "Proxy-Authorization"]), tpl=f"Basic {P}")
    if ty == "aws_access_key_id":
        v = V.aws_key_id(r)
        return item(ty, v[:4], v, pk(r, ["aws_access_key_id", "AccessKeyId", "accessKeyId"]), bare=True)
    if ty == "aws_secret_key":
        v = V.aws_secret(r)
        return item(ty, "base64_40", v, pk(r, ["aws_secret_access_key", "SecretAccessKey", "secretAccessKey"]),
                    sentence=f"secret access key {P}")
    if ty == "github_token":
        var, v = V.github_token(r)
        return item(ty, var, v, pk(r, ["GH_TOKEN", "github_token", "token"]), bare=True)
    if ty == "slack_token":
        var, v = V.slack_token(r)
        return item(ty, var, v, pk(r, ["SLACK_BOT_TOKEN", "slack_token"]), bare=True)
    if ty == "google_api_key":
        return item(ty, "AIza", V.google_api_key(r), pk(r, ["maps_api_key", "GOOGLE_API_KEY"]), bare=True)
    if ty == "stripe_key":
        var, v = V.stripe_key(r)
        return item(ty, var, v, pk(r, ["STRIPE_SECRET_KEY", "stripe_key"]), bare=True)
    if ty == "sendgrid_key":
        return item(ty, "SG", V.sendgrid_key(r), pk(r, ["SENDGRID_API_KEY", "sendgrid"]), bare=True)
    if ty == "twilio_key":
        var, v = V.twilio_key(r)
        return item(ty, var, v, pk(r, ["twilio_api_key", "TWILIO_SID"]), bare=True)
    if ty == "openai_key":
        return item(ty, "sk-proj", V.openai_key(r), pk(r, ["OPENAI_API_KEY", "openai_key"]), bare=True)
    if ty == "anthropic_key":
        return item(ty, "sk-ant-api03", V.anthropic_key(r), pk(r, ["ANTHROPIC_API_KEY", "llm_key"]), bare=True)
    if ty == "npm_token":
        return item(ty, "npm_", V.npm_token(r), pk(r, ["NPM_TOKEN", "npm_auth_token"]), bare=True)
    if ty == "vendor_key":
        var, v = V.vendor_key_value(r)
        return item(ty, var, v, pk(r, ["api_token", "VENDOR_KEY", "integration_key"]), bare=True)
    if ty == "webhook_url":
        var, v = V.webhook_url(r)
        return item(ty, var, v, pk(r, ["webhook", "notify_url", "alert_webhook"]), bare=True)
    if ty == "private_key":
        var, v = V.pem_block(r)
        return item(ty, var, v, pk(r, ["private_key", "tls_key", "ssh_private_key"]), bare=True)
    if ty == "url_password":
        scheme, pw, url = V.url_password(r)
        i = url.index(":" + pw + "@") + 1
        return item(ty, scheme, pw, pk(r, ["dsn", "broker_url", "upstream_uri"]), tpl=url[:i] + P + url[i + len(pw):], bare=True)
    if ty == "url_secret":
        param, v = V.query_secret(r)
        base = V.pick(r, ["https://api.example.it/v2/export", "https://files.example.dk/download",
                          "https://reports.example.at/render"])
        tpl = f"{base}?format=csv&{param}={P}&page=2"
        return item(ty, param, v, pk(r, ["url", "request_uri", "callback"]), tpl=tpl, bare=True)
    if ty == "password":
        var, v = V.password(r)
        return item(ty, var, v, pk(r, ["password", "passwd", "db_password", "pwd"]),
                    sentence=V.pick(r, [f"password is {P}", f"비밀번호: {P}", f"password {P}"]))
    if ty == "session_cookie":
        var, name, v = V.session_cookie(r)
        return item(ty, var, v, pk(r, ["Cookie", "cookie"]), tpl=f"lang=it; {name}={P}; theme=dark")
    if ty == "generic_api_key":
        var, v = V.generic_key(r)
        return item(ty, var, v, pk(r, ["x-api-key", "api_key", "client_secret", "signing_secret", "apiKey"]),
                    sentence=V.pick(r, [f"api key {P}", f"token: {P}", f"client secret {P}"]))
    raise ValueError(ty)


TYPES = ["email", "email_intl", "phone_intl", "phone_national", "us_phone", "kr_mobile",
         "kr_landline", "kr_safe_number", "credit_card", "kr_rrn", "kr_frn", "kr_brn",
         "kr_bank_account", "kr_driver_license", "kr_passport", "us_ssn", "iban",
         "date_of_birth", "ipv4", "ipv6", "jwt", "bearer_token", "basic_auth",
         "aws_access_key_id", "aws_secret_key", "github_token", "slack_token", "google_api_key",
         "stripe_key", "sendgrid_key", "twilio_key", "openai_key", "anthropic_key", "npm_token",
         "vendor_key", "webhook_url", "private_key", "url_password", "url_secret", "password",
         "session_cookie", "generic_api_key"]

# ---- hard negatives: (type, builder, keys; all kept by the policy) ------------------------

KEEPS = [
    ("uuid_v7", V.uuid7, ["request_id", "correlation_id"]),
    ("ulid", V.ulid, ["event_id", "job_id"]),
    ("ksuid", V.ksuid, ["message_id"]),
    ("mongo_objectid", V.objectid, ["_id", "doc_id"]),
    ("traceparent", V.traceparent, ["traceparent"]),
    ("span_id", V.span_id, ["span_id", "parent_span_id"]),
    ("git_sha", V.git_sha, ["commit_sha", "revision"]),
    ("oci_digest", V.oci_digest, ["image_digest"]),
    ("semver", V.semver, ["version", "chart_version"]),
    ("four_part_build", V.four_part, ["build_version", "app_version"]),
    ("rfc3339", V.rfc3339, ["created_at", "updated_at"]),
    ("epoch_ms", V.epoch_ms, ["ts_ms", "created_at_ms"]),
    ("ean13", V.ean13, ["ean", "barcode"]),
    ("gtin14", V.gtin14, ["gtin"]),
    ("sscc18", V.sscc18, ["sscc"]),
    ("iso6346_container", V.container_no, ["container_no"]),
    ("isin", V.isin, ["isin"]),
    ("lei", V.lei, ["lei"]),
    ("awb_number", V.awb, ["awb"]),
    ("x12_control_number", V.x12_control, ["isa_control_number"]),
    ("non_luhn_16", V.non_luhn_16, ["order_number", "invoice_no"]),
    ("luhn_order_number", V.luhn_order, ["order_number", "shipment_ref"]),
    ("kr_rep_number", V.kr_rep, ["customer_center", "고객센터"]),
    ("ua_version", V.ua_version, ["user_agent"]),
    ("ga_id", V.ga_id, ["ga_measurement_id", "gtm_container"]),
    ("iban_like_sku", V.iban_like_sku, ["sku"]),
    ("event_date", V.event_date, ["ship_date", "invoice_date"]),
    ("kafka_offset", lambda r: str(r.randrange(10**5, 10**9)), ["offset"]),
    ("md5_etag", lambda r: V.rand_str(r, V.HEX, 32), ["etag"]),
]


def make_keep(i, r):
    ty, build, keys = KEEPS[i % len(KEEPS)]
    v = build(r)
    tpl = v
    if ty == "ua_version":
        tpl = f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) {v} Safari/537.36"
    return {"type": ty, "value": v, "key": V.pick(r, keys), "full": tpl,
            "number": ty in ("epoch_ms", "kafka_offset") and r.random() < 0.5}


# ---- rendering helpers ------------------------------------------------------------------

def kv_text(it, r, style=None):
    """The item as text: `key=value`, `key: value` or its marking sentence."""
    tpl = it["tpl"]
    style = style if style is not None else r.randrange(3)
    if style == 2 and it["sentence"]:
        return it["sentence"], "sentence"
    if style == 2 and it["bare"] and it["tpl"] == P:
        return tpl, "bare"
    if style == 0 and " " not in tpl.replace(P, "") and (" " not in it["value"]) and "\n" not in it["value"]:
        return f"{it['key']}={tpl}", "key_eq"
    return f"{it['key']}: {tpl}", "key_colon"


def keep_text(k, sep="="):
    v = k["full"]
    if " " in v:
        v = f'"{v}"'
    return f"{k['key']}{sep}{v}"


def ts(r):
    return f"2026-12-07T{r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}.{r.randrange(1000):03d}Z"


# ---- text shapes: (item, keeps, r) -> (text, context) -------------------------------------

def haproxy(it, ks, r):
    frag, ctx = kv_text(it, r, 0 if r.random() < 0.6 else None)
    line = (f"Dec  7 {r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d} lb-{r.randrange(1, 9)} "
            f"haproxy[{r.randrange(1000, 9999)}]: 10.20.{r.randrange(256)}.{r.randrange(1, 255)}:{r.randrange(1024, 65535)} "
            f"[07/Dec/2026:10:{r.randrange(60):02d}:{r.randrange(60):02d}.{r.randrange(1000):03d}] fe_https~ "
            f"be_api/api{r.randrange(1, 9)} 0/0/1/{r.randrange(5, 90)}/{r.randrange(90, 200)} 200 {r.randrange(200, 9000)} "
            f"- - ---- 3/3/0/0/0 0/0 \"POST /v2/checkout HTTP/1.1\" "
            + " ".join(keep_text(k) for k in ks) + " " + frag)
    return line, "haproxy/" + ctx


def spark(it, ks, r):
    frag, ctx = kv_text(it, r)
    t = f"26/12/07 {r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}"
    return (f"{t} INFO Executor: Running task {r.randrange(40)}.0 in stage {r.randrange(20)}.0 (TID {r.randrange(900)}) "
            + " ".join(keep_text(k) for k in ks) + "\n"
            f"{t} WARN TaskSetManager: Lost task 3.0 in stage 7.0 (TID 42, executor 2): "
            f"org.apache.spark.SparkException: Malformed record: {frag}\n"
            f"{t} INFO DAGScheduler: ResultStage 7 (save at Job.scala:88) failed"), "spark/" + ctx


def java_mdc(it, ks, r):
    frag, ctx = kv_text(it, r)
    mdc = ", ".join(keep_text(k) for k in ks)
    return (f"2026-12-07 {r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}.{r.randrange(1000):03d} ERROR "
            f"[http-nio-8080-exec-{r.randrange(1, 20)}] [{mdc}] c.e.billing.InvoiceService - rejected payload {frag}\n"
            "java.lang.IllegalStateException: upstream rejected the request\n"
            "\tat com.example.billing.InvoiceService.submit(InvoiceService.java:212)\n"
            "\tat com.example.billing.InvoiceController.create(InvoiceController.java:57)\n"
            "\t... 42 common frames omitted"), "java_mdc/" + ctx


def sshd_sudo(it, ks, r):
    host = f"bastion-{r.randrange(1, 5)}"
    pre = f"Dec  7 {r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d} {host}"
    first = f"{pre} systemd-logind[611]: New session {r.randrange(100, 999)} of user deploy. " + " ".join(keep_text(k) for k in ks)
    if it["type"] in ("ipv4", "ipv6"):
        return first + f"\n{pre} sshd[{r.randrange(1000, 9999)}]: Accepted publickey for deploy from {it['tpl']} port {r.randrange(1024, 65535)} ssh2", "sshd/bare"
    frag, ctx = kv_text(it, r, 0)
    if ctx == "key_colon":
        frag, ctx = f'{it["key"]}="{it["tpl"]}"', "key_eq_quoted"
    return (first + f"\n{pre} sudo:   deploy : TTY=pts/0 ; PWD=/srv/app ; USER=root ; "
            f"COMMAND=/usr/bin/env {frag} /srv/app/bin/migrate"), "sudo/" + ctx


def smtp(it, ks, r):
    frag, ctx = kv_text(it, r, 1 if r.random() < 0.7 else None)
    hdrs = "\n".join("X-" + keep_text(k, ": ") for k in ks)
    return ("S: 220 mx1.example.it ESMTP Postfix\nC: EHLO app-3.example.it\nS: 250-mx1.example.it\n"
            "C: MAIL FROM:<noreply@example.it>\nS: 250 2.1.0 Ok\nC: DATA\nS: 354 End data with <CR><LF>.<CR><LF>\n"
            f"C: Subject: Ordine confermato\nC: {hdrs.replace(chr(10), chr(10) + 'C: ')}\nC: {frag}\nC: .\n"
            f"S: 250 2.0.0 Ok: queued as {V.rand_str(r, '0123456789ABCDEF', 10)}"), "smtp/" + ctx


def rails(it, ks, r):
    kv = ", ".join(f'"{k["key"]}"=>"{k["full"]}"' for k in ks)
    return (f"Started POST \"/account/profile\" for 10.0.{r.randrange(256)}.{r.randrange(1, 255)} at 2026-12-07 "
            f"{r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d} +0100\n"
            "Processing by ProfilesController#update as JSON\n"
            f"  Parameters: {{\"profile\"=>{{\"{it['key']}\"=>\"{it['tpl']}\"}}, {kv}}}\n"
            f"Completed 422 Unprocessable Content in {r.randrange(5, 300)}ms"), "rails/hashrocket"


def slog_text(it, ks, r):
    frag, ctx = kv_text(it, r, 0)
    if ctx == "key_colon":
        frag = f'{it["key"]}="{it["tpl"]}"'
        ctx = "key_eq_quoted"
    return (f"time={ts(r)} level=WARN source=/app/internal/signup/handler.go:{r.randrange(20, 400)} "
            f"msg=\"signup rejected\" " + " ".join(keep_text(k) for k in ks) + " " + frag), "slog_text/" + ctx


def opensearch_bulk(it, ks, r):
    body = ",".join(f'"{k["key"]}":"{k["full"]}"' for k in ks)
    return (f'{{"index":{{"_index":"customers-2026.12","_id":"{V.ulid(r)}"}}}}\n'
            f'{{{body},"{it["key"]}":"{it["tpl"].replace(P, P1)}"}}\n'), "opensearch_bulk/json_in_text"


def grpc_status(it, ks, r):
    frag, ctx = kv_text(it, r, 1)
    return (f"rpc error: code = InvalidArgument desc = request rejected ({' '.join(keep_text(k) for k in ks)}); "
            f"field violation {frag}"), "grpc_status/" + ctx


TEXT_SHAPES = [haproxy, spark, java_mdc, sshd_sudo, smtp, rails, slog_text, opensearch_bulk, grpc_status]


# ---- JSON shapes: (item, keeps, r) -> (object, context) -----------------------------------

def pii_leaf(it):
    return Num(P) if it.get("number") else it["tpl"]


def keep_leaf(i, k):
    return Num(K(i)) if k["number"] else k["full"].replace(k["value"], K(i))


def keep_map(ks, taken=()):
    out = {}
    for i, k in enumerate(ks):
        key = k["key"]
        while key in out or key in taken:
            key += "_2"
        out[key] = keep_leaf(i, k)
    return out


def debezium(it, ks, r):
    after = {"id": r.randrange(1, 10**6), it["key"]: pii_leaf(it)}
    after.update(keep_map(ks, after))
    return {"schema": {"type": "struct", "optional": False, "name": "pg.public.customers.Envelope"},
            "payload": {"before": None, "after": after,
                        "source": {"version": "2.7.3.Final", "connector": "postgresql", "name": "pg",
                                   "db": "shop", "schema": "public", "table": "customers",
                                   "txId": r.randrange(10**6), "lsn": r.randrange(10**9)},
                        "op": "c"}}, "debezium/column"


def graphql(it, ks, r):
    inp = {it["key"]: pii_leaf(it)}
    inp.update(keep_map(ks, inp))
    return {"operationName": "UpdateProfile",
            "query": "mutation UpdateProfile($input: ProfileInput!) { updateProfile(input: $input) { id } }",
            "variables": {"input": inp}}, "graphql/variable"


def scim(it, ks, r):
    u = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": V.uuid7(r),
         "userName": V.pick(r, V.GIVEN) + str(r.randrange(100))}
    if it["type"] in ("email", "email_intl"):
        u["emails"] = [{"value": it["tpl"], "type": "work", "primary": True}]
        ctx = "scim/emails"
    elif it["type"] in ("phone_intl", "us_phone"):
        u["phoneNumbers"] = [{"value": it["tpl"], "type": "mobile"}]
        ctx = "scim/phoneNumbers"
    elif it["type"] == "password":
        u["password"] = it["tpl"]
        ctx = "scim/password"
    else:
        u["urn:ietf:params:scim:schemas:extension:example:2.0:User"] = {it["key"]: pii_leaf(it)}
        ctx = "scim/extension"
    u["meta"] = {"resourceType": "User", **keep_map(ks, ("resourceType",))}
    return u, ctx


def mqtt(it, ks, r):
    payload = {"device": f"gw-{r.randrange(100)}", "rssi": -r.randrange(40, 90), it["key"]: pii_leaf(it)}
    payload.update(keep_map(ks, payload))
    nested = r.random() < 0.5 and not it.get("number")
    return {"topic": f"devices/gw-{r.randrange(100)}/events", "qos": 1, "retain": False,
            "payload": Nested(payload) if nested else payload}, "mqtt/" + ("payload_string" if nested else "payload")


def python_extra(it, ks, r):
    o = {"asctime": "2026-12-07 10:11:12,345", "levelname": "WARNING", "name": "billing.api",
         "message": "payment profile updated", it["key"]: pii_leaf(it)}
    o.update(keep_map(ks, o))
    o["process"] = r.randrange(100, 9999)
    return o, "python_extra/field"


def slog_json(it, ks, r):
    o = {"time": ts(r), "level": "INFO",
         "source": {"function": "main.(*Server).handle", "file": "/app/server.go", "line": r.randrange(400)},
         "msg": "request", "req": {it["key"]: pii_leaf(it)}}
    o.update(keep_map(ks, o))
    return o, "slog_json/group"


def slack_event(it, ks, r):
    ev = {"type": "message", "user": "U" + V.rand_str(r, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 10),
          "channel": "C" + V.rand_str(r, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 10)}
    if it.get("number") or r.random() < 0.5:
        ev["metadata"] = {"event_type": "form_submitted", "event_payload": {it["key"]: pii_leaf(it)}}
        ctx = "slack_event/metadata"
    else:
        frag, c = kv_text(it, r)
        ev["text"] = "New form submission: " + frag
        ctx = "slack_event/text_" + c
    o = {"type": "event_callback", "team_id": "T" + V.rand_str(r, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 10),
         "event": ev, "event_time": 1796000000 + r.randrange(10**7)}
    o.update(keep_map(ks, o))
    return o, ctx


def fhir(it, ks, r):
    p = {"resourceType": "Patient", "id": V.uuid7(r), "meta": {"versionId": str(r.randrange(1, 9))}}
    if it["type"] == "date_of_birth" and it["variant"] == "iso":
        p["birthDate"] = it["tpl"]
        ctx = "fhir/birthDate"
    elif it["type"] in ("email", "email_intl", "phone_intl", "us_phone"):
        system = "email" if it["type"].startswith("email") else "phone"
        p["telecom"] = [{"system": system, "value": it["tpl"], "use": "home"}]
        ctx = "fhir/telecom"
    else:
        p["extension"] = [{"url": "https://example.it/fhir/ext", it["key"]: pii_leaf(it)}]
        ctx = "fhir/extension_key"
    p["meta"].update(keep_map(ks, p["meta"]))
    return p, ctx


JSON_SHAPES = [debezium, graphql, scim, mqtt, python_extra, slog_json, slack_event, fhir]


# ---- wrapping, paths and raw spellings ---------------------------------------------------

RES = [{"key": "service.name", "value": {"stringValue": "checkout"}},
       {"key": "deployment.environment", "value": {"stringValue": "prod"}}]


def otlp(body, r):
    return {"resourceLogs": [{"resource": {"attributes": RES},
                              "scopeLogs": [{"scope": {"name": "eighth"},
                                             "logRecords": [{"timeUnixNano": str(1796000000000000000 + r.randrange(10**15)),
                                                             "severityNumber": 13, "severityText": "WARN",
                                                             "body": body}]}]}]}


BODY = ["resourceLogs", 0, "scopeLogs", 0, "logRecords", 0, "body"]


def to_any(v):
    """A Python value as an OTLP AnyValue (numbers as strings: the kvlist holds text)."""
    if isinstance(v, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": to_any(x)} for k, x in v.items()]}}
    if isinstance(v, list):
        return {"arrayValue": {"values": [to_any(x) for x in v]}}
    if isinstance(v, Nested):
        return {"stringValue": Nested(v.obj)}
    if isinstance(v, Num):
        return {"stringValue": v.sentinel}
    if isinstance(v, bool):
        return {"boolValue": v}
    if v is None:
        return {"stringValue": ""}
    if isinstance(v, int):
        return {"stringValue": str(v)}
    return {"stringValue": v}


def find(node, sentinel, path, depth):
    """(path, string depth, is_number) of the leaf that holds `sentinel`."""
    if isinstance(node, Num):
        return (path, depth, True) if node.sentinel == sentinel else None
    if isinstance(node, Nested):
        return find(node.obj, sentinel, path + ["#json"], depth + 1)
    if isinstance(node, dict):
        for k, v in node.items():
            f = find(v, sentinel, path + [k], depth)
            if f:
                return f
    if isinstance(node, list):
        for i, v in enumerate(node):
            f = find(v, sentinel, path + [i], depth)
            if f:
                return f
    if isinstance(node, str) and sentinel in node:
        return path, depth + 1, False
    return None


def fill(node, subs):
    if isinstance(node, Num):
        return int(subs[node.sentinel])
    if isinstance(node, Nested):
        return json.dumps(fill(node.obj, subs), ensure_ascii=False)
    if isinstance(node, dict):
        return {k: fill(v, subs) for k, v in node.items()}
    if isinstance(node, list):
        return [fill(v, subs) for v in node]
    if isinstance(node, str):
        for s, v in subs.items():
            node = node.replace(s, v)
        return node
    return node


def spelled(value, text_levels, string_depth, ascii_only):
    """The item as the document's bytes hold it: escaped once per JSON string around it."""
    s = value
    for _ in range(text_levels):
        s = esc(s)
    for i in range(string_depth):
        s = esc(s, ascii_only and i == string_depth - 1)
    return s


def build(n, r):
    ty = TYPES[n % len(TYPES)]
    it = make_item(ty, r)
    ks = [make_keep(n * 2 + j, r) for j in range(1 if n % 3 == 0 else 2)]
    use_text = r.random() < 0.5
    if it.get("number"):
        use_text = False
    if use_text:
        shapes = [s for s in TEXT_SHAPES if not (s is opensearch_bulk and ("\n" in it["value"] or '"' in it["value"]))]
        shape = shapes[(n // len(TYPES)) % len(shapes)]
        for k in ks:
            k["number"] = False
        text, ctx = shape(it, ks, r)
        wrap = V.pick(r, ["text", "line", "line_docker", "otlp"])
        if wrap == "text":
            tree, fmt = text, "text"
        elif wrap == "line":
            tree, fmt = {"ts": ts(r), "level": "warn", "logger": shape.__name__, "msg": text}, "line"
        elif wrap == "line_docker":
            tree, fmt = {"log": text + "\n", "stream": "stderr", "time": ts(r)}, "line"
        else:
            tree, fmt = otlp({"stringValue": text}, r), "otlp"
    else:
        shape = JSON_SHAPES[(n // len(TYPES)) % len(JSON_SHAPES)]
        obj, ctx = shape(it, ks, r)
        wrap = V.pick(r, ["line", "otlp_string", "otlp_kvlist"])
        if it.get("number"):
            wrap = "line"
        if wrap == "line":
            tree, fmt = obj, "line"
        elif wrap == "otlp_string":
            tree, fmt = otlp({"stringValue": Nested(obj)}, r), "otlp"
        else:
            tree, fmt = otlp(to_any(obj), r), "otlp"
    ascii_only = fmt == "line" and r.random() < 0.25
    subs = {P: it["value"], P1: esc(it["value"])}
    for i, k in enumerate(ks):
        subs[K(i)] = k["value"]
    has_p1 = (P1 in tree) if isinstance(tree, str) else find(tree, P1, [], 0) is not None
    sentinel = P1 if has_p1 else P
    level = 1 if sentinel == P1 else 0
    if fmt == "text":
        doc = fill(tree, subs)
        pii = {"path": [], "location": "text"}
        raw = spelled(it["value"], level, 0, False)
        keep_paths = [[] for _ in ks]
        numbers = [False for _ in ks]
    else:
        path, depth, is_num = find(tree, sentinel, [], 0)
        filled = fill(tree, subs)
        doc = json.dumps(filled, ensure_ascii=ascii_only)
        raw = it["value"] if is_num else spelled(it["value"], level, depth, ascii_only)
        loc = "json_number" if is_num else ("text_in_json" if use_text else "json_string")
        if fmt == "otlp" and not is_num:
            loc = "otlp_" + loc
        pii = {"path": path, "location": loc}
        keep_paths, numbers = [], []
        for i, k in enumerate(ks):
            if use_text:
                keep_paths.append(path)
                numbers.append(False)
                continue
            kp, _, kn = find(tree, K(i), [], 0)
            keep_paths.append(kp)
            numbers.append(kn)
    pii_rec = {"type": ty, "variant": it["variant"], "value": it["value"], "raw": raw,
               "location": pii["location"], "context": ctx, "path": pii["path"]}
    keeps = []
    for i, k in enumerate(ks):
        exact = fmt != "text" and not use_text and (numbers[i] or k["full"] == k["value"])
        keeps.append({"type": k["type"], "value": k["value"], "path": keep_paths[i],
                      "match": "exact" if exact else "contains"})
    return {"id": f"e8-{n:04d}", "format": fmt, "shape": f"{fmt}/{ctx}", "doc": doc,
            "pii": [pii_rec], "keep": keeps}


def main():
    r = random.Random(SEED)
    with open(OUT, "w", encoding="utf-8") as f:
        for n in range(N_DOCS):
            f.write(json.dumps(build(n, r), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
