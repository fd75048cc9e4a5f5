#!/usr/bin/env python3
"""Sixth held-out redaction set: security-event and tooling shapes (see README.md).

python3 gen_sixth.py          rewrites corpus.jsonl and README.md (fixed seed)
python3 gen_sixth.py --check  fails if either file differs from what it writes
"""

import json
import os
import random
import sys
from urllib.parse import quote, quote_plus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import values as V  # noqa: E402

SEED = 6_2026_12_07
DOCS = 2000
HERE = os.path.dirname(os.path.abspath(__file__))

# ----------------------------------------------------------------- types
# type: (generator, needs context, keys naming it, marking words in text)
# A key list's first entries are ASCII (SD-NAMEs, header names and Go fields need it).
TYPES = {
    "email": (V.email, False, ["email", "user_email", "principalEmail", "contact_email", "mail"], ["email", "e-mail", "mail to"]),
    "kr_mobile": (V.kr_mobile, False, ["mobile", "phone", "hp", "휴대폰"], ["휴대폰", "mobile", "연락처"]),
    "kr_safe_number": (V.kr_safe_number, False, ["safe_number", "virtual_phone", "안심번호"], ["안심번호", "call"]),
    "kr_landline": (V.kr_landline, False, ["tel", "office_tel", "landline", "전화번호"], ["tel", "전화", "office"]),
    "us_phone": (V.us_phone, False, ["phone", "phone_number", "contact_phone", "mobile"], ["phone", "call", "cell"]),
    "phone_intl": (V.phone_intl, False, ["msisdn", "phone", "whatsapp"], ["phone", "WhatsApp", "SMS to"]),
    "credit_card": (V.credit_card, False, ["card_number", "pan", "cardNumber", "cc_number"], ["card", "PAN", "카드번호"]),
    "kr_rrn": (V.registration, False, ["rrn", "jumin_no", "resident_no", "주민등록번호"], ["주민등록번호", "주민번호", "RRN"]),
    "kr_frn": (lambda r: V.registration(r, True), False, ["frn", "alien_reg_no", "외국인등록번호"], ["외국인등록번호", "alien registration"]),
    "kr_brn": (V.kr_brn, True, ["brn", "biz_no", "business_no", "사업자등록번호"], ["사업자등록번호", "business no", "BRN"]),
    "kr_bank_account": (V.kr_bank_account, True, ["account", "bank_account", "acct", "계좌번호"], []),
    "kr_driver_license": (V.kr_driver_license, True, ["license_no", "driver_license", "운전면허번호"], ["운전면허", "license"]),
    "kr_passport": (V.kr_passport, False, ["passport", "passport_no", "여권번호"], ["passport", "여권번호"]),
    "us_ssn": (lambda r: V.us_ssn(r, True), True, ["ssn", "social_security_number", "SSN"], ["SSN", "social security"]),
    "iban": (V.iban, False, ["iban", "payout_iban", "IBAN"], ["IBAN"]),
    "dob": (V.dob, True, ["dob", "birth_date", "date_of_birth", "birthday", "birthDate", "생년월일"], ["DOB", "born", "생년월일", "birth date"]),
    "password": (V.password, True, ["password", "passwd", "pwd", "db_password", "PASSWORD", "adminPassword", "비밀번호"], ["password", "pw", "비밀번호"]),
    "ipv4": (V.ipv4, False, ["client_ip", "remote_addr", "src", "sourceIPAddress", "ip"], ["from", "client"]),
    "ipv6": (V.ipv6, False, ["client_ip", "remote_addr", "src6", "callerIp"], ["from", "client"]),
    "jwt": (V.jwt, False, ["id_token", "jwt", "access_token", "assertion"], ["token", "jwt"]),
    "session_cookie": (V.session_cookie, True, [], []),
    "aws_access_key": (V.aws_access_key, False, ["accessKeyId", "aws_access_key_id", "AWS_ACCESS_KEY_ID"], ["access key"]),
    "aws_secret_key": (V.aws_secret_key, True, ["aws_secret_access_key", "SecretAccessKey", "AWS_SECRET_ACCESS_KEY"], ["secret access key", "aws secret"]),
    "github_token": (V.github_token, False, ["GITHUB_TOKEN", "gh_token", "token"], ["token"]),
    "slack_token": (V.slack_token, False, ["SLACK_BOT_TOKEN", "slack_token", "token"], ["token"]),
    "slack_webhook": (V.slack_webhook, False, ["webhook_url", "SLACK_WEBHOOK", "url"], ["webhook"]),
    "stripe_key": (V.stripe_key, False, ["STRIPE_SECRET_KEY", "stripe_key", "signing_secret"], ["key"]),
    "google_api_key": (V.google_api_key, False, ["GOOGLE_API_KEY", "maps_key", "api_key"], ["key"]),
    "sendgrid_key": (V.sendgrid_key, False, ["SENDGRID_API_KEY", "sendgrid_key"], ["key"]),
    "twilio_key": (V.twilio_key, False, ["TWILIO_API_KEY", "twilio_sid", "account_sid"], ["sid"]),
    "openai_key": (V.openai_key, False, ["OPENAI_API_KEY", "openai_key"], ["key"]),
    "anthropic_key": (V.anthropic_key, False, ["ANTHROPIC_API_KEY", "anthropic_key"], ["key"]),
    "npm_token": (V.npm_token, False, ["NPM_TOKEN", "npm_token"], ["token"]),
    "pypi_token": (V.pypi_token, False, ["PYPI_TOKEN", "TWINE_PASSWORD", "pypi_token"], ["token"]),
    "gitlab_token": (V.gitlab_token, False, ["GITLAB_TOKEN", "CI_JOB_TOKEN_OVERRIDE", "gitlab_token"], ["token"]),
    "huggingface_token": (V.huggingface_token, False, ["HF_TOKEN", "hf_token"], ["token"]),
    "digitalocean_token": (V.digitalocean_token, False, ["DIGITALOCEAN_TOKEN", "do_token"], ["token"]),
    "generic_api_key": (V.generic_api_key, True, ["api_key", "x-api-key", "apikey", "client_secret", "X-Auth-Token", "auth_token"], ["api key", "token", "client secret"]),
    "bearer_token": (V.bearer_token, True, [], []),
    "basic_auth": (V.basic_auth, True, [], []),
    "private_key": (V.private_key, False, ["private_key", "private_key_pem", "tls_key", "ssh_key"], []),
    "url_credentials": (V.url_credentials, False, ["dsn", "database_url", "broker_url", "url"], ["connecting to", "dsn"]),
}
# Keys that say nothing about the value, for types that need no context.
INNOCUOUS = ["value", "data", "note", "detail", "field_7", "attr", "payload", "v"]
# Types a header carries in curl/HAR/HTTP2 dumps, by header name.
AUTH_TYPES = {"bearer_token", "basic_auth", "session_cookie"}

KEEPS = {
    "git_sha": (V.sha1_hex, ["commit", "head_sha", "git_commit", "revision"]),
    "docker_digest": (V.docker_digest, ["image_digest", "digest", "imageID"]),
    "k8s_uid": (V.uuid4, ["uid", "pod_uid", "ownerUid"]),
    "uuid_v7": (V.uuid7, ["event_id", "request_id", "message_id"]),
    "mac_address": (V.mac_address, ["mac", "hw_addr", "bssid"]),
    "build_version": (V.build_version, ["build", "app_version", "os_build", "firmware_version"]),
    "product_version": (V.product_version, ["server", "via", "upstream_server"]),
    "ups_tracking": (V.ups_tracking, ["tracking_number", "ups_tracking", "shipment"]),
    "usps_tracking": (V.usps_tracking, ["tracking_number", "usps_tracking", "parcel"]),
    "iban_bad_check": (V.bad_iban, ["internal_ref", "ledger_code", "batch_ref"]),
    "non_luhn_16": (V.non_luhn_16, ["order_no", "voucher", "gift_code"]),
    "container_code": (V.container_code, ["container", "container_no", "equipment_id"]),
    "vin": (V.vin, ["vin", "vehicle_vin", "chassis"]),
    "isin": (V.isin, ["isin", "instrument", "security_id"]),
    "lei": (V.lei, ["lei", "counterparty_lei", "issuer_lei"]),
    "gtin14": (V.gtin14, ["gtin", "case_gtin", "gtin14"]),
    "cas_number": (V.cas_number, ["cas", "cas_no", "substance"]),
    "timestamp": (V.timestamp, ["timestamp", "time", "created_at", "eventTime"]),
    "duration": (V.duration, ["duration", "elapsed", "latency", "took"]),
    "percentage": (V.percentage, ["cpu", "ratio", "availability", "error_rate"]),
    "hex_colour": (V.hex_colour, ["color", "theme_colour", "bg"]),
    "semver": (V.semver, ["chart_version", "sdk_version", "tag"]),
    "prom_labels": (V.prom_labels, ["series", "labels", "selector"]),
    "trace_id": (V.trace_id, ["trace_id", "traceId", "otel_trace_id"]),
    "traceparent": (V.traceparent, ["traceparent"]),
    "jwt_like": (V.jwt_like, ["dedupe_id", "bundle_ref", "object_ref"]),
    "ssh_fingerprint": (V.ssh_fingerprint, ["fingerprint", "host_fp"]),
    "ssh_public_key": (V.ssh_public_key, ["pubkey_line", "ssh_host_pub", "pub"]),
    "kr_rep_number": (V.kr_rep_number, ["cs_center", "대표번호", "hotline"]),
}


class Field:
    """One value to place: a PII item or a hard negative, with the key it goes under."""

    def __init__(self, kind, ty, key, text, it=None, ctx="key"):
        self.kind, self.ty, self.key, self.text, self.it, self.ctx = kind, ty, key, text, it, ctx
        self.raw = None  # exact text in the document
        self.path = []
        self.location = None
        self.number = False


# ----------------------------------------------------------------- escapes per shape


def esc_sd(v):  # RFC 5424 PARAM-VALUE
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def esc_cef(v):  # CEF extension value
    return v.replace("\\", "\\\\").replace("=", "\\=").replace("\r\n", "\\n").replace("\n", "\\n")


def esc_dq(v):  # logfmt, Rust Debug, Elixir: a double-quoted string
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r").replace("\n", "\\n")


def env_name(k):
    out = ""
    for i, c in enumerate(k):
        if c.isupper() and i and k[i - 1].islower():
            out += "_"
        out += c
    return out.upper().replace("-", "_")


def go_field(k):
    if k.isupper() or "_" in k or "-" in k:
        k = k.lower()
    return "".join(p[:1].upper() + p[1:] for p in k.replace("-", "_").split("_")) or "V"


# ----------------------------------------------------------------- text shapes
# Each returns (text, {field: raw}) ; raw is how the field's text appears.


def place(f, raw):
    f.raw = raw
    return raw


def sh_syslog(r, fields, ts):
    ts = V.timestamp_rfc3339(r)
    params = []
    for f in fields:
        k = f.key if f.key.isascii() and " " not in f.key else "value"
        params.append(f'{k}="{place(f, esc_sd(f.text))}"')
    sd = "[exampleSDID@32473 " + " ".join(params) + "]"
    return (f"<{r.choice([34, 38, 86, 165])}>1 {ts} {r.choice(['web-1', 'auth-2', 'bastion'])} "
            f"{r.choice(['sshd', 'payments', 'idp'])} {r.randint(100, 65000)} ID{r.randint(10, 99)} {sd} "
            + r.choice(["login ok", "request handled", "config reloaded", "\ufeffuser updated"]))


CEF_KEYS = {"email": "suser", "ipv4": "src", "ipv6": "c6a2"}


def sh_cef(r, fields, ts):
    ext, n = [], 1
    for f in fields:
        std = CEF_KEYS.get(f.ty)
        if std and f.kind == "pii":
            ext.append(f"{std}={place(f, esc_cef(f.text))}")
        else:
            ext.append(f"cs{n}Label={f.key} cs{n}={place(f, esc_cef(f.text))}")
            f.ctx = "cef_label" if f.kind == "pii" else f.ctx
            n += 1
    head = (f"CEF:0|{r.choice(['Acme', 'Example Corp'])}|{r.choice(['WAF', 'IdP', 'EDR'])}|"
            f"{r.randint(1, 9)}.{r.randint(0, 9)}|{r.randint(100, 999)}|{r.choice(['Login', 'Policy hit', 'Config change'])}|{r.randint(1, 10)}|")
    return head + f"rt={r.randint(1796000000000, 1796999999999)} " + " ".join(ext)


def sh_leef(r, fields, ts):
    ext = [f"devTime={ts}"]
    for f in fields:
        k = {"email": "usrName", "ipv4": "src"}.get(f.ty, f.key) if f.kind == "pii" else f.key
        if not k.isascii():
            k = "field"
        ext.append(f"{k}={place(f, f.text)}")
    return f"LEEF:1.0|Example|Gateway|2.1|{r.choice(['auth', 'deny', 'allow'])}|" + "\t".join(ext)


def sh_logfmt(r, fields, ts):
    parts = [f"ts={ts}", f"level={r.choice(['info', 'warn', 'error'])}",
             f'msg="{r.choice(["user signed up", "token refreshed", "payout created", "retrying upstream"])}"']
    for f in fields:
        k = f.key if f.key.isascii() else "field"
        v = f.text
        if r.random() < 0.6 or any(c in v for c in ' "=\\\n'):
            parts.append(f'{k}="{place(f, esc_dq(v))}"')
        else:
            parts.append(f"{k}={place(f, v)}")
    return " ".join(parts)


def sh_go(r, fields, ts):
    parts = [f"ID:{r.randint(1, 99999)}"]
    for f in fields:
        parts.append(f"{go_field(f.key if f.key.isascii() else 'value')}:{place(f, f.text)}")
    return f"{ts} handler.go:{r.randint(40, 400)}: request=&{{" + " ".join(parts) + "}"


def sh_rust(r, fields, ts):
    pretty = r.random() < 0.4
    name = r.choice(["User", "Signup", "Credentials", "PayoutRequest"])
    items = [f"id: {r.randint(1, 99999)}"]
    for f in fields:
        # A key that is no identifier is printed as a map's `Debug` prints it.
        k = f.key if f.key.isascii() and f.key.isidentifier() else f'"{f.key}"'
        items.append(f'{k}: "{place(f, esc_dq(f.text))}"')
    if pretty:
        return f"[{ts} DEBUG app] {name} {{\n" + "".join(f"    {x},\n" for x in items) + "}"
    return f"[{ts} DEBUG app] {name} {{ " + ", ".join(items) + ", .. }"


def sh_java(r, fields, ts):
    style = r.choice(["record", "lombok"])
    name = r.choice(["Customer", "Account", "LoginEvent"])
    items = [f"id={r.randint(1, 99999)}"]
    for f in fields:
        k = f.key if f.key.isascii() else "value"
        items.append(f"{k}={place(f, f.text)}")
    o, c = ("[", "]") if style == "record" else ("(", ")")
    return f"{ts} INFO  [main] c.e.Service - saved {name}{o}" + ", ".join(items) + c


def sh_elixir(r, fields, ts):
    if r.random() < 0.5:
        items = [f"id: {r.randint(1, 9999)}"]
        for f in fields:
            # Atoms that are no identifier are quoted: `"connect.sid": "…"`.
            k = f.key if f.key.isascii() and f.key.isidentifier() else f'"{f.key}"'
            items.append(f'{k}: "{place(f, esc_dq(f.text))}"')
        return f"{ts} [info] changeset: %MyApp.Accounts.User{{" + ", ".join(items) + "}"
    items = []
    for f in fields:
        items.append(f'<<"{f.key}">> => <<"{place(f, esc_dq(f.text))}">>')
    return f"=INFO REPORT==== {ts} ===\n    params: #{{" + ",".join(items) + "}"


def yaml_scalar(r, f, indent):
    v = f.text
    if "\n" in v:
        body = v.replace("\r\n", "\n").split("\n")
        raw_lines = ("\n" + " " * (indent + 2)).join(body)
        place(f, raw_lines if len(body) == 1 else body[0])
        if len(body) > 1:
            # The labelled raw text is the whole block as indented in the document.
            f.raw = raw_lines
        return "|\n" + " " * (indent + 2) + raw_lines
    if any(c in v for c in ":#'\"{}[],&*!|>%@`") or v[:1] in "-? " or r.random() < 0.3:
        q = "'" + v.replace("'", "''") + "'"
        place(f, v.replace("'", "''"))
        return q
    return place(f, v)


def sh_yaml(r, fields, ts):
    style = r.choice(["helm", "k8s", "flow"])
    if style == "flow":
        items = []
        for f in fields:
            if "\n" in f.text:
                return sh_yaml_block(r, fields, ts)
            items.append(f'{f.key}: "{place(f, esc_dq(f.text))}"')
        return f"# rendered {ts}\nconfig: {{" + ", ".join(items) + "}\n"
    return sh_yaml_block(r, fields, ts, style)


def sh_yaml_block(r, fields, ts, style="helm"):
    head = (f"# values.yaml generated {ts}\nreplicaCount: 2\nauth:\n" if style == "helm"
            else f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n  annotations:\n    generated: '{ts}'\nstringData:\n")
    lines = []
    for f in fields:
        lines.append(f"  {f.key}: {yaml_scalar(r, f, 2)}")
    return head + "\n".join(lines) + "\n"


def sh_markdown(r, fields, ts):
    rows = ["| field | value |", "|---|---|"]
    for f in fields:
        rows.append(f"| {f.key} | {place(f, f.text.replace('|', chr(92) + '|'))} |")
    return f"### Incident notes ({ts})\n\n" + "\n".join(rows) + "\n"


def sh_dockerfile(r, fields, ts):
    lines = [f"# built {ts}", f"FROM python:3.12-slim", "WORKDIR /app"]
    for f in fields:
        k = f.key if f.key.isascii() else "APP_VALUE"
        k = env_name(k)
        verb = r.choice(["ENV", "ARG", "ENV"])
        if r.random() < 0.5 or " " in f.text or '"' in f.text:
            lines.append(f'{verb} {k}="{place(f, esc_dq(f.text))}"')
        else:
            lines.append(f"{verb} {k}={place(f, f.text)}")
    lines.append('CMD ["gunicorn", "app:app"]')
    return "\n".join(lines) + "\n"


def sh_shell(r, fields, ts):
    n = r.randint(100, 2000)
    lines = []
    for f in fields:
        n += 1
        k = f.key if f.key.isascii() else "VALUE"
        if f.ty == "password" and r.random() < 0.5:
            form = r.choice(["mysql", "long"])
            if form == "mysql":
                lines.append(f"{n:5d}  mysql -h db.internal -u root -p{place(f, f.text)} orders")
            else:
                lines.append(f"{n:5d}  pg_restore --username=app --password={place(f, f.text)} dump.sql")
            f.ctx = "cli_flag"
            continue
        lines.append(f"{n:5d}  export {env_name(k)}='{place(f, f.text)}'")
    lines.append(f"{n + 1:5d}  history | tail")
    return "\n".join(lines)


def header_line(f):
    if f.ty == "bearer_token":
        return "Authorization", ""
    if f.ty == "basic_auth":
        return r_choice_header(f), ""
    if f.ty == "session_cookie":
        return "Cookie", f"theme=dark; {f.it['cookie']}="
    k = f.key if f.key.isascii() else "value"
    return "X-" + "-".join(w[:1].upper() + w[1:] for w in env_name(k).lower().split("_")), ""


def r_choice_header(f):
    return "Proxy-Authorization" if len(f.text) % 3 == 0 else "Authorization"


def sh_curl(r, fields, ts):
    host = r.choice(["api.example.com", "billing.example.net", "sso.example.org"])
    eol = r.choice(["\r\n", "\n"])
    lines = [f"*   Trying {host}:443...", f"* Connected to {host} port 443", f"> POST /v2/sessions HTTP/1.1", f"> Host: {host}",
             "> User-Agent: curl/8.5.0", "> Accept: */*"]
    for f in fields:
        name, pre = header_line(f)
        if f.kind == "keep":
            name = go_field(f.key).replace("_", "-")
        lines.append(f"> {name}: {pre}{place(f, f.text)}")
        f.ctx = "header" if f.kind == "pii" and f.ty in AUTH_TYPES else f.ctx
    lines += [">", "< HTTP/1.1 201 Created", f"< date: {ts}", "<"]
    return eol.join(lines)


def sh_h2(r, fields, ts):
    t = r.random()
    lines = [f"[  {t:.3f}] send HEADERS frame <length={r.randint(40, 400)}, flags=0x25, stream_id={r.choice([1, 3, 13])}>",
             "          ; END_STREAM | END_HEADERS | PRIORITY", "          :method: POST",
             "          :scheme: https", "          :authority: api.example.com", "          :path: /v1/token"]
    for f in fields:
        name, pre = header_line(f)
        if f.kind == "keep":
            name = f.key
        lines.append(f"          {name.lower()}: {pre}{place(f, f.text)}")
        f.ctx = "header" if f.kind == "pii" and f.ty in AUTH_TYPES else f.ctx
    return "\n".join(lines)


def sh_form(r, fields, ts):
    heads, params = [], [f"grant_type=password"]
    for f in fields:
        if f.kind == "keep" or f.ty in AUTH_TYPES or "\n" in f.text:
            name, pre = header_line(f)
            if f.kind == "keep":
                name = go_field(f.key).replace("_", "-")
            heads.append(f"{name}: {pre}{place(f, f.text)}")
            continue
        params.append(f"{quote_plus(f.key)}={place(f, quote_plus(f.text))}")
        f.location = "form_body"
    body = "&".join(params)
    return ("POST /oauth/token HTTP/1.1\r\nHost: auth.example.com\r\nContent-Type: "
            "application/x-www-form-urlencoded\r\n" + "".join(h + "\r\n" for h in heads)
            + f"Content-Length: {len(body)}\r\n\r\n" + body)


def sh_sql(r, fields, ts):
    conds, notes = [], []
    for f in fields:
        col = f.key if f.key.isascii() and f.key.isidentifier() else f"`{f.key}`"
        if f.kind == "keep":
            notes.append(f"{col}={place(f, f.text)}")
        else:
            conds.append(f"{col.lower() if col[0] != '`' else col} = '{place(f, f.text.replace(chr(39), chr(39) * 2))}'")
    where = " AND ".join(conds) or "1 = 1"
    return (f"# Time: {ts}\n# User@Host: app[app] @ app-{r.randint(1, 9)}.internal []  Id: {r.randint(100, 99999)}\n"
            f"# Query_time: {r.random() * 9 + 1:.6f}  Lock_time: 0.000012 Rows_sent: 1  Rows_examined: {r.randint(1000, 900000)}\n"
            f"SET timestamp={r.randint(1796000000, 1796999999)};\n/* {' '.join(notes)} */ "
            f"SELECT id, status FROM customers WHERE {where};")


def sh_prose(r, fields, ts):
    """Sentences: marking words before values (`：` and `＝` among them), bare values, values at the
    document's start or end, right-to-left marks before them."""
    out = []
    lead = r.random() < 0.2
    for i, f in enumerate(fields):
        if f.kind == "keep":
            out.append(f"({f.key} {place(f, f.text)})")
            continue
        words = TYPES[f.ty][3]
        need = TYPES[f.ty][1]
        sep = r.choice([": ", "：", "＝", " ", "=", ":\t"])
        if f.ty == "kr_bank_account":
            out.append(f"{f.it['bank']} 계좌 {place(f, f.text)}로 입금 부탁드립니다.")
            f.ctx = "marked"
        elif f.ty in AUTH_TYPES:
            name, pre = header_line(f)
            out.append(f"{name}: {pre}{place(f, f.text)}")
            f.ctx = "header"
        elif f.ty == "password":
            w = r.choice(["password", "pw", "비밀번호", "passwd"])
            out.append(f"{w}{r.choice(['=', ': ', '：', '＝'])}{place(f, f.text)}")
            f.ctx = "marked"
        elif need or (words and r.random() < 0.5):
            w = r.choice(words)
            out.append(f"{w}{sep}{place(f, f.text)}")
            f.ctx = "marked"
        elif lead and i == 0:
            out.insert(0, f"{place(f, f.text)} {r.choice(['changed plan', 'opted out', 'requested export'])}")
            f.ctx = "bare"
            continue
        else:
            mark = r.choice(["", "\u200f", "\u200e"])
            out.append(f"{r.choice(['seen', 'got', 'value', 'مرحبا', 'שלום'])} {mark}{place(f, f.text)}")
            f.ctx = "bare"
    return " ".join(out)


TEXT_SHAPES = {
    "syslog5424": sh_syslog, "cef": sh_cef, "leef": sh_leef, "logfmt": sh_logfmt, "go_struct": sh_go,
    "rust_debug": sh_rust, "java_tostring": sh_java, "elixir_erlang": sh_elixir, "yaml": sh_yaml,
    "markdown_table": sh_markdown, "dockerfile": sh_dockerfile, "shell_history": sh_shell,
    "curl_verbose": sh_curl, "http2_frames": sh_h2, "form_body": sh_form, "sql_slow_log": sh_sql,
    "prose": sh_prose,
}

# ----------------------------------------------------------------- JSON shapes
# Each returns (object, list of (field, path, text_in_leaf)), placing fields as it goes.


class Json:
    def __init__(self):
        self.placed = []

    def put(self, f, obj, key, path, text=None, number=False):
        if number:
            obj[key] = int(f.text)
            f.number = True
        else:
            obj[key] = f.text if text is None else text
        f.path = path + [key]
        self.placed.append((f, text if text is not None else f.text))


def numeric(r, f):
    return (f.kind == "pii" and f.ty in ("credit_card", "us_phone", "kr_rrn", "kr_brn")
            and f.text.isdigit() and not f.text.startswith("0") and r.random() < 0.5)


def js_envoy(r, fields, ts, j):
    o = {"start_time": ts, "method": r.choice(["GET", "POST"]), "protocol": "HTTP/2",
         "response_code": r.choice([200, 201, 302, 401]), "duration": r.randint(1, 900),
         "upstream_cluster": "outbound|8080||api.default.svc.cluster.local"}
    q = []
    for f in fields:
        if f.kind == "pii" and f.ty not in AUTH_TYPES and "\n" not in f.text and r.random() < 0.35:
            q.append(f)
            continue
        if f.kind == "pii" and f.ty in AUTH_TYPES:
            name, pre = header_line(f)
            key = name.lower()
            o[key] = pre + f.text
            f.path = [key]
            j.placed.append((f, f.text))
            f.ctx = "header"
            continue
        j.put(f, o, f.key, [], number=numeric(r, f))
    path = "/api/v1/callback"
    if q:
        parts = []
        for f in q:
            enc = quote(f.text, safe="")
            parts.append(f"{quote(f.key, safe='')}={enc}")
            f.location = "url_query"
            f.path = ["path"]
            f.query = enc
            j.placed.append((f, enc))
        path += "?" + "&".join(parts)
    o["path"] = path
    o["authority"] = "api.example.com"
    return o


def js_har(r, fields, ts, j):
    headers, cookies, post = [], [], {}
    req = {"method": "POST", "url": "https://app.example.com/api/login", "httpVersion": "HTTP/2",
           "headers": headers, "cookies": cookies, "queryString": [], "headersSize": -1, "bodySize": 0}
    for f in fields:
        if f.kind == "pii" and f.ty == "session_cookie" and r.random() < 0.6:
            cookies.append({"name": f.it["cookie"], "value": f.text})
            f.path = ["log", "entries", 0, "request", "cookies", len(cookies) - 1, "value"]
            j.placed.append((f, f.text))
            f.ctx = "name_value"
        elif f.kind == "pii" and f.ty in AUTH_TYPES:
            name, pre = header_line(f)
            headers.append({"name": name.lower(), "value": pre + f.text})
            f.path = ["log", "entries", 0, "request", "headers", len(headers) - 1, "value"]
            j.placed.append((f, f.text))
            f.ctx = "header"
        elif f.kind == "keep":
            headers.append({"name": f.key, "value": f.text})
            f.path = ["log", "entries", 0, "request", "headers", len(headers) - 1, "value"]
        else:
            post[f.key] = f.text
            f.path = ["log", "entries", 0, "request", "postData", "text", "#json", f.key]
            f.location = "json_in_string"
            j.placed.append((f, "#json:" + f.text))
    if post:
        req["postData"] = {"mimeType": "application/json", "text": json.dumps(post, ensure_ascii=False)}
    return {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                    "entries": [{"startedDateTime": ts, "time": r.randint(20, 900), "request": req,
                                 "response": {"status": 200, "statusText": "", "httpVersion": "HTTP/2",
                                              "headers": [], "cookies": [], "content": {"size": 0, "mimeType": "application/json"},
                                              "redirectURL": "", "headersSize": -1, "bodySize": -1},
                                 "cache": {}, "timings": {"send": 0.1, "wait": 41.2, "receive": 0.4}}]}}


def js_cloudtrail(r, fields, ts, j):
    params = {}
    o = {"eventVersion": "1.08",
         "userIdentity": {"type": "AssumedRole", "principalId": "AROA" + V.rs(r, V.B32, 17) + ":session",
                          "arn": "arn:aws:sts::123456789012:assumed-role/deploy/session", "accountId": "123456789012"},
         "eventTime": ts, "eventSource": r.choice(["secretsmanager.amazonaws.com", "iam.amazonaws.com", "rds.amazonaws.com"]),
         "eventName": r.choice(["CreateSecret", "CreateAccessKey", "ModifyDBInstance"]), "awsRegion": "ap-northeast-2"}
    for f in fields:
        if f.kind == "pii" and f.ty == "aws_access_key":
            j.put(f, o["userIdentity"], "accessKeyId", ["userIdentity"])
        elif f.kind == "pii" and f.ty in ("ipv4", "ipv6") and "sourceIPAddress" not in o:
            j.put(f, o, "sourceIPAddress", [])
        else:
            j.put(f, params, f.key, ["requestParameters"], number=numeric(r, f))
    o["requestParameters"] = params
    o["responseElements"] = None
    o["readOnly"] = False
    return o


def js_gcp(r, fields, ts, j):
    req = {}
    pp = {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "authenticationInfo": {},
          "requestMetadata": {"callerSuppliedUserAgent": "google-cloud-sdk gcloud/502.0.0"},
          "serviceName": "secretmanager.googleapis.com", "methodName": "google.cloud.secretmanager.v1.SecretManagerService.AddSecretVersion",
          "request": req}
    for f in fields:
        if f.kind == "pii" and f.ty == "email" and "principalEmail" not in pp["authenticationInfo"]:
            j.put(f, pp["authenticationInfo"], "principalEmail", ["protoPayload", "authenticationInfo"])
        elif f.kind == "pii" and f.ty in ("ipv4", "ipv6") and "callerIp" not in pp["requestMetadata"]:
            j.put(f, pp["requestMetadata"], "callerIp", ["protoPayload", "requestMetadata"])
        else:
            j.put(f, req, f.key, ["protoPayload", "request"], number=numeric(r, f))
    return {"protoPayload": pp, "insertId": V.rs(r, V.HEX, 12), "resource": {"type": "secretmanager.googleapis.com/Secret"},
            "timestamp": ts, "severity": "NOTICE", "logName": "projects/demo/logs/cloudaudit.googleapis.com%2Factivity"}


BILLING = {"email": "email", "us_phone": "phone", "phone_intl": "phone", "kr_mobile": "phone"}


def js_stripe(r, fields, ts, j):
    bd, md = {}, {}
    for f in fields:
        if f.kind == "pii" and f.ty in BILLING and f.ty not in bd:
            key = BILLING[f.ty] if f.ctx == "key" else f.key
            j.put(f, bd, key, ["data", "object", "billing_details"])
        else:
            j.put(f, md, f.key, ["data", "object", "metadata"], number=numeric(r, f))
    return {"id": "evt_" + V.rs(r, V.B62, 24), "object": "event", "api_version": "2024-06-20",
            "created": r.randint(1796000000, 1796999999),
            "data": {"object": {"id": "ch_" + V.rs(r, V.B62, 24), "object": "charge", "amount": r.randint(100, 99999),
                                "currency": r.choice(["usd", "krw", "eur"]), "billing_details": bd, "metadata": md}},
            "livemode": True, "type": "charge.succeeded"}


def js_github(r, fields, ts, j):
    cfg, extra = {"content_type": "json", "insecure_ssl": "0"}, {}
    for f in fields:
        if f.kind == "pii" and f.ty == "slack_webhook" and "url" not in cfg:
            j.put(f, cfg, "url", ["hook", "config"])
        else:
            j.put(f, extra, f.key, ["sender", "profile"], number=numeric(r, f))
    return {"action": "created", "hook_id": r.randint(10**8, 10**9),
            "hook": {"type": "Repository", "active": True, "events": ["push"], "config": cfg, "updated_at": ts},
            "repository": {"full_name": "example/app", "private": True},
            "sender": {"login": "octo-" + V.rs(r, "abcdefgh", 5), "type": "User", "profile": extra}}


def js_gelf(r, fields, ts, j):
    o = {"version": "1.1", "host": r.choice(["api-1", "worker-3"]), "short_message": r.choice(["signup", "profile update", "export"]),
         "timestamp": r.randint(1796000000, 1796999999) + r.randint(0, 999) / 1000, "level": 6}
    for f in fields:
        j.put(f, o, "_" + f.key, [], number=numeric(r, f))
    return o


def js_tfstate(r, fields, ts, j):
    attrs = {"id": "db-" + V.rs(r, V.B32, 10).lower(), "engine": "postgres", "engine_version": "16.4"}
    for f in fields:
        j.put(f, attrs, f.key, ["resources", 0, "instances", 0, "attributes"], number=numeric(r, f))
    return {"version": 4, "terraform_version": "1.9.8", "serial": r.randint(1, 400), "lineage": V.uuid4(r), "outputs": {},
            "resources": [{"mode": "managed", "type": r.choice(["aws_db_instance", "google_sql_user", "kubernetes_secret"]),
                           "name": "main", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
                           "instances": [{"schema_version": 2, "attributes": attrs, "sensitive_attributes": []}]}],
            "check_results": None}


JSON_SHAPES = {"envoy_json": js_envoy, "har": js_har, "cloudtrail": js_cloudtrail, "gcp_audit": js_gcp,
               "stripe_webhook": js_stripe, "github_webhook": js_github, "gelf": js_gelf, "terraform_state": js_tfstate}

# ----------------------------------------------------------------- OTLP


def otlp_record(r, body, attrs):
    return {"resourceLogs": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": r.choice(["checkout", "idp", "ledger", "edge-proxy"])}},
        {"key": "deployment.environment", "value": {"stringValue": "prod"}}]},
        "scopeLogs": [{"scope": {"name": "app.logger"}, "logRecords": [{
            "timeUnixNano": str(1796000000000000000 + r.randint(0, 10**15)), "severityNumber": 9,
            "severityText": "INFO", "body": body, "attributes": attrs}]}]}]}


REC = ["resourceLogs", 0, "scopeLogs", 0, "logRecords", 0]

# ----------------------------------------------------------------- documents


IDENT_SHAPES = {"go_struct", "rust_debug", "java_tostring", "elixir_erlang", "sql_slow_log"}
ASCII_SHAPES = {"syslog5424", "cef", "leef", "dockerfile", "shell_history", "curl_verbose", "http2_frames", "logfmt",
                "form_body"}


def key_ok(shape, k):
    if shape in IDENT_SHAPES:
        return k.isascii() and k.isidentifier()
    if shape in ASCII_SHAPES:
        return k.isascii() and " " not in k
    return True


def make_fields(r, pii_types, keep_types, shape):
    fields = []
    for ty in pii_types:
        gen, need, keys, words = TYPES[ty]
        it = gen(r)
        keys = [k for k in keys if key_ok(shape, k)] or [k for k in keys if k.isascii()]
        if ty in AUTH_TYPES:
            key = {"bearer_token": "authorization", "basic_auth": "authorization"}.get(ty) or it["cookie"]
            text = {"bearer_token": "Bearer ", "basic_auth": "Basic "}.get(ty, "") + it["text"]
            f = Field("pii", ty, key, text, it, "key")
        elif not need and r.random() < 0.25:
            f = Field("pii", ty, r.choice(INNOCUOUS), it["text"], it, "innocuous")
        else:
            f = Field("pii", ty, r.choice(keys), it["text"], it, "key")
        fields.append(f)
    for ty in keep_types:
        gen, keys = KEEPS[ty]
        keys = [k for k in keys if key_ok(shape, k)] or ["ref"]
        fields.append(Field("keep", ty, r.choice(keys), gen(r), None, None))
    r.shuffle(fields)
    return fields


def text_ok(shape, f):
    """Shapes that cannot hold a value of this kind as written."""
    multiline = "\n" in f.text
    if multiline and shape in ("syslog5424", "leef", "go_struct", "java_tostring", "markdown_table", "shell_history",
                               "curl_verbose", "http2_frames", "sql_slow_log", "dockerfile", "prose", "form_body"):
        return False
    if f.kind == "keep" and shape in ("cef",) and ("=" in f.text or "\\" in f.text):
        return False
    if f.kind == "keep" and shape == "markdown_table" and "|" in f.text:
        return False
    if f.kind == "keep" and shape in ("logfmt", "rust_debug", "elixir_erlang", "dockerfile") and '"' in f.text:
        return False
    if f.kind == "keep" and shape == "syslog5424" and ('"' in f.text or "]" in f.text):
        return False
    if f.kind == "keep" and shape == "yaml" and ("'" in f.text or '"' in f.text):
        return False
    return True


def js_escape_piece(piece, ascii_only):
    return json.dumps(piece, ensure_ascii=ascii_only)[1:-1]


def build_doc(r, n, pii_types, keep_types):
    """One document holding the given items and hard negatives; None if the shape cannot hold them."""
    ts = V.timestamp(r)
    roll = r.random()
    if roll < 0.5:
        container = "text"
    elif roll < 0.72:
        container = "json"
    elif roll < 0.84:
        container = "line_text"
    elif roll < 0.92:
        container = "otlp_text"
    else:
        container = "otlp"
    if container == "json":
        shape = r.choice(sorted(JSON_SHAPES))
    elif container == "otlp":
        shape = None
    else:
        shape = r.choice(sorted(TEXT_SHAPES))
    fields = make_fields(r, pii_types, keep_types, shape)
    ascii_only = r.random() < 0.2
    rec = {"id": f"sixth-{n:04d}"}
    if container in ("text", "line_text", "otlp_text"):
        if not all(text_ok(shape, f) for f in fields):
            return None
        for f in fields:
            if f.kind == "pii" and f.ctx == "innocuous" and shape in ("prose",):
                f.ctx = "bare"
        text = TEXT_SHAPES[shape](r, fields, ts)
        if container == "text":
            rec.update(format="text", shape=shape, doc=text)
            for f in fields:
                f.location = f.location or ("multiline" if "\n" in text else "text_line")
            return rec, fields, None
        if container == "line_text":
            wrap = r.choice(["app", "docker"])
            o = ({"time": ts, "level": "info", "logger": "audit", "msg": text} if wrap == "app"
                 else {"log": text + "\n", "stream": "stdout", "time": ts})
            key = "msg" if wrap == "app" else "log"
            for f in fields:
                f.path = [key]
                f.location = f.location or "text_msg"
                f.raw = js_escape_piece(f.raw, ascii_only)
            rec.update(format="line", shape=f"{wrap}_json({shape})", doc=json.dumps(o, ensure_ascii=ascii_only))
            return rec, fields, o
        attrs = []
        for f in fields:
            f.path = REC + ["body", "stringValue"]
            f.location = f.location or "otlp_body_string"
            f.raw = js_escape_piece(f.raw, ascii_only)
        o = otlp_record(r, {"stringValue": text}, attrs)
        rec.update(format="otlp", shape=f"otlp_body({shape})", doc=json.dumps(o, ensure_ascii=ascii_only))
        return rec, fields, o
    if container == "json":
        j = Json()
        o = JSON_SHAPES[shape](r, fields, ts, j)
        doc = json.dumps(o, ensure_ascii=ascii_only)
        for f, leaf in j.placed:
            if leaf.startswith("#json:"):
                inner = leaf[len("#json:"):]
                f.raw = js_escape_piece(js_escape_piece(inner, False), ascii_only)
            elif getattr(f, "query", None):
                f.raw = f.query
            elif f.number:
                f.raw = f.text
                f.location = "json_number"
            else:
                f.raw = js_escape_piece(leaf, ascii_only)
            f.location = f.location or "json_string"
        for f in fields:
            if f.kind == "keep" and f.raw is None:
                f.raw = f.text
        rec.update(format="line", shape=shape, doc=doc)
        return rec, fields, o
    # OTLP with a kvlist body or attributes.
    style = r.choice(["kvlist", "attributes"])
    kv, attrs = [], []
    for f in fields:
        if style == "kvlist" and f.kind == "pii":
            kv.append({"key": f.key, "value": {"stringValue": f.text}})
            f.path = REC + ["body", "kvlistValue", "values", len(kv) - 1, "value", "stringValue"]
            f.location = "otlp_kvlist"
        else:
            k = {"email": "user.email", "ipv4": "client.address", "ipv6": "client.address"}.get(f.ty, f.key) if f.ctx == "key" else f.key
            if f.ty in AUTH_TYPES:
                k = "http.request.header." + ("cookie" if f.ty == "session_cookie" else "authorization")
            name, pre = header_line(f) if f.ty in AUTH_TYPES else ("", "")
            attrs.append({"key": k, "value": {"stringValue": pre + f.text}})
            f.path = REC + ["attributes", len(attrs) - 1, "value", "stringValue"]
            f.location = "otlp_attribute"
        f.raw = js_escape_piece(f.text, ascii_only)
    body = {"kvlistValue": {"values": kv}} if kv else {"stringValue": r.choice(["signup", "payment", "login"])}
    o = otlp_record(r, body, attrs)
    rec.update(format="otlp", shape=f"otlp_{style}", doc=json.dumps(o, ensure_ascii=ascii_only))
    return rec, fields, o


# ----------------------------------------------------------------- checks, as the scorer does them


def at_path(v, path):
    for seg in path:
        if seg == "#json":
            if not isinstance(v, str):
                return None
            try:
                v = json.loads(v)
            except ValueError:
                return None
        elif isinstance(seg, int):
            if not isinstance(v, list) or seg >= len(v):
                return None
            v = v[seg]
        else:
            if not isinstance(v, dict) or seg not in v:
                return None
            v = v[seg]
    return v


def leaf_text(v):
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float)):
        return str(v)
    return v if isinstance(v, str) else None


def strings(v, out):
    if isinstance(v, str):
        out.append(v)
        t = v.strip()
        if t[:1] in "{[":
            try:
                inner = json.loads(t)
                if isinstance(inner, (dict, list)):
                    strings(inner, out)
            except ValueError:
                pass
    elif isinstance(v, list):
        for x in v:
            strings(x, out)
    elif isinstance(v, dict):
        for k, x in v.items():
            out.append(k)
            strings(x, out)


def forms(p):
    return [f for f in [p["raw"], p["value"]] + p.get("digits", []) + p.get("fragments", []) if f]


def record_ok(rec):
    doc = rec["doc"]
    parsed = None if rec["format"] == "text" else json.loads(doc)
    for p in rec["pii"]:
        if p["raw"] not in doc:
            return False
        if parsed is not None:
            leaf = leaf_text(at_path(parsed, p["path"]))
            if leaf is None or not (p["value"] in leaf or p["raw"] in leaf):
                return False
    # Removing exactly the labelled texts leaves no form and every hard negative.
    text = doc
    for p in sorted(rec["pii"], key=lambda p: -len(p["raw"])):
        text = text.replace(p["raw"], '"[REDACTED]"' if p["location"] == "json_number" else "[REDACTED]")
    hay = [text]
    out = None
    if parsed is not None:
        try:
            out = json.loads(text)
        except ValueError:
            return False
        strings(out, hay)
    for p in rec["pii"]:
        if any(f in h for f in forms(p) for h in hay):
            return False
    # Every hard negative is still there, at its path or in the text.
    for k in rec["keep"]:
        if parsed is None:
            if k["value"] not in text:
                return False
        else:
            leaf = leaf_text(at_path(out, k["path"]))
            if leaf is None or (leaf != k["value"] if k["match"] == "exact" else k["value"] not in leaf):
                return False
    return True


def to_record(rec, fields):
    pii, keep = [], []
    for f in fields:
        if f.kind == "pii":
            p = {"type": f.ty, "variant": f.it["variant"], "value": f.it["value"], "raw": f.raw,
                 "location": f.location, "context": f.ctx, "key": f.key}
            if rec["format"] != "text":
                p["path"] = f.path
            if f.it["digits"]:
                p["digits"] = f.it["digits"]
            if f.it["fragments"]:
                p["fragments"] = f.it["fragments"]
            pii.append(p)
        else:
            k = {"type": f.ty, "value": f.text}
            if rec["format"] != "text":
                k["path"] = f.path
                k["match"] = "exact" if f.path and f.path[-1] not in ("msg", "log", "stringValue") or (
                    f.path and f.path[-2:] == ["value", "stringValue"]) else "contains"
            else:
                k["match"] = "contains"
            keep.append(k)
    out = {"id": rec["id"], "format": rec["format"], "shape": rec["shape"], "doc": rec["doc"], "pii": pii, "keep": keep}
    return out


def keeps_placed(rec, fields):
    """Every hard negative of a JSON document has a path."""
    for f in fields:
        if f.kind == "keep" and rec["format"] != "text" and not f.path:
            return False
    return True


def generate():
    r = random.Random(SEED)
    pii_cycle = sorted(TYPES)
    keep_cycle = sorted(KEEPS)
    pi = ki = 0
    out = []
    n = 0
    attempts = 0
    while len(out) < DOCS:
        attempts += 1
        if attempts > DOCS * 20:
            raise SystemExit("too many rejected documents")
        k_pii = 1 if r.random() < 0.96 else 2
        k_keep = 1 if r.random() < 0.7 else 2
        pii_types = [pii_cycle[(pi + i) % len(pii_cycle)] for i in range(k_pii)]
        keep_types = [keep_cycle[(ki + i) % len(keep_cycle)] for i in range(k_keep)]
        built = build_doc(r, n + 1, pii_types, keep_types)
        if built is None:
            continue
        rec, fields, _ = built
        if any(f.raw is None for f in fields) or not keeps_placed(rec, fields):
            continue
        record = to_record(rec, fields)
        if not record_ok(record):
            continue
        pi += k_pii
        ki += k_keep
        n += 1
        out.append(record)
    return out


FIRST_SCORE = """The detectors as they were when the set was written (`main` at `e6612c9`, before anyone
working on them read it): 97.3% micro recall (2,000 of 2,056), 99.9% of hard negatives kept
(2,594 of 2,596; `usps_tracking` 97.8%), every JSON document's structure kept (commit `fd32a18`).

## Labels corrected after scoring

Some labels were the generator's mistakes by the README's policy or by the definitions this
file claims, found when the set was first scored and fixed in the generator (not in the
detectors). No replacement draws a number from the set's random generator, so the other
documents and values did not change (39 documents changed):

- URL passwords held characters RFC 3986 does not allow in userinfo (`^`, Hangul) unencoded:
  they are now percent-encoded (every octet of the UTF-8 form outside unreserved and
  sub-delims), as the definition says (15 documents; 12 of the first misses).
- DigitalOcean OAuth tokens (`doo_v1_`) are not among the vendor formats the policy claims
  (`dop_v1_` only), so under a key that says nothing they are no claimed item: all
  DigitalOcean tokens are now personal access tokens `dop_v1_` (23 documents; 8 misses). The
  policy could name `doo_v1_` and `dor_v1_` as well.
- A Rust `Debug` line printed a cookie name that is no identifier (`__Host-session`) as the
  field `value`, losing its key: such keys are now printed as a map's `Debug` prints them
  (`"__Host-session": "…"`), in Elixir as quoted atoms and in SQL as quoted identifiers
  (1 document; 1 miss).

With these: **98.3% micro recall (2,021 of 2,056)**, 99.9% of hard negatives kept (2,594 of
2,596), every structure kept.

## What it misses

By cause (ids in BENCHMARKS.md, "Sixth held-out corpus"):

- **Keys in the first column of a Markdown table** (`| x-api-key | … |`): the key and the value
  are separated by `|`, which no key rule reads (11: `generic_api_key` 5, `aws_secret_key` 2,
  `session_cookie` 2, `password` 2).
- **Erlang binary maps** (`<<"passwd">> => <<"…">>`): the key is read, the value inside `<<"…">>`
  is not (5: `password` 3, `generic_api_key`, `session_cookie`).
- **CEF custom strings** (`cs3Label=birth_date cs3=19761115`): the label names the value two
  tokens later, the value's own key is `cs3` (7: `dob` 2, `us_ssn` 2, `kr_brn`, `session_cookie`,
  `password`; for the password, the word after `adminPassword ` is `cs1=`, which is redacted, and
  the password after it stays).
- **Zero-width spaces** (U+200B) between a card number's groups: the policy names no-break,
  narrow no-break and thin spaces only (6 `credit_card`).
- **JWE compact serialisations** (RFC 7516, five parts): a JWT by RFC 7519, but the JWT pattern
  wants a second part that starts `eyJ`, which an encrypted key never does; the ones under
  credential keys are found as tokens (4 of 9 missed).
- **A signed `connect.sid` value percent-encoded** (`s%3A….…%2F…`) under the JSON key
  `connect.sid` (1 `session_cookie`).
- **A legacy OpenAI key with one digit** (`sk-…T3BlbkFJ…`): the `sk-` check asks for two digits
  and two capitals, and a random 40-character base62 key has fewer than two digits about once
  in 130 (1 `openai_key`).

Hard negatives damaged: two USPS tracking numbers in groups of four, in which the groups from
the second on read as a Luhn-valid card number (`9405 [5109 7228 8883 6846] 09`, Mastercard;
`9400 [6594 5948 2125 2028 03]`, an 18-digit Discover number): the card scan takes a match that
another digit group precedes.

The test `redaction_on_the_sixth_set_misses_no_more_than_it_is_known_to` holds the rest of the
thresholds and fails if more than those 35 items are missed or more than 2 hard negatives
damaged."""


def summary(records):
    from collections import Counter
    fmt = Counter(r["format"] for r in records)
    items = Counter(p["type"] for r in records for p in r["pii"])
    keeps = Counter(k["type"] for r in records for k in r["keep"])
    shapes = Counter(r["shape"].split("(")[-1].rstrip(")") for r in records)
    return fmt, items, keeps, shapes


def render_readme(records):
    fmt, items, keeps, shapes = summary(records)
    counts = (f"{len(records):,} documents ({fmt['text']:,} plain text, {fmt['line']:,} JSON lines, "
              f"{fmt['otlp']:,} OTLP exports) in {len(shapes)} shapes; {sum(items.values()):,} PII items "
              f"of {len(items)} types ({min(items.values())} to {max(items.values())} each); "
              f"{sum(keeps.values()):,} hard negatives of {len(keeps)} types.")
    with open(os.path.join(HERE, "README.in.md"), encoding="utf-8") as fh:
        return fh.read().replace("{counts}", counts).replace("{first_score}", FIRST_SCORE)


def main():
    records = generate()
    data = "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records)
    fmt, items, keeps, shapes = summary(records)
    path = os.path.join(HERE, "corpus.jsonl")
    readme = render_readme(records)
    if "--check" in sys.argv:
        for name, want in (("corpus.jsonl", data), ("README.md", readme)):
            with open(os.path.join(HERE, name), encoding="utf-8") as fh:
                if fh.read() != want:
                    raise SystemExit(f"{name} differs from what gen_sixth.py writes")
        print("corpus.jsonl and README.md are up to date")
        return
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(data)
    with open(os.path.join(HERE, "README.md"), "w", encoding="utf-8") as fh:
        fh.write(readme)
    print(f"{len(records)} documents {dict(fmt)}; {sum(items.values())} items of {len(items)} types "
          f"({min(items.values())}-{max(items.values())} each); {sum(keeps.values())} hard negatives of "
          f"{len(keeps)} types ({min(keeps.values())}-{max(keeps.values())} each)")
    print(dict(shapes))


if __name__ == "__main__":
    main()
