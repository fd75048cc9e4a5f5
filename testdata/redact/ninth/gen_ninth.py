"""Writes corpus.jsonl, the ninth held-out redaction set (deterministic: seed 20261207).

Each document holds one labelled item and one or two hard negatives. Documents are built with
ASCII placeholders where the values go; the placeholders are found in the serialised document
(walking JSON inside JSON strings too) to compute each value's path, and the raw spelling of a
value is its JSON escaping once per string level around it, so labels follow the document as
written.
"""

import json
import os
import random

import values as V

SEED = 20261207
P = "QQPIIQQ"
NUM = "QQNUMQQ"


def K(i):
    return f"QQKEEP{i}QQ"


# ---------------------------------------------------------------------------------------------
# Labelled items: value, JSON key, spelling under that key, phrase in text
# ---------------------------------------------------------------------------------------------


class Item:
    def __init__(self, ty, variant, value, key, json_t="{S}", text_t=None, context="bare",
                 fragments=None, number=None):
        self.ty, self.variant, self.value, self.key = ty, variant, value, key
        self.json_t = json_t
        self.text_t = text_t or "{S}"
        self.context = context
        self.fragments = fragments or []
        self.number = number  # digits when the value may be written as a JSON number


def c(rng, *xs):
    return rng.choice(xs)


def item_for(ty, rng):
    if ty == "email":
        var, v = V.email(rng)
        return Item(ty, var, v, c(rng, "email", "customerEmail", "alternateId", "requester_email", "note"),
                    text_t=c(rng, "{S}", "from {S}", "to <{S}>", "contact {S} for details"))
    if ty == "email_idn":
        var, v = V.email_idn(rng)
        return Item(ty, var, v, c(rng, "email", "user_name", "traits_email", "reply_to"),
                    text_t=c(rng, "{S}", "sent to {S} today", "<{S}>"))
    if ty == "credit_card":
        net, n = V.card(rng)
        style, v = V.card_spelling(rng, net, n)
        return Item(ty, f"{net}_{style}", v, c(rng, "card_number", "pan", "cc", "payment_ref", "card"),
                    text_t=c(rng, "card {S} declined", "{S}", "pan={S}"), number=n if style == "plain" else None)
    if ty == "us_phone":
        var, v = V.nanp(rng)
        return Item(ty, var, v, c(rng, "phone", "callback", "from_number", "contact"),
                    text_t=c(rng, "call {S} after 5pm", "{S}", "tel {S}"))
    if ty == "phone_intl":
        plan, nsn = V.mobile(rng)
        var, v = V.e164_spelling(rng, plan[1], nsn)
        return Item(ty, f"{plan[0]}_{var}", v, c(rng, "msisdn", "phone", "to", "recipient", "detail"),
                    text_t=c(rng, "{S}", "SMS to {S} queued", "whatsapp {S}"))
    if ty == "phone_national":
        country = rng.choice(sorted(V.NATIONAL_GROUPS))
        plan = next(p for p in V.MOBILE_PLANS if p[0] == country)
        _, nsn = V.mobile(rng, plan)
        v = V.national_spelling(rng, country, nsn)
        key = c(rng, "phone", "mobile", "phoneNumber", "mobile_no", "telefon", "cell", "tel")
        return Item(ty, country, v, key, text_t=f'{key}="{{S}}"', context="key")
    if ty == "kr_mobile":
        var, v = V.kr_mobile(rng)
        return Item(ty, var, v, c(rng, "phone", "hp", "휴대폰", "contact", "memo"),
                    text_t=c(rng, "{S}", "연락처 {S}", "{S}로 연락 바랍니다"))
    if ty == "kr_landline":
        var, v = V.kr_landline(rng)
        return Item(ty, var, v, c(rng, "tel", "office_phone", "전화번호"),
                    text_t=c(rng, "전화 {S}", "tel: {S}", "{S}"))
    if ty == "kr_safe_number":
        v = V.kr_safe(rng)
        return Item(ty, "050x", v, c(rng, "safe_number", "virtual_phone", "안심번호"),
                    text_t=c(rng, "안심번호 {S}", "{S}"))
    if ty in ("kr_rrn", "kr_frn"):
        n = V.registration(rng, ty == "kr_frn")
        style = c(rng, "dash", "dash", "plain", "space")
        v = {"dash": f"{n[:6]}-{n[6:]}", "plain": n, "space": f"{n[:6]} {n[6:]}"}[style]
        key = c(rng, "rrn", "주민등록번호", "resident_no") if ty == "kr_rrn" else c(rng, "frn", "외국인등록번호", "alien_reg_no")
        word = "주민등록번호" if ty == "kr_rrn" else "외국인등록번호"
        return Item(ty, style, v, key, text_t=c(rng, "{S}", word + " {S}", word + ": {S}"))
    if ty == "kr_brn":
        v = V.kr_brn(rng)
        return Item(ty, "dash", v, c(rng, "biz_no", "사업자등록번호", "vendor_brn"),
                    text_t=c(rng, "{S}", "사업자등록번호 {S}", "brn={S}"))
    if ty == "kr_bank_account":
        bank, v = V.kr_account(rng)
        key = c(rng, "account_no", "bank_account", "계좌번호", "refund_account")
        return Item(ty, bank, v, key, text_t=c(rng, bank + " 계좌 {S}", "입금 계좌: " + bank + " {S}",
                                                 "refund to " + bank + " account {S}"), context="key")
    if ty == "kr_driver_license":
        var, v = V.kr_license(rng)
        return Item(ty, var, v, c(rng, "license_no", "운전면허번호", "driver_license"),
                    text_t=c(rng, "{S}", "운전면허 {S}", "license {S}"))
    if ty == "kr_passport":
        v = V.kr_passport(rng)
        return Item(ty, "letter_8digits", v, c(rng, "passport_no", "여권번호", "document"),
                    text_t=c(rng, "{S}", "passport {S}", "여권 {S}"))
    if ty == "date_of_birth":
        var, v = V.dob(rng)
        key = c(rng, "birthDate", "dob", "date_of_birth", "birthday", "생년월일", "birth_date")
        return Item(ty, var, v, key, text_t=c(rng, "DOB: {S}", "born {S}", "date of birth: {S}",
                                             "생년월일: {S}", "dob={S}"), context="key")
    if ty == "iban":
        var, v = V.iban(rng)
        return Item(ty, f"{v[:2].upper()}_{var}", v, c(rng, "iban", "payout_account", "beneficiary", "ref"),
                    text_t=c(rng, "{S}", "IBAN {S} (beneficiary)", "wire to {S} by Friday"))
    if ty == "us_ssn":
        v = V.ssn(rng)
        if rng.random() < 0.3:
            v = v.replace("-", "")
            return Item(ty, "plain", v, c(rng, "ssn", "social_security_number", "SSN"),
                        text_t=c(rng, "SSN {S}", "ssn={S}"), context="key")
        return Item(ty, "dash", v, c(rng, "ssn", "taxpayer", "detail"), text_t=c(rng, "{S}", "SSN {S} on file"))
    if ty == "ipv4":
        v = V.ipv4(rng)
        return Item(ty, "public", v, c(rng, "ipAddress", "callerIpAddress", "remote_ip", "client_ip", "ip"),
                    text_t=c(rng, "from {S}", "{S}", "client {S} port 51234"))
    if ty == "ipv6":
        var, v = V.ipv6(rng)
        t = "[{S}]:8443" if var == "bracket_port" else "{S}"
        return Item(ty, var, v, c(rng, "ipAddress", "remote_ip", "sourceIP"), json_t=t,
                    text_t=c(rng, "from " + t, t, "peer " + t + " closed"))
    if ty == "jwt":
        var, v = V.jwt(rng)
        return Item(ty, var, v, c(rng, "id_token", "assertion", "jwt", "detail"),
                    text_t=c(rng, "{S}", "token {S}", "assertion={S}"))
    if ty == "bearer_token":
        v = V.opaque_bearer(rng)
        return Item(ty, "opaque", v, c(rng, "authorization", "Authorization"), json_t="Bearer {S}",
                    text_t=c(rng, "Authorization: Bearer {S}", "authorization=Bearer {S}"), context="header")
    if ty == "basic_auth":
        v = V.basic(rng)
        return Item(ty, "rfc7617", v, c(rng, "authorization", "Proxy-Authorization"), json_t="Basic {S}",
                    text_t=c(rng, "Authorization: Basic {S}", "-H 'Authorization: Basic {S}'"), context="header")
    if ty == "aws_access_key":
        v = V.aws_key_id(rng)
        return Item(ty, v[:4], v, c(rng, "accessKeyId", "AWS_ACCESS_KEY_ID", "detail"),
                    text_t=c(rng, "{S}", "access key {S} rotated"))
    if ty == "aws_secret_key":
        v = V.aws_secret(rng)
        return Item(ty, "40", v, c(rng, "aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "secretAccessKey"),
                    text_t=c(rng, "AWS_SECRET_ACCESS_KEY={S}", "secret access key {S}"), context="key")
    if ty == "github_token":
        var, v = V.github_token(rng)
        return Item(ty, var, v, c(rng, "GITHUB_TOKEN", "gh_token", "detail"), text_t=c(rng, "{S}", "using {S} for checkout"))
    if ty == "slack_token":
        var, v = V.slack_token(rng)
        return Item(ty, var, v, c(rng, "slack_token", "bot", "detail"), text_t=c(rng, "{S}", "posting with {S}"))
    if ty == "google_api_key":
        v = V.google_key(rng)
        return Item(ty, "AIza", v, c(rng, "maps_key", "firebase", "detail"), text_t=c(rng, "{S}", "key {S} quota exceeded"))
    if ty == "stripe_key":
        var, v = V.stripe_key(rng)
        return Item(ty, var, v, c(rng, "stripe", "STRIPE_SECRET", "detail"), text_t=c(rng, "{S}", "using {S} now"))
    if ty == "vendor_key":
        var, v = V.vendor_key(rng)
        return Item(ty, var, v, c(rng, "integration", "value", "detail"), text_t=c(rng, "{S}", "loaded {S} from env"))
    if ty == "llm_key":
        var, v = V.llm_key(rng)
        return Item(ty, var, v, c(rng, "OPENAI_API_KEY", "model_key", "detail"), text_t=c(rng, "{S}", "client init {S} ok"))
    if ty == "webhook_url":
        var, v = V.webhook(rng)
        return Item(ty, var, v, c(rng, "webhook", "notify_url", "target"), text_t=c(rng, "POST {S}", "{S} returned 200"))
    if ty == "private_key":
        var, v, frags = V.pem(rng)
        return Item(ty, var, v, c(rng, "private_key", "tls_key", "content"), fragments=frags)
    if ty == "url_password":
        v = V.mixed(rng, 16)
        scheme, host = c(rng, ("postgresql", "db.internal:5432/app"), ("rediss", "cache.internal:6380/0"),
                         ("sqlserver", "mssql.internal:1433"), ("neo4j+s", "graph.internal:7687"),
                         ("couchbase", "cb.internal"), ("https", "es.internal:9200"),
                         ("socks5", "proxy.internal:1080"), ("kafka", "broker.internal:9093"))
        user = c(rng, "app", "admin", "elastic", "svc_reader")
        t = f"{scheme}://{user}:{{S}}@{host}"
        return Item(ty, scheme, v, c(rng, "dsn", "url", "connection"), json_t=t, text_t=c(rng, "connecting to " + t, t), context="url")
    if ty == "url_secret":
        # OAuth 2.0 (RFC 6749) parameters, Azure SAS `sig`, AWS SigV4 `X-Amz-Signature` and Cloud
        # Storage V4 `X-Goog-Signature` (GOOG4-HMAC-SHA256: 64 hex digits).
        param = c(rng, "access_token", "sig", "X-Amz-Signature", "X-Goog-Signature", "client_secret",
                  "refresh_token", "code", "apikey", "token")
        v = V.rand(rng, V.HEX, 64) if "Signature" in param else V.mixed(rng, 32, V.B64URL)
        host = c(rng, "https://acct.blob.core.windows.net/c/x.pdf?sv=2022-11-02&se=2026-12-08&",
                 "https://bucket.s3.amazonaws.com/k.tar.gz?X-Amz-Expires=300&",
                 "https://app.example.net/oauth/callback?state=xyz&", "/api/v2/export?format=csv&")
        t = f"{host}{param}={{S}}"
        return Item(ty, param, v, c(rng, "url", "uri", "requestURI", "redirect"), json_t=t, text_t="GET " + t + " 200", context="url")
    if ty == "password":
        var, v = V.password(rng)
        key = c(rng, "password", "passwd", "userPassword", "db_password", "new_password", "PGPASSWORD",
                "MYSQL_ROOT_PASSWORD", "passphrase", "current_password")
        t = c(rng, "password={S}", "password: {S}", "password is {S}", "pwd={S}", "비밀번호: {S}", key + "={S}")
        return Item(ty, var, v, key, text_t=t, context="key")
    if ty == "client_secret":
        v = V.mixed(rng, rng.choice([32, 40, 48]))
        key = c(rng, "client_secret", "api_secret", "secret_key", "consumer_secret", "signing_secret",
                "encryption_key", "otp_secret", "x-api-key", "apiKey", "refresh_token")
        return Item(ty, key, v, key, text_t=c(rng, key + "={S}", "client secret {S}", "api key {S}", "secret: {S}"), context="key")
    if ty == "keyed_token":
        var, v = V.other_vendor_token(rng)
        key = c(rng, "token", "api_token", "VAULT_TOKEN", "auth_token", "access_token", "apiKey")
        return Item(ty, var, v, key, text_t=c(rng, "token {S}", key + "={S}", "token: {S}", "api key {S}"), context="key")
    if ty == "keyed_hex":
        v = V.hex_key(rng)
        key = c(rng, "api_key", "x-api-key", "signature", "app_key", "credential", "secret")
        return Item(ty, str(len(v)), v, key, text_t=c(rng, key + "={S}", "apikey {S}", "secret {S}"), context="key")
    if ty == "session_cookie":
        name, v = c(rng, ("ASP.NET_SessionId", V.rand(rng, V.LOWER + "012345", 24)),
                    (".AspNetCore.Session", "CfDJ8" + V.mixed(rng, 120, V.B64URL)),
                    ("ci_session", V.rand(rng, V.HEX, 40)),
                    ("rack.session", V.mixed(rng, 60, V.B62 + "%")),
                    ("sessionid", V.rand(rng, V.LOWER + V.DIGITS, 32)),
                    ("KEYCLOAK_SESSION", V.mixed(rng, 36, V.B64URL)),
                    ("__Host-next-auth.session-token", V.mixed(rng, 90, V.B64URL)))
        t = f"theme=dark; {name}={{S}}; lang=en"
        return Item(ty, name, v, c(rng, "cookie", "Cookie"), json_t=t, text_t="Cookie: " + t, context="cookie")
    raise ValueError(ty)


TYPES = ["email", "email_idn", "credit_card", "us_phone", "phone_intl", "phone_national",
         "kr_mobile", "kr_landline", "kr_safe_number", "kr_rrn", "kr_frn", "kr_brn",
         "kr_bank_account", "kr_driver_license", "kr_passport", "date_of_birth", "iban", "us_ssn",
         "ipv4", "ipv6", "jwt", "bearer_token", "basic_auth", "aws_access_key", "aws_secret_key",
         "github_token", "slack_token", "google_api_key", "stripe_key", "vendor_key", "llm_key",
         "webhook_url", "private_key", "url_password", "url_secret", "password", "client_secret",
         "keyed_token", "keyed_hex", "session_cookie"]

# ---------------------------------------------------------------------------------------------
# Hard negatives: builder, JSON keys, text phrase (the policy keeps each of them)
# ---------------------------------------------------------------------------------------------

KEEPS = [
    ("uuid", V.uuid4, ["correlationId", "auditID", "request_id", "messageId"], "request_id={S}"),
    ("trace_id", V.trace_id, ["trace_id", "traceId"], "trace_id={S}"),
    ("span_id", V.span_id, ["span_id", "spanId"], "span_id={S}"),
    ("sha256", V.sha256_hex, ["digest", "checksum", "sha256"], "sha256 {S}"),
    ("git_sha", V.git_sha, ["commit", "git_sha", "revision"], "commit {S}"),
    ("md5_etag", V.md5_hex, ["etag", "md5"], "etag {S}"),
    ("semver", V.semver, ["version", "app_version"], "version {S}"),
    ("build4", V.build4, ["build", "os_version", "app_version"], "build {S}"),
    ("rfc3339", V.rfc3339, ["time", "published", "@t", "timestamp"], "{S}"),
    ("epoch_ms", V.epoch_ms, ["ts_ms", "created_at", "time"], "ts_ms={S}"),
    ("epoch_s", V.epoch_s, ["iat", "expires", "created_at"], "iat={S}"),
    ("ean13", V.ean13, ["sku", "barcode", "ean"], "barcode {S}"),
    ("upc_a", V.upc_a, ["upc", "barcode", "gtin"], "upc {S}"),
    ("isbn13", V.isbn13, ["gtin", "ean", "barcode"], "ean {S}"),
    ("non_luhn_16", V.non_luhn_16, ["order_ref", "voucher", "gift_code"], "voucher {S}"),
    ("luhn_order_number", V.luhn_order, ["order_no", "shipment", "invoice"], "order {S}"),
    ("kr_rep_number", V.kr_rep, ["help_line", "대표번호"], "대표번호 {S}"),
    ("aba_routing", V.aba, ["routing_number", "aba"], "routing {S}"),
    ("cusip", V.cusip, ["cusip", "security_id"], "cusip {S}"),
    ("iban_bad_check", V.iban_failing, ["sku", "item_code", "part_no"], "sku {S}"),
    ("non_birth_date", V.non_birth_date, ["shipped_on", "contract_start", "renewal_date"], "renewed on {S}"),
    ("duration", V.duration, ["elapsed", "duration", "took"], "took {S}"),
    ("hl7_timestamp", V.compact_ts, ["ts", "event_ts"], "ts={S}"),
    ("ga_id", V.ga_id, ["measurement_id", "gtm"], "gtm {S}"),
    ("ua_version", V.user_agent_version, ["userAgent", "ua"], "Mozilla/5.0 (Windows NT 10.0) {S} Safari/537.36"),
    ("snowflake_id", V.snowflake, ["message_id", "guild_id"], "id {S}"),
    ("pg_query_id", V.pg_query_id, ["query_id", "queryid"], "query_id={S}"),
    ("imo_number", V.imo, ["vessel", "imo"], "vessel {S}"),
    ("issn", V.issn, ["issn", "journal_issn"], "ISSN {S}"),
    ("stripe_object_id", V.stripe_object, ["charge", "payment_intent", "object_id"], "charge {S}"),
    ("k8s_resource_version", V.k8s_resource_version, ["resourceVersion"], "resourceVersion={S}"),
]


class Keep:
    def __init__(self, ty, value, key, text_t):
        self.ty, self.value, self.key, self.text_t = ty, value, key, text_t
        self.json_t = text_t if ty == "ua_version" else "{S}"


def keep_for(i, rng):
    ty, build, keys, text_t = KEEPS[i % len(KEEPS)]
    return Keep(ty, build(rng), rng.choice(keys), text_t)


# ---------------------------------------------------------------------------------------------
# Text shapes: (rng, item phrase, keep phrases) -> text. Keeps come before the item.
# ---------------------------------------------------------------------------------------------


def ts(rng):
    return V.rfc3339(rng)


def t_postgres(rng, it, ks):
    pid = rng.randint(1000, 99999)
    pre = f"2026-12-07 10:{rng.randint(10, 59)}:{rng.randint(10, 59)}.{rng.randint(100, 999)} UTC [{pid}] app@orders "
    lines = [pre + "LOG:  duration: 0.412 ms  " + " ".join(ks)]
    if it.context == "bare":
        lines.append(pre + "LOG:  execute S_3: UPDATE customers SET note = $1 WHERE id = $2")
        lines.append(pre + "DETAIL:  parameters: $1 = '" + it.phrase + "', $2 = '42'")
    else:
        lines.append(pre + "LOG:  statement: SELECT 1; -- " + it.phrase)
    return "\n".join(lines)


def t_mysql(rng, it, ks):
    return (f"2026-12-07T10:11:12.{rng.randint(100000, 999999)}Z\t   {rng.randint(10, 999)} Query\t/* "
            + " ".join(ks) + " */ UPDATE users SET note='x' WHERE id=7 -- " + it.phrase)


def t_jenkins(rng, it, ks):
    return "\n".join([
        "Started by user deploy-bot",
        "[Pipeline] Start of Pipeline",
        "[Pipeline] node",
        f"Running on agent-{rng.randint(1, 40)} in /var/jenkins/workspace/release",
        "[Pipeline] sh",
        "+ echo " + " ".join(ks),
        "[Pipeline] echo",
        it.phrase,
        "[Pipeline] End of Pipeline",
        "Finished: SUCCESS",
    ])


def t_gha(rng, it, ks):
    stamp = "2026-12-07T10:11:%02d.%07dZ" % (rng.randint(10, 59), rng.randint(0, 9999999))
    return "\n".join([
        f"{stamp} ##[group]Run ./scripts/release.sh",
        f"{stamp} " + " ".join(ks),
        f"{stamp} ##[endgroup]",
        f"{stamp} {it.phrase}",
        f"{stamp} ##[error]Process completed with exit code 1.",
    ])


def t_var_dump(rng, it, ks):
    parts = ["array(3) {"]
    for k in ks:
        parts.append('  ["meta"]=>')
        parts.append(f'  string({len(k)}) "{k}"')
    parts.append('  ["detail"]=>')
    parts.append(f'  string({len(it.phrase.encode())}) "{it.phrase}"')
    parts.append("}")
    return "\n".join(parts)


def t_iis(rng, it, ks):
    return ("#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n"
            "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port c-ip cs(User-Agent) sc-status time-taken\n"
            f"2026-12-07 10:11:12 10.0.0.5 GET /portal/notes - 443 - Mozilla/5.0 200 0 {rng.randint(1, 900)}\n"
            "# " + " ".join(ks) + "\n# " + it.phrase)


def t_prose(rng, it, ks):
    return (c(rng, "Hi team, ", "Customer wrote: ", "Escalation — ") + " ".join(ks) + ". "
            + c(rng, "Please check this: ", "Details follow. ", "They said ") + it.phrase
            + c(rng, " and then nothing happened.", " — thanks in advance!", " (see attached screenshot)"))


def t_pino_text(rng, it, ks):
    return (f"[{ts(rng)}] WARN ({rng.randint(100, 9999)} on web-{rng.randint(1, 9)}): handler failed\n"
            "    " + " ".join(ks) + "\n    err: " + it.phrase)


TEXT_SHAPES = {"postgres": t_postgres, "mysql_general": t_mysql, "jenkins": t_jenkins,
               "github_actions": t_gha, "php_var_dump": t_var_dump, "iis_w3c": t_iis,
               "ticket_prose": t_prose, "pino_pretty": t_pino_text}


# ---------------------------------------------------------------------------------------------
# JSON shapes: (rng, item, keeps) -> object. The item's value is `it.slot` under `it.key`.
# ---------------------------------------------------------------------------------------------


def keep_members(ks):
    return {k.key: k.json_t.replace("{S}", K(i)) for i, k in enumerate(ks)}


def j_k8s_audit(rng, it, ks):
    obj = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
           "auditID": V.uuid4(rng), "stage": "ResponseComplete",
           "requestURI": "/api/v1/namespaces/shop/secrets", "verb": "create",
           "user": {"username": "system:serviceaccount:ci:deployer", "groups": ["system:serviceaccounts"]},
           "sourceIPs": ["10.12.0.7"], "annotations": keep_members(ks)}
    if c(rng, "env", "data") == "env" and it.json_t == "{S}":
        obj["requestObject"] = {"kind": "Pod", "spec": {"containers": [{"name": "app", "env": [
            {"name": "LOG_LEVEL", "value": "info"}, {"name": it.key, "value": it.slot}]}]}}
        it.context_detail = "name_value"
    else:
        obj["requestObject"] = {"kind": "ConfigMap", "metadata": {"name": "app"}, "data": {it.key: it.slot}}
    return obj


def j_azure_activity(rng, it, ks):
    body = json.dumps({"properties": {it.key: it.slot}}, ensure_ascii=it.ea)
    return {"time": ts(rng), "resourceId": "/SUBSCRIPTIONS/" + V.uuid4(rng).upper() + "/RESOURCEGROUPS/RG-SHOP",
            "operationName": "MICROSOFT.WEB/SITES/CONFIG/WRITE", "category": "Administrative",
            "resultType": "Success", "properties": dict(keep_members(ks), requestbody=body)}


def j_okta(rng, it, ks):
    return {"uuid": V.uuid4(rng), "published": ts(rng), "eventType": "user.session.start",
            "severity": "INFO", "displayMessage": "User login to Okta",
            "outcome": {"result": "FAILURE", "reason": "VERIFICATION_ERROR"},
            "debugContext": {"debugData": dict(keep_members(ks), **{it.key: it.slot})}}


def j_auth0(rng, it, ks):
    return {"log_id": V.rand(rng, V.DIGITS, 56), "data": {"date": ts(rng), "type": "fp",
            "description": "Wrong email or password.", "client_name": "Shop",
            "details": {"body": {it.key: it.slot}, "meta": keep_members(ks)}}}


def j_segment(rng, it, ks):
    return {"type": "track", "event": "Order Completed", "anonymousId": V.uuid4(rng),
            "messageId": "ajs-next-" + V.rand(rng, V.HEX, 32), "sentAt": ts(rng),
            "properties": keep_members(ks), "context": {"library": {"name": "analytics.js"},
            "traits": {it.key: it.slot}}}


def j_zendesk(rng, it, ks):
    return {"type": "zen:event-type:ticket.comment_added", "id": V.uuid4(rng), "time": ts(rng),
            "detail": {"id": str(rng.randint(10000, 99999)), "custom_fields": keep_members(ks)},
            "event": {"comment": {"body": "Customer update: " + it.text_slot + " — please advise.",
                                  "is_public": False}}}


def j_intercom(rng, it, ks):
    return {"type": "notification_event", "topic": "conversation.user.created",
            "data": {"item": {"type": "conversation", "custom_attributes": keep_members(ks),
                              "source": {"body": "<p>Hello, " + it.text_slot + "</p>"}}}}


def j_pino(rng, it, ks):
    return {"level": 40, "time": int(V.epoch_ms(rng)), "pid": rng.randint(10, 9999),
            "hostname": f"api-{rng.randint(1, 9)}", "req": {"method": "POST", "url": "/v1/profile",
            "headers": dict(keep_members(ks), **{it.key: it.slot})}, "msg": "request errored"}


def j_bunyan(rng, it, ks):
    return dict({"name": "billing", "hostname": "worker-3", "pid": rng.randint(10, 9999), "level": 50,
                 "time": ts(rng), "v": 0, "msg": "charge failed", it.key: it.slot}, **keep_members(ks))


def j_serilog(rng, it, ks):
    prop = "".join(w[:1].upper() + w[1:] for w in it.key.replace("-", "_").split("_") if w)
    if not prop or not prop[0].isalpha():
        prop = "Value"
    obj = {"@t": ts(rng), "@mt": "Profile update rejected for {%s}" % prop, "@l": "Warning"}
    obj.update(keep_members(ks))
    obj[prop if it.context == "bare" else it.key] = it.slot
    return obj


def j_sidekiq(rng, it, ks):
    return {"class": "NotifyCustomerJob", "queue": "mailers", "jid": V.rand(rng, V.HEX, 24),
            "created_at": float(V.epoch_s(rng)), "args": [rng.randint(1, 99999), {it.key: it.slot}],
            "tags": keep_members(ks)}


def j_caddy(rng, it, ks):
    if it.context in ("header", "cookie"):
        hdr = "Authorization" if it.context == "header" else "Cookie"
        req = {"remote_ip": "10.0.3.4", "method": "GET", "uri": "/account",
               "headers": {"User-Agent": ["curl/8.5.0"], hdr: [it.slot]}}
    else:
        req = {"remote_ip": "10.0.3.4", "method": "GET", "uri": "/account",
               "headers": {"User-Agent": ["curl/8.5.0"]}, "fields": {it.key: it.slot}}
    return {"level": "info", "ts": float(V.epoch_s(rng)), "logger": "http.log.access.log0",
            "msg": "handled request", "request": req, "resp_headers": keep_members(ks), "status": 401}


def j_double(rng, it, ks):
    inner = json.dumps({it.key: it.slot}, ensure_ascii=it.ea)
    mid = json.dumps(dict(keep_members(ks), event=inner), ensure_ascii=it.ea)
    return {"level": "error", "ts": ts(rng), "msg": mid}


JSON_SHAPES = {"k8s_audit": j_k8s_audit, "azure_activity": j_azure_activity, "okta_system_log": j_okta,
               "auth0_log": j_auth0, "segment_track": j_segment, "zendesk_event": j_zendesk,
               "intercom_webhook": j_intercom, "pino": j_pino, "bunyan": j_bunyan, "serilog_clef": j_serilog,
               "sidekiq_job": j_sidekiq, "caddy_access": j_caddy, "json_twice_escaped": j_double}

# Shapes where a card number may be written as a JSON number (not inside a JSON string).
NUMBER_SHAPES = {"okta_system_log", "segment_track", "bunyan", "sidekiq_job", "auth0_log", "pino"}

# Shapes that put the value in prose (the item's text phrase) rather than under its key.
PROSE_JSON = {"zendesk_event", "intercom_webhook"}


# ---------------------------------------------------------------------------------------------
# Serialisation and labels
# ---------------------------------------------------------------------------------------------


def nested(s):
    t = s.strip()
    if not (t.startswith("{") or t.startswith("[")):
        return None
    try:
        v = json.loads(t)
    except ValueError:
        return None
    return v if isinstance(v, (dict, list)) else None


def find(v, needle, path=()):
    """Paths (and string depths) of strings holding `needle`, including JSON inside strings."""
    out = []
    if isinstance(v, str):
        inner = nested(v)
        if inner is not None:
            for p, depth in find(inner, needle, path + ("#json",)):
                out.append((p, depth + 1))
        elif needle in v:
            out.append((list(path), 1))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            out.extend(find(x, needle, path + (i,)))
    elif isinstance(v, dict):
        for k, x in v.items():
            if needle in k:
                raise ValueError("placeholder in a key")
            out.extend(find(x, needle, path + (k,)))
    return out


def esc(s, ea, depth):
    for _ in range(depth):
        s = json.dumps(s, ensure_ascii=ea)[1:-1]
    return s


def at(v, path):
    for seg in path:
        v = json.loads(v) if seg == "#json" else v[seg]
    return v


def otlp(body, attrs, rng):
    return {"resourceLogs": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": rng.choice(["checkout", "identity", "billing", "ops-bot"])}},
        {"key": "deployment.environment", "value": {"stringValue": "prod"}}]},
        "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [{
            "timeUnixNano": str(int(V.epoch_ms(rng)) * 1000000), "severityNumber": 13,
            "severityText": "WARN", "body": body, "attributes": attrs,
            "traceId": V.trace_id(rng), "spanId": V.span_id(rng)}]}]}]}


def any_value(x):
    if isinstance(x, dict):
        return {"kvlistValue": {"values": [{"key": k, "value": any_value(v)} for k, v in x.items()]}}
    if isinstance(x, list):
        return {"arrayValue": {"values": [any_value(v) for v in x]}}
    if isinstance(x, bool):
        return {"boolValue": x}
    if isinstance(x, int):
        return {"intValue": str(x)}
    if isinstance(x, float):
        return {"doubleValue": x}
    return {"stringValue": x}


def render(idx, rng, ty):
    it = item_for(ty, rng)
    ks = [keep_for(idx * 2 + j, rng) for j in range(1 if idx % 3 == 0 else 2)]
    it.ea = rng.random() < 0.25
    it.context_detail = it.context
    it.slot = it.json_t.replace("{S}", P)
    it.phrase = it.text_t.replace("{S}", P)
    it.text_slot = it.phrase
    mode = rng.choice(["text", "text_in_json", "text_in_otlp", "json", "json", "json_in_otlp", "otlp_kvlist",
                       "otlp_attribute"])
    if ty == "private_key" and mode.startswith("text"):
        mode = "json"
    as_number = False
    keep_phrases = [k.text_t.replace("{S}", K(i)) for i, k in enumerate(ks)]
    if mode.startswith("text"):
        shape = rng.choice(sorted(TEXT_SHAPES))
        text = TEXT_SHAPES[shape](rng, it, keep_phrases)
        location = "text"
        if mode == "text":
            fmt, tree = "text", None
        elif mode == "text_in_json":
            fmt, location = "line", "json_text"
            tree = {"time": ts(rng), "stream": "stderr", "log": text}
        else:
            fmt, location = "otlp", "otlp_body_text"
            tree = otlp({"stringValue": text}, [], rng)
    else:
        shape = rng.choice(sorted(JSON_SHAPES))
        if it.number is not None and mode == "json" and shape in NUMBER_SHAPES and rng.random() < 0.6:
            as_number = True
            it.slot = NUM
        obj = JSON_SHAPES[shape](rng, it, ks)
        location = "json_number" if as_number else "json_string"
        if shape in PROSE_JSON:
            location = "json_prose"
        elif shape == "json_twice_escaped":
            location = "json_in_json_in_json"
        if mode == "json":
            fmt, tree = "line", obj
        elif mode == "json_in_otlp":
            fmt, location = "otlp", "otlp_body_json"
            tree = otlp({"stringValue": json.dumps(obj, ensure_ascii=it.ea)}, [], rng)
        elif mode == "otlp_kvlist":
            fmt, location = "otlp", "otlp_kvlist"
            tree = otlp(any_value(obj), [], rng)
        else:
            fmt, location = "otlp", "otlp_attribute"
            if shape in PROSE_JSON:
                attrs = [{"key": "message", "value": {"stringValue": it.phrase}}]
            else:
                attrs = [{"key": it.key, "value": {"stringValue": it.slot}}]
            attrs += [{"key": k.key, "value": {"stringValue": k.json_t.replace("{S}", K(i))}} for i, k in enumerate(ks)]
            tree = otlp({"stringValue": "event " + shape}, attrs, rng)
    if fmt == "text":
        doc = text
        pii_raw = it.value
        for i, k in enumerate(ks):
            doc = doc.replace(K(i), k.value)
        doc = doc.replace(P, it.value)
        pii_path = []
        keep_paths = [[] for _ in ks]
    else:
        doc = json.dumps(tree, ensure_ascii=it.ea)
        parsed = json.loads(doc)
        keep_paths = []
        for i, k in enumerate(ks):
            hits = find(parsed, K(i))
            assert len(hits) == 1, (shape, hits)
            path, depth = hits[0]
            keep_paths.append(path)
            doc = doc.replace(K(i), esc(k.value, it.ea, depth))
        if as_number:
            hits = find(parsed, NUM)
            assert len(hits) == 1
            pii_path = hits[0][0]
            pii_raw = it.number
            doc = doc.replace(json.dumps(NUM), it.number)
            it.value = it.number
        else:
            hits = find(parsed, P)
            assert len(hits) == 1, (shape, mode, hits)
            pii_path, depth = hits[0]
            pii_raw = esc(it.value, it.ea, depth)
            doc = doc.replace(P, pii_raw)
        final = json.loads(doc)
        leaf = at(final, pii_path)
        assert it.value in str(leaf), (shape, leaf, it.value)
        for k, path in zip(ks, keep_paths):
            assert k.value in at(final, path), (shape, k.ty)
    assert doc.count(pii_raw) == 1, "raw spelling not unique"
    rec = {"id": f"n{idx:04d}-{shape}", "format": fmt, "doc": doc,
           "pii": [{"type": ty, "variant": it.variant, "value": it.value, "raw": pii_raw,
                    "location": location, "context": it.context_detail, "path": pii_path}],
           "keep": [{"type": k.ty, "value": k.value, "path": p} for k, p in zip(ks, keep_paths)]}
    if it.fragments:
        rec["pii"][0]["fragments"] = it.fragments
    for k in ks:
        assert k.value not in it.value and pii_raw not in k.value
    return rec


def main():
    rng = random.Random(SEED)
    per_type = 50
    order = [t for t in TYPES for _ in range(per_type)]
    rng.shuffle(order)
    out = []
    for i, ty in enumerate(order):
        for _ in range(20):
            try:
                out.append(render(i, rng, ty))
                break
            except AssertionError as e:
                last = e
        else:
            raise last
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    kinds = {}
    for r in out:
        kinds[r["format"]] = kinds.get(r["format"], 0) + 1
    print(len(out), "documents", kinds, sum(len(r["keep"]) for r in out), "hard negatives")


if __name__ == "__main__":
    main()
