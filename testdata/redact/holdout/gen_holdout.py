#!/usr/bin/env python3
"""Held-out redaction corpus: real-world log shapes, values from public format definitions.

Writes testdata/redact/holdout/corpus.jsonl in the record format of the evaluation set
(testdata/redact/eval/README.md, "Records"). Standard library only, fixed seed:

    python3 testdata/redact/holdout/gen_holdout.py           # (re)write corpus.jsonl
    python3 testdata/redact/holdout/gen_holdout.py --check   # fail if the file differs

The documents are the shapes logs take in production rather than the shapes a detector is
written for: nginx/Apache combined access lines, Kubernetes container logs (a JSON line whose
`log` string holds the application's JSON line), logfmt, syslog, Go/Java/Python/Node error
dumps, PostgreSQL statement logs with literals, raw HTTP request dumps, CSV rows inside
strings, YAML-ish config dumps, Korean/English chat-style application logs, OTLP/JSON exports.
Values sit at the end of sentences, inside brackets, quotes and Korean corner brackets, in
upper and lower case, and in `name`/`value` pairs.
"""

import base64
import hashlib
import json
import os
import random
import string
import sys
import urllib.parse

SEED = 20261206
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus.jsonl")

R = random.Random(SEED)

B62 = string.ascii_letters + string.digits
B64 = B62 + "+/"
B64URL = B62 + "-_"
HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"


def rs(alphabet, n):
    return "".join(R.choice(alphabet) for _ in range(n))


def rs_digit(alphabet, n):
    """A random string that holds at least one digit and one letter."""
    while True:
        s = rs(alphabet, n)
        if any(c.isdigit() for c in s) and any(c.isalpha() for c in s):
            return s


def digits(n, first="0123456789"):
    return R.choice(first) + "".join(R.choice(string.digits) for _ in range(n - 1))


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


# ------------------------------------------------------------------ checksums


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
    return luhn_digit(n[:-1]) == n[-1]


def real_date(y, m, d):
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return 1 <= m <= 12 and 1 <= d <= days[m - 1]


def gtin_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


def mod97(s):
    rem = 0
    for ch in s:
        rem = (rem * (100 if ch.isalpha() else 10) + int(ch, 36)) % 97
    return rem


# ------------------------------------------------------------------ PII values
# Each returns (value, variant, extra) where extra may hold "digits" and "fragments".


def rand_date(y0, y1):
    while True:
        y, m, d = R.randint(y0, y1), R.randint(1, 12), R.randint(1, 31)
        if real_date(y, m, d):
            return y, m, d


FIRST = ["kim", "lee", "park", "choi", "jung", "kang", "cho", "yoon", "jang", "lim",
         "john", "maria", "wei", "aiko", "omar", "sofia", "liam", "noah", "emma", "olivia"]
LAST = ["minsu", "jiwoo", "seoyeon", "hyunwoo", "smith", "garcia", "tanaka", "nguyen",
        "mueller", "rossi", "dubois", "silva", "kowalski", "obrien", "haddad"]
DOMAINS = ["example.com", "example.org", "example.net", "naver.com", "gmail.com",
           "daum.net", "kakao.com", "hanmail.net", "mail.example.co.kr", "corp.example.io",
           "example-shop.kr", "students.example.ac.kr", "eu.example-mail.de", "outlook.com"]


def v_email():
    f, l = R.choice(FIRST), R.choice(LAST)
    local = R.choice([f"{f}.{l}", f"{f}{l}{R.randint(1, 99)}", f"{f}_{l}", f"{f}+{R.choice(['shop', 'news', 'test'])}",
                      f"{f[0]}{l}", f"{f}-{l}.{R.randint(70, 99)}", f"{l}.{f}", f"{f}{R.randint(1000, 9999)}"])
    dom = R.choice(DOMAINS)
    e = f"{local}@{dom}"
    variant = "plain"
    if R.random() < 0.15:
        e = e.upper() if R.random() < 0.5 else e[0].upper() + e[1:].replace(dom, dom.capitalize())
        variant = "mixed_case"
    elif "+" in local:
        variant = "plus_tag"
    elif dom.count(".") >= 2:
        variant = "subdomain"
    return e, variant, {}


CARD_BRANDS = [
    ("visa", lambda: "4" + digits(14), 16),
    ("visa13", lambda: "4" + digits(11), 13),
    ("mastercard", lambda: str(R.randint(51, 55)) + digits(13), 16),
    ("mastercard2", lambda: str(R.randint(2221, 2720)) + digits(11), 16),
    ("amex", lambda: R.choice(["34", "37"]) + digits(12), 15),
    ("discover", lambda: R.choice(["6011" + digits(11), "65" + digits(13), str(R.randint(644, 649)) + digits(12)]), 16),
    ("jcb", lambda: str(R.randint(3528, 3589)) + digits(11), 16),
    ("diners", lambda: R.choice(["36" + digits(11), str(R.randint(300, 305)) + digits(10)]), 14),
    ("unionpay", lambda: "62" + digits(R.choice([13, 14, 16])), None),
]


def v_card():
    brand, gen, _ = R.choice(CARD_BRANDS)
    body = gen()
    n = body + luhn_digit(body)
    style = R.choice(["plain", "plain", "space", "dash"])
    if style == "plain":
        v = n
    elif len(n) == 15:
        v = (" " if style == "space" else "-").join([n[:4], n[4:10], n[10:]])
    elif len(n) == 14:
        v = (" " if style == "space" else "-").join([n[:4], n[4:10], n[10:]])
    else:
        sep = " " if style == "space" else "-"
        v = sep.join(n[i:i + 4] for i in range(0, len(n), 4))
    return v, f"{brand}_{style}", {"digits": [n]}


IBAN_LAYOUT = {  # country: list of (kind, length) after the check digits
    "DE": [("n", 18)], "GB": [("a", 4), ("n", 14)], "FR": [("n", 10), ("c", 11), ("n", 2)],
    "ES": [("n", 20)], "IT": [("a", 1), ("n", 10), ("c", 12)], "NL": [("a", 4), ("n", 10)],
    "BE": [("n", 12)], "CH": [("n", 5), ("c", 12)], "PL": [("n", 24)], "SA": [("n", 2), ("c", 18)],
    "AE": [("n", 19)], "NO": [("n", 11)], "SE": [("n", 20)], "AT": [("n", 16)], "IE": [("a", 4), ("n", 14)],
}


def v_iban():
    cc = R.choice(sorted(IBAN_LAYOUT))
    bban = ""
    for kind, n in IBAN_LAYOUT[cc]:
        alpha = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[kind]
        bban += rs(alpha, n)
    check = 98 - mod97(bban + cc + "00")
    iban = f"{cc}{check:02d}{bban}"
    assert mod97(iban[4:] + iban[:4]) == 1
    if R.random() < 0.4:
        v, variant = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)), f"{cc}_print"
    else:
        v, variant = iban, f"{cc}_electronic"
    return v, variant, {}


def v_ipv4():
    kind = R.choice(["doc", "doc", "public", "public", "cgnat"])
    if kind == "doc":
        v = R.choice(["192.0.2", "198.51.100", "203.0.113"]) + f".{R.randint(1, 254)}"
    elif kind == "cgnat":
        v = f"100.{R.randint(64, 127)}.{R.randint(0, 255)}.{R.randint(1, 254)}"
    else:
        a = R.choice([1, 8, 23, 31, 45, 52, 61, 77, 91, 104, 110, 121, 175, 180, 211, 220])
        v = f"{a}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"
    return v, kind, {}


def v_ipv6():
    groups = ["2001", "db8"] + [f"{R.randint(0, 0xffff):x}" for _ in range(6)]
    kind = R.choice(["full", "compressed", "compressed", "mapped", "upper", "short"])
    if kind == "full":
        v = ":".join(g.zfill(4) for g in groups)
    elif kind == "compressed":
        v = ":".join(groups[:R.randint(2, 4)]) + "::" + ":".join(groups[-R.randint(1, 2):])
    elif kind == "mapped":
        v = f"::ffff:203.0.113.{R.randint(1, 254)}"
    elif kind == "upper":
        v = (R.choice(["2400:CB00", "2406:DA14", "2A03:2880"]) + ":" + ":".join(
            f"{R.randint(1, 0xffff):X}" for _ in range(2)) + "::" + f"{R.randint(1, 0xffff):X}")
    else:
        v = R.choice(["2001:db8::", "2404:6800:4004::", "2a00:1450:400e::"]) + f"{R.randint(1, 0xfff):x}"
    return v, kind, {}


def v_jwt():
    header = R.choice([
        {"alg": "HS256", "typ": "JWT"},
        {"typ": "JWT", "alg": "RS256"},
        {"kid": rs(B62, 16), "alg": "RS256"},
        {"alg": "ES256", "kid": rs(HEX, 8), "typ": "JWT"},
    ])
    payload = {"sub": str(R.randint(10000, 999999)), "iat": 1765000000 + R.randint(0, 9999999)}
    if R.random() < 0.5:
        payload["email"] = v_email()[0]
    if R.random() < 0.5:
        payload["scope"] = R.choice(["read write", "openid profile", "orders:read"])
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(payload, separators=(",", ":")).encode())
    s = b64url(bytes(R.randrange(256) for _ in range(R.choice([32, 64, 256]))))
    return f"{h}.{p}.{s}", header["alg"], {"fragments": [p, s]}


def nanp():
    while True:
        area = f"{R.randint(2, 9)}{R.randint(0, 8)}{R.randint(0, 9)}"
        exch = f"{R.randint(2, 9)}{R.randint(0, 9)}{R.randint(0, 9)}"
        if exch[1:] != "11" and area[1:] != "11":
            return area, exch, f"{R.randint(0, 9999):04d}"


def v_us_phone():
    a, e, s = nanp()
    form = R.choice(["paren", "dash", "dot", "one_dash", "plus_space", "plus_dash", "e164", "paren_nospace"])
    v = {"paren": f"({a}) {e}-{s}", "dash": f"{a}-{e}-{s}", "dot": f"{a}.{e}.{s}",
         "one_dash": f"1-{a}-{e}-{s}", "plus_space": f"+1 {a} {e} {s}", "plus_dash": f"+1-{a}-{e}-{s}",
         "e164": f"+1{a}{e}{s}", "paren_nospace": f"({a}){e}-{s}"}[form]
    return v, form, {"digits": [a + e + s]}


def v_us_phone_plain():
    a, e, s = nanp()
    form = R.choice(["plain", "space"])
    v = a + e + s if form == "plain" else f"{a} {e} {s}"
    return v, form, {"digits": [a + e + s]}


def ssn():
    while True:
        area = R.randint(1, 899)
        if area != 666:
            return f"{area:03d}", f"{R.randint(1, 99):02d}", f"{R.randint(1, 9999):04d}"


def v_ssn_dash():
    a, g, s = ssn()
    return f"{a}-{g}-{s}", "dash", {"digits": [a + g + s]}


def v_ssn_plain():
    a, g, s = ssn()
    if R.random() < 0.5:
        return a + g + s, "plain", {"digits": [a + g + s]}
    return f"{a} {g} {s}", "space", {"digits": [a + g + s]}


def registration(foreigner):
    while True:
        y, m, d = rand_date(1940, 2019)
        if foreigner:
            g = R.choice([5, 6]) if y < 2000 else R.choice([7, 8])
            rest = f"{R.randint(0, 4) * 2:02d}{R.randint(0, 99):02d}{R.randint(6, 9)}"
        else:
            g = R.choice([1, 2]) if y < 2000 else R.choice([3, 4])
            rest = f"{R.randint(0, 9999):04d}{R.randint(1, 9)}"
        body = f"{y % 100:02d}{m:02d}{d:02d}{g}{rest}"
        w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
        total = sum(int(body[i]) * w[i] for i in range(12))
        check = ((13 if foreigner else 11) - total % 11) % 10
        n = body + str(check)
        return n


def v_rrn(foreigner=False):
    n = registration(foreigner)
    form = R.choice(["dash", "dash", "dash", "plain", "space"])
    v = {"dash": f"{n[:6]}-{n[6:]}", "plain": n, "space": f"{n[:6]} {n[6:]}"}[form]
    return v, form, {"digits": [n]}


def v_frn():
    return v_rrn(True)


def brn():
    while True:
        body = f"{R.randint(101, 899)}{R.randint(1, 99):02d}{R.randint(0, 9999):04d}"
        w = [1, 3, 7, 1, 3, 7, 1, 3, 5]
        total = sum(int(body[i]) * w[i] for i in range(9)) + int(body[8]) * 5 // 10
        return body + str((10 - total % 10) % 10)


def v_brn_dash():
    n = brn()
    return f"{n[:3]}-{n[3:5]}-{n[5:]}", "dash", {"digits": [n]}


def v_brn_plain():
    n = brn()
    return n, "plain", {"digits": [n]}


def v_kr_mobile():
    p = R.choice(["010"] * 8 + ["011", "016", "019"])
    mid = f"{R.randint(2000, 9999)}" if p == "010" else R.choice([f"{R.randint(200, 999)}", f"{R.randint(2000, 9999)}"])
    last = f"{R.randint(0, 9999):04d}"
    nat = p + mid + last
    form = R.choice(["dash", "dash", "plain", "space", "dot", "plus82", "plus82_dash", "plus82_compact",
                     "0082", "plus82_paren0"])
    rest = p[1:]
    v = {"dash": f"{p}-{mid}-{last}", "plain": nat, "space": f"{p} {mid} {last}", "dot": f"{p}.{mid}.{last}",
         "plus82": f"+82 {rest}-{mid}-{last}", "plus82_dash": f"+82-{rest}-{mid}-{last}",
         "plus82_compact": f"+82{rest}{mid}{last}", "0082": f"0082-{rest}-{mid}-{last}",
         "plus82_paren0": f"+82 (0){rest}-{mid}-{last}"}[form]
    d = [nat] + ([f"82{rest}{mid}{last}"] if "82" in form else [])
    return v, form, {"digits": d}


AREAS = ["02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054", "055",
         "061", "062", "063", "064", "070"]


def v_kr_landline():
    a = R.choice(AREAS)
    mid = f"{R.randint(200, 999)}" if (a != "070" and R.random() < 0.4) else f"{R.randint(2000, 9999)}"
    last = f"{R.randint(0, 9999):04d}"
    form = R.choice(["dash", "dash", "dash", "paren", "space", "plus82"])
    v = {"dash": f"{a}-{mid}-{last}", "paren": f"({a}) {mid}-{last}", "space": f"{a} {mid} {last}",
         "plus82": f"+82-{a[1:]}-{mid}-{last}"}[form]
    return v, f"{form}_{'seoul' if a == '02' else 'voip' if a == '070' else 'regional'}", {"digits": [a + mid + last]}


def v_kr_landline_plain():
    a = R.choice(AREAS[:-1])
    # The subscriber number: an exchange of 3 or 4 digits (first 2-9), then 4 digits.
    n = a + str(R.randint(2, 9)) + digits(R.choice([2, 3])) + f"{R.randint(0, 9999):04d}"
    return n, "plain", {"digits": [n]}


def v_safe():
    p = R.choice(["0502", "0503", "0504", "0505", "0506", "0507", "0508"])
    if R.random() < 0.6:
        mid, last = f"{R.randint(200, 999)}", f"{R.randint(0, 9999):04d}"
    else:
        mid, last = f"{R.randint(1000, 9999)}", f"{R.randint(0, 9999):04d}"
    form = R.choice(["dash", "dash", "plain", "space"])
    v = {"dash": f"{p}-{mid}-{last}", "plain": p + mid + last, "space": f"{p} {mid} {last}"}[form]
    return v, form, {"digits": [p + mid + last]}


BANKS = [  # (Korean name, English name, groups)
    ("국민은행", "KB Kookmin", [6, 2, 6]), ("신한은행", "Shinhan", [3, 3, 6]), ("우리은행", "Woori", [4, 3, 6]),
    ("하나은행", "Hana", [3, 6, 5]), ("농협", "NongHyup", [3, 4, 4, 2]), ("기업은행", "IBK", [3, 6, 2, 3]),
    ("카카오뱅크", "KakaoBank", [4, 2, 7]), ("토스뱅크", "Toss Bank", [4, 4, 4]), ("SC제일은행", "SC First", [3, 2, 6]),
    ("부산은행", "Busan Bank", [3, 4, 4, 2]), ("케이뱅크", "K bank", [3, 3, 6]),
]


def v_bank():
    ko, en, groups = R.choice(BANKS)
    parts = [digits(groups[0], "123456789")] + [digits(g) for g in groups[1:]]
    n = "".join(parts)
    if R.random() < 0.25:
        return n, "plain", {"digits": [n], "bank": (ko, en)}
    return "-".join(parts), "grouped_" + "-".join(map(str, groups)), {"digits": [n], "bank": (ko, en)}


def v_license():
    region = R.randint(11, 28)
    y = R.randint(90, 99) if R.random() < 0.5 else R.randint(0, 24)
    n = f"{region}{y:02d}{R.randint(0, 999999):06d}{R.randint(0, 99):02d}"
    if R.random() < 0.7:
        return f"{n[:2]}-{n[2:4]}-{n[4:10]}-{n[10:]}", "dash", {"digits": [n]}
    return n, "plain", {"digits": [n]}


def v_dob():
    y, m, d = rand_date(1935, 2012)
    form = R.choice(["iso", "iso", "slash_ymd", "dot", "dot_space", "korean", "compact", "us", "eu", "iso_time"])
    v = {"iso": f"{y}-{m:02d}-{d:02d}", "slash_ymd": f"{y}/{m:02d}/{d:02d}", "dot": f"{y}.{m:02d}.{d:02d}",
         "dot_space": f"{y}. {m}. {d}.", "korean": f"{y}년 {m}월 {d}일", "compact": f"{y}{m:02d}{d:02d}",
         "us": f"{m:02d}/{d:02d}/{y}", "eu": f"{d:02d}.{m:02d}.{y}", "iso_time": f"{y}-{m:02d}-{d:02d}T00:00:00Z"}[form]
    return v, form, {}


PW_WORDS = ["spring", "tiger", "Seoul", "hello", "summer", "dragon", "coffee", "qwerty", "monkey", "admin", "love",
            "p@ss", "Welcome", "Secret", "sunny", "Blue"]


def v_password():
    kind = R.choice(["word_digits", "symbols", "random", "pin", "korean_mix"])
    if kind == "word_digits":
        v = R.choice(PW_WORDS) + str(R.randint(1, 9999)) + R.choice(["", "!", "#", "@", "$"])
    elif kind == "symbols":
        v = R.choice(PW_WORDS).capitalize() + R.choice(["!", "@", "#", "$", "%", "&", "*"]) + str(R.randint(10, 99)) + R.choice(["?", "!", "~"])
    elif kind == "random":
        v = rs_digit(B62 + "!@#$%^&*", R.randint(10, 20))
    elif kind == "pin":
        v = f"{R.randint(0, 999999):06d}" if R.random() < 0.5 else f"{R.randint(0, 9999):04d}"
    else:
        v = R.choice(["qwer", "asdf", "zxcv"]) + str(R.randint(1000, 9999)) + R.choice(["!", "^^", "**"])
    return v, kind, {}


def v_basic():
    user = R.choice(FIRST) + R.choice(["", str(R.randint(1, 99)), "_admin", ".svc"])
    pw = v_password()[0]
    tok = base64.b64encode(f"{user}:{pw}".encode()).decode()
    return tok, "basic", {"fragments": [f"{user}:{pw}"]}


URL_USERINFO_SAFE = "!$&'()*+,;=-._~"  # RFC 3986 unreserved and sub-delims: the rest is %-encoded


def v_url_cred():
    pw, _, _ = v_password()
    scheme = R.choice(["postgres", "postgresql", "mysql", "redis", "amqp", "mongodb+srv", "https", "ftp", "smtp"])
    return pw, scheme, {"userinfo": urllib.parse.quote(pw, safe=URL_USERINFO_SAFE)}


def v_session():
    name = R.choice(["JSESSIONID", "PHPSESSID", "sessionid", "connect.sid", "_session_id", "ASP.NET_SessionId",
                     "laravel_session", "SESSION", "sid", "session"])
    if name == "JSESSIONID":
        v = rs("0123456789ABCDEF", 32) + R.choice(["", ".node1"])
    elif name == "PHPSESSID":
        v = rs("abcdefghijklmnopqrstuv0123456789", 26)
    elif name == "connect.sid":
        v = "s%3A" + rs_digit(B64URL, 32) + "." + rs_digit(B64URL, 43)
    elif name == "ASP.NET_SessionId":
        v = rs("abcdefghijklmnopqrstuvwxyz012345", 24)
    elif name == "laravel_session":
        v = b64url(bytes(R.randrange(256) for _ in range(60)))
    else:
        v = rs_digit(B62, R.choice([32, 40]))
    if not any(c.isdigit() for c in v):
        v = v[:-1] + "7"
    return v, name, {"cookie": name}


def v_private_key():
    kind = R.choice(["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY",
                     "ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY"])
    nlines = R.randint(3, 8)
    lines = [base64.b64encode(bytes(R.randrange(256) for _ in range(48))).decode() for _ in range(nlines)]
    lines[-1] = lines[-1][:R.randint(12, 60)]
    truncated = R.random() < 0.15
    if truncated:
        body = lines[:R.randint(2, nlines - 1)]
        pem = f"-----BEGIN {kind}-----\n" + "\n".join(body)
        frags = body
    else:
        pem = f"-----BEGIN {kind}-----\n" + "\n".join(lines) + f"\n-----END {kind}-----"
        frags = lines
    return pem, kind.replace(" ", "_").lower() + ("_truncated" if truncated else ""), {"fragments": [f for f in frags if len(f) >= 12]}


def v_aws_access():
    p = R.choice(["AKIA", "AKIA", "ASIA"])
    return p + rs(B32, 16), p, {}


def v_aws_secret():
    while True:
        s = rs(B64, 40)
        if any(c.isupper() for c in s) and any(c.islower() for c in s) and any(c.isdigit() for c in s):
            return s, "secret40", {}


def v_github():
    kind = R.choice(["ghp_", "gho_", "ghs_", "ghu_", "github_pat_"])
    if kind == "github_pat_":
        return "github_pat_" + rs(B62, 22) + "_" + rs(B62, 59), kind, {}
    return kind + rs_digit(B62, 36), kind, {}


def v_gitlab():
    return "glpat-" + rs_digit(B62 + "-_", 20), "glpat", {}


def v_slack_token():
    kind = R.choice(["xoxb", "xoxp", "xoxa", "xoxb"])
    if kind == "xoxb":
        v = f"xoxb-{digits(11, '123456789')}-{digits(13, '123456789')}-{rs_digit(B62, 24)}"
    elif kind == "xoxp":
        v = f"xoxp-{digits(11, '123456789')}-{digits(11, '123456789')}-{digits(13, '123456789')}-{rs(HEX, 32)}"
    else:
        v = f"xoxa-2-{digits(11, '123456789')}-{digits(12, '123456789')}-{rs(HEX, 64)}"
    return v, kind, {}


def v_slack_webhook():
    t, b, s = "T" + rs(string.ascii_uppercase + string.digits, 8), "B" + rs(string.ascii_uppercase + string.digits, 10), rs_digit(B62, 24)
    return f"https://hooks.slack.com/services/{t}/{b}/{s}", "services", {"fragments": [s]}


def v_stripe():
    p = R.choice(["sk_live_", "rk_live_", "sk_live_"])
    return p + rs_digit(B62, R.choice([24, 99])), p.rstrip("_"), {}


def v_google():
    return "AIza" + rs_digit(B62 + "-_", 35), "AIza", {}


def v_sendgrid():
    return "SG." + rs_digit(B64URL, 22) + "." + rs_digit(B64URL, 43), "SG", {}


def v_twilio():
    p = R.choice(["SK", "AC"])
    return p + rs(HEX, 32), p, {}


def v_openai():
    if R.random() < 0.5:
        return "sk-" + rs_digit(B62, 48), "sk", {}
    return "sk-proj-" + rs_digit(B64URL, 74) + "T3BlbkFJ" + rs_digit(B64URL, 74), "sk-proj", {}


def v_npm():
    return "npm_" + rs_digit(B62, 36), "npm", {}


def v_pypi():
    return "pypi-AgEIcHlwaS5vcmc" + rs_digit(B64URL, R.choice([60, 140])), "pypi", {}


def v_generic():
    kind = R.choice(["hex32", "hex40", "b62_32", "b64url_40"])
    v = {"hex32": rs(HEX, 32), "hex40": rs(HEX, 40), "b62_32": rs_digit(B62, 32), "b64url_40": rs_digit(B64URL, 40)}[kind]
    while not any(c.isdigit() for c in v) or not any(c.isalpha() for c in v):
        v = rs(HEX, len(v))
    return v, kind, {}


E164 = [("44", "20", 8), ("49", "30", 8), ("81", "3", 8), ("33", "1", 8), ("61", "2", 8), ("86", "10", 8),
        ("65", "", 8), ("852", "", 8), ("1", "", 0)]


def v_intl():
    cc, area, n = R.choice(E164[:-1])
    sub = str(R.randint(2, 9)) + digits(n - 1)
    form = R.choice(["compact", "spaced", "dashed"])
    if form == "compact":
        v = f"+{cc}{area}{sub}"
    elif form == "spaced":
        v = f"+{cc} {area + ' ' if area else ''}{sub[:4]} {sub[4:]}"
    else:
        v = f"+{cc}-{area + '-' if area else ''}{sub[:4]}-{sub[4:]}"
    return v, f"{form}_{cc}", {"digits": [f"{cc}{area}{sub}"]}


# ------------------------------------------------------------------ how each type is written
# Each type: value generator(s) and the ways it appears.
#   text: list of (context, fn(raw) -> fragment of a text line)
#   keys: list of (context, key) for a JSON member holding the value
#   url:  list of query parameter names (the value then percent-encoded), or []
# Contexts: key (a key names it), word (a marking word before it in text),
#           none (nothing marks it), innocuous (a key that says nothing about it),
#           pair (a name/value pair: the name in a sibling member).

def t(*xs):
    return list(xs)


CLOSERS = [".", ",", ")", "」", "]", ";", "!", "'", "\"", ">"]


def around_none(raw):
    pats = [
        "user {} logged in", "sent receipt to {}.", "contact: {}", "(from {})", "「{}」", "[{}]", "<{}>",
        "'{}'", "\"{}\"", "value={},", "got {}; retrying", "{} 님 로그인", "{}로 발송 완료", "{}에서 요청",
        "customer {} requested refund", "forwarded for {}", "{}", "to:{}", "owner={}", "(id {})",
    ]
    if raw.isdigit():
        # `[12345]` alone in a string is a JSON array of a number, not text.
        pats[pats.index("[{}]")] = "[#{}]"
    return R.choice(pats).format(raw)


TYPES = {}


def reg(name, gen, text, keys, url=(), numeric=False, gens=None):
    TYPES[name] = dict(gen=gen, text=text, keys=keys, url=list(url), numeric=numeric, gens=gens or {})


reg("email", v_email,
    [("none", around_none), ("word", lambda r: f"email {r}"), ("word", lambda r: f"메일주소는 {r}입니다."),
     ("none", lambda r: f"mailto:{r}"), ("none", lambda r: f"Reply-To: \"Kim\" <{r}>")],
    [("key", "email"), ("key", "userEmail"), ("key", "contact_email"), ("key", "e-mail"), ("key", "이메일"),
     ("innocuous", "recipient"), ("innocuous", "to"), ("innocuous", "value"), ("innocuous", "owner"), ("innocuous", "login")],
    url=["email", "to", "login_hint", "u", "username"])
reg("credit_card", v_card,
    [("none", around_none), ("word", lambda r: f"card {r} declined"), ("word", lambda r: f"카드번호 {r} 승인"),
     ("word", lambda r: f"pan={r}"), ("none", lambda r: f"charge failed for {r}.")],
    [("key", "card_number"), ("key", "cardNumber"), ("key", "pan"), ("key", "cc"), ("key", "카드번호"),
     ("innocuous", "value"), ("innocuous", "input"), ("innocuous", "ref")],
    url=["card", "cc_number", "pan"], numeric=True)
reg("iban", v_iban,
    [("none", around_none), ("word", lambda r: f"IBAN {r}"), ("word", lambda r: f"payout to IBAN: {r}."),
     ("none", lambda r: f"beneficiary account {r},")],
    [("key", "iban"), ("key", "IBAN"), ("key", "beneficiary_iban"), ("innocuous", "account_ref"), ("innocuous", "value")],
    url=["iban"])
reg("ipv4", v_ipv4,
    [("none", around_none), ("word", lambda r: f"client_ip={r}"), ("none", lambda r: f"connection from {r}:{R.randint(1024, 65535)}"),
     ("word", lambda r: f"X-Forwarded-For: {r}, 10.0.{R.randint(0, 255)}.{R.randint(1, 254)}"),
     ("none", lambda r: f"dial tcp {r}:443: i/o timeout"), ("word", lambda r: f"접속 IP {r}에서 로그인 시도")],
    [("key", "remote_addr"), ("key", "client_ip"), ("key", "ip"), ("key", "x_forwarded_for"), ("key", "peer.address"),
     ("innocuous", "source"), ("innocuous", "host")],
    url=["ip"])
reg("ipv6", v_ipv6,
    [("none", around_none), ("none", lambda r: f"connection from [{r}]:{R.randint(1024, 65535)}"),
     ("word", lambda r: f"remote_addr={r}"), ("none", lambda r: f"dial tcp [{r}]:443: connect: connection refused")],
    [("key", "remote_addr"), ("key", "client_ip"), ("key", "ipv6"), ("innocuous", "source"), ("innocuous", "peer")],
    url=["ip"])
reg("jwt", v_jwt,
    [("word", lambda r: f"Authorization: Bearer {r}"), ("none", around_none), ("word", lambda r: f"id_token={r}"),
     ("word", lambda r: f"token {r} expired"), ("none", lambda r: f"invalid signature for {r}.")],
    [("key", "access_token"), ("key", "id_token"), ("key", "jwt"), ("key", "authorization"),
     ("innocuous", "value"), ("innocuous", "data")],
    url=["access_token", "id_token", "token", "jwt"])
reg("us_phone", v_us_phone,
    [("none", around_none), ("word", lambda r: f"call {r}"), ("word", lambda r: f"phone: {r}"),
     ("none", lambda r: f"SMS to {r} failed.")],
    [("key", "phone"), ("key", "phoneNumber"), ("key", "mobile"), ("key", "tel"), ("innocuous", "value"), ("innocuous", "callback")],
    url=["phone", "tel"], gens={"key": v_us_phone_plain, "word": v_us_phone_plain})
reg("us_ssn", v_ssn_dash,
    [("none", around_none), ("word", lambda r: f"SSN {r}"), ("word", lambda r: f"social security number: {r}.")],
    [("key", "ssn"), ("key", "SSN"), ("key", "social_security_number"), ("key", "taxpayer_ssn"), ("innocuous", "value")],
    url=["ssn"], numeric=True, gens={"key": v_ssn_plain, "word": v_ssn_plain})
reg("kr_rrn", lambda: v_rrn(False),
    [("none", around_none), ("word", lambda r: f"주민등록번호 {r}"), ("word", lambda r: f"주민번호: {r}"),
     ("word", lambda r: f"resident registration no. {r}")],
    [("key", "rrn"), ("key", "jumin"), ("key", "주민등록번호"), ("key", "resident_no"), ("innocuous", "value"), ("innocuous", "id_no")],
    url=["rrn", "jumin"], numeric=True)
reg("kr_frn", v_frn,
    [("none", around_none), ("word", lambda r: f"외국인등록번호 {r}"), ("word", lambda r: f"alien registration number {r}")],
    [("key", "frn"), ("key", "alien_registration_no"), ("key", "외국인등록번호"), ("innocuous", "value")],
    url=["frn"], numeric=True)
reg("kr_brn", v_brn_dash,
    [("none", around_none), ("word", lambda r: f"사업자등록번호 {r}"), ("word", lambda r: f"사업자번호: {r}"),
     ("word", lambda r: f"business registration no. {r}")],
    [("key", "brn"), ("key", "biz_no"), ("key", "business_number"), ("key", "사업자등록번호"), ("key", "tax_id"), ("innocuous", "value")],
    url=["biz_no"], numeric=True, gens={"key": v_brn_plain, "word": v_brn_plain})
reg("kr_mobile", v_kr_mobile,
    [("none", around_none), ("word", lambda r: f"휴대폰 {r}"), ("word", lambda r: f"연락처: {r}"),
     ("none", lambda r: f"{r}로 인증번호 발송"), ("word", lambda r: f"mobile={r}"), ("none", lambda r: f"SMS 발송 실패 ({r})")],
    [("key", "mobile"), ("key", "phone"), ("key", "휴대폰번호"), ("key", "hp"), ("key", "cellphone"), ("key", "receiver_phone"),
     ("innocuous", "value"), ("innocuous", "target")],
    url=["phone", "mobile", "hp"])
reg("kr_landline", v_kr_landline,
    [("none", around_none), ("word", lambda r: f"전화 {r}"), ("word", lambda r: f"tel: {r}"), ("word", lambda r: f"자택 전화 {r}")],
    [("key", "tel"), ("key", "phone"), ("key", "office_phone"), ("key", "전화번호"), ("key", "fax"), ("innocuous", "value")],
    url=["tel"], gens={"word": lambda: R.choice([v_kr_landline, v_kr_landline_plain])()})
reg("kr_safe_number", v_safe,
    [("none", around_none), ("word", lambda r: f"안심번호 {r}"), ("word", lambda r: f"배달 연락처 {r}"), ("none", lambda r: f"{r}로 연결")],
    [("key", "safe_number"), ("key", "virtual_phone"), ("key", "phone"), ("key", "안심번호"), ("innocuous", "value")],
    url=["phone"])
reg("kr_bank_account", v_bank,
    [("word", None)],
    [("key", "account_number"), ("key", "bank_account"), ("key", "acct_no"), ("key", "계좌번호"), ("key", "refund_account"),
     ("key", "accountNo")],
    url=["account_no"], numeric=True)
reg("kr_driver_license", v_license,
    [("word", lambda r: f"운전면허번호 {r}"), ("word", lambda r: f"면허번호: {r}"), ("word", lambda r: f"driver license {r}")],
    [("key", "driver_license"), ("key", "license_no"), ("key", "면허번호"), ("key", "driverLicenseNumber")],
    numeric=True)
reg("dob", v_dob,
    [("word", lambda r: f"DOB: {r}"), ("word", lambda r: f"born {r}"), ("word", lambda r: f"생년월일 {r}"),
     ("word", lambda r: f"date of birth {r}"), ("word", lambda r: f"생일: {r}"), ("word", lambda r: f"birth_date={r}")],
    [("key", "dob"), ("key", "birth_date"), ("key", "birthDate"), ("key", "dateOfBirth"), ("key", "date_of_birth"),
     ("key", "생년월일"), ("key", "birthday"), ("key", "BirthDate")])
reg("password", v_password,
    [("word", lambda r: f"password={r}"), ("word", lambda r: f"password: {r}"), ("word", lambda r: f"비밀번호: {r}"),
     ("word", lambda r: f"pwd={r}"), ("word", lambda r: f"passwd={r}"), ("word", lambda r: f"new password is {r}")],
    [("key", "password"), ("key", "passwd"), ("key", "pwd"), ("key", "db_password"), ("key", "userPassword"),
     ("key", "비밀번호"), ("key", "new_password"), ("key", "PASSWORD"), ("pair", "DB_PASSWORD")],
    url=["password", "pwd", "pass"])
reg("basic_auth", v_basic,
    [("word", lambda r: f"Authorization: Basic {r}"), ("word", lambda r: f"authorization=Basic {r}"),
     ("word", lambda r: f"auth header \"Basic {r}\"")],
    [("key", "authorization"), ("key", "Authorization"), ("key", "proxy-authorization")])
reg("url_credentials", v_url_cred, [("word", None)], [("innocuous", "dsn"), ("innocuous", "url"), ("innocuous", "DATABASE_URL")])
reg("session_cookie", v_session, [("word", None)], [("key", None)])
reg("private_key", v_private_key, [("none", lambda r: r)], [("key", "private_key"), ("key", "tls.key"), ("innocuous", "value"),
                                                         ("innocuous", "data")])
reg("aws_access_key", v_aws_access,
    [("none", around_none), ("word", lambda r: f"aws_access_key_id={r}"), ("none", lambda r: f"Credential={r}/20261206/ap-northeast-2/s3/aws4_request")],
    [("key", "AccessKeyId"), ("key", "aws_access_key_id"), ("innocuous", "value"), ("innocuous", "principal")],
    url=["X-Amz-Credential", "AWSAccessKeyId"])
reg("aws_secret_key", v_aws_secret,
    [("word", lambda r: f"aws_secret_access_key={r}"), ("word", lambda r: f"aws_secret_access_key = {r}"),
     ("word", lambda r: f"SecretAccessKey: {r}"), ("word", lambda r: f"secret access key {r}")],
    [("key", "SecretAccessKey"), ("key", "aws_secret_access_key"), ("key", "secretKey"), ("pair", "AWS_SECRET_ACCESS_KEY")])


def vendor(name, gen, keyname, url=()):
    reg(name, gen,
        [("none", around_none), ("word", lambda r: f"token={r}"), ("none", lambda r: f"using key {r} for upload"),
         ("word", lambda r: f"export {keyname.upper()}={r}")],
        [("key", keyname), ("key", "token"), ("innocuous", "value"), ("innocuous", "arg"), ("pair", keyname.upper())],
        url=url)


vendor("github_token", v_github, "github_token", ["access_token"])
vendor("gitlab_token", v_gitlab, "gitlab_token", ["private_token"])
vendor("slack_token", v_slack_token, "slack_bot_token", ["token"])
reg("slack_webhook", v_slack_webhook, [("none", around_none), ("none", lambda r: f"POST {r} -> 200"),
                                       ("word", lambda r: f"webhook_url={r}")],
    [("key", "webhook_url"), ("key", "slackWebhook"), ("innocuous", "url"), ("innocuous", "target")])
vendor("stripe_key", v_stripe, "stripe_secret_key")
vendor("google_api_key", v_google, "google_api_key", ["key"])
vendor("sendgrid_key", v_sendgrid, "sendgrid_api_key")
vendor("twilio_key", v_twilio, "twilio_api_key")
vendor("openai_key", v_openai, "openai_api_key")
vendor("npm_token", v_npm, "npm_token")
vendor("pypi_token", v_pypi, "pypi_token")
reg("generic_api_key", v_generic,
    [("word", lambda r: f"api_key={r}"), ("word", lambda r: f"X-Api-Key: {r}"), ("word", lambda r: f"apikey {r}"),
     ("word", lambda r: f"client_secret={r}"), ("word", lambda r: f"API 키: {r}")],
    [("key", "api_key"), ("key", "apiKey"), ("key", "x-api-key"), ("key", "client_secret"), ("key", "X-Auth-Token"),
     ("pair", "API_KEY")],
    url=["api_key", "apikey", "key"])
reg("phone_intl", v_intl, [("none", around_none), ("word", lambda r: f"tel {r}"), ("none", lambda r: f"callback {r}.")],
    [("key", "phone"), ("key", "msisdn"), ("innocuous", "value")], url=["phone"])


def bank_text(raw, extra):
    ko, en = extra["bank"]
    return R.choice([f"{ko} {raw}", f"입금계좌: {ko} {raw}", f"계좌번호는 {raw}입니다.", f"환불 계좌 {raw} ({ko})",
                     f"refund to {en} account {raw}", f"bank={en.replace(' ', '_')} account={raw}"])


def url_cred_text(raw, scheme):
    user = R.choice(["app", "admin", "svc_orders", "root", "deploy", ""] if scheme == "redis" else ["app", "admin", "svc_orders", "root", "deploy"])
    host = R.choice(["db.internal", "10.0.3.12", "cache-0.cache", "mq.prod.svc.cluster.local", "files.example.com"])
    port = {"postgres": 5432, "postgresql": 5432, "mysql": 3306, "redis": 6379, "amqp": 5672}.get(scheme)
    hp = f"{host}:{port}" if port else host
    return f"{scheme}://{user}:{raw}@{hp}/{R.choice(['app', 'orders', '0', 'vhost', ''])}"


def cookie_header(name, raw):
    other = R.choice(["_ga=GA1.2.1234567.1700000000", "theme=dark", "lang=ko-KR", "csrftoken_seen=1"])
    return R.choice([f"Cookie: {name}={raw}; {other}", f"Cookie: {other}; {name}={raw}",
                     f"Set-Cookie: {name}={raw}; Path=/; HttpOnly; Secure", f"cookie={name}={raw}"])


# ------------------------------------------------------------------ hard negatives


def hex_(n):
    return rs(HEX, n)


def uuid4():
    h = hex_(32)
    h = h[:12] + "4" + h[13:16] + R.choice("89ab") + h[17:]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def neg_ean13():
    body = R.choice(["880", "400", "490", "500", "690"]) + digits(9)
    return body + gtin_digit(body)


def neg_upc():
    body = R.choice("0123456789") + digits(10)
    return body + gtin_digit(body)


def neg_non_luhn16():
    while True:
        n = digits(16, "123456789")
        if not luhn_ok(n):
            return n


def neg_non_rrn13():
    while True:
        n = digits(13, "123456789")
        if not luhn_ok(n) and not real_date(1900 + int(n[:2]), int(n[2:4]), int(n[4:6])):
            return n


UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{a}.0.{b}.{c} Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{a2} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{a2} Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918N Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/{a}.0.{b}.{c} Mobile Safari/537.36 KAKAOTALK 10.{a2}.{a2}",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{a2}.1 Safari/605.1.15",
    "okhttp/4.{a2}.{a2}", "Go-http-client/2.0", "curl/8.{a2}.0", "python-requests/2.{a}.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Dalvik/2.1.0 (Linux; U; Android 13; SM-G991N Build/TP1A.220624.014) NAVER(inapp; search; 1000; 12.{a2}.{a2})",
]


def neg_ua():
    return R.choice(UAS).format(a=R.randint(100, 131), b=R.randint(4000, 6999), c=R.randint(10, 250), a2=R.randint(0, 9))


def neg_pod():
    app = R.choice(["checkout", "payments-api", "user-svc", "order-worker", "gateway", "notification"])
    return f"{app}-{rs('bcdfghjklmnpqrstvwxz2456789', 9)}-{rs('bcdfghjklmnpqrstvwxz2456789', 5)}"


def neg_date():
    y, m, d = rand_date(1950, 2026)
    return R.choice([f"{y}-{m:02d}-{d:02d}", f"{y}/{m:02d}/{d:02d}", f"{y}.{m:02d}.{d:02d}"])


def neg_amount():
    return R.choice([f"₩{R.randint(1, 9999):,}{R.choice([',000', ',500', ''])}", f"{R.randint(1, 99999):,}.{R.randint(0, 99):02d}",
                     f"USD {R.randint(1, 999)}.{R.randint(0, 99):02d}", f"{R.randint(1000, 9999999)}원"])


NEGS = {
    # type: (generator, [(key, how)]) -- how: json value "str" or "num"; text via phrase
    "uuid": (uuid4, ["request_id", "x-request-id", "user_uuid", "idempotency_key", "pod_uid"]),
    "trace_id": (lambda: hex_(32), ["trace_id", "traceId", "dd.trace_id_hex", "otel.trace_id"]),
    "span_id": (lambda: hex_(16), ["span_id", "spanId", "parent_span_id"]),
    "sha256_hash": (lambda: hex_(64), ["sha256", "checksum", "content_hash", "etag"]),
    "md5_hash": (lambda: hex_(32), ["md5", "etag", "cache_key", "content_md5"]),
    "git_sha": (lambda: hex_(40), ["commit", "git_sha", "revision", "vcs.revision"]),
    "image_digest": (lambda: "sha256:" + hex_(64), ["image_id", "imageID", "digest"]),
    "pod_name": (neg_pod, ["pod_name", "k8s.pod", "hostname"]),
    "semver": (lambda: R.choice([f"{R.randint(0, 9)}.{R.randint(0, 40)}.{R.randint(0, 30)}", f"v{R.randint(1, 3)}.{R.randint(0, 20)}.{R.randint(0, 9)}-rc.{R.randint(1, 5)}"]),
               ["version", "app_version", "sdk.version", "chart"]),
    "version_dotted": (lambda: f"{R.randint(1, 20)}.{R.randint(0, 30)}.{R.randint(0, 9)}.{R.randint(10, 250)}",
                       ["app_version", "build_version", "version", "client_version"]),
    "build_number": (lambda: R.choice([f"{R.randint(1000, 99999)}", f"2026{R.randint(1, 12):02d}{R.randint(1, 28):02d}.{R.randint(1, 9)}"]),
                     ["build", "build_number", "ci.build_id", "run_number"]),
    "timestamp": (lambda: f"2026-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d}.{R.randint(0, 999):03d}Z",
                  ["ts", "@timestamp", "time", "created_at"]),
    "epoch": (lambda: R.choice([str(R.randint(1600000000, 1799999999)), str(R.randint(1600000000000, 1799999999999))]),
              ["epoch", "ts_ms", "expires_at", "iat", "received_at"]),
    "order_id": (lambda: R.choice([f"ORD-2026{R.randint(1, 12):02d}{R.randint(1, 28):02d}-{R.randint(0, 999999):06d}",
                                   f"{R.randint(2020, 2026)}{R.randint(1, 12):02d}{R.randint(1, 28):02d}{R.randint(0, 99999999):08d}",
                                   f"A{R.randint(10, 99)}-{R.randint(1000000, 9999999)}"]),
                 ["order_id", "orderNo", "invoice", "주문번호"]),
    "amount": (neg_amount, ["amount", "price", "total", "결제금액"]),
    "kr_rep_number": (lambda: f"{R.choice(['1588', '1577', '1544', '1566', '1599', '1600', '1644', '1661', '1688', '1800', '1899'])}-{R.randint(0, 9999):04d}",
                      ["cs_phone", "customer_center", "대표번호", "hotline"]),
    "ean13": (neg_ean13, ["sku", "barcode", "ean", "gtin"]),
    "upc_a": (neg_upc, ["upc", "barcode", "gtin", "sku"]),
    "user_agent": (neg_ua, ["user_agent", "http.user_agent", "userAgent", "ua"]),
    "ga_id": (lambda: R.choice([f"UA-{R.randint(1000000, 99999999)}-{R.randint(1, 9)}", "G-" + rs(string.ascii_uppercase + string.digits, 10),
                                "GTM-" + rs(string.ascii_uppercase + string.digits, 7)]), ["ga_id", "tracking_id", "measurement_id", "gtm"]),
    "port": (lambda: str(R.choice([443, 8080, 8443, 5432, 6379, 9092, 27017, 3306, 50051, 4317, 4318])), ["port", "listen_port", "net.peer.port"]),
    "non_luhn_16": (neg_non_luhn16, ["txn_id", "transaction_id", "tid", "approval_no"]),
    "non_rrn_13": (neg_non_rrn13, ["member_no", "device_id", "record_no", "serial"]),
    "duration": (lambda: R.choice([f"{R.randint(1, 999)}ms", f"{R.randint(0, 59)}.{R.randint(0, 999):03d}s", f"{R.randint(1, 59)}m{R.randint(0, 59)}s"]),
                 ["duration", "elapsed", "latency", "took"]),
    "date": (neg_date, ["created_at", "hire_date", "last_login", "shipped_on", "expiry_date", "valid_from"]),
    "oid": (lambda: R.choice(["1.3.6.1.4.1.", "1.3.6.1.2.1.", "2.16.840.1.113730.", "1.2.840.113549.1."]) + ".".join(
        str(R.randint(1, 60000 if i == 0 else 40)) for i in range(R.randint(1, 4))), ["oid", "snmp.oid", "policy_oid"]),
}
NUMERIC_NEGS = {"epoch", "port", "build_number", "non_luhn_16", "non_rrn_13", "ean13", "upc_a"}


def neg_phrase(ty, v):
    """A text fragment holding a hard negative the way logs write it."""
    p = {
        "uuid": ["request_id={}", "req {} done", "(request {})"],
        "trace_id": ["trace_id={}", "traceparent=00-{}-" + hex_(16) + "-01", "[trace {}]"],
        "span_id": ["span_id={}", "span={}"],
        "sha256_hash": ["sha256 {}", "checksum={}", "etag \"{}\""],
        "md5_hash": ["md5={}", "cache key {}", "ETag: \"{}\""],
        "git_sha": ["commit {}", "deployed revision {}.", "HEAD is now at {}"],
        "image_digest": ["image=registry.example.com/app@{}", "pulled {}", "Digest: {}"],
        "pod_name": ["pod={}", "Killing container in pod {}", "[{}]"],
        "semver": ["version {}", "upgraded to {}.", "sdk/{}"],
        "version_dotted": ["app version {}", "build {}", "release {}"],
        "build_number": ["build #{}", "build={}", "CI run {} finished"],
        "timestamp": ["at {}", "ts={}", "[{}]"],
        "epoch": ["ts={}", "expires_at={}", "epoch {}"],
        "order_id": ["order {} paid", "주문번호 {} 결제 완료", "order_id={}"],
        "amount": ["amount={}", "결제금액 {} 승인", "total {}."],
        "kr_rep_number": ["고객센터 {}", "문의: {}", "대표번호 {}로 전화주세요."],
        "ean13": ["barcode {}", "sku={}", "EAN {}"],
        "upc_a": ["UPC {}", "barcode={}", "gtin {}"],
        "user_agent": ["ua=\"{}\"", "User-Agent: {}", "agent {}"],
        "ga_id": ["ga={}", "gtag('config', '{}')", "tracking id {}"],
        "port": ["listening on :{}", "port={}", "upstream port {}"],
        "non_luhn_16": ["txn {} approved", "transaction_id={}", "tid {}"],
        "non_rrn_13": ["member_no={}", "device {}", "serial {}"],
        "duration": ["took {}", "elapsed={}", "({})"],
        "date": ["created {}", "shipped on {}.", "last_login={}"],
        "oid": ["OID {}", "snmpget {}", "certificate policy {}"],
    }[ty]
    return R.choice(p).format(v)


# ------------------------------------------------------------------ documents


def esc(s, ascii_only):
    return json.dumps(s, ensure_ascii=ascii_only)[1:-1]


def ts_iso():
    return f"2026-12-{R.randint(1, 6):02d}T{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d}.{R.randint(0, 999999):06d}Z"


def ts_clf():
    return f"{R.randint(1, 6):02d}/Dec/2026:{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d} +0900"


SERVICES = ["checkout", "payments-api", "user-svc", "order-worker", "gateway", "notification", "member", "delivery"]
LEVELS = ["INFO", "WARN", "ERROR", "DEBUG"]


class Item:
    """One PII item to place: its type, value, spelling and the way it appears."""

    def __init__(self, ty):
        spec = TYPES[ty]
        self.ty = ty
        self.mode = R.choice(["text", "text", "key", "key", "url"] if spec["url"] else ["text", "key", "key"])
        if ty in ("url_credentials", "session_cookie", "kr_bank_account"):
            self.mode = R.choice(["text", "key"])
        self.ctx, self.key, self.fn = None, None, None
        if self.mode == "text":
            self.ctx, self.fn = R.choice(spec["text"])
        elif self.mode == "key":
            self.ctx, self.key = R.choice(spec["keys"])
        else:
            self.ctx, self.key = "key", R.choice(spec["url"])
        gen = spec["gens"].get(self.ctx if self.mode != "url" else "key", spec["gen"])
        if self.mode == "text" and self.ctx == "none":
            gen = spec["gen"]
        self.value, self.variant, self.extra = gen()
        if ty == "session_cookie" and self.mode == "key":
            self.key = self.extra["cookie"]
        self.number = spec["numeric"] and self.mode == "key" and self.ctx == "key" and self.value.isdigit() \
            and not self.value.startswith("0") and R.random() < 0.35

    def text_fragment(self, encoded):
        """The fragment for text, where `encoded` is the value as written (maybe %-encoded)."""
        if self.ty == "kr_bank_account":
            return bank_text(encoded, self.extra)
        if self.ty == "url_credentials":
            return url_cred_text(encoded, self.variant)
        if self.ty == "session_cookie":
            return cookie_header(self.extra["cookie"], encoded)
        return self.fn(encoded)


def pct(v):
    enc = urllib.parse.quote(v, safe="")
    if " " in v and R.random() < 0.5:
        enc = urllib.parse.quote_plus(v, safe="")
    return enc


class Doc:
    def __init__(self, n):
        self.id = f"h{n:05d}"
        self.pii = []
        self.keep = []


def pii_record(it, raw, location, path, key=None, value=None):
    rec = {"type": it.ty, "variant": it.variant, "value": value if value is not None else it.value, "raw": raw,
           "location": location, "context": it.ctx, "path": path}
    if key is not None:
        rec["key"] = key
    d = it.extra.get("digits")
    if d:
        rec["digits"] = d
    f = it.extra.get("fragments")
    if f:
        rec["fragments"] = f
    return rec


def text_piece(it, url_ok=True):
    """(fragment, raw, location) for an item in running text."""
    if it.mode == "url" and url_ok:
        enc = pct(it.value)
        return f"{it.key}={enc}", enc, "url_query"
    if it.mode == "key" and it.ty not in ("url_credentials", "session_cookie", "kr_bank_account"):
        sep = R.choice(["=", ": ", "=\"", "='"])
        close = {"=\"": "\"", "='": "'"}.get(sep, "")
        key = it.key if it.key is not None else "value"
        if it.ctx == "pair":
            it.ctx = "key"  # written as KEY=value in text, the name is the key
        return f"{key}{sep}{it.value}{close}", it.value, "logfmt_pair"
    if it.ty == "url_credentials":
        enc = it.extra["userinfo"]
        return url_cred_text(enc, it.variant), enc, "url"
    if it.ty == "session_cookie":
        return cookie_header(it.extra["cookie"], it.value), it.value, "cookie"
    if it.ty == "kr_bank_account":
        return bank_text(it.value, it.extra), it.value, "text"
    if it.fn is None:
        return f"value={it.value}", it.value, "text"
    return it.text_fragment(it.value), it.value, "text"


def text_shape(frags, negs):
    """A plain-text log line (or dump) holding the fragments; returns the text."""
    body = R.choice(["; ", " | ", ", ", " "]).join(frags)
    extra = " ".join(negs)
    shape = R.choice(["logfmt", "go_panic", "java", "python", "node", "ko_chat", "syslog", "apache_err", "yaml", "sql"])
    svc = R.choice(SERVICES)
    return _shape(shape, frags, negs, body, extra, svc), shape


def _shape(shape, frags, negs, body, extra, svc):
    if shape == "logfmt":
        return f"time={ts_iso()} level={R.choice(LEVELS).lower()} svc={svc} msg=\"{body}\" {extra}".rstrip()
    if shape == "go_panic":
        return (f"{ts_iso()[:19].replace('T', ' ')} ERROR handler failed: {body} {extra}\n"
                f"goroutine {R.randint(1, 999)} [running]:\nmain.(*Server).handle(0xc000{hex_(6)}, {{0x{hex_(6)}, 0x{R.randint(16, 255):x}}})\n"
                f"\t/app/server.go:{R.randint(20, 900)} +0x{hex_(3)}\ncreated by net/http.(*Server).Serve in goroutine 1")
    if shape == "java":
        return (f"{ts_iso()[:23].replace('T', ' ')} ERROR 1 --- [nio-8080-exec-{R.randint(1, 20)}] c.e.{svc.replace('-', '')}.Service : "
                f"request failed {extra}\njava.lang.IllegalArgumentException: {body}\n\tat com.example.app.Validator.check(Validator.java:{R.randint(10, 300)})\n"
                f"\tat com.example.app.Controller.post(Controller.java:{R.randint(10, 300)})\n\t... {R.randint(10, 80)} common frames omitted")
    if shape == "python":
        return (f"Traceback (most recent call last):\n  File \"/srv/app/{svc}/views.py\", line {R.randint(10, 500)}, in post\n"
                f"    result = process(payload)\n{R.choice(['ValueError', 'KeyError', 'PermissionError', 'app.errors.ValidationError'])}: {body} {extra}".rstrip())
    if shape == "node":
        return (f"Error: {body} {extra}".rstrip() + f"\n    at Object.<anonymous> (/usr/src/app/{svc}.js:{R.randint(1, 300)}:{R.randint(1, 40)})\n"
                f"    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)")
    if shape == "ko_chat":
        pre = R.choice(["회원 정보 변경 요청", "주문 알림 발송", "고객 문의 접수", "결제 실패 재시도", "배송지 변경"])
        return f"[{R.choice(LEVELS)}] {ts_iso()[:19].replace('T', ' ')} [{svc}] {pre} - {body} {extra}".rstrip()
    if shape == "syslog":
        return f"<{R.randint(128, 191)}>Dec  {R.randint(1, 6)} {R.randint(10, 23)}:{R.randint(10, 59)}:{R.randint(10, 59)} ip-10-0-{R.randint(0, 9)}-{R.randint(1, 250)} {svc}[{R.randint(100, 99999)}]: {body} {extra}".rstrip()
    if shape == "apache_err":
        return f"[{R.choice(['Sat', 'Sun'])} Dec 06 {R.randint(10, 23)}:{R.randint(10, 59)}:{R.randint(10, 59)}.{R.randint(0, 999999):06d} 2026] [php:error] [pid {R.randint(100, 9999)}] [client 10.1.{R.randint(0, 9)}.{R.randint(1, 250)}:{R.randint(1024, 65535)}] {body} {extra}".rstrip()
    if shape == "yaml":
        lines = "\n".join(f"  - {f}" for f in frags)
        neg = "\n".join(f"  # {n}" for n in negs)
        return f"config dump ({svc}):\nentries:\n{lines}\n{neg}".rstrip()
    # sql: the fragments inside a comment and a literal
    return f"LOG:  duration: {R.randint(1, 999)}.{R.randint(0, 999):03d} ms  statement: UPDATE members SET memo = '{body}' WHERE id = {R.randint(1, 99999)} /* {extra} */"


def build_text(doc, items, negs):
    frags, recs = [], []
    for it in items:
        frag, raw, loc = text_piece(it)
        frags.append(frag)
        recs.append((it, raw, loc))
    neg_frags = []
    for ty, v in negs:
        neg_frags.append(neg_phrase(ty, v))
    # nginx combined access line when every item can sit in a query string
    if items and all(it.mode == "url" for it in items) and R.random() < 0.7:
        ip = f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"
        q = "&".join(frags)
        ua = neg_ua()
        path = R.choice(["/api/v1/users", "/login", "/oauth/callback", "/search", "/members/verify"])
        text = (f"{ip} - - [{ts_clf()}] \"GET {path}?{q}&page={R.randint(1, 9)} HTTP/1.1\" {R.choice([200, 302, 400, 401])} "
                f"{R.randint(100, 99999)} \"-\" \"{ua}\" {' '.join(neg_frags)}").rstrip()
        doc.keep.append({"type": "user_agent", "value": ua, "path": [], "match": "contains"})
        where = "access_log"
    elif any(it.ty in ("basic_auth", "session_cookie") for it in items) and R.random() < 0.6:
        lines = [f"{R.choice(['POST', 'GET', 'PUT'])} /api/{R.choice(['session', 'orders', 'me'])} HTTP/1.1",
                 f"Host: {R.choice(['api.example.com', 'shop.example.kr'])}"]
        lines += frags
        lines += [f"X-Request-Id: {uuid4()}", "Accept: application/json", ""] + neg_frags
        text = "\r\n".join(lines)
        where = "http_dump"
    else:
        text, where = text_shape(frags, neg_frags)
    doc.format, doc.doc = "text", text
    for it, raw, loc in recs:
        if where in ("access_log", "http_dump") or loc in ("text", "url_query"):
            loc = where
        doc.pii.append(pii_record(it, raw, loc, [], key=it.key if it.mode != "text" else None))
    for ty, v in negs:
        doc.keep.append({"type": ty, "value": v, "path": [], "match": "contains"})


def put(obj, path, value):
    cur = obj
    for seg in path[:-1]:
        cur = cur[seg]
    cur[path[-1]] = value


def json_line_base(svc):
    shape = R.choice(["flat", "nested", "k8s", "k8s", "bunyan", "ecs"])
    if shape == "flat":
        return shape, {"ts": ts_iso(), "level": R.choice(LEVELS).lower(), "logger": f"{svc}.handler", "msg": R.choice(["request handled", "회원 조회", "payment declined", "sending notification"])}, []
    if shape == "nested":
        return shape, {"timestamp": ts_iso(), "severity": R.choice(LEVELS), "event": R.choice(["user.updated", "order.created", "login.failed"]),
                       "data": {"user": {"id": R.randint(1, 10 ** 7)}, "meta": {"service": svc}}}, ["data", "user"]
    if shape == "bunyan":
        return shape, {"name": svc, "hostname": neg_pod(), "pid": R.randint(1, 9999), "level": R.choice([30, 40, 50]), "msg": "req",
                       "req": {"method": "POST", "url": "/api", "headers": {"content-type": "application/json"}}, "time": ts_iso(), "v": 0}, ["req", "headers"]
    if shape == "ecs":
        return shape, {"@timestamp": ts_iso(), "log.level": R.choice(LEVELS).lower(), "message": "audit",
                       "service": {"name": svc}, "labels": {}}, ["labels"]
    return shape, None, []


def build_line(doc, items, negs):
    svc = R.choice(SERVICES)
    shape, obj, where = json_line_base(svc)
    k8s = obj is None
    if k8s:
        inner = {"level": R.choice(LEVELS).lower(), "ts": round(R.randint(1765000000, 1765999999) + R.random(), 3), "caller": f"{svc}/main.go:{R.randint(10, 400)}",
                 "msg": R.choice(["request", "회원가입 완료", "retry", "webhook sent"])}
        obj = inner
        where = []
        for it in items:
            it.number = False  # a number inside the `log` string stays a string member
    ascii_only = R.random() < 0.3
    recs = []
    used = set()
    for i, it in enumerate(items):
        if it.mode == "key" and it.ctx == "pair":
            arr_key = R.choice(["env", "envFrom", "parameters"])
            arr = obj.setdefault(arr_key, [])
            arr.append({"name": R.choice(["LOG_LEVEL", "PORT"]), "value": R.choice(["info", "8080"])})
            arr.append({"name": it.key, "value": it.value})
            recs.append((it, [arr_key, len(arr) - 1, "value"], "name_value_pair", it.value, False))
            continue
        if it.mode == "key":
            key = it.key if it.key is not None else "value"
            if it.ty == "session_cookie":
                target = obj.setdefault("cookies", {})
                base = ["cookies"]
            elif R.random() < 0.5 and where:
                target, base = obj, []
                for seg in where:
                    target = target[seg]
                base = list(where)
            else:
                target, base = obj, []
            while key in target or key in used:
                key = key + "_" + str(i)
            used.add(key)
            if it.ty == "url_credentials":
                val = url_cred_text(it.extra["userinfo"], it.variant)
            else:
                val = it.value
            if R.random() < 0.15 and not it.number and it.ty not in ("url_credentials",):
                target[key] = [val] if R.random() < 0.5 else [R.choice(["n/a", "primary"]), val]
                recs.append((it, base + [key, len(target[key]) - 1], "json_array", it.value, False))
            else:
                target[key] = int(val) if it.number else val
                raw = it.extra["userinfo"] if it.ty == "url_credentials" else it.value
                recs.append((it, base + [key], "json_number" if it.number else "json_value", raw, it.number))
            continue
        if it.mode == "url":
            enc = pct(it.value)
            key = R.choice(["url", "request_uri", "http.url", "referer"])
            while key in obj:
                key += "_"
            obj[key] = f"https://{R.choice(['api.example.com', 'm.example.kr'])}/v1/{R.choice(['auth', 'users', 'cb'])}?{it.key}={enc}&lang=ko"
            recs.append((it, [key], "url_query", enc, False))
            continue
        # text inside a string member
        frag, raw, loc = text_piece(it, url_ok=False)
        key = R.choice(["msg", "message", "error", "detail", "note", "stack"])
        while key in obj:
            key += "_"
        if R.random() < 0.2:
            cols = [str(R.randint(1, 99999)), R.choice(["김민수", "이서연", "Park J"]), frag, R.choice(["Y", "N"]), "서울"]
            R.shuffle(cols)
            obj[key] = f"csv row {R.randint(1, 999)}: " + ",".join(cols)
            recs.append((it, [key], "csv_in_string", raw, False))
        elif key == "stack":
            obj[key] = f"Error: {frag}\n    at handler (/app/index.js:{R.randint(1, 99)}:{R.randint(1, 40)})"
            recs.append((it, [key], "stack_trace", raw, False))
        else:
            obj[key] = frag
            recs.append((it, [key], "json_text", raw, False))
    keep_recs = []
    for ty, v in negs:
        key = R.choice(NEGS[ty][1])
        while key in obj:
            key += "_"
        if ty in NUMERIC_NEGS and v.isdigit() and not v.startswith("0") and R.random() < 0.5:
            obj[key] = int(v)
        elif ty in ("user_agent",) and R.random() < 0.3:
            obj[key] = v
        elif R.random() < 0.2:
            obj[key] = neg_phrase(ty, v)
            keep_recs.append((ty, v, [key], "contains"))
            continue
        else:
            obj[key] = v
        keep_recs.append((ty, v, [key], "exact"))
    if k8s:
        inner_text = json.dumps(obj, ensure_ascii=ascii_only, separators=(",", ":"))
        outer = {"log": inner_text + "\n", "stream": R.choice(["stdout", "stderr"]), "time": ts_iso(),
                 "kubernetes": {"pod_name": neg_pod(), "namespace_name": R.choice(["prod", "shop", "default"]),
                                "container_name": svc, "container_image": f"registry.example.com/{svc}:1.{R.randint(0, 30)}.{R.randint(0, 9)}"}}
        doc.doc = json.dumps(outer, ensure_ascii=ascii_only)
        for it, path, loc, raw, is_num in recs:
            raw2 = raw if is_num else esc(esc(raw, ascii_only), ascii_only)
            doc.pii.append(pii_record(it, raw2, "k8s_nested_" + loc if loc != "json_number" else "json_number",
                                      ["log", "#json"] + path, key=it.key if it.mode != "text" else None))
        for ty, v, path, m in keep_recs:
            doc.keep.append({"type": ty, "value": v, "path": ["log", "#json"] + path, "match": m})
        if R.random() < 0.2:
            doc.keep.append({"type": "pod_name", "value": outer["kubernetes"]["pod_name"], "path": ["kubernetes", "pod_name"], "match": "exact"})
    else:
        doc.doc = json.dumps(obj, ensure_ascii=ascii_only, separators=(",", ":") if R.random() < 0.5 else (", ", ": "))
        for it, path, loc, raw, is_num in recs:
            raw2 = raw if is_num else esc(raw, ascii_only)
            doc.pii.append(pii_record(it, raw2, loc, path, key=it.key if it.mode != "text" else None))
        for ty, v, path, m in keep_recs:
            doc.keep.append({"type": ty, "value": v, "path": path, "match": m})
    doc.format = "line"


def av(s):
    return {"stringValue": s}


def build_otlp(doc, items, negs):
    svc = R.choice(SERVICES)
    attrs, recs = [], []
    body_frags = []
    kv = []
    for it in items:
        if it.mode == "key" and it.ty not in ("url_credentials",) and it.ctx != "pair":
            key = it.key if it.key is not None else "value"
            if R.random() < 0.5:
                attrs.append({"key": key, "value": av(it.value)})
                recs.append((it, "attr", len(attrs) - 1, it.value, "otlp_attribute"))
            else:
                kv.append({"key": key, "value": av(it.value)})
                recs.append((it, "kv", len(kv) - 1, it.value, "otlp_kvlist"))
        else:
            frag, raw, loc = text_piece(it)
            body_frags.append(frag)
            recs.append((it, "body", None, raw, "otlp_body"))
    neg_attrs = []
    for ty, v in negs:
        key = R.choice(NEGS[ty][1])
        attrs.append({"key": key, "value": av(v)})
        neg_attrs.append((ty, v, len(attrs) - 1))
    rec = {"timeUnixNano": str(1765000000000000000 + R.randint(0, 10 ** 15)), "severityNumber": R.choice([9, 13, 17]),
           "severityText": R.choice(LEVELS)}
    if kv and not body_frags:
        rec["body"] = {"kvlistValue": {"values": kv}}
        body_path = None
    else:
        rec["body"] = {"stringValue": text_shape(body_frags, [])[0] if body_frags else "ok"}
        moved = {}
        for i, x in enumerate(kv):
            attrs.append(x)
            moved[i] = len(attrs) - 1
        recs = [(a, "attr", moved[idx], r, "otlp_attribute") if w == "kv" else (a, w, idx, r, l)
                for (a, w, idx, r, l) in recs]
    rec["attributes"] = attrs
    rec["traceId"] = hex_(32)
    rec["spanId"] = hex_(16)
    req = {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": av(svc)},
                                                         {"key": "deployment.environment", "value": av("prod")}]},
                             "scopeLogs": [{"scope": {"name": f"com.example.{svc.replace('-', '')}"}, "logRecords": [rec]}]}]}
    ascii_only = R.random() < 0.3
    doc.doc = json.dumps(req, ensure_ascii=ascii_only, separators=(",", ":"))
    base = ["resourceLogs", 0, "scopeLogs", 0, "logRecords", 0]
    for it, w, idx, raw, loc in recs:
        if w == "attr":
            path = base + ["attributes", idx, "value", "stringValue"]
        elif w == "kv":
            path = base + ["body", "kvlistValue", "values", idx, "value", "stringValue"]
        else:
            path = base + ["body", "stringValue"]
        doc.pii.append(pii_record(it, esc(raw, ascii_only), loc, path, key=it.key if it.mode == "key" else None))
    for ty, v, idx in neg_attrs:
        doc.keep.append({"type": ty, "value": v, "path": base + ["attributes", idx, "value", "stringValue"], "match": "exact"})
    doc.format = "otlp"


# ------------------------------------------------------------------ assembly and self-checks

ITEMS_PER_TYPE = 76
KEEPS_PER_TYPE = 100


def build():
    pool = [ty for ty in TYPES for _ in range(ITEMS_PER_TYPE)]
    R.shuffle(pool)
    negs = [ty for ty in NEGS for _ in range(KEEPS_PER_TYPE)]
    R.shuffle(negs)
    docs = []
    n = 0
    while pool or negs:
        k = R.choices([0, 1, 2], [20, 65, 15])[0] if pool else 0
        m = R.choices([0, 1, 2], [45, 40, 15])[0] if negs else 0
        if k == 0 and m == 0:
            continue
        tys = [pool.pop() for _ in range(min(k, len(pool)))]
        ntys = [negs.pop() for _ in range(min(m, len(negs)))]
        items = [Item(ty) for ty in tys]
        neg_vals = [(ty, NEGS[ty][0]()) for ty in ntys]
        doc = Doc(n)
        n += 1
        fmt = R.choices(["line", "text", "otlp"], [50, 35, 15])[0]
        if any(it.ty == "private_key" for it in items) and fmt == "otlp":
            fmt = "line"
        {"line": build_line, "text": build_text, "otlp": build_otlp}[fmt](doc, items, neg_vals)
        if not valid(doc):
            n -= 1
            continue
        docs.append(doc)
    return docs


def at_path(root, path):
    cur = root
    for seg in path:
        if seg == "#json":
            cur = json.loads(cur.strip())
        elif isinstance(cur, list):
            cur = cur[seg]
        else:
            cur = cur[seg]
    return cur


def forms(p):
    return [f for f in [p["raw"], p["value"]] + p.get("digits", []) + p.get("fragments", []) if f]


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


def valid(doc):
    """The record is consistent: raws in the document, values at their paths, and removing
    exactly the labelled texts removes every form without touching a hard negative."""
    if doc.doc.count(" ") > 10 ** 6:
        return False
    parsed = json.loads(doc.doc) if doc.format != "text" else None
    for p in doc.pii:
        if p["raw"] not in doc.doc:
            raise AssertionError(f"{doc.id}: raw {p['raw']!r} not in {doc.doc!r}")
        if parsed is not None:
            leaf = at_path(parsed, p["path"])
            leaf = str(leaf)
            if p["value"] not in leaf and p["raw"] not in leaf:
                raise AssertionError(f"{doc.id}: {p['type']} not at its path")
    text = doc.doc
    for p in sorted(doc.pii, key=lambda p: -len(p["raw"])):
        text = text.replace(p["raw"], "\"[REDACTED]\"" if p["location"] == "json_number" else "[REDACTED]")
    hay = [text]
    if parsed is not None:
        try:
            out = json.loads(text)
        except ValueError:
            raise AssertionError(f"{doc.id}: {text}")
        strings_of(out, hay)
    for p in doc.pii:
        if any(f in h for f in forms(p) for h in hay):
            return False  # a form also occurs elsewhere: draw again
    for k in doc.keep:
        if doc.format == "text":
            if k["value"] not in text:
                return False
        else:
            leaf = at_path(out, k["path"])
            leaf = str(leaf) if not isinstance(leaf, str) else leaf
            if (k["match"] == "exact" and leaf != k["value"]) or k["value"] not in leaf:
                return False
    return True


def render(docs):
    out = []
    for d in docs:
        rec = {"id": d.id, "format": d.format, "doc": d.doc, "pii": d.pii, "keep": d.keep}
        out.append(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(out) + "\n"


def main():
    docs = build()
    data = render(docs)
    counts, keeps = {}, {}
    for d in docs:
        for p in d.pii:
            counts[p["type"]] = counts.get(p["type"], 0) + 1
        for k in d.keep:
            keeps[k["type"]] = keeps.get(k["type"], 0) + 1
    assert all(c >= 30 for c in counts.values()) and len(counts) >= 36, counts
    assert all(c >= 50 for c in keeps.values()), keeps
    if "--check" in sys.argv[1:]:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != data:
                sys.exit(f"{OUT} differs from what {os.path.basename(__file__)} writes; regenerate it")
        print(f"{OUT}: up to date ({len(docs)} documents)")
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(data)
    print(f"wrote {len(docs)} documents, {sum(counts.values())} PII items of {len(counts)} types, "
          f"{sum(keeps.values())} hard negatives of {len(keeps)} types")


if __name__ == "__main__":
    main()
