#!/usr/bin/env python3
"""Writes the seventh held-out redaction set: corpus.jsonl and README.md (fixed seed).

    python3 gen_seventh.py           # rewrite both files
    python3 gen_seventh.py --check   # fail if either differs from what would be written

Standard library only. `values.py` builds every value from its public definition; this file
places them in document shapes, labels them and checks each record as the scorer will.
"""

import json
import os
import re
import string
import sys
import uuid
from random import Random
from urllib.parse import quote, quote_plus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import values as V  # noqa: E402

SEED = 20261207
N_DOCS = 2000
HERE = os.path.dirname(os.path.abspath(__file__))

# ------------------------------------------------------------------ item types


class Item:
    def __init__(self, ty, variant, value, spelled=None, digits=(), fragments=(), keys=(), marks=(), wrap="{S}", ctx=False, numeric=False):
        self.ty, self.variant, self.value = ty, variant, value
        self.spelled = value if spelled is None else spelled
        self.digits = [d for d in digits if d]
        self.fragments = [f for f in fragments if f]
        self.keys, self.marks, self.wrap = list(keys), list(marks), wrap
        self.ctx, self.numeric = ctx, numeric


def digits_of(s):
    return "".join(c for c in s if c.isdigit())


def make_item(rng, ty):
    p = V.pick
    if ty == "email":
        v, e = V.email(rng)
        return Item(ty, v, e, keys=["email", "mail", "userEmail", "contact_email", "이메일"], marks=["e-mail {S}", "이메일 {S}로", "send receipt to {S}"])
    if ty == "kr_mobile":
        v, value, spelled = V.kr_mobile_spell(rng)
        d = digits_of(value)
        nat = "0" + d[2:] if d.startswith("82") else ("0" + d[4:] if d.startswith("0082") else d)
        return Item(ty, v, value, spelled, digits=[nat, "82" + nat[1:]], keys=["mobile", "phone", "휴대폰", "cellPhone", "msisdn"], marks=["연락처 {S}", "휴대폰 {S}로", "callback {S}"])
    if ty == "kr_landline":
        v, s = V.kr_landline(rng)
        return Item(ty, v, s, digits=[digits_of(s)], keys=["tel", "officePhone", "전화번호", "fax"], marks=["전화 {S}", "tel {S}"])
    if ty == "kr_safe_number":
        v, s = V.kr_safe(rng)
        return Item(ty, v, s, digits=[digits_of(s)], keys=["safe_number", "virtual_tel", "안심번호"], marks=["안심번호 {S}로", "safe number {S}"])
    if ty == "us_phone":
        v, s = V.nanp(rng)
        d = digits_of(s)
        return Item(ty, v, s, digits=[d[-10:]], keys=["phone", "phoneNumber", "homePhone", "contact_phone"], marks=["call {S}", "phone: {S}"])
    if ty == "phone_intl":
        v, s = V.intl_phone(rng)
        return Item(ty, v, s, digits=[digits_of(s)], keys=["phone", "msisdn", "whatsapp", "telefone", "mobile_number"], marks=["whatsapp {S}", "tel {S}"])
    if ty == "credit_card":
        v, n = V.card(rng)
        style = p(rng, ["space", "dash", "plain", "plain", "thin", "nbsp"])
        sep = {"space": " ", "dash": "-", "plain": "", "thin": "\u2009", "nbsp": "\u00a0"}[style]
        return Item(ty, v + "/" + style, n, V.group_card(n, sep) if sep else n, digits=[n], keys=["card_number", "pan", "cardNumber", "cc"], marks=["card {S}", "카드번호 {S}"], numeric=not sep)
    if ty in ("kr_rrn", "kr_frn"):
        n = V.rrn(rng, ty == "kr_frn")
        style = p(rng, ["dash", "dash", "plain", "space"])
        s = {"dash": n[:6] + "-" + n[6:], "plain": n, "space": n[:6] + " " + n[6:]}[style]
        keys = ["rrn", "jumin_no", "주민등록번호", "resident_no"] if ty == "kr_rrn" else ["frn", "alien_reg_no", "외국인등록번호", "foreigner_no"]
        marks = ["주민등록번호 {S}", "주민번호: {S}"] if ty == "kr_rrn" else ["외국인등록번호 {S}", "alien registration {S}"]
        return Item(ty, style, s, digits=[n], keys=keys, marks=marks, ctx=(style == "plain" or ty == "kr_frn"))
    if ty == "kr_brn":
        n = V.brn(rng)
        style = p(rng, ["dash", "dash", "plain"])
        s = n[:3] + "-" + n[3:5] + "-" + n[5:] if style == "dash" else n
        return Item(ty, style, s, digits=[n], keys=["brn", "biz_reg_no", "사업자등록번호", "business_number"], marks=["사업자등록번호 {S}", "business registration no. {S}"], ctx=style == "plain")
    if ty == "kr_bank_account":
        bank, parts = V.kr_account(rng)
        style = p(rng, ["grouped", "grouped", "plain"])
        s = "-".join(parts) if style == "grouped" else "".join(parts)
        return Item(ty, bank + "/" + style, s, digits=["".join(parts)], keys=["account_number", "bank_account", "계좌번호", "acct_no"], marks=[bank + " {S}", bank + " 계좌 {S}로 입금", "계좌번호 {S}"], ctx=True)
    if ty == "kr_driver_license":
        v, s = V.kr_driver(rng)
        return Item(ty, v, s, digits=[digits_of(s)], keys=["driver_license", "license_no", "운전면허번호"], marks=["운전면허 {S}", "driver license {S}"], ctx=v == "plain")
    if ty == "kr_passport":
        s = V.kr_passport(rng)
        return Item(ty, "old", s, keys=["passport_no", "passport", "여권번호"], marks=["여권번호 {S}", "passport {S}"])
    if ty == "us_ssn":
        a, g, sr = V.ssn(rng)
        style = p(rng, ["dash", "dash", "plain", "space"])
        s = {"dash": f"{a}-{g}-{sr}", "plain": a + g + sr, "space": f"{a} {g} {sr}"}[style]
        return Item(ty, style, s, digits=[a + g + sr], keys=["ssn", "social_security_number", "taxpayer_ssn"], marks=["SSN {S}", "social security number {S}"], ctx=style != "dash")
    if ty == "iban":
        c, n = V.iban(rng)
        style = p(rng, ["compact", "grouped"])
        s = n if style == "compact" else " ".join(n[i : i + 4] for i in range(0, len(n), 4))
        return Item(ty, c + "/" + style, s, digits=[], fragments=[n] if style == "grouped" else [], keys=["iban", "payout_iban", "accountIban"], marks=["IBAN {S}", "transfer to {S}"])
    if ty == "dob":
        v, s = V.dob(rng)
        return Item(ty, v, s, keys=["dob", "birth_date", "date_of_birth", "birthday", "birthDate", "생년월일"], marks=["DOB {S}", "born {S}", "생년월일 {S}", "date of birth: {S}"], ctx=True)
    if ty == "password":
        v, s = V.password(rng)
        return Item(ty, v, s, keys=["password", "passwd", "pwd", "db_password", "adminPassword", "비밀번호", "pass"], marks=["password={S}", "pw={S}", "비밀번호: {S}", "password is {S}"], ctx=True)
    if ty == "ipv4":
        return Item(ty, "public", V.public_ipv4(rng), keys=["client_ip", "remote_addr", "ip", "x-forwarded-for"], marks=["from {S}", "client {S}"])
    if ty == "ipv6":
        v, s = V.public_ipv6(rng)
        return Item(ty, v, s, keys=["client_ip", "remote_addr", "ipv6", "x-forwarded-for"], marks=["from {S}", "peer {S}"])
    if ty == "jwt":
        v, t, fr = V.jwe(rng) if rng.random() < 0.2 else V.jws(rng)
        return Item(ty, v, t, fragments=fr, keys=["id_token", "access_token", "jwt", "assertion", "token"], marks=["token {S}", "id_token={S}"])
    if ty == "session_cookie":
        v, name, val = V.session_cookie(rng)
        return Item(ty, v, val, keys=["Cookie", "cookie"], wrap=name + "={S}", ctx=True)
    if ty == "aws_access_key":
        v, s = V.aws_access(rng)
        return Item(ty, s[:4], s, keys=["aws_access_key_id", "accessKeyId", "AWS_ACCESS_KEY_ID"], marks=["access key {S}"])
    if ty == "aws_secret_key":
        v, s = V.aws_secret(rng)
        return Item(ty, v, s, keys=["aws_secret_access_key", "secretAccessKey", "AWS_SECRET_ACCESS_KEY"], marks=["secret access key {S}", "aws_secret_access_key={S}"], ctx=True)
    simple = {
        "github_token": (V.github, ["GITHUB_TOKEN", "token", "gh_token"]),
        "slack_token": (V.slack_token, ["SLACK_BOT_TOKEN", "token", "slack_token"]),
        "stripe_key": (V.stripe, ["STRIPE_SECRET_KEY", "stripe_key", "secret"]),
        "google_api_key": (V.google_key, ["GOOGLE_API_KEY", "key", "maps_key"]),
        "sendgrid_key": (V.sendgrid, ["SENDGRID_API_KEY", "api_key"]),
        "twilio_key": (V.twilio, ["TWILIO_API_KEY", "twilio_sid", "account_sid"]),
        "openai_key": (V.openai, ["OPENAI_API_KEY", "api_key"]),
        "npm_token": (V.npm, ["NPM_TOKEN", "_authToken"]),
        "pypi_token": (V.pypi, ["PYPI_TOKEN", "password"]),
        "gitlab_token": (V.gitlab, ["GITLAB_TOKEN", "private_token", "token"]),
        "vendor_key": (V.vendor_key, ["api_key", "API_TOKEN", "token", "secret"]),
    }
    if ty in simple:
        f, keys = simple[ty]
        v, s = f(rng)
        return Item(ty, v, s, keys=keys, marks=["token {S}", "api key {S}"])
    if ty == "generic_api_key":
        v, s = V.generic_key(rng)
        return Item(ty, v, s, keys=["api_key", "x-api-key", "apiKey", "client_secret", "secret_key", "app_key", "X-Auth-Token"], marks=["api key {S}", "token: {S}", "secret {S}"], ctx=True)
    if ty == "oauth_token":
        v, s = V.oauth_token(rng)
        return Item(ty, v, s, keys=[v], marks=[v + "={S}"], ctx=True)
    if ty == "slack_webhook":
        v, s, fr = V.slack_webhook(rng)
        return Item(ty, v, s, fragments=fr, keys=["webhook_url", "SLACK_WEBHOOK", "url"], marks=["posting to {S}"])
    if ty == "webhook_url":
        v, s, fr = V.webhook(rng)
        return Item(ty, v, s, fragments=fr, keys=["webhook_url", "notify_url", "endpoint"], marks=["posting to {S}"])
    if ty == "private_key":
        eol = "\r\n" if rng.random() < 0.3 else "\n"
        v, s, fr = V.pem(rng, eol)
        return Item(ty, v + ("/crlf" if eol == "\r\n" else "/lf"), s, fragments=fr, keys=["private_key", "tls.key", "ssh_key", "signing_key"], marks=["key:\n{S}"])
    if ty == "url_credentials":
        v, pw, enc, url = V.url_credentials(rng)
        return Item(ty, v, pw, enc, keys=["DATABASE_URL", "dsn", "connection_string", "url"], marks=["connecting to {S}"], wrap=url.replace(enc, "{S}", 1))
    if ty == "basic_auth":
        user, raw = V.basic(rng)
        return Item(ty, "basic", raw, keys=["Authorization", "authorization", "Proxy-Authorization"], wrap="Basic {S}", marks=["Authorization: Basic {S}"])
    if ty == "bearer_token":
        v, s = V.bearer(rng)
        return Item(ty, v, s, keys=["Authorization", "authorization"], wrap="Bearer {S}", marks=["Authorization: Bearer {S}"])
    raise ValueError(ty)


TYPES = [
    "email", "kr_mobile", "kr_landline", "kr_safe_number", "us_phone", "phone_intl", "credit_card", "kr_rrn", "kr_frn",
    "kr_brn", "kr_bank_account", "kr_driver_license", "kr_passport", "us_ssn", "iban", "dob", "password", "ipv4", "ipv6",
    "jwt", "session_cookie", "aws_access_key", "aws_secret_key", "github_token", "slack_token", "slack_webhook",
    "stripe_key", "google_api_key", "sendgrid_key", "twilio_key", "openai_key", "npm_token", "pypi_token", "gitlab_token",
    "vendor_key", "generic_api_key", "oauth_token", "webhook_url", "private_key", "url_credentials", "basic_auth",
    "bearer_token",
]

# ------------------------------------------------------------------ placing values

PII = "@@P{mode}@@"  # the item; mode: "" as spelled, "q" query component, "f" form field
NUM = "@@N@@"  # the item as a JSON number
KEEP = "@@K{i}@@"


def S(it, mode=""):
    pre, post = it.wrap.split("{S}")
    return enc_mode(pre, mode) + PII.format(mode=mode) + enc_mode(post, mode)


def ascii_key(rng, it):
    ks = [k for k in it.keys if k.isascii()]
    return V.pick(rng, ks)


def any_key(rng, it):
    return V.pick(rng, it.keys)


def camel(k):
    parts = re.split(r"[_\-.]", k)
    return parts[0][:1].lower() + parts[0][1:] + "".join(x[:1].upper() + x[1:] for x in parts[1:])


def ts(rng):
    return "2026-12-%02dT%02d:%02d:%02d.%03dZ" % (rng.randrange(1, 8), rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(1000))


def uid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def text_kv(rng, it, keeps, fmt="{k}={v}", marked_ok=True):
    """The item keyed (`fmt`), marked by a word, or bare; context name."""
    roll = rng.random()
    if it.ty == "session_cookie":
        if roll < 0.5:
            return "Cookie: theme=dark; " + S(it), "key"
        return "Set-Cookie: " + S(it) + "; Path=/; HttpOnly; Secure", "key"
    if it.ty in ("basic_auth", "bearer_token"):
        fmt = "{k}: {v}"
    if it.marks and marked_ok and roll < 0.35:
        return V.pick(rng, it.marks).replace("{S}", S(it)), "marked"
    if not it.ctx and roll < 0.5:
        return S(it), "bare"
    return fmt.format(k=ascii_key(rng, it), v=S(it)), "key"


def keep_text(keeps, fmt="{k}={v}"):
    """Hard negatives as `key=value` (their key) or after their word."""
    return [fmt.format(k=kk if "=" in fmt else kw, v=KEEP.format(i=i)) for i, (kk, kw) in enumerate(keeps)]


# --- text shapes: each returns (text, location, context)


def t_logcat(rng, it, keeps):
    body, c = text_kv(rng, it, keeps)
    tag = V.pick(rng, ["OkHttp", "AuthRepository", "PaymentSheet", "chromium", "ReactNativeJS"])
    extra = " ".join(keep_text(keeps))
    head = "12-%02d %02d:%02d:%02d.%03d  %d  %d %s %s: " % (rng.randrange(1, 8), rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(1000), rng.randrange(1000, 30000), rng.randrange(1000, 30000), V.pick(rng, "DIWE"), tag)
    return head + V.pick(rng, ["request ", "submit ", "", "retrying "]) + body + (" " + extra if extra else ""), "text_line", c


def t_envoy_headers(rng, it, keeps):
    k = ascii_key(rng, it).lower().replace("_", "-")
    lines = [
        "[2026-12-%02d %02d:%02d:%02d.%03d][%d][debug][http] [source/common/http/conn_manager_impl.cc:1149] [C%d][S%d] request headers complete (end_stream=false):" % (rng.randrange(1, 8), rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(1000), rng.randrange(10, 60), rng.randrange(100, 9999), rng.randrange(10**9, 10**10)),
        "':authority', 'api.example.com'",
        "':path', '/v1/%s'" % V.pick(rng, ["orders", "profile", "charges", "sessions"]),
        "':method', 'POST'",
    ]
    if it.ty == "email" and rng.random() < 0.5:
        lines.append("'x-forwarded-client-cert', 'By=spiffe://cluster.local/ns/payments/sa/api;Hash=%s;Subject=\"CN=mobile-client,emailAddress=%s\";URI=spiffe://cluster.local/ns/edge/sa/gateway'" % (V.rand(rng, V.HEX, 64), S(it)))
    else:
        lines.append("'%s', '%s'" % (k, S(it)))
    lines.append("'x-request-id', '%s'" % uid(rng))
    lines += ["'%s', '%s'" % (kw.lower().replace("_", "-"), KEEP.format(i=i)) for i, (kk, kw) in enumerate(keeps)]
    return "\n".join(lines), "header_text", "key"


def t_envoy_access(rng, it, keeps):
    xff = V.public_ipv4(rng) if it.ty not in ("ipv4", "ipv6") else S(it)
    if it.ty in ("ipv4", "ipv6"):
        q, c = "page=2", "bare"
    else:
        q, c = "%s=%s&state=%s" % (ascii_key(rng, it), S(it, "q"), V.rand(rng, V.B62, 12)), "key"
    kt = " ".join(keep_text(keeps))
    line = '[%s] "GET /oauth/callback?%s HTTP/1.1" 302 - via_upstream - "-" 0 0 %d %d "%s" "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X)" "%s" "app.example.com" "10.8.1.4:8080" outbound|8080||app.prod.svc.cluster.local 10.8.0.9:51234 10.8.1.4:8080 10.8.0.9:40112 - default' % (ts(rng), q, rng.randrange(1, 90), rng.randrange(1, 80), xff, uid(rng))
    return line + (" " + kt if kt else ""), "url_query" if c == "key" else "text_line", c


def t_ldif(rng, it, keeps):
    attr = {"email": "mail", "us_phone": "telephoneNumber", "phone_intl": "mobile", "kr_mobile": "mobile", "password": "userPassword"}.get(it.ty) or ascii_key(rng, it)
    sep = "\r\n" if rng.random() < 0.3 else "\n"
    lines = ["dn: uid=u%d,ou=People,dc=example,dc=com" % rng.randrange(1000, 9999), "changetype: add", "objectClass: inetOrgPerson", "cn: Account %d" % rng.randrange(100, 999), "%s: %s" % (attr, S(it))]
    lines += keep_text(keeps, "description: {k} {v}")
    return sep.join(lines), "text_line", "key"


def t_hl7(rng, it, keeps):
    """HL7 v2.5 ADT message; a PID segment holds the item in its field, else an NTE note."""
    msh = "MSH|^~\\&|REG|HOSP|LAB|HOSP|%s||ADT^A04|MSG%06d|P|2.5" % (V.hl7_ts(rng), rng.randrange(10**6))
    pid13, pid19, c = "", "", "key"
    nte = []
    if it.ty == "us_ssn" and it.variant == "dash":
        pid19 = S(it)
    elif it.ty in ("us_phone", "phone_intl"):
        pid13 = S(it) + "^PRN^PH"
    elif it.ty == "email":
        pid13 = "^NET^Internet^" + S(it)
    else:
        body, c = text_kv(rng, it, keeps, "{k}: {v}")
        nte.append("NTE|1||" + body)
    for i, (kk, kw) in enumerate(keeps):
        nte.append("NTE|%d||%s %s" % (len(nte) + 1, kw, KEEP.format(i=i)))
    pid = "PID|1||%d^^^HOSP^MR||DOE^JANE^^^^^L|||F|||100 MAIN ST^^SPRINGFIELD^IL^62701||%s|||||||%s" % (rng.randrange(10**6, 10**7), pid13, pid19)
    return "\r".join([msh, "EVN|A04|" + V.hl7_ts(rng), pid] + nte), "text_line", c


def t_vcard(rng, it, keeps):
    c = "key"
    if rng.random() < 0.5:
        lines = ["BEGIN:VCARD", "VERSION:4.0", "FN:Account Holder"]
        if it.ty == "email":
            lines.append("EMAIL;TYPE=work:" + S(it))
        elif it.ty in ("us_phone", "phone_intl", "kr_mobile", "kr_landline"):
            lines.append("TEL;TYPE=cell:" + S(it))
        elif it.ty == "dob" and it.variant in ("compact", "iso"):
            lines.append("BDAY:" + S(it))
        else:
            note, c = text_kv(rng, it, keeps, "{k}: {v}")
            lines.append("NOTE:" + note)
        lines += keep_text(keeps, "X-REF;TYPE={k}:{v}")
        lines.append("END:VCARD")
    else:
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example Corp//Calendar 1.0//EN", "BEGIN:VEVENT", "UID:%s@example.com" % uid(rng), "DTSTAMP:%sZ" % V.ical_dt(rng).rstrip("Z")]
        if it.ty == "email":
            lines.append("ATTENDEE;CN=Guest;ROLE=REQ-PARTICIPANT:mailto:" + S(it))
        else:
            desc, c = text_kv(rng, it, keeps, "{k}: {v}")
            lines.append("DESCRIPTION:" + desc)
        lines += keep_text(keeps, "X-REF;TYPE={k}:{v}")
        lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines), "text_line", c


def t_powershell(rng, it, keeps):
    head = ["**********************", "Windows PowerShell transcript start", "Start time: %s" % V.hl7_ts(rng), "Username: CORP\\svc-deploy", "Machine: BUILD-%02d (Microsoft Windows NT 10.0.20348.0)" % rng.randrange(1, 40), "**********************"]
    k = ascii_key(rng, it)
    form = rng.randrange(3)
    if form == 0:
        cmd = 'PS C:\\deploy> $env:%s = "%s"' % (re.sub(r"[^A-Za-z0-9]", "_", k).upper(), S(it))
    elif form == 1:
        cmd = 'PS C:\\deploy> Invoke-RestMethod -Uri "https://api.example.com/v1/sync" -Method Post -Headers @{ "%s" = "%s" }' % (k, S(it))
    else:
        cmd = "PS C:\\deploy> $body = @{ %s = '%s' } | ConvertTo-Json" % (re.sub(r"[^A-Za-z0-9_]", "_", k), S(it))
    tail = ["PS C:\\deploy> Write-Host %s" % " ".join(keep_text(keeps))] if keeps else []
    return "\r\n".join(head + [cmd] + tail + ["**********************", "Windows PowerShell transcript end"]), "text_line", "key"


def t_dotnet(rng, it, keeps):
    body, c = text_kv(rng, it, keeps)
    ex = V.pick(rng, ["System.InvalidOperationException", "System.ArgumentException", "Microsoft.Data.SqlClient.SqlException (0x80131904)"])
    frames = ["   at Billing.Api.Payments.ChargeAsync(ChargeRequest request) in /src/Billing.Api/Payments.cs:line %d" % rng.randrange(20, 300), "   at Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor.TaskOfIActionResultExecutor.Execute(ActionContext context)"]
    kt = " ".join(keep_text(keeps))
    return "Unhandled exception. %s: Validation failed: %s%s\r\n%s" % (ex, body, (" (" + kt + ")") if kt else "", "\r\n".join(frames)), "stack_trace", c


def js_key(k):
    return k if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", k) else "'%s'" % k


def t_node_inspect(rng, it, keeps):
    k = ascii_key(rng, it)
    in_data = rng.random() < 0.4
    hdr = "      %s: '%s'" % (js_key(k), S(it))
    lines = [
        "AxiosError: Request failed with status code 401",
        "    at settle (/app/node_modules/axios/lib/core/settle.js:19:12)",
        "    at IncomingMessage.handleStreamEnd (/app/node_modules/axios/lib/adapters/http.js:599:11) {",
        "  code: 'ERR_BAD_REQUEST',",
        "  config: {",
        "    url: 'https://api.example.com/v2/charges',",
        "    method: 'post',",
        "    headers: Object [AxiosHeaders] {",
        "      Accept: 'application/json, text/plain, */*',",
        "      'Content-Type': 'application/json'" + ("" if in_data else ","),
    ]
    if not in_data:
        lines.append(hdr)
    lines.append("    },")
    data = {"amount": rng.randrange(100, 99999)}
    if in_data:
        data[k] = "@@X@@"
    for i, (kk, kw) in enumerate(keeps):
        data[kw] = KEEP.format(i=i)
    lines.append("    data: '%s'" % json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace('"@@X@@"', '"' + S(it) + '"'))
    lines += ["  },", "  status: 401", "}"]
    return "\n".join(lines), "stack_trace", "key"


def t_ios(rng, it, keeps):
    k = ascii_key(rng, it)
    kq = k if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) else '"%s"' % k
    entries = ['    %s = "%s";' % (kq, S(it)), '    locale = "ko_KR";']
    entries += ['    %s = "%s";' % (kw if re.fullmatch(r"[A-Za-z_]\w*", kw) else '"%s"' % kw, KEEP.format(i=i)) for i, (kk, kw) in enumerate(keeps)]
    lines = [
        "Incident Identifier: %s" % uid(rng).upper(),
        "Hardware Model:      iPhone15,%d" % rng.randrange(2, 5),
        "Process:             Shop [%d]" % rng.randrange(300, 9000),
        "Version:             4.12.0 (4120)",
        "OS Version:          iPhone OS 17.2 (21C62)",
        "Exception Type:  EXC_CRASH (SIGABRT)",
        "",
        "Application Specific Information:",
        "*** Terminating app due to uncaught exception 'NSInvalidArgumentException', reason: 'unexpected payload {",
    ] + entries + ["}'", "", "Thread 0 Crashed:", "0   libsystem_kernel.dylib        0x00000001e3b2d42c __pthread_kill + 8"]
    return "\n".join(lines), "stack_trace", "key"


def t_connstr(rng, it, keeps):
    kt = " ".join(keep_text(keeps))
    if it.ty == "url_credentials":
        s, c = "connecting to %s" % S(it), "bare"
    elif it.ty == "password":
        form = rng.randrange(3)
        if form == 0:
            s = "jdbc:postgresql://db.internal.example:5432/app?user=svc_app&password=%s&ssl=true" % S(it, "q")
        elif form == 1:
            s = '"Server=tcp:sql-prod.example.net,1433;Initial Catalog=orders;User ID=svc_orders;Password=%s;Encrypt=True;Connection Timeout=30;"' % S(it)
        else:
            s = "DRIVER={ODBC Driver 18 for SQL Server};SERVER=sql01.example.local;DATABASE=hr;UID=sa;PWD=%s;TrustServerCertificate=yes" % S(it)
        c = "key"
    else:
        s = "DefaultEndpointsProtocol=https;AccountName=stexample%d;AccountKey=%s;EndpointSuffix=core.windows.net" % (rng.randrange(10, 99), S(it))
        c = "key"
    lvl = V.pick(rng, ["INFO  [HikariPool-1 housekeeper]", "WARN  [main] o.s.b.SpringApplication", "dbug: Microsoft.EntityFrameworkCore.Database.Connection[20000]"])
    return "%s %s %s%s" % (ts(rng), lvl, s, (" " + kt) if kt else ""), "text_line", c


def t_kafka(rng, it, keeps):
    body, c = text_kv(rng, it, keeps, "{k}={v}", marked_ok=False)
    hdrs = ",".join([body, "content-type=application/json"] + keep_text(keeps))
    return "orders [%d] at offset %d: key user-%d: headers %s: {\"status\":\"created\"}" % (rng.randrange(12), rng.randrange(10**6), rng.randrange(10**4), hdrs), "header_text", c


def t_grpcurl(rng, it, keeps):
    k = ascii_key(rng, it).lower()
    lines = ["Resolved method descriptor:", "rpc Charge ( .billing.v1.ChargeRequest ) returns ( .billing.v1.ChargeReply );", "", "Request metadata to send:", "%s: %s" % (k, S(it))]
    lines += keep_text(keeps, "{k}: {v}")
    lines += ["", "Response headers received:", "content-type: application/grpc", "", "Response trailers received:", "(empty)", "Sent 1 request and received 1 response"]
    return "\n".join(lines), "header_text", "key"


def t_systemd(rng, it, keeps):
    k = re.sub(r"[^A-Za-z0-9]", "_", ascii_key(rng, it)).upper()
    if rng.random() < 0.5:
        lines = ["[Unit]", "Description=Orders API", "", "[Service]", "User=orders", 'Environment="%s=%s"' % (k, S(it))]
        lines += ['Environment="%s"' % t for t in keep_text(keeps)]
        lines += ["ExecStart=/usr/local/bin/orders-api", "Restart=on-failure"]
    else:
        lines = ["services:", "  api:", "    image: registry.example.com/orders-api:4.2.1", "    environment:", "      - %s=%s" % (k, S(it))]
        lines += ["      - %s" % t for t in keep_text(keeps)]
        lines += ["    ports:", '      - "8080:8080"']
    return "\n".join(lines), "text_line", "key"


def t_dotfile(rng, it, keeps):
    extra = ["# " + t for t in keep_text(keeps, "{k} {v}")]
    if it.ty == "npm_token":
        lines = ["registry=https://registry.npmjs.org/", "//registry.npmjs.org/:_authToken=" + S(it)]
    elif it.ty == "pypi_token":
        lines = ["[distutils]", "index-servers = pypi", "", "[pypi]", "  username = __token__", "  password = " + S(it)]
    elif it.ty == "github_token":
        lines = ["https://mkim:%s@github.com" % S(it)]
    elif it.ty == "password":
        lines = ["machine api.example.com login mkim password " + S(it), "machine ftp.example.org login anonymous password guest"]
    else:
        lines = ["[default]", "%s = %s" % (ascii_key(rng, it), S(it))]
    return "\n".join(extra + lines), "text_line", "key"


def t_html(rng, it, keeps):
    k = ascii_key(rng, it)
    kt = "".join('\n  <input type="hidden" name="%s" value="%s">' % (kw, KEEP.format(i=i)) for i, (kk, kw) in enumerate(keeps))
    if not it.ctx and rng.random() < 0.5:
        return '<table class="profile">\n  <tr><th>Contact</th><td>%s</td></tr>\n</table>%s' % (S(it), kt), "text_line", "bare"
    return '<form method="post" action="/account/update">\n  <input type="hidden" name="%s" value="%s">%s\n  <button type="submit">Save</button>\n</form>' % (k, S(it), kt), "text_line", "key"


def t_long(rng, it, keeps):
    k = ascii_key(rng, it)
    pairs = []
    while sum(len(x) + 1 for x in pairs) < 32 * 1024:
        pairs.append("f%04d=%s" % (len(pairs), V.rand(rng, string.ascii_lowercase, rng.randrange(4, 30))))
    # The second half comes from its own generator (seeded by the first half's length), so
    # that the set's generator draws what it drew before this half was added.
    own = Random(sum(len(x) for x in pairs))
    size = sum(len(x) + 1 for x in pairs)
    tail = []
    while size < 64 * 1024:
        tail.append("g%04d=%s" % (len(tail), V.rand(own, string.ascii_lowercase, own.randrange(4, 30))))
        size += len(tail[-1]) + 1
    mid = ["%s=%s" % (k, S(it))] + keep_text(keeps)
    return "level=debug msg=\"request dump\" " + " ".join(pairs + mid + tail), "text_line", "key"


def t_logfmt_url(rng, it, keeps):
    k = ascii_key(rng, it)
    inner = '{\\"redirect_uri\\":\\"https://app.example.com/cb?%s=%s&state=%s\\"}' % (k, S(it, "q"), V.rand(rng, V.B62, 10))
    kt = " ".join(keep_text(keeps))
    return 'ts=%s level=info caller=oauth.go:%d msg="callback received" payload="%s"%s' % (ts(rng), rng.randrange(40, 400), inner, (" " + kt) if kt else ""), "url_query", "key"


def t_oauth_form(rng, it, keeps):
    k = ascii_key(rng, it)
    fields = ["grant_type=authorization_code", "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb", "%s=%s" % (k, S(it, "f"))]
    fields += ["%s=%s" % (kk, KEEP.format(i=i)) for i, (kk, kw) in enumerate(keeps)]
    rng.shuffle(fields)
    body = "&".join(fields)
    return "POST /oauth2/token HTTP/1.1\r\nHost: auth.example.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body), "form_body", "key"


PROSE = [
    "{t} 고객 요청 처리 완료: {x}",
    "Customer asked to update their profile; {x}",
    "상담 메모 - {x} (확인 필요)",
    "Support ticket #%d: {x}",
    "{x}",
]


def t_prose(rng, it, keeps):
    body, c = text_kv(rng, it, keeps, "{k}: {v}")
    tpl = V.pick(rng, PROSE)
    if "%d" in tpl:
        tpl = tpl % rng.randrange(1000, 99999)
    kt = " ".join(keep_text(keeps, "{k} {v}"))
    s = tpl.replace("{t}", "[%s]" % ts(rng)).replace("{x}", body)
    return s + ((" / " + kt) if kt else ""), "text_msg", c


TEXT_SHAPES = {
    "logcat": t_logcat, "envoy_headers": t_envoy_headers, "envoy_access": t_envoy_access, "ldif": t_ldif, "hl7": t_hl7,
    "vcard_ical": t_vcard, "powershell": t_powershell, "dotnet_exception": t_dotnet, "node_inspect": t_node_inspect,
    "ios_crash": t_ios, "connection_string": t_connstr, "kafka_headers": t_kafka, "grpcurl": t_grpcurl,
    "systemd_compose": t_systemd, "dotfile": t_dotfile, "html": t_html, "long_line": t_long, "logfmt_url": t_logfmt_url,
    "oauth_form": t_oauth_form, "prose": t_prose,
}

# --- JSON shapes: each returns (object, location, context); nested JSON via `nest`.


class Ctx:
    ensure_ascii = False


def nest(obj):
    return json.dumps(obj, ensure_ascii=Ctx.ensure_ascii, separators=(",", ":"))


def val(it, rng):
    if it.numeric and rng.random() < 0.4:
        return NUM
    return S(it)


def keeps_map(keeps):
    return {kk: KEEP.format(i=i) for i, (kk, kw) in enumerate(keeps)}


def j_admission(rng, it, keeps):
    k = ascii_key(rng, it)
    env = [{"name": "LOG_LEVEL", "value": "info"}, {"name": re.sub(r"[^A-Za-z0-9]", "_", k).upper(), "value": S(it)}]
    ann = {"kubectl.kubernetes.io/restartedAt": ts(rng)}
    ann.update({"example.com/" + kk: v for kk, v in keeps_map(keeps).items()})
    obj = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": uid(rng), "kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE", "userInfo": {"username": "system:serviceaccount:ci:deployer"}, "object": {"metadata": {"name": "api-%s" % V.rand(rng, "bcdfghjklmnpqrstvwxz2456789", 5), "namespace": "payments", "annotations": ann}, "spec": {"containers": [{"name": "api", "image": "registry.example.com/api:4.2.1", "env": env}]}}}}
    return obj, "json_string", "key"


def j_secret(rng, it, keeps):
    k = any_key(rng, it)
    kind = V.pick(rng, ["Secret", "ConfigMap"])
    data = {"LOG_FORMAT": "json", k: S(it)}
    meta = {"name": "api-config", "namespace": "payments", "labels": {"app": "api"}}
    meta.update(keeps_map(keeps))
    obj = {"apiVersion": "v1", "kind": kind, "metadata": meta, ("stringData" if kind == "Secret" else "data"): data}
    if kind == "Secret":
        obj["type"] = "Opaque"
    return obj, "json_string", "key"


def j_oauth(rng, it, keeps):
    k = any_key(rng, it)
    if it.ty in ("jwt", "oauth_token", "bearer_token"):
        obj = {"token_type": "Bearer", "expires_in": 3599, "scope": "openid email profile"}
        key = {"jwt": V.pick(rng, ["id_token", "access_token"]), "oauth_token": k, "bearer_token": "access_token"}[it.ty]
        obj[key] = S(it) if it.ty == "oauth_token" else PII.format(mode="")
    else:
        obj = {"sub": uid(rng), k: val(it, rng), "email_verified": True}
    obj.update(keeps_map(keeps))
    return obj, "json_string", "key"


def j_sentry(rng, it, keeps):
    k = ascii_key(rng, it)
    place = rng.randrange(4)
    user, headers, vars_, extra = {"id": str(rng.randrange(1, 99999))}, [["Content-Type", "application/json"], ["User-Agent", "okhttp/4.12.0"]], {"attempt": "3"}, {}
    if place == 0:
        user[k] = S(it)
    elif place == 1:
        headers.append([k, S(it)])
    elif place == 2:
        vars_[k] = "'" + S(it) + "'"
    else:
        extra[k] = S(it)
    obj = {"event_id": V.rand(rng, V.HEX, 32), "timestamp": ts(rng), "platform": "python", "level": "error", "user": user, "request": {"url": "https://api.example.com/v1/charge", "method": "POST", "headers": headers}, "exception": {"values": [{"type": "ValueError", "value": "charge declined", "stacktrace": {"frames": [{"filename": "app/billing.py", "function": "charge", "lineno": rng.randrange(10, 400), "vars": vars_}]}}]}, "extra": extra, "tags": keeps_map(keeps)}
    return obj, ("array" if place == 1 else "json_string"), "key"


def j_sqs(rng, it, keeps):
    k = any_key(rng, it)
    depth = rng.randrange(1, 3)
    inner = {"event": "customer.updated", k: S(it)}
    inner.update(keeps_map(keeps))
    if rng.random() < 0.5:
        obj = {"Messages": [{"MessageId": uid(rng), "MD5OfBody": V.rand(rng, V.HEX, 32), "Body": nest(inner) if depth == 1 else nest({"detail-type": "CustomerUpdated", "detail": nest(inner)}), "Attributes": {"SentTimestamp": str(1765000000000 + rng.randrange(10**8))}}]}
    else:
        obj = {"Type": "Notification", "MessageId": uid(rng), "TopicArn": "arn:aws:sns:ap-northeast-2:123456789012:customers", "Message": nest(inner) if depth == 1 else nest({"default": nest(inner)}), "Timestamp": ts(rng)}
    return obj, "json_in_string", "key"


def j_alert(rng, it, keeps):
    k = ascii_key(rng, it)
    if not it.ctx and rng.random() < 0.5:
        ann, c = {"summary": "login failures", "description": "Repeated failures for " + S(it)}, "bare"
    else:
        ann, c = {"summary": "login failures", k: S(it)}, "key"
    labels = {"alertname": "LoginFailures", "severity": "warning"}
    labels.update(keeps_map(keeps))
    obj = {"receiver": "team-payments", "status": "firing", "alerts": [{"status": "firing", "labels": labels, "annotations": ann, "startsAt": ts(rng), "fingerprint": V.rand(rng, V.HEX, 16)}], "version": "4"}
    return obj, "json_string", c


def j_envoy_json(rng, it, keeps):
    obj = {"start_time": ts(rng), "method": "GET", "protocol": "HTTP/2", "response_code": 302, "duration": rng.randrange(1, 90), "authority": "app.example.com", "request_id": uid(rng)}
    if it.ty in ("ipv4", "ipv6"):
        obj["path"] = "/oauth/callback?page=2"
        obj["x_forwarded_for"] = S(it)
        c, loc = "key", "json_string"
    else:
        obj["path"] = "/oauth/callback?%s=%s&state=%s" % (ascii_key(rng, it), S(it, "q"), V.rand(rng, V.B62, 10))
        obj["x_forwarded_for"] = "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
        c, loc = "key", "url_query"
    obj.update(keeps_map(keeps))
    obj["upstream_cluster"] = "outbound|8080||app.prod.svc.cluster.local"
    return obj, loc, c


def j_grpc_json(rng, it, keeps):
    k = camel(ascii_key(rng, it))
    cust = {"id": "cus-%d" % rng.randrange(10**5), k: val(it, rng)}
    obj = {"@type": "type.googleapis.com/billing.v1.ChargeRequest", "customer": cust, "amount": {"currencyCode": "KRW", "units": str(rng.randrange(1000, 10**6))}}
    obj.update({camel(kk): v for kk, v in keeps_map(keeps).items()})
    return obj, "json_number" if cust[k] == NUM else "json_string", "key"


def j_docker_config(rng, it, keeps):
    if it.ty == "basic_auth":
        obj = {"auths": {"registry.example.com": {"auth": PII.format(mode="")}}, "credsStore": "desktop"}
    else:
        # Docker's `HttpHeaders`: headers sent with every registry request, under the item's key.
        obj = {"auths": {"registry.example.com": {}}, "HttpHeaders": {it.keys[0]: S(it)}, "credsStore": "desktop"}
    obj.update(keeps_map(keeps))
    return obj, "json_string", "key"


def j_nested(rng, it, keeps):
    k = any_key(rng, it)
    inner = {k: S(it)}
    inner.update(keeps_map(keeps))
    levels = rng.randrange(2, 4)
    v = nest(inner)
    for _ in range(levels - 1):
        v = nest({"detail": v})
    return {"level": "warn", "msg": "upstream rejected request", "body": v}, "json_in_string", "key"


JSON_SHAPES = {
    "admission_review": j_admission, "k8s_secret_configmap": j_secret, "oauth_response": j_oauth, "sentry_event": j_sentry,
    "sqs_sns": j_sqs, "alertmanager": j_alert, "envoy_json": j_envoy_json, "grpc_json": j_grpc_json, "nested_escaped": j_nested,
}

# ------------------------------------------------------------------ documents


def otlp(body, attrs=None, severity="INFO"):
    rec = {"timeUnixNano": "1765102532481000000", "severityText": severity, "body": body}
    if attrs:
        rec["attributes"] = attrs
    return {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "orders-api"}}, {"key": "k8s.namespace.name", "value": {"stringValue": "payments"}}]}, "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [rec]}]}]}


def enc_mode(s, mode):
    if mode == "q":
        return quote(s, safe="")
    if mode == "f":
        return quote_plus(s, safe="")
    return s


def find_paths(v, marker, path=()):
    """Paths to the strings holding `marker`, JSON in strings included (`#json`)."""
    out = []
    if isinstance(v, str):
        if marker in v:
            t = v.strip()
            inner = None
            if t.startswith("{") or t.startswith("["):
                try:
                    inner = json.loads(t)
                except ValueError:
                    inner = None
            if isinstance(inner, (dict, list)):
                out += find_paths(inner, marker, path + ("#json",))
            if not out:
                out.append(path)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            out += find_paths(x, marker, path + (i,))
    elif isinstance(v, dict):
        for k, x in v.items():
            out += find_paths(x, marker, path + (k,))
    return out


def escape(s, times):
    for _ in range(times):
        s = json.dumps(s, ensure_ascii=Ctx.ensure_ascii)[1:-1]
    return s


def at_path(v, path):
    for seg in path:
        if seg == "#json":
            v = json.loads(v.strip())
        else:
            v = v[seg]
    return v


def claimed(it, shape_name):
    """Where the policy claims an OAuth value: an authorization code as the `code=` of a URL
    (in other places it is written as the redirect URL that carries it); a PKCE
    `code_verifier` under no name the policy reads, so it is written as a refresh token."""
    if it.ty != "oauth_token":
        return
    if it.variant == "code_verifier":
        it.variant, it.keys, it.marks = "refresh_token", ["refresh_token"], ["refresh_token={S}"]
    elif it.variant == "code" and shape_name not in QUERY_SHAPES:
        it.keys, it.marks = ["location"], ["redirect to {S}"]
        it.wrap = "https://app.example.com/callback?code={S}&state=af0ifjsldkj"


def build(rng, n, ty, shape_name, wrap):
    it = make_item(rng, ty)
    claimed(it, shape_name)
    nk = 1 + (rng.random() < 0.3)
    keeps = []
    for _ in range(nk):
        kty = NEG_ORDER[build.k % len(NEG_ORDER)]
        build.k += 1
        gen, kkeys, kword = V.NEGATIVES[kty]
        keeps.append((kty, gen(rng), V.pick(rng, kkeys), kword))
    kv = [(kk, kw) for _, _, kk, kw in keeps]
    Ctx.ensure_ascii = rng.random() < 0.25
    if shape_name in TEXT_SHAPES:
        text, loc, c = TEXT_SHAPES[shape_name](rng, it, kv)
        if wrap == "text":
            kind, obj = "text", None
        elif wrap == "line":
            kind = "line"
            obj = {"ts": ts(rng), "level": "info", "log": text, "stream": "stdout"} if rng.random() < 0.5 else {"time": ts(rng), "msg": text, "logger": "app"}
        else:
            kind, obj = "otlp", otlp({"stringValue": text})
            loc = "otlp_body_string"
    else:
        obj, loc, c = JSON_SHAPES[shape_name](rng, it, kv)
        if wrap == "line":
            kind = "line"
        elif wrap == "otlp_kvlist":
            kind = "otlp"
            flat = {k: v for k, v in obj.items() if isinstance(v, str)}
            nested = {k: v for k, v in obj.items() if not isinstance(v, str)}
            vals = [{"key": k, "value": {"stringValue": v}} for k, v in flat.items()]
            vals += [{"key": k, "value": {"stringValue": nest(v)}} for k, v in nested.items()]
            if NUM in json.dumps(obj):
                return None
            obj = otlp({"kvlistValue": {"values": vals}})
            loc = "otlp_kvlist" if loc != "json_in_string" else loc
        else:
            kind = "otlp"
            if NUM in json.dumps(obj):
                return None
            obj = otlp({"stringValue": nest(obj)})
            loc = "otlp_body_string" if loc != "json_in_string" else loc
    # Materialise: the document text with each marker replaced by its escaped text.
    pii_marker = [m for m in ("@@P@@", "@@Pq@@", "@@Pf@@", NUM) if m in (text if kind == "text" else json.dumps(obj))]
    if len(pii_marker) != 1:
        return None
    marker = pii_marker[0]
    mode = {"@@P@@": "", "@@Pq@@": "q", "@@Pf@@": "f", NUM: ""}[marker]
    spelled = enc_mode(it.spelled, mode)
    if kind == "text":
        doc = text.replace(marker, spelled)
        raw, path = spelled, []
        for i, (kty, kval, kk, kw) in enumerate(keeps):
            doc = doc.replace(KEEP.format(i=i), kval)
        labels_keep = [{"type": kty, "value": kval, "path": [], "match": "contains"} for kty, kval, _, _ in keeps]
    else:
        doc = json.dumps(obj, ensure_ascii=Ctx.ensure_ascii)
        if marker == NUM:
            paths = find_paths(obj, NUM)
            if len(paths) != 1 or "#json" in paths[0]:
                return None
            path = list(paths[0])
            raw = spelled
            doc = doc.replace('"%s"' % NUM, spelled)
            loc = "json_number"
        else:
            paths = find_paths(obj, marker)
            if len(paths) != 1:
                return None
            path = list(paths[0])
            raw = escape(spelled, path.count("#json") + 1)
            doc = doc.replace(marker, raw)
        labels_keep = []
        for i, (kty, kval, kk, kw) in enumerate(keeps):
            km = KEEP.format(i=i)
            kp = find_paths(obj, km)
            if len(kp) != 1:
                return None
            exact = at_path(obj, kp[0]) == km
            doc = doc.replace(km, escape(kval, kp[0].count("#json") + 1))
            labels_keep.append({"type": kty, "value": kval, "path": list(kp[0]), "match": "exact" if exact else "contains"})
    if doc.count(raw) != 1:
        return None
    item = {"type": it.ty, "variant": it.variant, "value": it.value, "raw": raw, "location": loc, "context": c, "key": "", "path": path}
    if it.digits:
        item["digits"] = it.digits
    if it.fragments:
        item["fragments"] = it.fragments
    rec = {"id": "s7-%04d" % n, "format": kind, "shape": shape_name, "doc": doc, "pii": [item], "keep": labels_keep}
    return rec if check(rec) else None


build.k = 0
NEG_ORDER = sorted(V.NEGATIVES)

# ------------------------------------------------------------------ checking a record as the scorer will


def strings_of(v, out):
    if isinstance(v, str):
        out.append(v)
        t = v.strip()
        if t.startswith(("{", "[")):
            try:
                inner = json.loads(t)
            except ValueError:
                inner = None
            if isinstance(inner, (dict, list)):
                strings_of(inner, out)
    elif isinstance(v, list):
        for x in v:
            strings_of(x, out)
    elif isinstance(v, dict):
        for k, x in v.items():
            out.append(k)
            strings_of(x, out)


def forms(p):
    return [f for f in [p["raw"], p["value"]] + p.get("digits", []) + p.get("fragments", []) if f]


def check(rec):
    doc = rec["doc"]
    parsed = None if rec["format"] == "text" else json.loads(doc)
    for p in rec["pii"]:
        if p["raw"] not in doc:
            return False
        if parsed is not None:
            leaf = at_path(parsed, p["path"])
            leaf = str(leaf) if not isinstance(leaf, str) else leaf
            if p["value"] not in leaf and p["raw"] not in leaf:
                return False
    # Removing exactly the labelled texts leaves no form and every hard negative.
    red = doc
    for p in sorted(rec["pii"], key=lambda p: -len(p["raw"])):
        red = red.replace(p["raw"], '"[REDACTED]"' if p["location"] == "json_number" else "[REDACTED]")
    hay = [red]
    if parsed is not None:
        try:
            strings_of(json.loads(red), hay)
        except ValueError:
            return False
    for p in rec["pii"]:
        if any(f in h for f in forms(p) for h in hay):
            return False
    # Nothing left alone holds a form either (a form found elsewhere would count as a miss).
    for k in rec["keep"]:
        if rec["format"] == "text":
            if k["value"] not in red:
                return False
        else:
            v = at_path(json.loads(red), k["path"])
            if (v != k["value"]) if k["match"] == "exact" else (k["value"] not in v):
                return False
    return True


# ------------------------------------------------------------------ the set

# Shapes that fit each type: a text shape that writes the value only in its own field
# (HL7, vCard, docker config, dot files) takes the types it is made for.
ONLY = {
    "hl7": None,
    "dotfile": {"npm_token", "pypi_token", "github_token", "password"},
    "connection_string": {"password", "url_credentials", "generic_api_key"},
}
JSON_ONLY = {"docker_config": {"basic_auth"}}


QUERY_SHAPES = {"envoy_access", "logfmt_url", "oauth_form", "envoy_json"}
PEM_TEXT_SHAPES = {"prose", "logcat", "dotnet_exception"}


def shapes_for(ty):
    out = []
    for name in TEXT_SHAPES:
        if ty == "private_key" and name not in PEM_TEXT_SHAPES:
            continue
        if name in QUERY_SHAPES and ty in ("private_key", "session_cookie", "basic_auth", "bearer_token"):
            continue
        if name == "hl7" and ty not in ("us_ssn", "us_phone", "phone_intl", "email", "password", "dob", "kr_passport"):
            continue
        if name in ONLY and ONLY[name] is not None and ty not in ONLY[name]:
            continue
        if name == "long_line" and ty not in ("password", "generic_api_key", "jwt", "stripe_key", "aws_secret_key", "email"):
            continue
        if name == "envoy_access" and ty == "private_key":
            continue
        if name in ("oauth_form", "logfmt_url") and ty == "private_key":
            continue
        out.append(name)
    for name in JSON_SHAPES:
        if name in QUERY_SHAPES and ty in ("private_key", "session_cookie", "basic_auth", "bearer_token"):
            continue
        out.append(name)
    if ty == "basic_auth":
        out.append("docker_config")
    return out


JSON_SHAPES["docker_config"] = j_docker_config


def generate():
    rng = Random(SEED)
    build.k = 0
    records = []
    long_lines = 0
    order = [TYPES[i % len(TYPES)] for i in range(N_DOCS)]
    rng.shuffle(order)
    for n, ty in enumerate(order):
        for _attempt in range(200):
            shape = V.pick(rng, shapes_for(ty))
            if shape == "long_line" and long_lines >= 8:
                continue
            if shape in TEXT_SHAPES:
                wrap = V.pick(rng, ["text", "text", "text", "line", "otlp"])
            else:
                wrap = V.pick(rng, ["line", "line", "otlp", "otlp_kvlist"])
            saved = build.k
            rec = build(rng, n, ty, shape, wrap)
            if rec is not None:
                long_lines += shape == "long_line"
                records.append(rec)
                break
            build.k = saved
        else:
            raise SystemExit("no record for %s" % ty)
    return records


def summary(records):
    kinds = {}
    for r in records:
        kinds[r["format"]] = kinds.get(r["format"], 0) + 1
    types, negs, shapes = {}, {}, set()
    for r in records:
        shapes.add(r["shape"])
        for p in r["pii"]:
            types[p["type"]] = types.get(p["type"], 0) + 1
        for k in r["keep"]:
            negs[k["type"]] = negs.get(k["type"], 0) + 1
    return {
        "docs": "{:,}".format(len(records)),
        "text": "{:,}".format(kinds.get("text", 0)),
        "line": "{:,}".format(kinds.get("line", 0)),
        "otlp": "{:,}".format(kinds.get("otlp", 0)),
        "shapes": str(len(shapes)),
        "items": "{:,}".format(sum(types.values())),
        "types": str(len(types)),
        "per_type": "%d to %d" % (min(types.values()), max(types.values())),
        "keeps": "{:,}".format(sum(negs.values())),
        "neg_types": str(len(negs)),
        "per_neg": "%d to %d" % (min(negs.values()), max(negs.values())),
    }


def main():
    records = generate()
    corpus = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    with open(os.path.join(HERE, "README.in.md"), encoding="utf-8") as f:
        readme = f.read()
    for k, v in summary(records).items():
        readme = readme.replace("{{%s}}" % k, v)
    out = {"corpus.jsonl": corpus, "README.md": readme}
    if "--check" in sys.argv:
        bad = []
        for name, text in out.items():
            with open(os.path.join(HERE, name), encoding="utf-8") as f:
                if f.read() != text:
                    bad.append(name)
        if bad:
            raise SystemExit("differs from the generator: " + ", ".join(bad))
        return
    for name, text in out.items():
        with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    print(summary(records))


if __name__ == "__main__":
    main()
