#!/usr/bin/env python3
"""Fourth held-out redaction set: shapes of syslog, logfmt, CSV, YAML, SQL, curl, HTTP dumps,
Go/Elixir/C# dumps, nginx error logs, XML/SOAP, and OTLP/JSON exports.

Every value is built from its public definition (check digits, numbering plans, vendor key
formats); see README.md. Standard library only. `--check` compares with corpus.jsonl.
"""

import base64
import binascii
import hashlib
import json
import os
import random
import string
import sys
import urllib.parse

SEED = 20261207
R = random.Random(SEED)
HERE = os.path.dirname(os.path.abspath(__file__))

B62 = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
NBSP = "\u00a0"
THIN = "\u2009"


def pick(xs):
    return xs[R.randrange(len(xs))]


def rs(alphabet, n):
    return "".join(R.choice(alphabet) for _ in range(n))


def digits(s):
    return "".join(c for c in s if c.isdigit())


# ------------------------------------------------------------------ check digits


def luhn_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        v = int(ch)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return str((10 - total % 10) % 10)


def luhn_ok(n):
    total = 0
    for i, ch in enumerate(reversed(n)):
        v = int(ch)
        if i % 2 == 1:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return total % 10 == 0


def gtin_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def real_date(y, m, d):
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    if not 1 <= m <= 12:
        return False
    return 1 <= d <= (29 if (m == 2 and leap) else DAYS[m - 1])


def rand_date(y0, y1):
    y = R.randint(y0, y1)
    m = R.randint(1, 12)
    d = R.randint(1, DAYS[m - 1])
    return y, m, d


# ------------------------------------------------------------------ PII values
# Each returns a dict: value (decoded), text (as written in the document, before any
# document-level escaping), variant, and optionally digits / fragments.


def card():
    kind = pick(["visa", "mc", "mc2", "amex", "disc", "jcb", "diners", "unionpay", "visa13"])
    if kind == "visa":
        body, n = "4" + rs("0123456789", 14), 16
    elif kind == "visa13":
        body, n = "4" + rs("0123456789", 11), 13
    elif kind == "mc":
        body, n = str(R.randint(51, 55)) + rs("0123456789", 13), 16
    elif kind == "mc2":
        body, n = str(R.randint(2221, 2720)) + rs("0123456789", 11), 16
    elif kind == "amex":
        body, n = pick(["34", "37"]) + rs("0123456789", 12), 15
    elif kind == "disc":
        body, n = pick(["6011", "65" + rs("0123456789", 2)]) + rs("0123456789", 11), 16
    elif kind == "jcb":
        body, n = str(R.randint(3528, 3589)) + rs("0123456789", 11), 16
    elif kind == "diners":
        body, n = "36" + rs("0123456789", 11), 14
    else:
        body, n = "62" + rs("0123456789", 13), 16
    num = body + luhn_digit(body)
    assert len(num) == n
    sep = pick(["-", " ", "", "", NBSP])
    if kind == "amex":
        groups = [num[:4], num[4:10], num[10:]]
    elif kind == "diners":
        groups = [num[:4], num[4:10], num[10:]]
    elif n == 13:
        groups = [num]
    else:
        groups = [num[i:i + 4] for i in range(0, n, 4)]
    text = sep.join(groups) if sep else num
    var = {"-": "dashes", " ": "spaces", "": "plain", NBSP: "nbsp"}[sep] + "/" + kind
    return dict(value=text, text=text, variant=var, digits=[num])


def rrn(foreigner=False):
    while True:
        y, m, d = rand_date(1950, 2015)
        g = (5 if foreigner else 1) + (2 if y >= 2000 else 0) + R.randint(0, 1)
        body = "%02d%02d%02d%d%s" % (y % 100, m, d, g, rs("0123456789", 5))
        w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
        s = sum(int(body[i]) * w[i] for i in range(12))
        c = ((13 if foreigner else 11) - s % 11) % 10
        num = body + str(c)
        sep = pick(["-", "-", ""])
        text = num[:6] + sep + num[6:]
        return dict(value=text, text=text, variant="dash" if sep else "plain", digits=[num])


def brn():
    body = rs("0123456789", 9)
    w = [1, 3, 7, 1, 3, 7, 1, 3, 5]
    s = sum(int(body[i]) * w[i] for i in range(9)) + int(body[8]) * 5 // 10
    num = body + str((10 - s % 10) % 10)
    text = pick([num[:3] + "-" + num[3:5] + "-" + num[5:], num[:3] + "-" + num[3:5] + "-" + num[5:], num])
    return dict(value=text, text=text, variant="dash" if "-" in text else "plain", digits=[num])


IBAN_LAYOUT = {
    # country: (length, BBAN spec as (kind, count) with n digits, a upper letters, c alnum)
    "DE": [("n", 18)], "GB": [("a", 4), ("n", 14)], "FR": [("n", 10), ("c", 11), ("n", 2)],
    "NL": [("a", 4), ("n", 10)], "ES": [("n", 20)], "IT": [("a", 1), ("n", 10), ("c", 12)],
    "BE": [("n", 12)], "CH": [("n", 5), ("c", 12)], "AT": [("n", 16)], "PL": [("n", 24)],
    "SE": [("n", 20)], "NO": [("n", 11)], "DK": [("n", 14)], "FI": [("n", 14)],
    "IE": [("a", 4), ("n", 14)], "PT": [("n", 21)], "SA": [("n", 2), ("c", 18)],
    "AE": [("n", 19)], "TR": [("n", 5), ("n", 1), ("c", 16)], "BR": [("n", 23), ("a", 1), ("c", 1)],
    "LU": [("n", 3), ("c", 13)], "CZ": [("n", 20)], "HU": [("n", 24)], "RO": [("a", 4), ("c", 16)],
}


def iban():
    cc = pick(sorted(IBAN_LAYOUT))
    bban = ""
    for k, n in IBAN_LAYOUT[cc]:
        alpha = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[k]
        bban += rs(alpha, n)
    moved = bban + cc + "00"
    num = int("".join(str(int(ch, 36)) for ch in moved))
    check = 98 - num % 97
    compact = "%s%02d%s" % (cc, check, bban)
    if R.random() < 0.35:
        text = " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
        var = "grouped"
    else:
        text, var = compact, "compact"
    return dict(value=text, text=text, variant=var + "/" + cc)


def ssn():
    while True:
        area = R.randint(1, 899)
        if area != 666:
            break
    text = "%03d-%02d-%04d" % (area, R.randint(1, 99), R.randint(1, 9999))
    if R.random() < 0.25:
        text = digits(text)
    return dict(value=text, text=text, variant="dash" if "-" in text else "plain", digits=[digits(text)])


def nanp_parts():
    while True:
        a = "%d%d%d" % (R.randint(2, 9), R.randint(0, 9), R.randint(0, 9))
        # N9X area codes are reserved for the plan's expansion: none is in service.
        a = a[0] + ("8" if a[1] == "9" else a[1]) + a[2]
        if a[1:] != "11":
            break
    while True:
        e = "%d%d%d" % (R.randint(2, 9), R.randint(0, 9), R.randint(0, 9))
        if e[1:] != "11":
            break
    return a, e, "%04d" % R.randint(0, 9999)


def us_phone():
    a, e, s = nanp_parts()
    form = R.randrange(6)
    text = ["(%s) %s-%s" % (a, e, s), "%s.%s.%s" % (a, e, s), "+1 %s %s %s" % (a, e, s),
            "1-%s-%s-%s" % (a, e, s), "+1-%s-%s-%s" % (a, e, s), "%s-%s-%s" % (a, e, s)][form]
    return dict(value=text, text=text, variant="form%d" % form, digits=[a + e + s])


def kr_mobile():
    p = pick(["010", "010", "010", "011", "016", "017", "019"])
    mid = rs("0123456789", 4) if p == "010" else pick([rs("0123456789", 3), rs("0123456789", 4)])
    mid = str(R.randint(2, 9)) + mid[1:]
    last = rs("0123456789", 4)
    form = R.randrange(6)
    text = ["%s-%s-%s" % (p, mid, last), "%s %s %s" % (p, mid, last), "%s%s%s" % (p, mid, last),
            "+82 %s-%s-%s" % (p[1:], mid, last), "+82-%s-%s-%s" % (p[1:], mid, last),
            "0082-%s-%s-%s" % (p[1:], mid, last)][form]
    national = p + mid + last
    return dict(value=text, text=text, variant="form%d" % form, digits=[national, "82" + national[1:]])


def kr_safe():
    p = pick(["0502", "0503", "0504", "0505", "0506", "0507", "0508"])
    text = "%s-%s-%s" % (p, rs("0123456789", 4), rs("0123456789", 4))
    if R.random() < 0.3:
        text = digits(text)
    return dict(value=text, text=text, variant="dash" if "-" in text else "plain", digits=[digits(text)])


def phone_intl():
    cc, rest = pick([("44", 10), ("49", 11), ("33", 9), ("81", 10), ("61", 9), ("65", 8),
                     ("91", 10), ("34", 9), ("39", 10), ("55", 11), ("86", 11), ("52", 10)])
    nat = str(R.randint(1, 9)) + rs("0123456789", rest - 1)
    form = R.randrange(4)
    if form == 0:
        text = "+" + cc + nat
    elif form == 1:
        text = "+%s %s %s" % (cc, nat[:3], nat[3:])
    elif form == 2:
        text = "+%s-%s-%s-%s" % (cc, nat[:2], nat[2:5], nat[5:])
    else:
        text = "+%s (0) %s %s" % (cc, nat[:4], nat[4:])
    value = text
    return dict(value=value, text=text, variant="form%d" % form, digits=[cc + nat])


def bank_account():
    groups = pick([(6, 2, 6), (3, 3, 6), (4, 3, 6), (3, 6, 5), (3, 6, 2, 3), (3, 4, 4, 2),
                   (4, 2, 7), (4, 4, 4), (12,), (11,), (14,)])
    parts = [rs("0123456789", g) for g in groups]
    text = "-".join(parts)
    return dict(value=text, text=text, variant="-".join(map(str, groups)), digits=[digits(text)])


def driver_license():
    region = R.randint(11, 28)
    text = "%d-%02d-%06d-%02d" % (region, R.randint(0, 99), R.randint(0, 999999), R.randint(0, 99))
    if R.random() < 0.3:
        text = digits(text)
    return dict(value=text, text=text, variant="dash" if "-" in text else "plain", digits=[digits(text)])


def kr_passport():
    text = pick("MSRGD") + "%08d" % R.randint(10000000, 99999999)
    return dict(value=text, text=text, variant="old")


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def dob():
    y, m, d = rand_date(1940, 2008)
    form = R.randrange(8)
    text = ["%04d-%02d-%02d" % (y, m, d), "%02d/%02d/%04d" % (m, d, y), "%04d.%02d.%02d" % (y, m, d),
            "%d년 %d월 %d일" % (y, m, d), "%s %d, %d" % (MONTHS[m - 1], d, y),
            "%d %s %d" % (d, MONTHS[m - 1][:3], y), "%04d/%02d/%02d" % (y, m, d),
            "%02d.%02d.%04d" % (d, m, y)][form]
    return dict(value=text, text=text, variant="form%d" % form)


def email():
    first = pick(["kim", "lee", "park", "j.smith", "maria.garcia", "o.brien", "chen.wei",
                  "a.kowalski", "noah", "ines", "ravi.k", "h_tanaka", "lena-m", "sofia"])
    local = first + pick(["", str(R.randint(1, 999)), "+" + pick(["billing", "test", "news"])])
    dom = pick(["example.com", "mail.example.org", "corp.example.co.kr", "naver.com",
                "gmail.com", "xn--bcher-kva.example", "xn--9n2bp8q.xn--3e0b707e",
                "xn--mnchen-3ya.de", "uni-heidelberg.de", "sub.mail.example.net"])
    text = local + "@" + dom
    return dict(value=text, text=text, variant="punycode" if "xn--" in dom else "ascii")


def ipv4():
    while True:
        a = R.randint(1, 223)
        if a not in (10, 127, 0, 100, 169, 172, 192):
            break
    text = "%d.%d.%d.%d" % (a, R.randint(0, 255), R.randint(0, 255), R.randint(1, 254))
    return dict(value=text, text=text, variant="public")


def ipv6():
    groups = ["2" + rs("0123456789abcdef", 3)] + [rs("0123456789abcdef", R.randint(1, 4)) for _ in range(7)]
    if R.random() < 0.5:
        i = R.randint(2, 5)
        text = ":".join(groups[:i]) + "::" + ":".join(groups[i + 2:])
    else:
        text = ":".join(groups)
    return dict(value=text, text=text, variant="full" if "::" not in text else "compressed")


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def jwt():
    header = b64u(json.dumps({"alg": pick(["HS256", "RS256", "ES256"]), "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64u(json.dumps({"sub": str(R.randint(10**5, 10**9)), "name": pick(["Kim Minji", "John Doe", "Ana Lima"]),
                               "iat": R.randint(1700000000, 1790000000), "scope": pick(["read", "read write", "admin"])},
                              separators=(",", ":")).encode())
    sig = b64u(bytes(R.randrange(256) for _ in range(pick([32, 64]))))
    text = "%s.%s.%s" % (header, payload, sig)
    return dict(value=text, text=text, variant="jws", fragments=[payload, sig])


def bearer():
    tok = pick([rs(B62, 40), rs(B62 + "-._~", 64), "ya29." + rs(B62 + "-_", 120)])
    return dict(value=tok, text="Bearer " + tok, variant="opaque")


def basic():
    user = pick(["admin", "deploy", "svc-backup", "kim", "ci-bot"])
    pw = rs(B62, R.randint(10, 18)) + pick(["!", "#", "9", "$"])
    b = base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
    return dict(value=b, text="Basic " + b, variant="rfc7617", fragments=[b])


AWS32 = string.ascii_uppercase + "234567"


def aws_access():
    text = pick(["AKIA", "ASIA"]) + rs(AWS32, 16)
    return dict(value=text, text=text, variant=text[:4])


def aws_secret():
    text = rs(B62 + "/+", 40)
    return dict(value=text, text=text, variant="40")


def crc32_b62(s):
    c = binascii.crc32(s.encode()) & 0xFFFFFFFF
    out = ""
    while c:
        c, r = divmod(c, 62)
        out = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[r] + out
    return out.rjust(6, "0")


def github():
    kind = pick(["ghp_", "gho_", "ghs_", "ghu_", "github_pat_"])
    if kind == "github_pat_":
        text = "github_pat_" + rs(B62, 22) + "_" + rs(B62, 59)
    else:
        body = rs(B62, 30)
        text = kind + body + crc32_b62(body)
    return dict(value=text, text=text, variant=kind)


def gitlab():
    text = pick(["glpat-", "glpat-", "gldt-", "glrt-"]) + rs(B62 + "_-", 20)
    return dict(value=text, text=text, variant=text[:text.index("-") + 1])


def slack_token():
    kind = pick(["xoxb", "xoxp", "xoxa", "xoxe"])
    if kind == "xoxp":
        text = "xoxp-%d-%d-%d-%s" % (R.randint(10**10, 10**12), R.randint(10**10, 10**12),
                                     R.randint(10**10, 10**12), rs("0123456789abcdef", 32))
    else:
        text = "%s-%d-%d-%s" % (kind, R.randint(10**10, 10**12), R.randint(10**10, 10**12), rs(B62, 24))
    return dict(value=text, text=text, variant=kind)


def slack_webhook():
    t, b, s = "T" + rs(string.ascii_uppercase + string.digits, 8), "B" + rs(string.ascii_uppercase + string.digits, 10), rs(B62, 24)
    text = "https://hooks.slack.com/services/%s/%s/%s" % (t, b, s)
    return dict(value=text, text=text, variant="services", fragments=[s])


def google_key():
    text = "AIza" + rs(B62 + "-_", 35)
    return dict(value=text, text=text, variant="AIza")


def stripe():
    p = pick(["sk_live_", "rk_live_", "sk_test_", "pk_live_"])
    text = p + rs(B62, pick([24, 99]))
    return dict(value=text, text=text, variant=p)


def openai_key():
    if R.random() < 0.5:
        text = "sk-" + rs(B62, 20) + "T3BlbkFJ" + rs(B62, 20)
        var = "legacy"
    else:
        text = "sk-proj-" + rs(B62 + "-_", 74) + "T3BlbkFJ" + rs(B62 + "-_", 74)
        var = "project"
    return dict(value=text, text=text, variant=var)


def anthropic_key():
    text = pick(["sk-ant-api03-", "sk-ant-admin01-"]) + rs(B62 + "-_", 93) + "AA"
    return dict(value=text, text=text, variant=text[:text.index("-", 7) + 1])


def hf_token():
    text = "hf_" + rs(string.ascii_letters, 34)
    return dict(value=text, text=text, variant="hf")


def sendgrid():
    text = "SG." + rs(B62 + "-_", 22) + "." + rs(B62 + "-_", 43)
    return dict(value=text, text=text, variant="SG")


def twilio():
    text = "SK" + rs(HEX, 32)
    return dict(value=text, text=text, variant="SK")


def npm_token():
    text = "npm_" + rs(B62, 36)
    return dict(value=text, text=text, variant="npm")


def pypi_token():
    text = "pypi-AgEIcHlwaS5vcmc" + rs(B62 + "-_", R.randint(60, 140))
    return dict(value=text, text=text, variant="macaroon")


def other_vendor():
    kind = pick(["shpat_", "dop_v1_", "key-"])
    if kind == "shpat_":
        text = "shpat_" + rs(HEX, 32)
    elif kind == "dop_v1_":
        text = "dop_v1_" + rs(HEX, 64)
    else:
        text = "key-" + rs(HEX, 32)
    return dict(value=text, text=text, variant=kind)


def generic_key():
    text = pick([rs(HEX, 32), rs(HEX, 40), rs(B62, 40), b64u(bytes(R.randrange(256) for _ in range(30)))])
    return dict(value=text, text=text, variant="opaque")


def pem():
    kind = pick(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY",
                 "ENCRYPTED PRIVATE KEY"])
    n = R.randint(4, 9)
    lines = [base64.b64encode(bytes(R.randrange(256) for _ in range(48))).decode() for _ in range(n)]
    lines.append(base64.b64encode(bytes(R.randrange(256) for _ in range(R.randint(5, 40)))).decode())
    cut = R.random() < 0.15
    body = lines[:-2] if cut else lines
    text = "-----BEGIN %s-----\n%s" % (kind, "\n".join(body))
    if not cut:
        text += "\n-----END %s-----" % kind
    return dict(value=text, text=text, variant=("cut/" if cut else "") + kind, fragments=body[:])


def url_password():
    scheme = pick(["postgres", "mysql", "redis", "amqp", "mongodb+srv", "https", "ftp"])
    user = pick(["app", "admin", "svc_orders", "root", "reporter"])
    pw = rs(B62, R.randint(8, 16)) + pick(["", "!", "-x", "_9"])
    host = pick(["db.internal", "10.2.3.4", "cache.prod.example.net", "mq.example.com:5672"])
    text = "%s://%s:%s@%s/%s" % (scheme, user, pw, host, pick(["orders", "0", "vhost", ""]))
    return dict(value=pw, text=text, variant=scheme, fragments=[pw])


def url_secret():
    tok = pick([rs(B62, 32), b64u(bytes(R.randrange(256) for _ in range(R.randint(24, 48)))), rs(HEX, 40)])
    return dict(value=tok, text=tok, variant="urlsafe")


def password():
    pw = pick([rs(B62, R.randint(8, 14)) + pick(["!", "#", "$", "%", "*", "9"]),
               pick(["Summer", "Winter", "Hunter", "Dragon"]) + str(R.randint(10, 2099)) + pick(["!", "?", "#"]),
               rs(string.ascii_lowercase, 5) + "-" + rs(string.digits, 4) + "-" + rs(string.ascii_uppercase, 3)])
    return dict(value=pw, text=pw, variant="mixed")


def session_cookie():
    tok = pick([rs(HEX, 32), rs(B62, 40), b64u(bytes(R.randrange(256) for _ in range(33)))])
    return dict(value=tok, text=tok, variant="opaque")


PII_TYPES = {
    "email": email, "kr_mobile": kr_mobile, "kr_safe_number": kr_safe, "us_phone": us_phone,
    "phone_intl": phone_intl, "credit_card": card, "kr_rrn": lambda: rrn(False),
    "kr_frn": lambda: rrn(True), "kr_brn": brn, "kr_bank_account": bank_account,
    "kr_driver_license": driver_license, "kr_passport": kr_passport, "date_of_birth": dob,
    "iban": iban, "us_ssn": ssn, "ipv4": ipv4, "ipv6": ipv6, "jwt": jwt,
    "bearer_token": bearer, "basic_auth": basic, "aws_access_key": aws_access,
    "aws_secret_key": aws_secret, "github_token": github, "gitlab_token": gitlab,
    "slack_token": slack_token, "slack_webhook": slack_webhook, "google_api_key": google_key,
    "stripe_key": stripe, "openai_key": openai_key, "anthropic_key": anthropic_key,
    "hf_token": hf_token, "sendgrid_key": sendgrid, "twilio_key": twilio, "npm_token": npm_token,
    "pypi_token": pypi_token, "vendor_key": other_vendor, "api_key": generic_key,
    "private_key": pem, "url_password": url_password, "url_secret": url_secret,
    "password": password, "session_cookie": session_cookie,
}

# The key a value is written under (the context), per type.
KEYS = {
    "email": ["email", "reply_to", "contact_email", "user.email", "mail"],
    "kr_mobile": ["phone", "mobile", "휴대폰", "contact_phone", "tel"],
    "kr_safe_number": ["safe_number", "virtual_phone", "안심번호", "phone"],
    "us_phone": ["phone", "phone_number", "callback", "contact_phone"],
    "phone_intl": ["phone", "msisdn", "mobile", "whatsapp"],
    "credit_card": ["card_number", "pan", "cc", "card"],
    "kr_rrn": ["rrn", "주민등록번호", "resident_no", "jumin"],
    "kr_frn": ["frn", "외국인등록번호", "alien_reg_no", "foreigner_no"],
    "kr_brn": ["brn", "사업자등록번호", "business_no", "biz_reg_no"],
    "kr_bank_account": ["account_no", "계좌번호", "bank_account", "acct"],
    "kr_driver_license": ["driver_license", "운전면허번호", "license_no", "dl_number"],
    "kr_passport": ["passport", "passport_no", "여권번호", "passportNumber"],
    "date_of_birth": ["dob", "birth_date", "birthday", "date_of_birth", "생년월일", "birthDate"],
    "iban": ["iban", "payout_iban", "account_iban", "beneficiary_iban"],
    "us_ssn": ["ssn", "social_security_number", "tax_ssn", "SSN"],
    "ipv4": ["client_ip", "remote_addr", "src_ip", "peer"],
    "ipv6": ["client_ip", "remote_addr", "src_ip", "peer"],
    "jwt": ["id_token", "jwt", "access_token", "token"],
    "bearer_token": ["Authorization"],
    "basic_auth": ["Authorization"],
    "aws_access_key": ["aws_access_key_id", "AccessKeyId", "access_key"],
    "aws_secret_key": ["aws_secret_access_key", "SecretAccessKey", "secret_key"],
    "github_token": ["github_token", "GH_TOKEN", "token"],
    "gitlab_token": ["gitlab_token", "CI_JOB_TOKEN", "private_token"],
    "slack_token": ["slack_token", "SLACK_BOT_TOKEN", "token"],
    "slack_webhook": ["webhook_url", "slack_webhook", "notify_url"],
    "google_api_key": ["google_api_key", "maps_key", "key"],
    "stripe_key": ["stripe_key", "STRIPE_SECRET_KEY", "api_key"],
    "openai_key": ["openai_api_key", "OPENAI_API_KEY", "api_key"],
    "anthropic_key": ["anthropic_api_key", "ANTHROPIC_API_KEY", "x-api-key"],
    "hf_token": ["hf_token", "HUGGING_FACE_HUB_TOKEN", "token"],
    "sendgrid_key": ["sendgrid_api_key", "SENDGRID_API_KEY", "api_key"],
    "twilio_key": ["twilio_api_key", "TWILIO_API_KEY", "api_key_sid"],
    "npm_token": ["npm_token", "NPM_TOKEN", "_authToken"],
    "pypi_token": ["pypi_token", "TWINE_PASSWORD", "password"],
    "vendor_key": ["shopify_token", "do_token", "mailgun_key"],
    "api_key": ["api_key", "x-api-key", "apikey", "client_secret", "access_token"],
    "private_key": ["private_key", "tls_key", "ssh_key"],
    "url_password": ["dsn", "database_url", "broker_url"],
    "url_secret": ["token", "access_token", "api_key", "sig"],
    "password": ["password", "passwd", "pwd", "db_password", "비밀번호"],
    "session_cookie": ["session", "JSESSIONID", "PHPSESSID", "connect.sid", "_session_id"],
}

# ------------------------------------------------------------------ hard negatives


def uuid4():
    h = rs(HEX, 32)
    h = h[:12] + "4" + h[13:16] + pick("89ab") + h[17:]
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def non_luhn_16():
    while True:
        n = str(R.randint(1, 9)) + rs(string.digits, 15)
        if not luhn_ok(n):
            return n


def non_rrn_13():
    while True:
        n = str(R.randint(1, 9)) + rs(string.digits, 12)
        y, m, d = 1900 + int(n[0:2]), int(n[2:4]), int(n[4:6])
        if not luhn_ok(n) and not real_date(y, m, d):
            return n


def ean13():
    b = pick(["880", "400", "500", "300", "890", "471"]) + rs(string.digits, 9)
    return b + gtin_digit(b)


def upc_a():
    b = "0" + rs(string.digits, 10)
    return b + gtin_digit(b)


def amount():
    whole = R.randint(1000, 9999999)
    cents = R.randint(0, 99)
    form = R.randrange(5)
    if form == 0:
        return "$%s.%02d" % ("{:,}".format(whole), cents)
    if form == 1:
        return "%s,%02d €" % ("{:,}".format(whole).replace(",", "."), cents)
    if form == 2:
        return "%s,%02d EUR" % ("{:,}".format(whole).replace(",", THIN), cents)
    if form == 3:
        return "₩%s" % "{:,}".format(whole * 10)
    return "%s CHF" % "{:,}".format(whole).replace(",", "'")


NEG_TYPES = {
    "uuid": uuid4,
    "trace_id": lambda: rs(HEX, 32),
    "span_id": lambda: rs(HEX, 16),
    "sha256": lambda: hashlib.sha256(rs(B62, 20).encode()).hexdigest(),
    "git_sha": lambda: rs(HEX, 40),
    "semver_build": lambda: "%d.%d.%d%s+%s" % (R.randint(0, 9), R.randint(0, 40), R.randint(0, 99),
                                               pick(["", "-rc.1", "-beta.2"]), pick(["build.%d" % R.randint(1, 9999), "sha." + rs(HEX, 7), "20261207"])),
    "docker_tag": lambda: "%s:%s" % (pick(["nginx", "ghcr.io/acme/api", "registry.k8s.io/pause", "postgres", "redis"]),
                                     pick(["1.25.3-alpine", "3.9", "16.4-bookworm", "7.2.5", "v2.14.0-%s" % rs(HEX, 7)])),
    "k8s_uid": uuid4,
    "epoch_ms": lambda: str(R.randint(1700000000000, 1799999999999)),
    "epoch_us": lambda: str(R.randint(1700000000000000, 1799999999999999)),
    "iso_date": lambda: "%04d-%02d-%02d" % rand_date(2020, 2027),
    "rfc3339": lambda: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (rand_date(2024, 2026) + (R.randint(0, 23), R.randint(0, 59), R.randint(0, 59), R.randint(0, 999))),
    "http_status_line": lambda: pick(["HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK", "HTTP/2 503 Service Unavailable",
                                      "HTTP/1.0 302 Found", "HTTP/1.1 429 Too Many Requests"]),
    "line_col": lambda: "%s:%d:%d" % (pick(["main.go", "src/app.ts", "lib/orders.ex", "Program.cs", "handler.py"]),
                                     R.randint(1, 4000), R.randint(1, 120)),
    "host_port": lambda: "%s:%d" % (pick(["db.internal", "localhost", "redis-master", "api.example.com"]), R.randint(1024, 65535)),
    "amount": amount,
    "version4": lambda: "%d.%d.%d.%d" % (R.randint(1, 30), R.randint(0, 20), R.randint(0, 9999), R.randint(1, 250)),
    "kr_rep_number": lambda: "%s-%s" % (pick(["1588", "1577", "1600", "1644", "1899", "1566", "1661", "1544"]), rs(string.digits, 4)),
    "ean13": ean13,
    "upc_a": upc_a,
    "non_luhn_16": non_luhn_16,
    "non_rrn_13": non_rrn_13,
    "duration": lambda: pick(["%dh%dm%d.%03ds" % (R.randint(0, 9), R.randint(0, 59), R.randint(0, 59), R.randint(0, 999)),
                              "%d.%03dms" % (R.randint(0, 9999), R.randint(0, 999)), "%dµs" % R.randint(1, 99999),
                              "PT%dM%dS" % (R.randint(0, 59), R.randint(0, 59))]),
    "mac_address": lambda: ":".join(rs(HEX, 2) for _ in range(6)),
    "ga_id": lambda: pick(["UA-%d-%d" % (R.randint(10**7, 10**8), R.randint(1, 9)), "G-" + rs(string.ascii_uppercase + string.digits, 10),
                           "GTM-" + rs(string.ascii_uppercase + string.digits, 7)]),
    "user_agent": lambda: pick(["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Safari/537.36" % (R.randint(110, 131), R.randint(5000, 6999), R.randint(10, 250)),
                                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                                "okhttp/4.%d.%d" % (R.randint(0, 12), R.randint(0, 9)), "curl/8.%d.%d" % (R.randint(0, 11), R.randint(0, 3))]),
    "byte_count": lambda: "{:,}".format(R.randint(10**6, 10**10)).replace(",", pick([",", NBSP, THIN])) + " bytes",
    "pid": lambda: str(R.randint(1000, 4194304)),
}

NEG_KEYS = {
    "uuid": ["request_id", "order_uuid", "correlation_id"], "trace_id": ["trace_id", "traceId"],
    "span_id": ["span_id", "spanId", "parent_span_id"], "sha256": ["checksum", "sha256", "digest"],
    "git_sha": ["commit", "git_sha", "revision"], "semver_build": ["version", "app_version", "release"],
    "docker_tag": ["image"], "k8s_uid": ["uid", "pod_uid"], "epoch_ms": ["ts_ms", "timestamp_ms", "created_at"],
    "epoch_us": ["ts_us", "time_us", "start_us"], "iso_date": ["ship_date", "due_date", "report_date"],
    "rfc3339": ["time", "ts", "@timestamp"], "http_status_line": ["status_line"], "line_col": ["caller", "source"],
    "host_port": ["upstream", "addr", "endpoint"], "amount": ["amount", "total", "balance"],
    "version4": ["app_version", "build", "file_version"], "kr_rep_number": ["cs_tel", "대표번호", "hotline"],
    "ean13": ["barcode", "ean", "gtin"], "upc_a": ["upc", "barcode"], "non_luhn_16": ["order_id", "invoice_no", "txn_id"],
    "non_rrn_13": ["shipment_no", "tracking_no", "waybill"], "duration": ["elapsed", "duration", "latency"],
    "mac_address": ["mac", "hw_addr"], "ga_id": ["ga_id", "tracking_id", "gtm_container"],
    "user_agent": ["user_agent", "User-Agent"], "byte_count": ["size", "bytes_sent"], "pid": ["pid", "thread_id"],
}

# ------------------------------------------------------------------ how a value is written

WORDS = {
    "email": ["email", "e-mail", "이메일", "contact"], "kr_mobile": ["phone", "휴대폰", "연락처", "mobile"],
    "kr_safe_number": ["안심번호", "safe number", "virtual number"], "us_phone": ["phone", "call", "tel", "callback"],
    "phone_intl": ["phone", "mobile", "tel"], "credit_card": ["card", "card number", "카드번호", "PAN"],
    "kr_rrn": ["주민등록번호", "RRN", "주민번호"], "kr_frn": ["외국인등록번호", "FRN", "alien registration"],
    "kr_brn": ["사업자등록번호", "business number", "BRN"], "kr_bank_account": ["계좌번호", "account", "계좌"],
    "kr_driver_license": ["운전면허번호", "driver license", "면허번호"], "kr_passport": ["passport", "여권번호"],
    "date_of_birth": ["DOB", "date of birth", "생년월일", "born"], "iban": ["IBAN", "iban"],
    "us_ssn": ["SSN", "social security number"], "ipv4": ["client", "from", "peer"], "ipv6": ["client", "from", "peer"],
    "jwt": ["token", "id_token"], "aws_access_key": ["access key", "AccessKeyId"],
    "aws_secret_key": ["secret access key", "aws_secret_access_key"], "password": ["password", "pwd", "비밀번호"],
}

PLAIN_WORD_TYPES = {"email", "ipv4", "ipv6", "jwt", "github_token", "gitlab_token", "slack_token",
                    "slack_webhook", "google_api_key", "stripe_key", "openai_key", "anthropic_key",
                    "hf_token", "sendgrid_key", "twilio_key", "npm_token", "pypi_token", "vendor_key",
                    "aws_access_key", "private_key", "url_password", "credit_card", "iban", "kr_rrn",
                    "kr_frn", "phone_intl", "kr_mobile", "us_phone", "kr_passport"}


def decorate(ty, it, shape):
    """Wrap a value as the shape writes it: headers, cookies, brackets, extensions."""
    core = it["text"]
    disp = core
    if ty == "bearer_token":
        disp = it["text"]
        core = it["value"]
    elif ty == "basic_auth":
        core = it["value"]
    elif ty == "session_cookie":
        disp = "%s=%s" % (it["cookie"], core)
    elif ty == "url_secret":
        disp = "https://%s/%s?%s=%s&lang=ko" % (pick(["cdn.example.com", "api.example.net", "files.example.org"]),
                                                  pick(["download", "v2/export", "callback"]), it["param"], core)
    elif ty == "email" and R.random() < 0.3:
        disp = "%s <%s>" % (pick(["Kim Minji", "John Smith", "Ana Lima"]), core)
        it["variant"] += "/angle"
    elif ty == "ipv6" and R.random() < 0.5:
        disp = "[%s]:%d" % (core, R.randint(1024, 65535))
        it["variant"] += "/bracket_port"
    elif ty == "us_phone" and R.random() < 0.35:
        disp = core + pick([" ext. %d", " x%d", " ext %d", ";ext=%d"]) % R.randint(10, 9999)
        it["variant"] += "/ext"
    return core, disp


def camel(k):
    parts = [p for p in k.replace(".", "_").replace("-", "_").split("_") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or k


def ascii_key(k):
    return all(ord(c) < 128 for c in k)


# escapes per shape
def esc_sd(s):
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def esc_logfmt(s):
    if s and all(c not in s for c in ' "=\n\\') and all(ord(c) > 32 for c in s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def esc_csv(s):
    if any(c in s for c in ',"\n '):
        return '"' + s.replace('"', '""') + '"'
    return s


def esc_xml(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_sql(s):
    return "'" + s.replace("'", "''") + "'"


def esc_ex(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def core_raw(rendered, core, esc_inner):
    """The raw text of the value: its escaped core, found inside the rendered field."""
    c = esc_inner(core)
    return c if c in rendered else rendered

# ------------------------------------------------------------------ shapes (text)

HOSTS = ["web-7f9c", "api-01", "edge-lb2", "worker-3", "pay-gw"]
APPS = ["orders", "billing", "auth", "gateway", "notifier"]


def ts():
    y, m, d = rand_date(2025, 2026)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (y, m, d, R.randint(0, 23), R.randint(0, 59), R.randint(0, 59), R.randint(0, 999))


def shape_syslog(fields):
    sd, msg, raws = [], [], []
    for i, f in enumerate(fields):
        k = f["key"]
        if i % 2 == 0 and ascii_key(k) and len(k) <= 32 and all(c not in k for c in '= ]"'):
            r = esc_sd(f["disp"])
            sd.append('%s="%s"' % (k, r))
            raws.append(core_raw(r, f["core"], esc_sd))
        else:
            r = f["disp"]
            msg.append("%s=%s" % (k, r) if R.random() < 0.6 else "%s: %s" % (k, r))
            raws.append(f["core"] if f["core"] in r else r)
    doc = "<%d>1 %s %s %s %d %s [%s@32473 %s] %s %s" % (
        R.choice([134, 165, 11, 86]), ts(), pick(HOSTS), pick(APPS), R.randint(100, 99999),
        pick(["ID47", "AUDIT", "-", "REQ"]), pick(["meta", "req", "audit"]), " ".join(sd) or 'seq="1"',
        pick(["request handled", "user updated", "audit event", "payment attempt"]), ", ".join(msg))
    return doc, raws


def shape_logfmt(fields):
    def raw_of(r, core):
        inner = esc_logfmt(core)
        inner = inner[1:-1] if inner.startswith('"') else inner
        return inner if inner in r else r
    parts, raws = [], []
    for f in fields:
        r = esc_logfmt(f["disp"])
        k = f["key"] if ascii_key(f["key"]) else f["key"]
        parts.append("%s=%s" % (k.replace(" ", "_"), r))
        raws.append(raw_of(r, f["core"]))
    doc = "time=%s level=%s msg=%s %s" % (ts(), pick(["info", "warn", "debug", "error"]),
                                          esc_logfmt(pick(["request done", "user created", "retrying", "sync"])), " ".join(parts))
    return doc, raws


def shape_csv(fields):
    header = ["id", "name"] + [f["key"] for f in fields] + ["note"]
    row = [str(R.randint(1, 99999)), esc_csv(pick(["Kim, Minji", "Smith, John", 'Lee "Jay" Park', "Ana Lima"]))]
    raws = []
    for f in fields:
        r = esc_csv(f["disp"])
        row.append(r)
        raws.append(core_raw(r, f["core"], lambda s: s.replace('"', '""')))
    row.append(esc_csv(pick(["vip, priority", "n/a", "called twice", ""])))
    return ",".join(esc_csv(h) for h in header) + "\n" + ",".join(row), raws


def shape_yaml(fields):
    lines = ["---", "kind: %s" % pick(["UserProfile", "Payment", "Secret", "Config"]), "metadata:",
             "  name: %s-%s" % (pick(APPS), rs(string.ascii_lowercase + string.digits, 5)), "spec:"]
    raws = []
    for f in fields:
        v = f["disp"]
        if "\n" in v:
            block = "\n".join("    " + ln for ln in v.split("\n"))
            lines.append("  %s: |\n%s" % (f["key"], block))
            raws.append(block.strip())
        else:
            if R.random() < 0.4 or v[:1] in "[{&*!|>'\"%@`" or ": " in v or " #" in v:
                r = '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
            else:
                r = v
            lines.append("  %s: %s" % (f["key"], r))
            raws.append(f["core"] if f["core"] in r else r)
    return "\n".join(lines), raws


def shape_sql(fields):
    table = pick(["users", "customers", "payments", "accounts", "kyc_records"])
    cols = ["id"] + [f["key"] if ascii_key(f["key"]) and all(c not in f["key"] for c in ".- ") else '"%s"' % f["key"] for f in fields]
    vals = [str(R.randint(1, 10**6))]
    raws = []
    for f in fields:
        r = esc_sql(f["disp"])
        vals.append(r)
        raws.append(core_raw(r, f["core"], lambda s: s.replace("'", "''")))
    if R.random() < 0.7:
        doc = "INSERT INTO %s (%s) VALUES (%s);" % (table, ", ".join(cols), ", ".join(vals))
    else:
        doc = "UPDATE %s SET %s WHERE id = %s;" % (table, ", ".join("%s = %s" % (c, v) for c, v in zip(cols[1:], vals[1:])), vals[0])
    doc = pick(["", "LOG:  statement: ", "[db] slow query (%dms): " % R.randint(200, 9000), "ERROR:  duplicate key value; STATEMENT:  "]) + doc
    return doc, raws


def shape_go(fields):
    parts, raws = ["ID:%d" % R.randint(1, 99999)], []
    for f in fields:
        name = camel(f["key"]) if ascii_key(f["key"]) else f["key"]
        parts.append("%s:%s" % (name, f["disp"]))
        raws.append(f["core"] if f["core"] in f["disp"] else f["disp"])
    doc = "%s %s %s: %s &{%s CreatedAt:%s}" % (ts(), pick(["INFO", "WARN", "ERROR"]), pick(["handler.go:88", "store.go:142"]),
                                              pick(["saving user", "payload", "request", "retry"]), " ".join(parts), ts())
    return doc, raws


def shape_elixir(fields):
    parts, raws = [], []
    erl = R.random() < 0.35
    for f in fields:
        k = f["key"] if ascii_key(f["key"]) else f["key"]
        atom = k.lower().replace("-", "_").replace(".", "_")
        r = esc_ex(f["disp"])
        if erl:
            parts.append("{%s,<<%s>>}" % (atom if ascii_key(atom) else "'%s'" % atom, r))
        else:
            parts.append("%s: %s" % (atom if ascii_key(atom) else '"%s"' % atom, r))
        inner = esc_ex(f["core"])[1:-1]
        raws.append(inner if inner in r else r)
    if erl:
        doc = "=ERROR REPORT==== %s ===\n** Generic server <0.%d.0> terminating\n** Last message in was {update,[%s]}" % (
            ts(), R.randint(100, 9999), ",".join(parts))
    else:
        doc = "%s [%s] %s %%%s{%s, inserted_at: ~U[%s]}" % (
            ts()[11:23], pick(["info", "error", "debug"]), pick(["Changeset invalid:", "Processing", "Sent"]),
            pick(["MyApp.Accounts.User", "MyApp.Billing.Card", "MyApp.Kyc.Record"]), ", ".join(parts), ts()[:19] + "Z")
    return doc, raws


def shape_csharp(fields):
    raws, parts = [], []
    for f in fields:
        w = f.get("word") or f["key"]
        parts.append("%s '%s'" % (w, f["disp"]) if R.random() < 0.5 else "%s=%s" % (w, f["disp"]))
        raws.append(f["core"] if f["core"] in f["disp"] else f["disp"])
    doc = ("Unhandled exception. System.InvalidOperationException: %s (%s)\n"
           "   at Acme.%s.%s(String value) in /src/%s.cs:line %d\n"
           "   at Acme.Api.Controllers.%sController.Post() in /src/Controllers/%sController.cs:line %d") % (
        pick(["Validation failed for", "Could not charge", "Duplicate record for", "Lookup failed with"]),
        ", ".join(parts), pick(["Billing", "Kyc", "Users"]), pick(["Charge", "Verify", "Save"]),
        pick(["Billing", "Kyc", "Users"]), R.randint(10, 900), pick(["Orders", "Users"]), pick(["Orders", "Users"]), R.randint(10, 400))
    return doc, raws


def shape_nginx(fields):
    q, raws, extra = [], [], []
    for f in fields:
        k = f["key"]
        enc = urllib.parse.quote(f["disp"], safe="")
        q.append("%s=%s" % (urllib.parse.quote(k, safe=""), enc))
        c = urllib.parse.quote(f["core"], safe="")
        raws.append(c if c in enc else enc)
    doc = ('%s [error] %d#%d: *%d %s, client: %s, server: api.example.com, request: "GET /v1/%s?%s HTTP/1.1", '
           'upstream: "http://%s/v1/lookup", host: "api.example.com"') % (
        "%04d/%02d/%02d %02d:%02d:%02d" % (rand_date(2025, 2026) + (R.randint(0, 23), R.randint(0, 59), R.randint(0, 59))),
        R.randint(100, 9999), R.randint(0, 9), R.randint(1, 10**6),
        pick(["upstream timed out (110: Connection timed out) while reading response header from upstream",
              "connect() failed (111: Connection refused) while connecting to upstream",
              "upstream prematurely closed connection while reading response header from upstream"]),
        "192.0.2.%d" % R.randint(1, 254), pick(["users", "lookup", "verify"]), "&".join(q),
        "10.0.%d.%d:8080" % (R.randint(0, 255), R.randint(1, 254)))
    return doc, raws


def shape_xml(fields):
    parts, raws = [], []
    for f in fields:
        tag = camel(f["key"]) if ascii_key(f["key"]) else "Field"
        r = esc_xml(f["disp"])
        if tag == "Field":
            parts.append('<Field name="%s">%s</Field>' % (f["key"], r))
        else:
            parts.append("<%s>%s</%s>" % (tag, r, tag))
        raws.append(core_raw(r, f["core"], esc_xml))
    op = pick(["CreateCustomer", "UpdateAccount", "VerifyIdentity"])
    doc = ('<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
           '<soap:Header><wsse:Security><wsu:Timestamp><wsu:Created>%s</wsu:Created></wsu:Timestamp></wsse:Security></soap:Header>'
           '<soap:Body><%s xmlns="urn:acme:%s">%s</%s></soap:Body></soap:Envelope>') % (
        ts(), op, pick(APPS), "".join(parts), op)
    return doc, raws


def header_line(f):
    k = f["key"]
    if f["ty"] == "session_cookie":
        return "Cookie", f["disp"]
    if f["ty"] in ("bearer_token", "basic_auth"):
        return "Authorization", f["disp"]
    if k.lower().startswith("x-") or k == "Authorization":
        return k, f["disp"]
    return None


def shape_http(fields):
    method = pick(["POST", "PUT"])
    headers = ["%s /v1/%s HTTP/1.1" % (method, pick(["login", "users", "payments", "kyc"])), "Host: api.example.com",
               "User-Agent: okhttp/4.12.0"]
    form, raws, where = [], [], []
    for f in fields:
        h = header_line(f) if "\n" not in f["disp"] else None
        if h and f["kind"] == "pii":
            headers.append("%s: %s" % h)
            raws.append(f["core"] if f["core"] in h[1] else h[1])
        else:
            enc = urllib.parse.quote_plus(f["disp"], safe="")
            form.append("%s=%s" % (urllib.parse.quote_plus(f["key"], safe=""), enc))
            c = urllib.parse.quote_plus(f["core"], safe="")
            raws.append(c if c in enc else enc)
    body = "&".join(form)
    headers += ["Content-Type: application/x-www-form-urlencoded", "Content-Length: %d" % len(body.encode())]
    return "\r\n".join(headers) + "\r\n\r\n" + body, raws


def shape_curl(fields):
    args = ["curl", "-sS", "-X", "POST"]
    url_q, data, raws = [], [], [None] * len(fields)
    for i, f in enumerate(fields):
        h = header_line(f) if "\n" not in f["disp"] else None
        if h and f["kind"] == "pii":
            args.append("-H '%s: %s'" % h)
            raws[i] = f["core"] if f["core"] in h[1] else h[1]
        elif R.random() < 0.5:
            enc = urllib.parse.quote(f["disp"], safe="")
            url_q.append("%s=%s" % (urllib.parse.quote(f["key"], safe=""), enc))
            c = urllib.parse.quote(f["core"], safe="")
            raws[i] = c if c in enc else enc
        else:
            v = f["disp"].replace("'", "'\\''")
            data.append("--data-urlencode '%s=%s'" % (f["key"], v))
            raws[i] = f["core"] if f["core"] in v else v
    url = "https://api.example.com/v2/%s%s" % (pick(["customers", "charges", "tokens"]), ("?" + "&".join(url_q)) if url_q else "")
    doc = "+ " + " ".join(args + ["'%s'" % url] + data) if R.random() < 0.5 else "$ " + " ".join(args + data + ["'%s'" % url])
    return doc, raws


def shape_sentence(fields):
    parts, raws = [], []
    for f in fields:
        if f["kind"] == "pii":
            w = f.get("word")
            if w is None:
                parts.append(f["disp"])
                f["context"] = "none"
            elif any("\uac00" <= c <= "\ud7a3" for c in w):
                parts.append("%s %s" % (w + pick(["", "는", "은"]) if w[-1] != "호" else w + pick(["", "는"]), f["disp"]))
            else:
                parts.append("%s %s" % (w, f["disp"]) if R.random() < 0.5 else "%s: %s" % (w, f["disp"]))
        else:
            parts.append("%s %s" % (f["key"].replace("_", " "), f["disp"]))
        raws.append(f["core"] if f["core"] in f["disp"] else f["disp"])
    doc = "%s %s %s" % (ts(), pick(["[support]", "[kyc]", "고객 문의:", "note:"]), "; ".join(parts))
    return doc, raws


TEXT_SHAPES = {
    "syslog": shape_syslog, "logfmt": shape_logfmt, "csv": shape_csv, "yaml": shape_yaml, "sql": shape_sql,
    "go": shape_go, "elixir": shape_elixir, "csharp": shape_csharp, "nginx": shape_nginx, "xml": shape_xml,
    "http": shape_http, "curl": shape_curl, "sentence": shape_sentence,
}
MULTILINE_OK = {"logfmt", "yaml", "elixir"}

# ------------------------------------------------------------------ shapes (JSON)


def jraw(s, depth):
    for _ in range(depth):
        s = json.dumps(s, ensure_ascii=False)[1:-1]
    return s


def numeric_ok(f):
    return f["kind"] == "pii" and f["ty"] in ("credit_card", "kr_mobile", "us_ssn", "kr_bank_account", "kr_brn") \
        and f["core"].isdigit() and f["core"][0] != "0" and f["disp"] == f["core"]


def place_json(fields, root_obj, base_path, depth):
    """Put each field in an object tree; returns per-field (path, raw, location)."""
    out = []
    user = {}
    root_obj[pick(["user", "customer", "data", "attrs"])] = user
    ukey = list(root_obj.keys())[-1]
    argv = None
    for f in fields:
        if f["kind"] == "pii" and f["ty"] == "private_key" and R.random() < 0.5:
            lines = f["disp"].split("\n")
            user[f["key"] + "_lines"] = lines
            # every body line is an item of its own: each must go
            f["split"] = [(base_path + [ukey, f["key"] + "_lines", j], jraw(lines[j], depth), "array_item", lines[j])
                          for j in range(1, len(lines)) if not lines[j].startswith("-----")]
            out.append(f["split"][0][:3])
        elif f["kind"] == "pii" and f["ty"] in ("api_key", "password", "github_token", "stripe_key", "npm_token",
                                                 "slack_token", "hf_token", "openai_key") and R.random() < 0.4:
            if argv is None:
                argv = [pick(["/usr/local/bin/deploy", "psql", "python", "node"]), pick(["--verbose", "-h", "run"])]
                root_obj["argv"] = argv
            argv.append("--" + f["key"].lower().replace("_", "-"))
            argv.append(f["disp"])
            out.append((base_path + ["argv", len(argv) - 1], jraw(f["core"], depth), "argv_item"))
            f["context"] = "argv_flag"
        elif depth == 1 and numeric_ok(f) and R.random() < 0.5:
            user[f["key"]] = int(f["core"])
            out.append((base_path + [ukey, f["key"]], f["core"], "json_number"))
        else:
            user[f["key"]] = f["disp"]
            out.append((base_path + [ukey, f["key"]], jraw(f["core"], depth), "json_value"))
    return out


def shape_json_line(fields):
    obj = {"ts": ts(), "level": pick(["info", "warn", "error"]), "logger": pick(["app.users", "pay.api", "kyc"]),
           "msg": pick(["created", "updated", "request failed", "audit"])}
    nested = R.random() < 0.3
    if nested:
        inner = {"event": pick(["signup", "charge", "verify"])}
        placed = place_json(fields, inner, ["payload", "#json"], 2)
        obj["payload"] = json.dumps(inner, ensure_ascii=False)
        loc_suffix = "/nested"
    else:
        placed = place_json(fields, obj, [], 1)
        loc_suffix = ""
    doc = json.dumps(obj, ensure_ascii=False)
    return doc, [(p, r, l + loc_suffix) for p, r, l in placed]


def shape_k8s(fields):
    """A container runtime's JSON line whose `log` string holds a text shape."""
    name = pick(["logfmt", "go", "syslog", "sentence", "nginx"])
    fields = [f for f in fields]
    text, raws = TEXT_SHAPES[name](fields)
    obj = {"log": text + "\n", "stream": pick(["stdout", "stderr"]), "time": ts()}
    doc = json.dumps(obj, ensure_ascii=False)
    return doc, [(["log"], jraw(r, 1), "k8s_log/" + name) for r in raws]


def otlp_wrap(body, attrs):
    rec = {"timeUnixNano": str(R.randint(1700000000000000000, 1799999999999999999)),
           "severityNumber": 9, "severityText": "INFO", "body": body,
           "traceId": rs(HEX, 32), "spanId": rs(HEX, 16)}
    if attrs:
        rec["attributes"] = attrs
    return {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": pick(APPS)}}]},
                              "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [rec]}]}]}


RECP = ["resourceLogs", 0, "scopeLogs", 0, "logRecords", 0]


def shape_otlp(fields):
    mode = R.randrange(3)
    if mode == 0:
        name = pick(["logfmt", "syslog", "elixir", "go", "csharp", "yaml", "sentence"])
        if any("\n" in f["disp"] for f in fields):
            name = pick(["logfmt", "elixir", "yaml"])
        text, raws = TEXT_SHAPES[name](fields)
        doc = json.dumps(otlp_wrap({"stringValue": text}, None), ensure_ascii=False)
        return doc, [(RECP + ["body", "stringValue"], jraw(r, 1), "otlp_body/" + name) for r in raws]
    kv = [{"key": f["key"], "value": {"stringValue": f["disp"]}} for f in fields]
    if mode == 1:
        doc = json.dumps(otlp_wrap({"kvlistValue": {"values": kv}}, None), ensure_ascii=False)
        return doc, [(RECP + ["body", "kvlistValue", "values", i, "value", "stringValue"], jraw(f["core"], 1), "otlp_kvlist")
                     for i, f in enumerate(fields)]
    doc = json.dumps(otlp_wrap({"stringValue": pick(["request handled", "user updated"])}, kv), ensure_ascii=False)
    return doc, [(RECP + ["attributes", i, "value", "stringValue"], jraw(f["core"], 1), "otlp_attr")
                 for i, f in enumerate(fields)]


JSON_SHAPES = {"json_line": shape_json_line, "k8s": shape_k8s, "otlp": shape_otlp}

# ------------------------------------------------------------------ documents


def make_pii_field(ty):
    it = PII_TYPES[ty]()
    key = pick(KEYS[ty])
    if ty == "session_cookie":
        it["cookie"] = key
        key = pick(["cookie", "Cookie", "http.request.header.cookie"])
    if ty == "url_secret":
        it["param"] = key
        key = pick(["url", "callback_url", "download_url", "request_uri"])
    if ty in ("bearer_token", "basic_auth"):
        key = pick(["Authorization", "authorization", "http.request.header.authorization"])
    core, disp = decorate(ty, it, None)
    if ty == "session_cookie":
        disp = pick(["theme=dark; ", "lang=ko; _ga=GA1.2.%d.%d; " % (R.randint(10**8, 10**9), R.randint(10**9, 2 * 10**9)), ""]) + disp
    word = None
    if ty in WORDS:
        word = pick(WORDS[ty])
    return dict(kind="pii", ty=ty, key=key, core=core, disp=disp, it=it, word=word, context="key")


def make_keep_field(ty):
    v = NEG_TYPES[ty]()
    return dict(kind="keep", ty=ty, key=pick(NEG_KEYS[ty]), core=v, disp=v, word=None, context="key")


class Cycle:
    def __init__(self, items):
        self.items = list(items)
        self.queue = []

    def next(self):
        if not self.queue:
            self.queue = self.items[:]
            R.shuffle(self.queue)
        return self.queue.pop()


def at_path(v, path):
    for seg in path:
        v = json.loads(v) if seg == "#json" else v[seg]
    return v if isinstance(v, str) else json.dumps(v)


def build(n_docs):
    pii_cycle = Cycle(sorted(PII_TYPES))
    neg_cycle = Cycle(sorted(NEG_TYPES))
    text_names = sorted(TEXT_SHAPES)
    out = []
    for i in range(n_docs):
        npii = 0 if R.random() < 0.17 else (2 if R.random() < 0.1 else 1)
        fields = [make_pii_field(pii_cycle.next()) for _ in range(npii)]
        fields += [make_keep_field(neg_cycle.next()) for _ in range(1 if R.random() < 0.5 else 2)]
        R.shuffle(fields)
        multiline = any("\n" in f["disp"] for f in fields)
        r = R.random()
        if r < 0.62:
            name = pick(text_names)
            if multiline and name not in MULTILINE_OK:
                name = pick(sorted(MULTILINE_OK))
            if name == "sentence" and any(f["kind"] == "pii" and f["ty"] not in WORDS and f["ty"] not in PLAIN_WORD_TYPES for f in fields):
                name = "logfmt"
            if name in ("sentence", "csharp"):
                for f in fields:
                    if f["kind"] == "pii":
                        if name == "sentence" and f["ty"] in PLAIN_WORD_TYPES and (f["word"] is None or R.random() < 0.4):
                            f["word"] = None
                        elif f["word"] is None:
                            f["word"] = f["key"]
                        f["context"] = "word" if f["word"] else "none"
            if name == "sql":
                for f in fields:
                    f["context"] = "column"
            doc, raws = TEXT_SHAPES[name](fields)
            fmt = "text"
            placed = [([], r_, name) for r_ in raws]
        elif r < 0.83:
            name = "json_line" if R.random() < 0.7 else "k8s"
            if name == "k8s" and multiline:
                name = "json_line"
            doc, placed = JSON_SHAPES[name](fields)
            fmt = "line"
        else:
            name = "otlp"
            doc, placed = shape_otlp(fields)
            fmt = "otlp"
        rec = {"id": "fourth-%04d" % i, "format": fmt, "doc": doc, "pii": [], "keep": []}
        expanded = []
        for f, pl in zip(fields, placed):
            if f.get("split"):
                for path, raw, loc, line in f["split"]:
                    g = dict(f, value_override=line)
                    g["it"] = dict(f["it"], fragments=[line], variant="array_line/" + f["it"]["variant"])
                    expanded.append((g, (path, raw, loc)))
            else:
                expanded.append((f, pl))
        for f, (path, raw, loc) in expanded:
            assert raw in doc, (name, f["ty"], raw, doc)
            if f["kind"] == "pii":
                it = f["it"]
                value = f.get("value_override") or it["value"]
                if fmt != "text":
                    leaf = at_path(json.loads(doc), path)
                    if value not in leaf and raw not in leaf:
                        # A multi-line value escaped by the text shape inside the string: the
                        # label names its first body line (all lines are fragments).
                        value = it["fragments"][0]
                        assert value in leaf, (f["ty"], doc)
                p = {"type": f["ty"], "variant": it["variant"], "value": value, "raw": raw, "location": loc,
                     "context": f["context"], "key": f["key"], "path": path}
                dg = [d for d in it.get("digits", []) if len(d) >= 9]
                if dg:
                    p["digits"] = dg
                if it.get("fragments"):
                    p["fragments"] = [x for x in it["fragments"] if len(x) >= 8]
                rec["pii"].append(p)
            else:
                exact = fmt != "text" and loc in ("json_value", "otlp_kvlist", "otlp_attr")
                if fmt == "text":
                    kv = raw
                elif exact:
                    kv = f["core"]
                else:
                    # as the text shape wrote it (percent-encoded in a query), JSON-unescaped
                    kv = json.loads('"' + raw + '"')
                rec["keep"].append({"type": f["ty"], "value": kv, "path": path,
                                    "match": "exact" if exact else "contains"})
        out.append(rec)
    return out


def main():
    docs = build(2000)
    text = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    path = os.path.join(HERE, "corpus.jsonl")
    if "--check" in sys.argv:
        with open(path, encoding="utf-8") as fh:
            if fh.read() != text:
                sys.exit("corpus.jsonl differs from what gen_fourth.py writes")
        return
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    n_pii = sum(len(d["pii"]) for d in docs)
    n_keep = sum(len(d["keep"]) for d in docs)
    print("%d documents, %d PII items, %d hard negatives" % (len(docs), n_pii, n_keep))


if __name__ == "__main__":
    main()
