#!/usr/bin/env python3
"""Writes the fifth held-out redaction set: corpus.jsonl (fixed seed).

Record format: testdata/redact/eval/README.md ("Records"). Values come from values.py, each
from its public definition; this file holds the document shapes, key contexts and the
self-check every record passes before it is written.

    python3 gen_fifth.py           # rewrite corpus.jsonl
    python3 gen_fifth.py --check   # fail if corpus.jsonl differs from what it would write
"""

import json
import os
import random
import sys
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import values as V  # noqa: E402

SEED = 20261207
DOCS = 2000
HERE = os.path.dirname(os.path.abspath(__file__))

# ------------------------------------------------------------------ types and contexts

# type: (generator, needs context, keys naming it, marking words before it in text)
TYPES = {
    "email": (V.email, False, ["email", "E-Mail", "userEmail", "contact_email", "mail", "이메일", "replyTo", "EMAIL_ADDR"],
              ["e-mail: ", "email=", "sent to ", "이메일: ", "contact ", "mailto:"]),
    "us_phone": (V.us_phone, False, ["phone", "Phone", "tel", "mobile", "phoneNumber", "contact_phone", "cell", "PHONE_NO"],
                 ["phone: ", "call back at ", "tel=", "SMS to ", "cell "]),
    "phone_intl": (V.phone_intl, False, ["phone", "telephone", "mobile", "Tel", "msisdn", "phone_number", "연락처", "Telefon"],
                   ["phone: ", "tel. ", "call ", "mobile=", "연락처 ", "whatsapp "]),
    "kr_mobile": (V.kr_mobile, False, ["휴대폰", "연락처", "mobile", "hp", "phone", "휴대전화번호", "HP_NO"],
                  ["연락처: ", "휴대폰 ", "전화 ", "mobile: ", "hp="]),
    "kr_landline": (V.kr_landline, False, ["전화번호", "tel", "office_phone", "연락처", "fax", "TEL_NO"],
                    ["전화: ", "tel: ", "대표전화 ", "fax "]),
    "kr_safe_number": (V.kr_safe_number, False, ["안심번호", "safe_number", "virtual_phone", "연락처", "relay_phone"],
                       ["안심번호 ", "안심번호: ", "safe number "]),
    "credit_card": (V.credit_card, False, ["card_number", "cardNo", "pan", "cc", "CardNumber", "카드번호", "CARD_NUM"],
                    ["card ", "card no. ", "카드번호 ", "PAN=", "charged card "]),
    "kr_rrn": (V.kr_rrn, False, ["주민등록번호", "rrn", "jumin", "resident_no", "주민번호", "RRN"],
               ["주민등록번호: ", "주민번호 ", "RRN ", "resident no. "]),
    "kr_frn": (V.kr_frn, True, ["외국인등록번호", "frn", "alien_reg_no", "foreigner_id", "ARC_NO"],
               ["외국인등록번호: ", "외국인등록번호 ", "FRN ", "alien registration no. "]),
    "kr_brn": (V.kr_brn, True, ["사업자등록번호", "brn", "business_no", "bizRegNo", "사업자번호", "BIZ_NO"],
               ["사업자등록번호: ", "사업자번호 ", "business reg. no. ", "BRN="]),
    "kr_bank_account": (V.kr_bank_account, True, ["계좌번호", "account_no", "acct", "bankAccount", "계좌", "refund_account", "ACCT_NO"],
                        ["계좌번호: ", "입금계좌 ", "환불 계좌 ", "account no. "]),
    "kr_driver_license": (V.kr_driver_license, True, ["운전면허번호", "driver_license", "license_no", "dl_number", "면허번호", "DL_NO"],
                          ["운전면허번호: ", "면허번호 ", "driver licence ", "license no. "]),
    "kr_passport": (V.kr_passport, True, ["여권번호", "passport", "passport_no", "passportNumber", "PASSPORT_NO"],
                    ["여권번호: ", "passport no. ", "passport=", "여권 "]),
    "us_ssn": (V.us_ssn, False, ["ssn", "SSN", "social_security_number", "ssn_number", "ss_no", "SocialSecurityNo"],
               ["SSN ", "ssn=", "social security number ", "SSN: "]),
    "iban": (V.iban, False, ["iban", "IBAN", "payout_iban", "debtorAccount", "creditor_iban", "Kontonummer"],
             ["IBAN: ", "iban=", "pay to ", "refund to "]),
    "date_of_birth": (V.date_of_birth, True, ["dob", "DOB", "birthDate", "date_of_birth", "birthday", "생년월일", "Birth_Date", "bday"],
                      ["born ", "DOB: ", "생년월일 ", "date of birth ", "birthday=", "생일: "]),
    "password": (V.password, True, ["password", "Pwd", "PASS", "passwd", "user_password", "db_pass", "PASSWORD", "비밀번호", "passphrase", "old_password"],
                 ["password=", "pwd: ", "비밀번호: ", "with password ", "PASS=", "passphrase "]),
    "ipv4": (V.ipv4, False, ["client_ip", "remote_addr", "ip", "X-Forwarded-For", "src_ip", "peerAddress"],
             ["from ", "client ", "ip=", "addr "]),
    "ipv6": (V.ipv6, False, ["client_ip", "ip6", "remote_addr", "peer", "sourceIPAddress"],
             ["from ", "client ", "ip=", "addr "]),
    "jwt": (V.jwt, False, ["id_token", "jwt", "access_token", "idToken", "X-Amzn-Oidc-Data", "token"],
            ["token ", "jwt=", "id_token: ", "Bearer "]),
    "session_cookie": (V.session_cookie, True, ["Cookie", "cookie", "Set-Cookie", "COOKIE"],
                       ["Cookie: ", "set-cookie ", "cookie "]),
    "aws_access_key": (V.aws_access_key, False, ["aws_access_key_id", "AccessKeyId", "AWS_ACCESS_KEY_ID", "accessKey"],
                       ["key id ", "AccessKeyId=", "aws_access_key_id = "]),
    "aws_secret_key": (V.aws_secret_key, True, ["aws_secret_access_key", "SecretAccessKey", "AWS_SECRET_ACCESS_KEY", "secretKey", "aws.secret"],
                       ["aws_secret_access_key=", "SecretAccessKey: ", "secret key "]),
    "github_token": (V.github_token, False, ["GITHUB_TOKEN", "gh_token", "token", "githubPat"], ["token ", "GH_TOKEN=", "pat: "]),
    "gitlab_token": (V.gitlab_token, False, ["GITLAB_TOKEN", "private_token", "PRIVATE-TOKEN", "trigger_token"], ["token ", "PRIVATE-TOKEN: ", "glab token "]),
    "slack_token": (V.slack_token, False, ["SLACK_BOT_TOKEN", "slackToken", "token", "SLACK_APP_TOKEN"], ["token ", "slack token=", "bot token "]),
    "slack_webhook": (V.slack_webhook, False, ["webhook", "webhook_url", "SLACK_WEBHOOK_URL", "notify_url"], ["posting to ", "webhook ", "url="]),
    "webhook_url": (V.webhook_url, False, ["webhook", "webhookUrl", "DISCORD_WEBHOOK", "TEAMS_WEBHOOK_URL", "hook"], ["posting to ", "webhook ", "url="]),
    "stripe_key": (V.stripe_key, False, ["STRIPE_SECRET_KEY", "stripe_key", "apiKey", "webhook_secret"], ["key ", "stripe key=", "secret "]),
    "google_api_key": (V.google_api_key, False, ["GOOGLE_API_KEY", "key", "mapsApiKey", "firebase_api_key"], ["key=", "api key ", "maps key "]),
    "sendgrid_key": (V.sendgrid_key, False, ["SENDGRID_API_KEY", "sendgridKey", "smtp_password", "apikey"], ["key ", "sendgrid key=", "api key "]),
    "twilio_key": (V.twilio_key, True, ["TWILIO_API_KEY", "twilio_key_sid", "apiKeySid", "api_key"], ["twilio key ", "TWILIO_API_KEY=", "api key sid "]),
    "openai_key": (V.openai_key, False, ["OPENAI_API_KEY", "openai_key", "apiKey", "Authorization"], ["key ", "OPENAI_API_KEY=", "api key "]),
    "anthropic_key": (V.anthropic_key, False, ["ANTHROPIC_API_KEY", "x-api-key", "anthropicKey", "api_key"], ["key ", "ANTHROPIC_API_KEY=", "x-api-key: "]),
    "hf_token": (V.hf_token, False, ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "hf_token", "token"], ["token ", "HF_TOKEN=", "hub token "]),
    "npm_token": (V.npm_token, False, ["NPM_TOKEN", "_authToken", "npmToken", "NODE_AUTH_TOKEN"], ["token ", "_authToken=", "npm token "]),
    "pypi_token": (V.pypi_token, False, ["PYPI_TOKEN", "TWINE_PASSWORD", "pypi_api_token", "password"], ["token ", "TWINE_PASSWORD=", "pypi token "]),
    "api_key": (V.api_key, True, ["x-api-key", "apikey", "ApiKey", "access_token", "accessToken", "client_secret", "X-Auth-Token", "api-key", "API_KEY", "refresh_token", "auth_token", "secretKey", "APP_SECRET"],
                ["api_key=", "x-api-key: ", "apikey ", "access_token=", "client secret ", "token: ", "Bearer "]),
    "private_key": (V.private_key, False, ["private_key", "privateKey", "ssh_key", "tls.key", "PRIVATE_KEY", "key_pem"], ["key:\n", "loaded key\n", ""]),
    "url_credentials": (V.url_credentials, False, ["dsn", "DATABASE_URL", "url", "broker_url", "connection", "REDIS_URL"], ["connecting to ", "dsn=", "url "]),
    "basic_auth": (V.basic_auth, False, ["Authorization", "Proxy-Authorization", "authorization", "AUTHORIZATION"], ["Authorization: ", "auth header ", "Proxy-Authorization: "]),
    "azure_sas": (V.azure_sas, False, ["sas_url", "connectionString", "AZURE_STORAGE_CONNECTION_STRING", "blob_url", "StorageConnection"], ["uploading to ", "conn=", "using "]),
}

# Spellings that only a key or a marking word identifies.
NEEDS_CONTEXT_VARIANTS = {"plain10", "plain", "spaces", "space"}
INNOCUOUS = ["value", "data", "note", "detail", "arg1", "field", "memo", "extra", "info", "v", "payload", "text"]
# Types whose value is written with a cookie name, `Basic ` or in a URL already.
SINGLE_LINE = {t for t in TYPES if t != "private_key"}
KO_PARTICLES = ["로", "으로", "입니다", "이고", "(으)로", "번으로"]
KO_NUMBER_TYPES = {"kr_mobile", "kr_landline", "kr_safe_number", "kr_rrn", "kr_bank_account", "kr_driver_license"}


def needs_context(ty, it):
    if TYPES[ty][1]:
        return True
    if ty == "phone_intl" and it["variant"].endswith("paren_plus"):
        # Written nationally at first (see values.phone_intl); still given a context so
        # the set's other draws stay as they were.
        return True
    if ty in ("us_phone", "us_ssn", "kr_rrn", "credit_card", "kr_mobile") and it["variant"].split("_")[-1] in NEEDS_CONTEXT_VARIANTS:
        return True
    return False


def make_entry(rng, ty):
    gen, _, keys, markers = TYPES[ty]
    it = gen(rng)
    if ty == "session_cookie":
        # The cookie pair as a Cookie header carries it; the value is the secret.
        it["written"] = f"{it['cookie']}={it['written']}"
    ctxs = ["key", "marked"] if needs_context(ty, it) else ["key", "key", "innocuous", "marked", "bare"]
    ctx = rng.choice(ctxs)
    e = {"ty": ty, "it": it, "ctx": ctx}
    if ctx == "key":
        e["key"] = rng.choice(keys)
    elif ctx == "innocuous":
        e["key"] = rng.choice(INNOCUOUS)
    elif ctx == "marked":
        m = rng.choice(markers)
        if ty == "kr_bank_account":
            m = rng.choice([f"{it['bank']} ", f"{it['bank']} 계좌 ", m])
        e["marker"] = m
    return e


def make_neg(rng, ty):
    gen, keys = V.NEGATIVES[ty]
    return {"ty": ty, "value": gen(rng), "key": rng.choice(keys)}


# ------------------------------------------------------------------ escapes


def jesc(s):
    return json.dumps(s, ensure_ascii=False)[1:-1]


def one_line(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n")


def ruby_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def xml_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# The identifier a developer writes where a Korean key cannot go (symbols, variables).
KO_ASCII = {"이메일": "email", "연락처": "contact_phone", "휴대폰": "mobile_phone", "휴대전화번호": "mobile_no",
            "전화번호": "tel_no", "안심번호": "safe_no", "카드번호": "card_no", "주민등록번호": "resident_reg_no",
            "주민번호": "jumin_no", "외국인등록번호": "alien_reg_no", "사업자등록번호": "biz_reg_no", "사업자번호": "biz_no",
            "계좌번호": "account_no", "계좌": "account", "운전면허번호": "driver_license_no", "면허번호": "license_no",
            "여권번호": "passport_no", "생년월일": "birth_date", "비밀번호": "password", "대표번호": "rep_number",
            "주문번호": "order_no"}


def ident(k):
    if not k.isascii():
        k = KO_ASCII[k]
    out = "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in k)
    return out if out and not out[0].isdigit() and any(c.isalpha() for c in out) else "v_" + out


def env_key(k):
    return ident(k).upper()


def sentence(rng, e, w):
    """Free text holding the entry: after its marking word, or bare."""
    if e["ctx"] == "marked":
        m = e["marker"]
        tail = ""
        if e["ty"] in KO_NUMBER_TYPES and rng.random() < 0.4 and e["ty"] != "private_key":
            tail = rng.choice(KO_PARTICLES)
        if any("\uac00" <= c <= "\ud7a3" for c in m):
            return rng.choice(["고객 ", "회원 ", "", "요청: "]) + f"{m}{w}{tail} 확인"
        return rng.choice(["user updated profile, ", "retrying: ", "", "validation failed for "]) + f"{m}{w}{tail}"
    return rng.choice(["notified {} about the change", "lookup {} returned 3 rows", "duplicate {} ignored",
                       "forwarding {} upstream", "{} added to the list"]).format(w)


# ------------------------------------------------------------------ text shapes
# Each returns (text, [(entry, written text in the document, location)], [neg, ...]); a
# negative's value is written verbatim so it can be found with `contains`.


def sh_log4j(rng, entries, negs):
    thread = rng.choice(["http-nio-8080-exec-3", "main", "kafka-consumer-1", "pool-4-thread-2"])
    mdc, msg, placed = [], [], []
    for e in entries:
        w = e["it"]["written"]
        if e["ctx"] in ("key", "innocuous"):
            w1 = one_line(w)
            mdc.append(f"{e['key']}={w1}")
            placed.append((e, w1, "mdc_map"))
        else:
            msg.append(sentence(rng, e, w))
            placed.append((e, w, "stack_trace"))
    for n in negs:
        mdc.append(f"{n['key']}={n['value']}")
    head = f"2026-12-07 04:{rng.randrange(60):02d}:{rng.randrange(60):02d},{rng.randrange(1000):03d} ERROR [{thread}] c.e.account.ProfileService {{{', '.join(mdc)}}} - update failed"
    exc = rng.choice(["java.lang.IllegalArgumentException", "com.example.ValidationException", "org.springframework.dao.DataIntegrityViolationException"])
    body = f"{exc}: {'; '.join(msg) if msg else 'constraint violated'}\n\tat com.example.account.ProfileService.update(ProfileService.java:{rng.randint(40, 400)})\n\tat com.example.account.ProfileController.put(ProfileController.java:{rng.randint(20, 200)})\n\tat java.base/java.lang.Thread.run(Thread.java:1583)"
    if rng.random() < 0.4:
        body += f"\nCaused by: java.sql.SQLException: rejected\n\t... {rng.randint(3, 40)} more"
    return head + "\n" + body, placed, negs


def sh_python_tb(rng, entries, negs):
    items, msg, placed = [], [], []
    for e in entries:
        w = e["it"]["written"]
        if e["ctx"] in ("key", "innocuous"):
            if rng.random() < 0.3 and w.isascii() and "'" not in w and "\\" not in w and "\n" not in w:
                lit = f"b'{w}'"
                wd = w
            else:
                lit = repr(w)
                wd = lit[1:-1]
            items.append(f"{e['key']!r}: {lit}")
            placed.append((e, wd, "object_dump"))
        else:
            s = sentence(rng, e, one_line(w))
            msg.append(s)
            placed.append((e, one_line(w), "stack_trace"))
    for n in negs:
        items.append(f"{n['key']!r}: {n['value']!r}")
    fn = rng.choice(["handlers.py", "tasks/sync.py", "api/views.py"])
    text = ("Traceback (most recent call last):\n"
            f'  File "/srv/app/{fn}", line {rng.randint(10, 500)}, in post\n'
            "    resp = client.send(payload)\n"
            f'  File "/srv/app/client.py", line {rng.randint(10, 300)}, in send\n'
            "    raise UpstreamError(payload)\n"
            f"app.errors.UpstreamError: {'; '.join(msg) + ' ' if msg else ''}{{{', '.join(items)}}}")
    return text, placed, negs


def sh_ruby(rng, entries, negs):
    parts, msg, placed = [], [], []
    style = rng.randrange(3)
    for e in entries:
        w = e["it"]["written"]
        if e["ctx"] in ("key", "innocuous"):
            lit = ruby_str(w)
            k = e["key"]
            if style == 0:
                parts.append(f"{ident(k)}: {lit}")
            elif style == 1:
                parts.append(f":{ident(k)} => {lit}")
            else:
                parts.append(f"{ruby_str(k)} => {lit}")
            placed.append((e, lit[1:-1], "object_dump"))
        else:
            msg.append(sentence(rng, e, one_line(w)))
            placed.append((e, one_line(w), "text_line"))
    for n in negs:
        if '"' in n["value"]:
            return None
        parts.append(f"{ident(n['key'])}: \"{n['value']}\"")
    if style == 0 and rng.random() < 0.5:
        obj = f"#<User id: {rng.randint(1, 99999)}, {', '.join(parts)}>"
    else:
        obj = "{" + ", ".join(parts) + "}"
    pre = f"I, [2026-12-07T04:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(10**6):06d} #{rng.randint(100, 9999)}]  INFO -- : "
    return pre + ("; ".join(msg) + " " if msg else "") + "params=" + obj, placed, negs


def sh_php(rng, entries, negs):
    placed, msg = [], []
    dump = rng.random() < 0.5
    lines = ["array(%d) {" % (len(entries) + len(negs))] if dump else ["Array", "("]
    for e in entries + negs:
        is_neg = "it" not in e
        w = e["value"] if is_neg else e["it"]["written"]
        if not is_neg and e["ctx"] in ("marked", "bare"):
            msg.append(sentence(rng, e, one_line(w)))
            placed.append((e, one_line(w), "text_line"))
            continue
        k = e["key"]
        if dump:
            lines += [f'  ["{k}"]=>', f'  string({len(w.encode())}) "{w}"']
        else:
            lines.append(f"    [{k}] => {w}")
        if not is_neg:
            placed.append((e, w, "object_dump"))
    lines.append("}" if dump else ")")
    head = f"[07-Dec-2026 04:{rng.randrange(60):02d}:{rng.randrange(60):02d} UTC] PHP Notice:  {'; '.join(msg) if msg else 'request dump'} in /var/www/app/checkout.php on line {rng.randint(10, 900)}\n"
    return head + "\n".join(lines), placed, negs


def sh_config(rng, entries, negs):
    kind = rng.choice(["toml", "ini", "export", "dotenv"])
    lines, placed, msg = [], [], []
    for e in entries + negs:
        is_neg = "it" not in e
        w = e["value"] if is_neg else e["it"]["written"]
        if not is_neg and e["ctx"] in ("marked", "bare"):
            msg.append(sentence(rng, e, one_line(w)))
            placed.append((e, one_line(w), "text_line"))
            continue
        k = e["key"]
        if kind == "toml":
            if not is_neg and "\n" in w:
                lit, wd = f'"""\n{w}\n"""', w
            elif '"' in w or "\\" in w:
                lit, wd = f"'{w}'", w
            else:
                lit, wd = f'"{w}"', w
            key = k if ident(k) == k or k.replace("-", "_") == ident(k) else json.dumps(k, ensure_ascii=False)
            lines.append(f"{key} = {lit}")
        elif kind == "ini":
            wd = one_line(w)
            lines.append(f"{k}={wd}")
        elif kind == "export":
            wd = one_line(w)
            q = "'" if (rng.random() < 0.5 and "'" not in wd) else ""
            lines.append(f"export {env_key(k)}={q}{wd}{q}")
        else:
            wd = one_line(w)
            lines.append(f'{env_key(k)}="{wd}"' if '"' not in wd else f"{env_key(k)}='{wd}'")
        if not is_neg:
            placed.append((e, wd, "config_file"))
    header = {"toml": "[service]\n", "ini": "[connection]\n", "export": "#!/bin/sh\n", "dotenv": "# .env\n"}[kind]
    pre = f"config reload ({kind}): {'; '.join(msg) + ' ' if msg else ''}\n"
    return pre + header + "\n".join(lines), placed, negs


def sh_k8s_events(rng, entries, negs):
    msg, placed = [], []
    for e in entries:
        w = one_line(e["it"]["written"])
        if e["ctx"] in ("key", "innocuous"):
            msg.append(f"env {env_key(e['key']) if rng.random() < 0.5 else e['key']}={w}")
        else:
            msg.append(sentence(rng, e, w))
        placed.append((e, w, "k8s_event"))
    for n in negs:
        msg.append(f"{n['key']}={n['value']}")
    obj = f"pod/{rng.choice(['api', 'worker', 'billing'])}-{V.rand(rng, 'bcdfghjklmnpqrstvwxz2456789', 10)}-{V.rand(rng, 'bcdfghjklmnpqrstvwxz2456789', 5)}"
    reason = rng.choice(["Failed", "BackOff", "FailedMount", "Unhealthy"])
    return ("LAST SEEN   TYPE      REASON        OBJECT                              MESSAGE\n"
            f"{rng.randint(1, 59)}m          Warning   {reason:<13} {obj:<35} Error: {'; '.join(msg)}"), placed, negs


def sh_win_xml(rng, entries, negs):
    data, placed, msg = [], [], []
    for e in entries + negs:
        is_neg = "it" not in e
        w = e["value"] if is_neg else e["it"]["written"]
        if not is_neg and e["ctx"] in ("marked", "bare"):
            s = xml_text(sentence(rng, e, w))
            msg.append(s)
            placed.append((e, xml_text(w), "xml_element"))
            continue
        wd = xml_text(w)
        data.append(f'<Data Name="{xml_text(e["key"])}">{wd}</Data>')
        if not is_neg:
            placed.append((e, wd, "xml_element"))
    if msg:
        data.append(f'<Data Name="Message">{"; ".join(msg)}</Data>')
    eid = rng.choice([4625, 4624, 4720, 4738, 1000])
    xml = ('<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
           f'<Provider Name="Microsoft-Windows-Security-Auditing"/><EventID>{eid}</EventID>'
           f'<TimeCreated SystemTime="2026-12-07T04:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(10**7):07d}Z"/>'
           f'<Computer>WIN-{V.rand(rng, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 11)}</Computer></System><EventData>'
           + "".join(data) + "</EventData></Event>")
    return xml, placed, negs


URL_OK = {"email", "us_phone", "phone_intl", "kr_mobile", "kr_landline", "kr_safe_number", "credit_card", "kr_rrn",
          "kr_frn", "kr_brn", "kr_bank_account", "kr_driver_license", "kr_passport", "us_ssn", "iban", "date_of_birth",
          "password", "jwt", "aws_access_key", "aws_secret_key", "github_token", "gitlab_token", "slack_token",
          "stripe_key", "google_api_key", "sendgrid_key", "twilio_key", "openai_key", "anthropic_key", "hf_token",
          "npm_token", "pypi_token", "api_key", "ipv4", "ipv6", "slack_webhook", "webhook_url"}


def sh_apache(rng, entries, negs):
    q, placed, ip = [], [], None
    for e in entries:
        if e["ctx"] == "bare" and e["ty"] == "ipv4" and ip is None and e["it"]["variant"] == "plain":
            ip = e
            continue
        if e["ty"] not in URL_OK or e["ctx"] in ("marked", "bare"):
            return None
        w = quote(e["it"]["written"], safe="")
        k = quote(e["key"], safe="")
        q.append(f"{k}={w}")
        placed.append((e, w, "url_query"))
    for n in negs:
        q.append(f"{quote(n['key'], safe='')}={n['value']}")
        if quote(n["value"], safe=":") != n["value"]:
            return None
    client = ip["it"]["written"] if ip else "10.2.3.4"
    if ip:
        placed.append((ip, client, "access_log"))
    path = rng.choice(["/api/v2/users/search", "/account/reset", "/checkout/confirm", "/oauth/callback", "/hooks/register"])
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.86 Safari/537.36"
    line = (f'{client} - - [07/Dec/2026:04:{rng.randrange(60):02d}:{rng.randrange(60):02d} +0000] '
            f'"GET {path}?{"&".join(q) if q else "page=2"} HTTP/1.1" {rng.choice([200, 302, 400, 404])} {rng.randint(200, 90000)} '
            f'"https://www.example.com/" "{ua}"')
    return line, placed, negs


def sh_multipart(rng, entries, negs):
    b = "----WebKitFormBoundary" + V.rand(rng, V.ALNUM, 16)
    parts, placed = [], []
    for e in entries + negs:
        is_neg = "it" not in e
        w = e["value"] if is_neg else e["it"]["written"]
        if not is_neg and e["ctx"] in ("marked", "bare"):
            name, body = "comment", sentence(rng, e, w)
        else:
            name, body = e["key"], w
        parts.append(f'--{b}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{body}\r\n')
        if not is_neg:
            placed.append((e, w, "multipart"))
    parts.append(f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="scan.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7 ...\r\n--{b}--\r\n')
    head = f"POST /upload HTTP/1.1\r\nHost: api.example.com\r\nContent-Type: multipart/form-data; boundary={b}\r\n\r\n"
    return head + "".join(parts), placed, negs


def encoded_word(rng, s):
    import base64
    if rng.random() < 0.5:
        return "=?UTF-8?B?" + base64.b64encode(s.encode()).decode() + "?="
    return "=?UTF-8?Q?" + "".join(c if c.isascii() and c.isalnum() else "".join("=%02X" % b for b in c.encode()) for c in s) + "?="


def sh_mail(rng, entries, negs):
    headers, body, placed = [], [], []
    names = ["김민지", "Amélie Dubois", "Jürgen Müller", "田中 陽翔", "Doe, Jane", "박서준"]
    for e in entries:
        w = e["it"]["written"]
        if e["ty"] == "email" and e["ctx"] in ("key", "innocuous", "bare"):
            h = rng.choice(["From", "To", "Cc", "Reply-To", "Return-Path"])
            disp = rng.choice(names)
            dn = encoded_word(rng, disp) if not disp.isascii() else f'"{disp}"'
            if h == "Return-Path":
                headers.append(f"{h}: <{w}>")
            else:
                headers.append(f"{h}: {dn} <{w}>")
            placed.append((e, w, "mail_header"))
        elif e["ctx"] in ("key", "innocuous") and "\n" not in w:
            hk = "X-" + "-".join(p.capitalize() for p in ident(e["key"]).split("_") if p)
            headers.append(f"{hk}: {w}")
            placed.append((e, w, "mail_header"))
        else:
            body.append(sentence(rng, e, w) if e["ctx"] in ("marked", "bare") else f"{e['key']}: {w}")
            placed.append((e, w, "mail_body"))
    for n in negs:
        headers.append(f"X-{ident(n['key']).replace('_', '-')}: {n['value']}")
    subj = encoded_word(rng, rng.choice(["주문 확인", "Réinitialisation du mot de passe", "Ihre Rechnung", "Account update"]))
    text = (f"Received: from mx{rng.randint(1, 9)}.example.net by mail.example.com; Mon, 7 Dec 2026 04:{rng.randrange(60):02d}:00 +0000\n"
            + "\n".join(headers) + f"\nSubject: {subj}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
            + ("\n".join(body) if body else "Thank you."))
    return text, placed, negs


def sh_journald(rng, entries, negs):
    lines, msg, placed = [], [], []
    for e in entries:
        w = one_line(e["it"]["written"])
        if e["ctx"] in ("key", "innocuous"):
            lines.append(f"{env_key(e['key'])}={w}")
        else:
            msg.append(sentence(rng, e, w))
        placed.append((e, w, "journal_field"))
    for n in negs:
        lines.append(f"{env_key(n['key'])}={n['value']}")
    head = [f"__CURSOR=s={V.rand(rng, V.HEX, 32)};i={rng.randint(1, 99999):x}", f"__REALTIME_TIMESTAMP={rng.randrange(1796000000000000, 1797000000000000)}",
            f"_HOSTNAME=node-{rng.randint(1, 40)}", f"SYSLOG_IDENTIFIER={rng.choice(['sshd', 'billing', 'api'])}", f"PRIORITY={rng.randint(2, 6)}"]
    return "\n".join(head + [f"MESSAGE={'; '.join(msg) if msg else 'request processed'}"] + lines), placed, negs


def sh_sentence(rng, entries, negs):
    """English and Korean sentences; numbers sometimes in full-width digits."""
    parts, placed = [], []
    for e in entries:
        w = e["it"]["written"]
        if e["ctx"] in ("key", "innocuous"):
            s = f"{e['key']}: {w}" if rng.random() < 0.5 else f"{e['key']}={w}"
        else:
            s = sentence(rng, e, w)
        parts.append(s)
        placed.append((e, w, "text_line"))
    for n in negs:
        parts.append(f"({n['key']} {n['value']})")
    lead = rng.choice(["[고객센터] ", "support ticket #%d: " % rng.randint(1000, 99999), "[상담] ", "audit: "])
    return lead + " / ".join(parts), placed, negs


def sh_wrapped(rng, entries, negs):
    """A console that wraps at 80 columns: long values are cut across lines."""
    out, placed = [], []
    for e in entries:
        w = e["it"]["written"]
        if "\n" in w:
            return None
        pre = (f"{e['key']}: " if e["ctx"] in ("key", "innocuous") else (e.get("marker") or ""))
        line = f"{rng.choice(['WARN ', 'INFO ', 'DEBUG'])} {pre}{w}"
        wrapped = "\n".join(line[i:i + 80] for i in range(0, len(line), 80))
        cut = wrapped.replace("\n", "")
        assert cut == line
        # the value as it sits in the wrapped text
        start = len(line) - len(w)
        seg, i, pieces = [], start, []
        while i < len(line):
            j = min(len(line), (i // 80 + 1) * 80)
            pieces.append(line[i:j])
            i = j
        wd = "\n".join(pieces)
        # The secret itself (a fragment, or the value) as the wrap cuts it: each of its
        # pieces of 8 or more characters must go too.
        secret = next((s for s in e["it"]["fragments"] + [e["it"]["value"]] if s and s in w), None)
        if secret is not None:
            at = start + w.index(secret)
            cuts, i = [], at
            while i < at + len(secret):
                j = min(at + len(secret), (i // 80 + 1) * 80)
                cuts.append(line[i:j])
                i = j
            if len(cuts) > 1:
                e = dict(e, extra_fragments=[p for p in cuts if len(p) >= 8])
        out.append(wrapped)
        placed.append((e, wd, "wrapped"))
    for n in negs:
        out.append(f"INFO  {n['key']}: {n['value']}")
    return "\n".join(out), placed, negs


TEXT_SHAPES = [sh_log4j, sh_python_tb, sh_ruby, sh_php, sh_config, sh_k8s_events, sh_win_xml, sh_apache,
               sh_multipart, sh_mail, sh_journald, sh_sentence, sh_wrapped]

# ------------------------------------------------------------------ JSON line shapes
# Each returns (object, [(entry, written, location, path, escape levels)], [(neg, path)]).

NUMERIC = {"credit_card", "us_phone", "kr_bank_account", "kr_frn", "kr_brn", "us_ssn"}


def put_entries(rng, obj, base, entries, placed, msg_key="msg", allow_number=True):
    msgs = []
    for e in entries:
        w = e["it"]["written"]
        if e["ctx"] in ("key", "innocuous"):
            k = e["key"]
            while k in obj:
                k = k + "_"
            if allow_number and e["ty"] in NUMERIC and w.isdigit() and w[0] != "0" and rng.random() < 0.5:
                obj[k] = int(w)
                placed.append((e, w, "json_number", base + [k], 0))
            else:
                obj[k] = w
                placed.append((e, w, "json_string", base + [k], 1))
        else:
            msgs.append((e, sentence(rng, e, w), w))
    if msgs:
        obj[msg_key] = "; ".join(s for _, s, _ in msgs)
        for e, _, w in msgs:
            placed.append((e, w, "text_msg", base + [msg_key], 1))
    else:
        obj.setdefault(msg_key, "profile updated")


def put_negs(obj, base, negs, out):
    for n in negs:
        k = n["key"]
        while k in obj:
            k = k + "_"
        obj[k] = n["value"]
        out.append((n, base + [k]))


def js_flat(rng, entries, negs):
    placed, np = [], []
    obj = {"@timestamp": V.neg_timestamp(rng), "level": rng.choice(["info", "warn", "ERROR"]), "logger": "app.users"}
    nested = rng.random() < 0.5
    target = {} if nested else obj
    base = ["user"] if nested else []
    put_entries(rng, target, base, entries, placed)
    if nested:
        obj["user"] = target
    put_negs(obj, [], negs, np)
    return obj, placed, np


def js_graphql(rng, entries, negs):
    placed, np = [], []
    variables, args, decl, inline = {}, [], [], []
    msgs = []
    for e in entries:
        w = e["it"]["written"]
        if e["ctx"] in ("key", "innocuous"):
            k = ident(e["key"])
            while k in variables:
                k += "_"
            if rng.random() < 0.3 and '"' not in w and "\\" not in w and "\n" not in w:
                inline.append((e, k, w))
            else:
                variables[k] = w
                decl.append(f"${k}: String!")
                args.append(f"{k}: ${k}")
                placed.append((e, w, "graphql_variables", ["variables", k], 1))
        else:
            msgs.append((e, w))
    op = rng.choice(["UpdateProfile", "RegisterUser", "AddPaymentMethod", "InviteMember"])
    inl = ", ".join(f'{k}: "{w}"' for _, k, w in inline)
    allargs = ", ".join(a for a in [", ".join(args), inl] if a)
    query = f"mutation {op}{'(' + ', '.join(decl) + ')' if decl else ''} {{ {op[0].lower() + op[1:]}(input: {{{allargs}}}) {{ id status }} }}"
    obj = {"ts": V.neg_timestamp(rng), "operationName": op, "query": query, "variables": variables}
    for e, k, w in inline:
        placed.append((e, w, "graphql_query", ["query"], 1))
    if msgs:
        obj["msg"] = "; ".join(sentence(rng, e, w) for e, w in msgs)
        for e, w in msgs:
            placed.append((e, w, "text_msg", ["msg"], 1))
    ext = {}
    put_negs(ext, ["extensions"], negs, np)
    obj["extensions"] = ext
    return obj, placed, np


def js_escaped(rng, entries, negs):
    """A JSON body held in a string of a JSON line (the logger serialised it)."""
    placed, np = [], []
    inner = {"action": rng.choice(["signup", "update", "payout"])}
    ip = []
    put_entries(rng, inner, [], entries, ip, msg_key="note", allow_number=False)
    inner_np = []
    put_negs(inner, [], negs, inner_np)
    body = json.dumps(inner, ensure_ascii=False)
    obj = {"time": V.neg_timestamp(rng), "msg": "outbound request", "request": {"method": "POST", "url": "https://api.example.com/v1/accounts", "body": body}}
    for e, w, loc, path, lv in ip:
        placed.append((e, w, "json_in_string", ["request", "body", "#json"] + path, 2))
    for n, path in inner_np:
        np.append((n, ["request", "body", "#json"] + path))
    return obj, placed, np


def js_headers(rng, entries, negs):
    placed, np = [], []
    headers = {"Host": "api.example.com", "User-Agent": "okhttp/4.12.0", "Accept": "application/json"}
    msgs = []
    for e in entries:
        w = e["it"]["written"]
        if e["ctx"] in ("key", "innocuous"):
            k = e["key"]
            if e["ty"] in ("jwt", "api_key") and k.lower() in ("authorization", "token", "access_token") or (e["ty"] == "jwt" and rng.random() < 0.3):
                k, w2 = "Authorization", f"Bearer {w}"
            elif e["ty"] == "session_cookie":
                k, w2 = e["key"], f"theme=dark; {w}; lang=ko-KR" if e["key"].lower() == "cookie" else f"{w}; Path=/; HttpOnly; Secure; SameSite=Lax"
            else:
                w2 = w
            while k in headers:
                k += "_"
            headers[k] = w2
            placed.append((e, w, "header_map", ["http", "request", "headers", k], 1))
        else:
            msgs.append(e)
    obj = {"http": {"request": {"method": rng.choice(["GET", "POST"]), "path": "/v1/orders", "headers": headers}, "response": {"status": 200}}}
    if msgs:
        obj["message"] = "; ".join(sentence(rng, e, e["it"]["written"]) for e in msgs)
        for e in msgs:
            placed.append((e, e["it"]["written"], "text_msg", ["message"], 1))
    put_negs(obj, [], negs, np)
    return obj, placed, np


def js_array(rng, entries, negs):
    placed, np = [], []
    arr, argv = [], ["/usr/local/bin/worker", "--queue", "default"]
    obj = {"ts": V.neg_timestamp(rng), "event": rng.choice(["bulk_invite", "process_start", "export"])}
    for e in entries:
        w = e["it"]["written"]
        if e["ctx"] in ("key", "innocuous"):
            argv += [f"--{ident(e['key']).lower().replace('_', '-')}", w]
            placed.append((e, w, "array", ["argv", len(argv) - 1], 1))
        elif e["ctx"] == "bare":
            arr.append(w)
            placed.append((e, w, "array", ["items", len(arr) - 1], 1))
        else:
            argv.append(f"--note={sentence(rng, e, w)}")
            placed.append((e, w, "array", ["argv", len(argv) - 1], 1))
    obj["argv"] = argv
    obj["items"] = arr
    put_negs(obj, [], negs, np)
    return obj, placed, np


def js_k8s_event(rng, entries, negs):
    placed, np = [], []
    ann = {}
    msgs = []
    for e in entries:
        if e["ctx"] in ("key", "innocuous"):
            k = "example.com/" + ident(e["key"]).lower().replace("_", "-")
            while k in ann:
                k += "x"
            ann[k] = e["it"]["written"]
            placed.append((e, e["it"]["written"], "k8s_annotation", ["metadata", "annotations", k], 1))
        else:
            msgs.append(e)
    msg = "; ".join(sentence(rng, e, e["it"]["written"]) for e in msgs) or "Back-off restarting failed container"
    for e in msgs:
        placed.append((e, e["it"]["written"], "text_msg", ["message"], 1))
    obj = {"kind": "Event", "apiVersion": "v1",
           "metadata": {"name": f"api-{V.rand(rng, V.HEX, 8)}.{V.rand(rng, V.HEX, 16)}", "namespace": "prod", "annotations": ann},
           "involvedObject": {"kind": "Pod", "name": f"api-{V.rand(rng, 'bcdfghjklmnpqrstvwxz2456789', 10)}"},
           "reason": rng.choice(["BackOff", "Failed", "Unhealthy"]), "message": msg, "type": "Warning"}
    fields = {}
    put_negs(fields, ["fields"], negs, np)
    obj["fields"] = fields
    return obj, placed, np


def js_pylog(rng, entries, negs):
    text, tp, _ = sh_python_tb(rng, entries, [])
    obj = {"asctime": V.neg_timestamp(rng), "levelname": "ERROR", "name": "app.client", "message": "upstream call failed", "exc_info": text}
    placed = [(e, w, "stack_trace", ["exc_info"], 1) for e, w, _ in tp]
    np = []
    extra = {}
    put_negs(extra, ["extra"], negs, np)
    obj["extra"] = extra
    return obj, placed, np


JSON_SHAPES = [js_flat, js_graphql, js_escaped, js_headers, js_array, js_k8s_event, js_pylog]

# ------------------------------------------------------------------ OTLP shapes


def otlp_wrap(rng, body, attrs):
    rec = {"timeUnixNano": str(1796000000000000000 + rng.randrange(10**15)), "severityNumber": 17, "severityText": "ERROR",
           "body": body, "attributes": attrs, "traceId": V.rand(rng, V.HEX, 32), "spanId": V.rand(rng, V.HEX, 16)}
    return {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": rng.choice(["billing", "accounts", "gateway"])}}]},
                              "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [rec]}]}]}


REC = ["resourceLogs", 0, "scopeLogs", 0, "logRecords", 0]


def ot_string(rng, entries, negs):
    for _ in range(10):
        shape = rng.choice([s for s in TEXT_SHAPES if s is not sh_apache] + [sh_apache])
        r = shape(rng, entries, negs)
        if r is not None:
            break
    else:
        return None
    text, tp, tn = r
    attrs = [{"key": "log.source", "value": {"stringValue": shape.__name__[3:]}}]
    doc = otlp_wrap(rng, {"stringValue": text}, attrs)
    placed = [(e, w, "otlp_body_string", REC + ["body", "stringValue"], 1) for e, w, _ in tp]
    np = [(n, REC + ["body", "stringValue"], "contains") for n in tn]
    return doc, placed, np


def ot_kvlist(rng, entries, negs):
    vals, placed, np, msgs = [], [], [], []
    for e in entries:
        if e["ctx"] in ("key", "innocuous"):
            vals.append({"key": e["key"], "value": {"stringValue": e["it"]["written"]}})
            placed.append((e, e["it"]["written"], "otlp_kvlist", REC + ["body", "kvlistValue", "values", len(vals) - 1, "value", "stringValue"], 1))
        else:
            msgs.append(e)
    if msgs:
        vals.append({"key": "message", "value": {"stringValue": "; ".join(sentence(rng, e, e["it"]["written"]) for e in msgs)}})
        for e in msgs:
            placed.append((e, e["it"]["written"], "otlp_kvlist", REC + ["body", "kvlistValue", "values", len(vals) - 1, "value", "stringValue"], 1))
    for n in negs:
        vals.append({"key": n["key"], "value": {"stringValue": n["value"]}})
        np.append((n, REC + ["body", "kvlistValue", "values", len(vals) - 1, "value", "stringValue"], "exact"))
    return otlp_wrap(rng, {"kvlistValue": {"values": vals}}, []), placed, np


def ot_attrs(rng, entries, negs):
    attrs, placed, np, msgs = [], [], [], []
    for e in entries:
        if e["ctx"] in ("key", "innocuous"):
            k = e["key"] if rng.random() < 0.5 else "app." + e["key"]
            attrs.append({"key": k, "value": {"stringValue": e["it"]["written"]}})
            placed.append((e, e["it"]["written"], "otlp_attribute", REC + ["attributes", len(attrs) - 1, "value", "stringValue"], 1))
        else:
            msgs.append(e)
    for n in negs:
        attrs.append({"key": n["key"], "value": {"stringValue": n["value"]}})
        np.append((n, REC + ["attributes", len(attrs) - 1, "value", "stringValue"], "exact"))
    body = "; ".join(sentence(rng, e, e["it"]["written"]) for e in msgs) or "request handled"
    for e in msgs:
        placed.append((e, e["it"]["written"], "otlp_body_string", REC + ["body", "stringValue"], 1))
    return otlp_wrap(rng, {"stringValue": body}, attrs), placed, np


OTLP_SHAPES = [ot_string, ot_kvlist, ot_attrs]

# ------------------------------------------------------------------ records and the self-check


def escape(s, levels):
    for _ in range(levels):
        s = jesc(s)
    return s


def label(e, raw, loc, path):
    it = e["it"]
    value = it["value"]
    frags = list(it["fragments"]) + list(e.get("extra_fragments", []))
    rec = {"type": e["ty"], "variant": it["variant"], "value": value, "raw": raw, "location": loc,
           "context": e["ctx"], "key": e.get("key", ""), "path": path}
    if it["digits"]:
        rec["digits"] = it["digits"]
    if frags:
        rec["fragments"] = frags
    return rec


def strings_of(v, out):
    if isinstance(v, str):
        out.append(v)
        t = v.strip()
        if t[:1] in "{[":
            try:
                inner = json.loads(t)
                if isinstance(inner, (dict, list)):
                    strings_of(inner, out)
            except ValueError:
                pass
    elif isinstance(v, list):
        for x in v:
            strings_of(x, out)
    elif isinstance(v, dict):
        for k, x in v.items():
            out.append(k)
            strings_of(x, out)


def at_path(v, path):
    for seg in path:
        if seg == "#json":
            if not isinstance(v, str):
                return None
            v = json.loads(v)
        elif isinstance(seg, int):
            if not isinstance(v, list) or seg >= len(v):
                return None
            v = v[seg]
        else:
            if not isinstance(v, dict) or seg not in v:
                return None
            v = v[seg]
    return v


def forms(p):
    return [f for f in [p["raw"], p["value"]] + p.get("digits", []) + p.get("fragments", []) if f]


def check(rec):
    """The record's labels hold: raw in the document, value at its path, removing exactly the
    labelled texts leaves no form of any item and every hard negative in place."""
    doc, fmt = rec["doc"], rec["format"]
    parsed = json.loads(doc) if fmt != "text" else None
    for p in rec["pii"]:
        if p["raw"] not in doc:
            return f"raw not in doc: {p['type']}"
        if parsed is not None:
            leaf = at_path(parsed, p["path"])
            leaf = str(leaf) if isinstance(leaf, int) else leaf
            if not isinstance(leaf, str) or (p["value"] not in leaf and p["raw"] not in leaf):
                return f"not at path: {p['type']}"
    text = doc
    for p in sorted(rec["pii"], key=lambda p: -len(p["raw"])):
        text = text.replace(p["raw"], '"[REDACTED]"' if p["location"] == "json_number" else "[REDACTED]")
    hay = [text]
    out = None
    if parsed is not None:
        out = json.loads(text)
        strings_of(out, hay)
    for p in rec["pii"]:
        for f in forms(p):
            if any(f in h for h in hay):
                return f"form survives: {p['type']} {f[:20]}"
    # no form is in the document but for the item itself: a nothing-redactor finds none removed
    for k in rec["keep"]:
        if fmt == "text":
            if k["value"] not in text:
                return f"negative lost: {k['type']}"
        else:
            leaf = at_path(out, k["path"])
            if not isinstance(leaf, str) or (leaf != k["value"] if k["match"] == "exact" else k["value"] not in leaf):
                return f"negative lost: {k['type']}"
    return None


def build(rng, idx, entries, negs):
    fmt = rng.choices(["text", "line", "otlp"], weights=[50, 30, 20])[0]
    if fmt == "text":
        shape = rng.choice(TEXT_SHAPES)
        r = shape(rng, entries, negs)
        if r is None:
            return None
        text, tp, tn = r
        pii = [label(e, w, loc, []) for e, w, loc in tp]
        keep = [{"type": n["ty"], "value": n["value"], "path": [], "match": "contains"} for n in tn]
        return {"id": f"f5-{idx:04d}", "format": "text", "shape": shape.__name__[3:], "doc": text, "pii": pii, "keep": keep}
    if fmt == "line":
        shape = rng.choice(JSON_SHAPES)
        r = shape(rng, entries, negs)
        if r is None:
            return None
        obj, placed, np = r
        doc = json.dumps(obj, ensure_ascii=False)
        uesc = rng.random() < 0.15
        pii = []
        for e, w, loc, path, lv in placed:
            raw = w if lv == 0 else escape(w, lv)
            pii.append(label(e, raw, loc, path))
        if uesc:
            # The same document with every non-ASCII character and each `@` and `.` of the
            # items written as \uXXXX escapes (RFC 8259 section 7).
            doc = json.dumps(obj, ensure_ascii=True)
            for p, (e, w, loc, path, lv) in zip(pii, placed):
                if lv == 0:
                    continue
                r0 = json.dumps(escape(w, lv - 1), ensure_ascii=True)[1:-1]
                r1 = r0.replace("@", "\\u0040") if lv == 1 else r0
                if r0 not in doc:
                    return None
                doc = doc.replace(r0, r1)
                p["raw"] = r1
                if "\\u" in r1:
                    p["variant"] += "+u_escaped"
        keep = [{"type": n["ty"], "value": n["value"], "path": path, "match": "exact"} for n, path in np]
        return {"id": f"f5-{idx:04d}", "format": "line", "shape": shape.__name__[3:], "doc": doc, "pii": pii, "keep": keep}
    shape = rng.choice(OTLP_SHAPES)
    r = shape(rng, entries, negs)
    if r is None:
        return None
    obj, placed, np = r
    doc = json.dumps(obj, ensure_ascii=False)
    pii = [label(e, escape(w, lv), loc, path) for e, w, loc, path, lv in placed]
    keep = [{"type": n["ty"], "value": n["value"], "path": path, "match": m} for n, path, m in np]
    return {"id": f"f5-{idx:04d}", "format": "otlp", "shape": shape.__name__[3:], "doc": doc, "pii": pii, "keep": keep}


def generate():
    rng = random.Random(SEED)
    types = sorted(TYPES)
    negtypes = sorted(V.NEGATIVES)
    tq, nq = [], []
    records = []
    rejected = 0
    for idx in range(DOCS):
        r = rng.random()
        n_items = 0 if r < 0.08 else (2 if r < 0.20 else 1)
        n_negs = 1 if rng.random() < 0.7 else 2
        for attempt in range(50):
            if len(tq) < n_items:
                extra = types[:]
                rng.shuffle(extra)
                tq += extra
            if len(nq) < n_negs:
                extra = negtypes[:]
                rng.shuffle(extra)
                nq += extra
            entries = [make_entry(rng, tq[i]) for i in range(n_items)]
            negs = [make_neg(rng, nq[i]) for i in range(n_negs)]
            rec = build(rng, idx, entries, negs)
            if rec is None:
                continue
            err = check(rec)
            if err is None:
                break
            rejected += 1
            if os.environ.get("GEN_DEBUG"):
                print(idx, err, file=sys.stderr)
        else:
            raise SystemExit(f"document {idx}: no valid draw")
        del tq[:n_items]
        del nq[:n_negs]
        records.append(rec)
    return records, rejected


def main():
    records, rejected = generate()
    out = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    path = os.path.join(HERE, "corpus.jsonl")
    if "--check" in sys.argv:
        with open(path, encoding="utf-8") as f:
            if f.read() != out:
                raise SystemExit("corpus.jsonl differs from what gen_fifth.py writes")
        print("corpus.jsonl is up to date")
        return
    with open(path, "w", encoding="utf-8") as f:
        f.write(out)
    items = sum(len(r["pii"]) for r in records)
    keeps = sum(len(r["keep"]) for r in records)
    by_fmt = {}
    for r in records:
        by_fmt[r["format"]] = by_fmt.get(r["format"], 0) + 1
    print(f"{len(records)} documents {by_fmt}, {items} PII items, {keeps} hard negatives ({rejected} draws rejected by the self-check)")


if __name__ == "__main__":
    main()
