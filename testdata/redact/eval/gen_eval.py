#!/usr/bin/env python3
"""Writes corpus.jsonl, the labelled evaluation set for PII redaction (see README.md).

Deterministic: the same seed gives the same file byte for byte. Standard library only.

    python3 testdata/redact/eval/gen_eval.py            # writes corpus.jsonl next to it
    python3 testdata/redact/eval/gen_eval.py --check    # fails if the file is not what it writes
"""

import json
import math
import os
import random
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from negatives import NEGATIVES  # noqa: E402
from values import GENERATORS, rs, ALNUM, HEX  # noqa: E402

SEED = 1306
PER_TYPE = 48  # labelled items per PII type, at least
NEGATIVE_ONLY_DOCS = 150

INNOCUOUS = ["value", "data", "note", "field", "v", "info", "detail", "content", "memo", "extra", "arg"]

# Per type: obvious keys, marking words (English, Korean), header names, query/form parameter
# names (default: the keys). Locations a type is never logged in are listed under "skip".
SPECS = {
    "email": dict(keys=["email", "e_mail", "userEmail", "contact_email", "이메일", "recipient"],
                  en=["email: ", "e-mail ", "sent to ", "mail="], ko=["이메일 ", "메일주소: "],
                  headers=["From", "X-User-Email"], params=["email", "to", "login"]),
    "kr_mobile": dict(keys=["phone", "mobile", "phone_number", "tel", "휴대폰", "연락처", "전화번호", "cellphone"],
                      en=["phone: ", "mobile ", "tel. ", "call me at "], ko=["연락처 ", "휴대폰 번호 ", "전화번호: "],
                      headers=["X-User-Phone"], params=["phone", "mobile", "tel"]),
    "kr_safe_number": dict(keys=["phone", "safe_number", "virtual_number", "안심번호", "contact_tel"],
                           en=["safe number ", "phone: "], ko=["안심번호 ", "연락처 "],
                           headers=["X-Caller-Number"], params=["tel", "safe_number"]),
    "kr_landline": dict(keys=["tel", "phone", "office_phone", "fax", "전화", "유선전화"],
                        en=["tel: ", "office phone ", "fax "], ko=["전화번호 ", "사무실 "],
                        headers=["X-User-Phone"], params=["tel", "phone"]),
    "us_phone": dict(keys=["phone", "phone_number", "mobile", "contact_phone", "cell"],
                     en=["phone: ", "call ", "tel ", "SMS to "], ko=["연락처 ", "전화번호 "],
                     headers=["X-User-Phone"], params=["phone", "tel"]),
    "credit_card": dict(keys=["card_number", "cardNo", "pan", "card", "카드번호", "cc_number"],
                        en=["card ", "card number ", "paid with "], ko=["카드번호 ", "결제카드 "],
                        params=["card", "pan"]),
    "kr_rrn": dict(keys=["rrn", "resident_number", "jumin", "주민등록번호", "주민번호", "national_id"],
                   en=["RRN ", "resident no. "], ko=["주민등록번호 ", "주민번호: "], params=["rrn", "jumin"]),
    "kr_frn": dict(keys=["frn", "alien_reg_no", "foreigner_id", "외국인등록번호", "registration_no"],
                   en=["ARC no. ", "foreigner id "], ko=["외국인등록번호 ", "외국인번호: "], params=["frn"]),
    "kr_brn": dict(keys=["brn", "business_number", "biz_no", "사업자등록번호", "사업자번호", "tax_id"],
                   en=["business reg. no. ", "BRN "], ko=["사업자등록번호 ", "사업자번호: "], params=["biz_no", "brn"]),
    "kr_bank_account": dict(keys=["account", "acct", "account_no", "bank_account", "계좌", "계좌번호",
                                  "accountNumber", "refund_account"],
                            en=["account ", "acct: ", "deposit to account "], ko=["계좌 ", "계좌번호 ", "입금계좌: "],
                            params=["account", "acct_no"], skip=["url_path"]),
    "kr_driver_license": dict(keys=["driver_license", "license_no", "licence_number", "운전면허번호", "면허번호", "dl_no"],
                              en=["driver license ", "licence no. "], ko=["운전면허번호 ", "면허번호 "],
                              params=["license_no"]),
    "us_ssn": dict(keys=["ssn", "social_security_number", "SSN", "tax_ssn"],
                   en=["SSN ", "SSN: ", "social security number "], ko=["사회보장번호 "], params=["ssn"]),
    "iban": dict(keys=["iban", "IBAN", "bank_iban", "payout_iban"], en=["IBAN ", "IBAN: "], ko=["IBAN "],
                 params=["iban"]),
    "dob": dict(keys=["dob", "birth_date", "birthday", "date_of_birth", "birthDate", "생년월일", "생일"],
                en=["DOB ", "DOB: ", "date of birth ", "born on ", "birthday "], ko=["생년월일 ", "생년월일은 ", "생일: "],
                params=["dob", "birthdate"], skip=["url_path", "array"]),
    "password": dict(keys=["password", "passwd", "pwd", "pass", "비밀번호", "user_password", "db_pass",
                           "PASSWORD", "new_password"],
                     en=["password=", "password: ", "pw=", "passwd ", "pwd="], ko=["비밀번호: ", "비밀번호 "],
                     params=["password", "pwd", "pass"], skip=["url_path", "array"]),
    "ipv4": dict(keys=["ip", "client_ip", "remote_addr", "src_ip", "peer.address", "x_forwarded_for"],
                 en=["from ", "client ip ", "connect to "], ko=["접속 IP ", "아이피 "],
                 headers=["X-Forwarded-For", "X-Real-IP"], params=["ip", "addr"]),
    "ipv6": dict(keys=["ip", "client_ip", "remote_addr", "ipv6", "peer.address"],
                 en=["from ", "client ip "], ko=["접속 IP "], headers=["X-Forwarded-For", "X-Real-IP"],
                 params=["ip"]),
    "jwt": dict(keys=["jwt", "id_token", "access_token", "token", "authorization"],
                en=["token ", "Bearer ", "jwt="], ko=["토큰 "], headers=["Authorization"],
                params=["token", "id_token", "jwt"]),
    "session_cookie": dict(keys=["session_id", "sessionid", "JSESSIONID", "PHPSESSID", "sid", "cookie"],
                           en=["Cookie: JSESSIONID=", "Set-Cookie: session=", "sessionid="],
                           ko=["세션 쿠키 session="], headers=["Cookie", "Set-Cookie"],
                           params=["sessionid", "session_id", "PHPSESSID"],
                           skip=["url_path", "array", "form_body"]),
    "aws_access_key": dict(keys=["aws_access_key_id", "access_key_id", "AWS_ACCESS_KEY_ID", "accessKeyId"],
                           en=["aws_access_key_id=", "access key "], ko=["액세스 키 "],
                           headers=["Authorization"], params=["X-Amz-Credential", "AWSAccessKeyId"]),
    "aws_secret_key": dict(keys=["aws_secret_access_key", "secret_access_key", "AWS_SECRET_ACCESS_KEY",
                                 "secretAccessKey"],
                           en=["aws_secret_access_key=", "SecretAccessKey: ", "aws secret "],
                           ko=["시크릿 키 "], params=["aws_secret_access_key"],
                           skip=["url_path", "array", "header_map", "header_text"]),
    "github_token": dict(keys=["github_token", "GITHUB_TOKEN", "gh_token", "token"],
                         en=["token ", "GITHUB_TOKEN="], ko=["깃허브 토큰 "], headers=["Authorization"],
                         params=["access_token", "token"]),
    "slack_token": dict(keys=["slack_token", "SLACK_BOT_TOKEN", "bot_token", "token"],
                        en=["token ", "SLACK_BOT_TOKEN="], ko=["슬랙 토큰 "], headers=["Authorization"],
                        params=["token"]),
    "slack_webhook": dict(keys=["webhook_url", "slack_webhook", "SLACK_WEBHOOK_URL", "notify_url"],
                          en=["posting to ", "webhook "], ko=["웹훅 "], params=["callback", "webhook"],
                          skip=["url_path", "header_map", "header_text"]),
    "stripe_key": dict(keys=["stripe_key", "STRIPE_SECRET_KEY", "api_key", "secret_key"],
                       en=["stripe key ", "STRIPE_SECRET_KEY="], ko=["스트라이프 키 "], headers=["Authorization"],
                       params=["key"]),
    "google_api_key": dict(keys=["google_api_key", "GOOGLE_API_KEY", "api_key", "key"],
                           en=["key=", "maps key "], ko=["API 키 "], headers=["X-Goog-Api-Key"], params=["key"]),
    "sendgrid_key": dict(keys=["sendgrid_api_key", "SENDGRID_API_KEY", "api_key"],
                         en=["SENDGRID_API_KEY=", "sendgrid key "], ko=["센드그리드 키 "],
                         headers=["Authorization"], params=["api_key"]),
    "twilio_key": dict(keys=["twilio_api_key", "TWILIO_API_KEY", "account_sid", "twilio_sid"],
                       en=["twilio key ", "TWILIO_API_KEY="], ko=["트윌리오 키 "], headers=["X-Twilio-Key"],
                       params=["sid"]),
    "openai_key": dict(keys=["openai_api_key", "OPENAI_API_KEY", "api_key"],
                       en=["OPENAI_API_KEY=", "openai key "], ko=["오픈AI 키 "], headers=["Authorization"],
                       params=["api_key"]),
    "npm_token": dict(keys=["npm_token", "NPM_TOKEN", "_authToken"], en=["NPM_TOKEN=", "npm token "],
                      ko=["npm 토큰 "], headers=["Authorization"], params=["token"]),
    "pypi_token": dict(keys=["pypi_token", "PYPI_API_TOKEN", "TWINE_PASSWORD"], en=["PYPI_API_TOKEN=", "pypi token "],
                       ko=["PyPI 토큰 "], headers=["Authorization"], params=["token"]),
    "gitlab_token": dict(keys=["gitlab_token", "GITLAB_TOKEN", "private_token", "CI_JOB_TOKEN"],
                         en=["GITLAB_TOKEN=", "gitlab token "], ko=["깃랩 토큰 "], headers=["PRIVATE-TOKEN"],
                         params=["private_token"]),
    "generic_api_key": dict(keys=["api_key", "apiKey", "x-api-key", "access_token", "client_secret",
                                  "auth_token", "secret", "token", "api_secret"],
                            en=["api_key=", "apikey ", "token: ", "x-api-key: ", "client_secret="],
                            ko=["API 키 ", "인증 토큰: "], headers=["X-Api-Key", "Authorization", "X-Auth-Token"],
                            params=["api_key", "access_token", "apikey"], skip=["url_path", "array"]),
    "private_key": dict(keys=["private_key", "privateKey", "ssh_key", "tls_key", "key_pem", "signing_key"],
                        en=["loaded key: ", "private key "], ko=["개인키 "],
                        skip=["url_query", "url_path", "form_body", "header_map", "header_text"]),
    "url_credentials": dict(keys=["url", "dsn", "database_url", "DATABASE_URL", "endpoint", "proxy", "redis_url"],
                            en=["connecting to ", "dsn="], ko=["접속 주소 "], params=["redirect", "next", "dsn"],
                            skip=["url_path", "header_map", "header_text"]),
    "basic_auth": dict(keys=["authorization", "Authorization", "auth", "auth_header"],
                       en=["Authorization: Basic "], ko=["인증 헤더 Authorization: Basic "],
                       headers=["Authorization", "Proxy-Authorization"],
                       skip=["url_query", "url_path", "form_body", "array", "json_number"]),
}

# Glue a Korean particle to these in Korean text (a secret's text may end in any letter).
PARTICLES = ["로", "으로", "에게", "이고", "입니다", "은", "는", "을", "를", "가", "이", "와", "에서", "(으)로"]
NO_PARTICLE = {"password", "generic_api_key", "session_cookie", "private_key", "aws_secret_key",
               "basic_auth", "url_credentials", "jwt", "sendgrid_key", "pypi_token", "openai_key", "gitlab_token",
               "google_api_key", "stripe_key", "npm_token", "github_token", "slack_token", "twilio_key"}

LOCATIONS = {
    # location: key contexts it can carry
    "json_string": ["key", "innocuous"],
    "json_number": ["key", "innocuous"],
    "text_msg": ["marked", "bare"],
    "text_line": ["marked", "bare"],
    "url_query": ["key", "innocuous"],
    "url_path": ["bare"],
    "form_body": ["key", "innocuous"],
    "header_map": ["key", "innocuous"],
    "header_text": ["key"],
    "array": ["key", "innocuous"],
    "stack_trace": ["marked", "bare"],
    "json_in_string": ["key", "innocuous"],
    "otlp_body_string": ["key", "innocuous", "marked", "bare"],
    "otlp_kvlist": ["key", "innocuous"],
}

SERVICES = ["checkout", "member-api", "payment-gw", "auth", "notify", "order-svc", "crm-sync", "admin-web"]
HOSTS = ["api.example.com", "shop.example.co.kr", "internal.example.net", "m.example.kr"]
SCHEMES = {"https": ("https", "app.example.com/login"), "postgres": ("postgres", "db.internal:5432/app"),
           "redis": ("redis", "cache.internal:6379/0"), "amqp": ("amqp", "mq.internal:5672/vhost"),
           "mongodb": ("mongodb", "mongo.internal:27017/users"), "ftp": ("ftp", "files.example.com/pub")}


def jesc(s):
    return json.dumps(s, ensure_ascii=False)[1:-1]


class Builder:
    def __init__(self, r):
        self.r = r

    # ------------------------------------------------------------ how a value is written

    def wrap(self, ty, item, loc, ctx, key):
        """The string that carries the item where it is logged."""
        r, v = self.r, item.value
        if ty == "url_credentials":
            scheme, rest = SCHEMES[item.variant]
            user = r.choice(["app", "admin", "svc_user", "kim"])
            return f"{scheme}://{user}:{v}@{rest}"
        header = loc in ("header_map", "header_text")
        if ctx in ("marked", "bare"):
            return v
        if ty == "basic_auth":
            return "Basic " + v
        if ty == "session_cookie" and (header or key == "cookie"):
            name = r.choice(["JSESSIONID", "session", "PHPSESSID", "connect.sid", "sid"])
            if key == "Set-Cookie":
                return f"{name}={v}; Path=/; HttpOnly; Secure"
            return f"{name}={v}; lang=ko; theme=dark"
        if header and key in ("Authorization", "Proxy-Authorization"):
            if ty == "aws_access_key":
                return (f"AWS4-HMAC-SHA256 Credential={v}/20241204/ap-northeast-2/s3/aws4_request, "
                        f"SignedHeaders=host;x-amz-date, Signature={rs(r, HEX, 64)}")
            if ty == "github_token" and r.random() < 0.5:
                return "token " + v
            return "Bearer " + v
        return v

    def sentence(self, ty, s, ctx, lang):
        r = self.r
        spec = SPECS[ty]
        if ctx == "marked":
            bank = getattr(self.item, "bank", None)
            if bank and r.random() < 0.5:
                s = (bank[1] + " account " if lang == "en" else bank[0] + " ") + s
            else:
                s = r.choice(spec["en"] if lang == "en" else spec["ko"]) + s
        if lang == "ko":
            tail = s if ty in NO_PARTICLE or ctx == "marked" and r.random() < 0.3 else s + r.choice(PARTICLES)
            pre, post = r.choice([("회원 정보 변경:", "확인 완료"), ("고객 요청 처리 중", "안내 문자 발송"),
                                  ("결제 실패 -", "재시도 예정"), ("", "인증 요청됨"), ("주문 접수", "처리")])
            return f"{pre} {tail} {post}".strip()
        pre, post = r.choice([("user profile updated:", "ok"), ("request from customer", "rejected"),
                              ("lookup", "not found"), ("sync failed for", "retrying in 5s"),
                              ("", "was verified"), ("notify", "queued")])
        return f"{pre} {s} {post}".strip()

    def stack(self, msg):
        r = self.r
        if r.random() < 0.5:
            return (f"java.lang.IllegalArgumentException: {msg}\n"
                    "\tat com.example.member.MemberService.update(MemberService.java:142)\n"
                    "\tat com.example.member.MemberController.put(MemberController.java:88)\n"
                    "\tat java.base/java.lang.Thread.run(Thread.java:1583)")
        return ("Traceback (most recent call last):\n"
                '  File "/app/member/service.py", line 57, in update\n'
                "    validate(payload)\n"
                '  File "/app/member/validate.py", line 21, in validate\n'
                f"    raise ValueError(msg)\nValueError: {msg}")

    # ------------------------------------------------------------ documents

    def base_line(self):
        r = self.r
        return {r.choice(["ts", "time", "@timestamp"]): None, "level": r.choice(["info", "warn", "error", "INFO"]),
                "service": r.choice(SERVICES)}

    def pick_key(self, ty, ctx):
        spec = SPECS[ty]
        return self.r.choice(spec["keys"] if ctx == "key" else INNOCUOUS)

    def build(self, ty, item, loc, ctx, negs):
        """Returns (record, the item's encodings: percent, json levels)."""
        r = self.r
        spec = SPECS[ty]
        lang = "ko" if r.random() < 0.4 else "en"
        pct = None  # "q" (percent, %20) or "plus" (form: + for space)
        key = None
        fmt = "line"
        obj = self.base_line()
        text_leaf = None
        path = []
        jlevels = 1
        if loc in ("json_string", "json_number", "json_in_string", "otlp_body_string", "otlp_kvlist"):
            if ctx in ("key", "innocuous"):
                key = self.pick_key(ty, ctx)
        if loc in ("url_query", "form_body"):
            key = r.choice(spec.get("params", spec["keys"])) if ctx == "key" else r.choice(
                ["q", "value", "data", "v", "s", "ref"])
        if loc in ("header_map", "header_text"):
            key = r.choice(spec["headers"]) if ctx == "key" else r.choice(["X-Debug-Info", "X-Custom-Data", "X-Trace-Note"])
        if loc == "array":
            key = self.pick_key(ty, "key") if ctx == "key" else r.choice(["items", "values", "args", "data"])
        self.item = item
        s = self.wrap(ty, item, loc, ctx, key)
        if loc == "json_string":
            obj[key] = s
            path = [key]
        elif loc == "json_number":
            obj[key] = int(s)
            path = [key]
            jlevels = 0
        elif loc in ("text_msg", "stack_trace"):
            msg = self.sentence(ty, s, ctx, lang)
            k = r.choice(["msg", "message"]) if loc == "text_msg" else r.choice(["stack", "exception.stacktrace", "error.stack"])
            obj[k] = msg if loc == "text_msg" else self.stack(msg)
            path = [k]
        elif loc == "text_line":
            fmt = "text"
            jlevels = 0
            text_leaf = self.sentence(ty, s, ctx, lang)
        elif loc == "url_query":
            plain_ok = all(c.isascii() and (c.isalnum() or c in "-._~@:") for c in s)
            pct = None if plain_ok and r.random() < 0.3 else "q"
            enc = urllib.parse.quote(s, safe="") if pct else s
            k = r.choice(["url", "http.url", "request_uri", "referer"])
            obj[k] = f"https://{r.choice(HOSTS)}/v1/members?page=2&{key}={enc}&lang=ko"
            path = [k]
        elif loc == "url_path":
            pct = "q"
            k = r.choice(["path", "http.target", "url"])
            obj[k] = f"/api/v1/users/{urllib.parse.quote(s, safe='')}/profile"
            path = [k]
        elif loc == "form_body":
            pct = "plus"
            k = r.choice(["body", "request_body", "form"])
            obj[k] = f"user=kim&{key}={urllib.parse.quote_plus(s)}&submit=1"
            path = [k]
        elif loc == "header_map":
            obj["headers"] = {"Host": r.choice(HOSTS), key: s, "Accept": "application/json"}
            path = ["headers", key]
        elif loc == "header_text":
            k = r.choice(["raw_request", "request_dump", "http.request"])
            obj[k] = (f"POST /v1/members HTTP/1.1\r\nHost: {r.choice(HOSTS)}\r\n{key}: {s}\r\n"
                      "Content-Type: application/json\r\nAccept: */*")
            path = [k]
        elif loc == "array":
            filler = r.choice(["primary", "n/a", "", "unknown"])
            arr = [filler, s] if r.random() < 0.5 else [s]
            obj[key] = arr
            path = [key, len(arr) - 1]
        elif loc == "json_in_string":
            inner = {"event": r.choice(["member.updated", "signup", "refund"]), key: s}
            k = r.choice(["payload", "body", "request", "data_json"])
            obj[k] = json.dumps(inner, ensure_ascii=False)
            path = [k, "#json", key]
            jlevels = 2
        if loc.startswith("otlp"):
            fmt = "otlp"
        keep = []
        if fmt == "line":
            self.place_negatives(obj, negs, keep)
            doc = json.dumps(obj, ensure_ascii=False)
        elif fmt == "text":
            parts = [self.neg_text(t, v, keep) for t, v in negs if NEGATIVES[t][2]]
            doc = " ".join(parts[:1] + [text_leaf] + parts[1:])
        else:
            doc, path, jlevels = self.otlp(ty, s, loc, ctx, key, lang, negs, keep)
        return fmt, doc, key, path, pct, jlevels, keep

    def neg_value(self, t):
        return NEGATIVES[t][0](self.r)

    def neg_text(self, t, v, keep):
        phrase = self.r.choice(NEGATIVES[t][2]).format(v=v)
        keep.append({"type": t, "value": str(v), "path": [], "match": "contains"})
        return phrase

    def place_negatives(self, obj, negs, keep, prefix=()):
        for t, v in negs:
            keys = [k for k in NEGATIVES[t][1] if k not in obj]
            k = self.r.choice(keys) if keys else NEGATIVES[t][1][0] + "_2"
            obj[k] = v
            keep.append({"type": t, "value": str(v), "path": list(prefix) + [k], "match": "exact"})
        for k in list(obj):
            if obj[k] is None:
                obj[k] = NEGATIVES["timestamp_iso"][0](self.r)

    def otlp(self, ty, s, loc, ctx, key, lang, negs, keep):
        r = self.r
        rec_path = ["resourceLogs", 0, "scopeLogs", 0, "logRecords", 0]
        record = {"timeUnixNano": None, "observedTimeUnixNano": None, "severityNumber": 9,
                  "severityText": "INFO", "body": None, "attributes": [], "traceId": None, "spanId": None}
        fixed = {"timeUnixNano": "epoch_ns", "traceId": "trace_id", "spanId": "span_id"}
        for f, t in fixed.items():
            v = str(NEGATIVES[t][0](r))
            if t == "epoch_ns":
                v = str(int(v))
            record[f] = v
            keep.append({"type": t, "value": v, "path": rec_path + [f], "match": "exact"})
        record["observedTimeUnixNano"] = record["timeUnixNano"]
        jlevels = 1
        if loc == "otlp_kvlist":
            values = [{"key": key, "value": {"stringValue": s}}]
            body_path = rec_path + ["body", "kvlistValue", "values", 0, "value", "stringValue"]
            for t, v in negs[:1]:
                k = r.choice(NEGATIVES[t][1])
                values.append({"key": k, "value": {"stringValue": str(v)}})
                keep.append({"type": t, "value": str(v), "match": "exact",
                             "path": rec_path + ["body", "kvlistValue", "values", len(values) - 1, "value", "stringValue"]})
            record["body"] = {"kvlistValue": {"values": values}}
            path = body_path
        elif ctx in ("key", "innocuous"):
            line = self.base_line()
            line[key] = s
            self.place_negatives(line, negs[:1], keep, rec_path + ["body", "stringValue", "#json"])
            record["body"] = {"stringValue": json.dumps(line, ensure_ascii=False)}
            path = rec_path + ["body", "stringValue", "#json", key]
            jlevels = 2
        else:
            text = self.sentence(ty, s, ctx, lang)
            record["body"] = {"stringValue": text}
            path = rec_path + ["body", "stringValue"]
        for t, v in negs[1:]:
            k = r.choice(NEGATIVES[t][1])
            record["attributes"].append({"key": k, "value": {"stringValue": str(v)}})
            keep.append({"type": t, "value": str(v), "match": "exact",
                         "path": rec_path + ["attributes", len(record["attributes"]) - 1, "value", "stringValue"]})
        res = {"attributes": [{"key": "service.name", "value": {"stringValue": r.choice(SERVICES)}}]}
        export = {"resourceLogs": [{"resource": res, "scopeLogs": [{"scope": {"name": "app"},
                                                                    "logRecords": [record]}]}]}
        return json.dumps(export, ensure_ascii=False, separators=(",", ":")), path, jlevels


def encode_raw(value, pct, jlevels):
    raw = value
    if pct == "q":
        raw = urllib.parse.quote(raw, safe="")
    elif pct == "plus":
        raw = urllib.parse.quote_plus(raw)
    for _ in range(jlevels):
        raw = jesc(raw)
    return raw


def strings_in(v, out):
    """Every string (keys too) in a JSON value, and in JSON inside those strings."""
    if isinstance(v, str):
        out.append(v)
        t = v.strip()
        if t[:1] in ("{", "["):
            try:
                strings_in(json.loads(t), out)
            except ValueError:
                pass
    elif isinstance(v, list):
        for x in v:
            strings_in(x, out)
    elif isinstance(v, dict):
        for k, x in v.items():
            out.append(k)
            strings_in(x, out)
    return out


def scoreable(rec):
    """A redactor that removes exactly the labelled raw texts must score 100% here."""
    text = rec["doc"]
    for p in sorted(rec["pii"], key=lambda p: -len(p["raw"])):
        text = text.replace(p["raw"], '"X"' if p["location"] == "json_number" else "X")
    hay = [text]
    if rec["format"] != "text":
        hay = strings_in(json.loads(text), hay)
    for p in rec["pii"]:
        for f in [p["raw"], p["value"]] + p.get("digits", []) + p.get("fragments", []):
            if any(f in h for h in hay):
                return False
    for k in rec["keep"]:
        if k["value"] not in text:
            return False
    return True


def compatible(item, loc, ctx):
    if loc == "json_number" and not item.numeric:
        return False
    if item.needs_context and (ctx in ("innocuous", "bare") or loc == "url_path"):
        return False
    return not ("\n" in item.value and loc == "text_line")


def feasible(ty, loc, ctx):
    probe = random.Random(ty)
    return any(compatible(GENERATORS[ty](probe), loc, ctx) for _ in range(200))


def main():
    r = random.Random(SEED)
    b = Builder(r)
    neg_types = sorted(NEGATIVES)
    neg_cycle = [0]

    def next_negs(n):
        out = []
        for _ in range(n):
            t = neg_types[neg_cycle[0] % len(neg_types)]
            neg_cycle[0] += 1
            out.append((t, b.neg_value(t)))
        return out

    records = []
    for ty in GENERATORS:
        spec = SPECS[ty]
        combos = [(loc, ctx) for loc, ctxs in LOCATIONS.items() for ctx in ctxs
                  if loc not in spec.get("skip", [])
                  and not (loc.startswith("header") and "headers" not in spec)
                  and feasible(ty, loc, ctx)]
        base = max(1, math.ceil(PER_TYPE / len(combos)))
        for loc, ctx in combos:
            per = base * {"json_number": 4, "header_text": 2, "url_path": 2}.get(loc, 1)
            made = 0
            for _attempt in range(per * 40):
                if made == per:
                    break
                item = GENERATORS[ty](r)
                if not compatible(item, loc, ctx):
                    continue
                negs = next_negs(r.choice([2, 3]))
                fmt, doc, key, path, pct, jlevels, keep = b.build(ty, item, loc, ctx, negs)
                raw = str(int(item.value)) if loc == "json_number" else encode_raw(item.value, pct, jlevels)
                label = {"type": ty, "variant": item.variant, "value": item.value, "raw": raw,
                         "location": loc, "context": ctx, "key": key, "path": path}
                if item.digits:
                    label["digits"] = item.digits
                frags = [encode_raw(f, pct, jlevels) for f in item.fragments] + item.fragments
                if frags:
                    label["fragments"] = sorted(set(frags), key=frags.index)
                rec = {"id": "", "format": fmt, "doc": doc, "pii": [label], "keep": keep}
                if raw not in doc or not scoreable(rec):
                    neg_cycle[0] -= len(negs)
                    continue
                records.append(rec)
                made += 1
            if made < per:
                sys.exit(f"could not place {ty} in {loc}/{ctx}")
    # Documents with hard negatives only.
    for i in range(NEGATIVE_ONLY_DOCS):
        negs = next_negs(4)
        obj = b.base_line()
        keep = []
        b.place_negatives(obj, negs, keep)
        records.append({"id": "", "format": "line", "doc": json.dumps(obj, ensure_ascii=False), "pii": [],
                        "keep": keep})
    r.shuffle(records)
    for i, rec in enumerate(records):
        rec["id"] = "e%05d" % (i + 1)
    out = "".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in records)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus.jsonl")
    if "--check" in sys.argv:
        with open(path, encoding="utf-8") as f:
            if f.read() != out:
                sys.exit("corpus.jsonl is not what gen_eval.py writes: regenerate it")
        return
    with open(path, "w", encoding="utf-8") as f:
        f.write(out)
    print(f"{len(records)} documents, {len(out.encode())} bytes -> {path}")


if __name__ == "__main__":
    main()
