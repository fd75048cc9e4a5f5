#!/usr/bin/env python3
"""Third held-out redaction corpus.

Every value is built from its public definition (Luhn and issuer ranges, ISO 13616 mod-97,
the Korean RRN/FRN/BRN check digits, the NANP numbering rules, RFC 5322/4291/5952/7519/7468/
7617, vendor token formats as the vendors publish them). The documents are the shapes real
systems print: stack traces, Markdown tables, mail headers, GraphQL, protobuf text format,
Terraform, .env files, `docker inspect`, `kubectl describe`, Java/Python/Rust object dumps,
Korean sentences, query strings and fragments, JSON with escapes, HTML-escaped text, OTLP/JSON.

    python3 testdata/redact/third/gen_third.py           # rewrites corpus.jsonl
    python3 testdata/redact/third/gen_third.py --check   # fails if corpus.jsonl differs

Standard library only; fixed seed.
"""

import base64
import binascii
import json
import os
import random
import string
import sys
import urllib.parse

SEED = 0x7E1D2026
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus.jsonl")
PER_TYPE = 64
NEG_ONLY_DOCS = 720

R = random.Random(SEED)

B62 = string.ascii_letters + string.digits
B64U = B62 + "-_"
HEX = "0123456789abcdef"


def pick(seq):
    return seq[R.randrange(len(seq))]


def rstr(alphabet, n):
    return "".join(alphabet[R.randrange(len(alphabet))] for _ in range(n))


def digits(n, first="0123456789"):
    return pick(first) + rstr("0123456789", n - 1) if n else ""


def only_digits(s):
    return "".join(c for c in s if c.isdigit())


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def rbytes(n):
    return bytes(R.randrange(256) for _ in range(n))


# ---------------------------------------------------------------- checksums

def luhn_check(body):
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(num):
    return luhn_check(num[:-1]) == num[-1]


def iban_check(country, bban):
    s = bban + country + "00"
    n = "".join(str(int(c, 36)) for c in s)
    return "%02d" % (98 - int(n) % 97)


RRN_W = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]


def rrn_check(d12):
    s = sum(int(a) * w for a, w in zip(d12, RRN_W))
    return str((11 - s % 11) % 10)


def frn_check(d12):
    # Pre-2020 foreigner numbers: the RRN weights, then +2 (mod 10).
    s = sum(int(a) * w for a, w in zip(d12, RRN_W))
    c = 11 - s % 11
    if c >= 10:
        c -= 10
    c += 2
    if c >= 10:
        c -= 10
    return str(c)


def brn_check(d9):
    w = [1, 3, 7, 1, 3, 7, 1, 3, 5]
    s = sum(int(a) * b for a, b in zip(d9, w))
    s += int(d9[8]) * 5 // 10
    return str((10 - s % 10) % 10)


def ean_check(body):
    s = 0
    for i, c in enumerate(reversed(body)):
        s += int(c) * (3 if i % 2 == 0 else 1)
    return str((10 - s % 10) % 10)


# ---------------------------------------------------------------- dates

def rand_birth():
    y = R.randrange(1942, 2012)
    m = R.randrange(1, 13)
    d = R.randrange(1, 29 if m == 2 else (31 if m in (4, 6, 9, 11) else 32))
    return y, m, d


MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]

FW = {c: chr(ord(c) + 0xFEE0) for c in "0123456789-+()./:"}


def fullwidth(s):
    return "".join(FW.get(c, c) for c in s)


# ---------------------------------------------------------------- PII values
# Each generator returns dict(value=spelled form, variant=..., digits=[...], fragments=[...]).

def v_email():
    given = pick(["minsu", "jiwoo", "seo.yeon", "hyun-woo", "olivia", "d.okafor", "raj",
                  "li.wei", "m_rossi", "ana.sousa", "tkato", "ewa", "lars", "jean-luc",
                  "ha.eun", "yuna", "o'neil", "sam"])
    fam = pick(["kim", "lee", "park", "choi", "jung", "smith", "nguyen", "garcia", "mueller",
                "tanaka", "kowalski", "oconnor", "haddad", "silva", "ivanova"])
    shape = R.randrange(6)
    if shape == 0:
        local = f"{given}.{fam}"
    elif shape == 1:
        local = f"{fam}{R.randrange(1, 999)}"
    elif shape == 2:
        local = f"{given}+{pick(['billing', 'jira', 'news', 'ci', 'alerts', 'test-2'])}"
    elif shape == 3:
        local = f"{given[0]}{fam}"
    elif shape == 4:
        local = f"{fam}_{given}".replace("'", "")
    else:
        local = f"{given}.{fam}{R.randrange(70, 99)}"
    local = local.replace("'", "") if R.random() < 0.7 else local
    domain = pick(["naver.com", "gmail.com", "kakao.com", "corp.acme-logistics.co.kr",
                   "mail.hanbit.ac.kr", "eu.contoso-bank.de", "students.univ-paris13.fr",
                   "outlook.jp", "dev.k8s.internal.example.io", "daum.net", "hanmail.net",
                   "research.uni-heidelberg.de", "ops.northwind.com.au", "proton.me"])
    v = f"{local}@{domain}"
    return dict(value=v, variant="plus" if "+" in local else ("subdomain" if domain.count(".") > 1 else "plain"))


def v_kr_mobile():
    mid = digits(4, "23456789")
    last = digits(4)
    nat = f"010{mid}{last}"
    intl = f"8210{mid}{last}"
    forms = [
        ("dashed", f"010-{mid}-{last}"),
        ("plain", nat),
        ("spaced", f"010 {mid} {last}"),
        ("dotted", f"010.{mid}.{last}"),
        ("intl_space", f"+82 10-{mid}-{last}"),
        ("intl_compact", f"+8210{mid}{last}"),
        ("intl_dash", f"+82-10-{mid}-{last}"),
        ("intl_paren0", f"+82 (0)10 {mid} {last}"),
        ("intl_00", f"0082-10-{mid}-{last}"),
        ("intl_spaced", f"+82 10 {mid} {last}"),
    ]
    var, v = pick(forms)
    return dict(value=v, variant=var, digits=[nat, intl])


def v_kr_safe_number():
    p = f"050{R.randrange(2, 8)}"
    a, b = digits(4, "123456789"), digits(4)
    var, v = pick([("dashed", f"{p}-{a}-{b}"), ("plain", f"{p}{a}{b}"), ("spaced", f"{p} {a} {b}")])
    return dict(value=v, variant=var, digits=[p + a + b])


KR_AREAS = ["02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054",
            "055", "061", "062", "063", "064", "070"]


def v_kr_landline():
    area = pick(KR_AREAS)
    if area == "070":
        ex = digits(4, "23456789")
    else:
        ex = digits(pick([3, 4]), "23456789")
    sub = digits(4)
    nat = area + ex + sub
    forms = [
        ("dashed", f"{area}-{ex}-{sub}"),
        ("paren", f"({area}) {ex}-{sub}"),
        ("intl", f"+82-{area[1:]}-{ex}-{sub}"),
        ("spaced", f"{area} {ex} {sub}"),
        ("intl_space", f"+82 {area[1:]} {ex} {sub}"),
    ]
    var, v = pick(forms)
    return dict(value=v, variant=var, digits=[nat, "82" + nat[1:]])


def nanp_part(middle_not_9=False):
    while True:
        a = pick("23456789")
        b = pick("012345678" if middle_not_9 else "0123456789")
        c = pick("0123456789")
        if b == "1" and c == "1":
            continue
        return a + b + c


def v_us_phone():
    npa = nanp_part(True)
    nxx = nanp_part()
    line = digits(4)
    forms = [
        ("paren", f"({npa}) {nxx}-{line}"),
        ("dashed", f"{npa}-{nxx}-{line}"),
        ("dotted", f"{npa}.{nxx}.{line}"),
        ("plus1_paren", f"+1 ({npa}) {nxx}-{line}"),
        ("plus1_space", f"+1 {npa} {nxx} {line}"),
        ("one_dash", f"1-{npa}-{nxx}-{line}"),
        ("plus1_dash", f"+1-{npa}-{nxx}-{line}"),
        ("e164", f"+1{npa}{nxx}{line}"),
    ]
    var, v = pick(forms)
    return dict(value=v, variant=var, digits=[npa + nxx + line, "1" + npa + nxx + line])


def v_phone_intl():
    c = R.randrange(8)
    if c == 0:
        v = f"+44 20 7{digits(3)} {digits(4)}"
    elif c == 1:
        v = f"+44 7{digits(3, '456789')} {digits(6)}"
    elif c == 2:
        v = f"+81 3-{digits(4)}-{digits(4)}"
    elif c == 3:
        v = f"+49 30 {digits(8, '123456789')}"
    elif c == 4:
        v = f"+33 6 {digits(2)} {digits(2)} {digits(2)} {digits(2)}"
    elif c == 5:
        v = f"+86 13{digits(1)} {digits(4)} {digits(4)}"
    elif c == 6:
        v = f"+65 9{digits(3)} {digits(4)}"
    else:
        v = "+61" + "4" + digits(8)
    return dict(value=v, variant="e164" if " " not in v and "-" not in v else "grouped",
                digits=[only_digits(v)])


def card_number():
    kind = R.randrange(9)
    if kind == 0:
        pre, n = "4", 16
    elif kind == 1:
        pre, n = "4", 19
    elif kind == 2:
        pre, n = str(R.randrange(51, 56)), 16
    elif kind == 3:
        pre, n = str(R.randrange(2221, 2721)), 16
    elif kind == 4:
        pre, n = pick(["34", "37"]), 15
    elif kind == 5:
        pre, n = pick(["6011", "65", str(R.randrange(644, 650))]), pick([16, 19])
    elif kind == 6:
        pre, n = str(R.randrange(3528, 3590)), pick([16, 19])
    elif kind == 7:
        pre, n = "62" + digits(1), pick([16, 17, 18, 19])
    else:
        pre, n = "36", 14
    body = pre + digits(n - 1 - len(pre))
    return body + luhn_check(body)


def group(num, sizes, sep):
    out, i = [], 0
    for s in sizes:
        out.append(num[i:i + s])
        i += s
    if i < len(num):
        out.append(num[i:])
    return sep.join(x for x in out if x)


def v_credit_card():
    num = card_number()
    n = len(num)
    r = R.random()
    if r < 0.3:
        var, v = "plain", num
    elif n == 15:
        var, v = "4-6-5", group(num, [4, 6, 5], pick([" ", "-"]))
    elif n == 14:
        var, v = "4-6-4", group(num, [4, 6, 4], " ")
    else:
        var, v = "4-4-4-4", group(num, [4, 4, 4, 4], pick([" ", "-"]))
    return dict(value=v, variant=var, digits=[num])


def rrn_like(foreign):
    y, m, d = rand_birth()
    if y < 2000:
        s = pick("56") if foreign else pick("12")
    else:
        s = pick("78") if foreign else pick("34")
    yy = "%02d%02d%02d" % (y % 100, m, d)
    if foreign:
        while True:
            mid = digits(4)
            if int(mid[1:3]) % 2 == 0:  # registration office code is even
                break
        tail = mid + pick("6789")
        d12 = yy + s + tail
        return d12 + frn_check(d12)
    d12 = yy + s + digits(5)
    return d12 + rrn_check(d12)


def v_kr_rrn():
    n = rrn_like(False)
    var, v = pick([("dashed", n[:6] + "-" + n[6:]), ("dashed", n[:6] + "-" + n[6:]), ("plain", n)])
    return dict(value=v, variant=var, digits=[n])


def v_kr_frn():
    n = rrn_like(True)
    var, v = pick([("dashed", n[:6] + "-" + n[6:]), ("plain", n)])
    return dict(value=v, variant=var, digits=[n])


def v_kr_brn():
    d9 = pick(["1", "2", "3", "4", "5", "6", "7", "8"]) + digits(2) + "%02d" % R.randrange(1, 100) + digits(4)
    n = d9 + brn_check(d9)
    var, v = pick([("dashed", f"{n[:3]}-{n[3:5]}-{n[5:]}"), ("dashed", f"{n[:3]}-{n[3:5]}-{n[5:]}"),
                   ("plain", n)])
    return dict(value=v, variant=var, digits=[n])


BANKS = [
    ("KB국민은행", [6, 2, 6]), ("신한은행", [3, 3, 6]), ("우리은행", [4, 3, 6]),
    ("하나은행", [3, 6, 5]), ("NH농협", [3, 4, 4, 2]), ("IBK기업은행", [3, 6, 2, 3]),
    ("카카오뱅크", [4, 2, 7]), ("토스뱅크", [4, 4, 4]), ("SC제일은행", [3, 2, 6]),
    ("부산은행", [3, 4, 4, 2]), ("우체국", [6, 2, 6]), ("새마을금고", [4, 4, 4, 1]),
]


def v_kr_bank_account():
    bank, sizes = pick(BANKS)
    num = digits(sum(sizes), "123456789")
    if R.random() < 0.25:
        var, v = "plain", num
    else:
        var, v = "grouped", group(num, sizes, "-")
    return dict(value=v, variant=var, digits=[num], bank=bank)


REGIONS = {11: "서울", 12: "부산", 13: "경기", 14: "강원", 15: "충북", 16: "충남", 17: "전북",
           18: "전남", 19: "경북", 20: "경남", 21: "제주", 22: "대구", 23: "인천", 24: "광주",
           25: "대전", 26: "울산", 28: "경기북부"}


def v_kr_driver_license():
    rc = pick(sorted(REGIONS))
    yy = "%02d" % R.randrange(0, 100)
    ser = digits(6)
    ck = digits(2)
    n = f"{rc}{yy}{ser}{ck}"
    r = R.random()
    if r < 0.6:
        var, v = "dashed", f"{rc}-{yy}-{ser}-{ck}"
    elif r < 0.85:
        var, v = "plain", n
    else:
        var, v = "region_name", f"{REGIONS[rc]} {yy}-{ser}-{ck}"
    return dict(value=v, variant=var, digits=[n])


def v_us_ssn():
    while True:
        a = R.randrange(1, 900)
        if a != 666:
            break
    g = R.randrange(1, 100)
    s = R.randrange(1, 10000)
    n = "%03d%02d%04d" % (a, g, s)
    var, v = pick([("dashed", f"{n[:3]}-{n[3:5]}-{n[5:]}"), ("dashed", f"{n[:3]}-{n[3:5]}-{n[5:]}"),
                   ("plain", n), ("spaced", f"{n[:3]} {n[3:5]} {n[5:]}")])
    return dict(value=v, variant=var, digits=[n])


IBAN_SPECS = {
    "DE": "8n10n", "GB": "4a6n8n", "FR": "5n5n11c2n", "ES": "4n4n1n1n10n", "NL": "4a10n",
    "IT": "1a5n5n12c", "BE": "3n7n2n", "CH": "5n12c", "AT": "5n11n", "PL": "8n16n",
    "SE": "3n16n1n", "NO": "4n6n1n", "DK": "4n9n1n", "FI": "3n11n", "PT": "4n4n11n2n",
    "IE": "4a6n8n", "LU": "3n13c", "AE": "3n16n", "TR": "5n1n16c", "SA": "2n18c",
}


def bban(spec):
    out, num = "", ""
    for c in spec:
        if c.isdigit():
            num += c
            continue
        n, num = int(num), ""
        alpha = {"n": "0123456789", "a": string.ascii_uppercase,
                 "c": string.ascii_uppercase + "0123456789"}[c]
        out += rstr(alpha, n)
    return out


def v_iban():
    cc = pick(sorted(IBAN_SPECS))
    b = bban(IBAN_SPECS[cc])
    iban = cc + iban_check(cc, b) + b
    grouped = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    var, v = pick([("compact", iban), ("grouped", grouped), ("lower", iban.lower()),
                   ("lower_grouped", grouped.lower()), ("grouped", grouped)])
    return dict(value=v, variant=var, digits=[iban])


def v_dob():
    y, m, d = rand_birth()
    forms = [
        ("iso", "%04d-%02d-%02d" % (y, m, d)),
        ("slash_ymd", "%04d/%02d/%02d" % (y, m, d)),
        ("dot_ymd", "%04d.%02d.%02d" % (y, m, d)),
        ("us_mdy", "%02d/%02d/%04d" % (m, d, y)),
        ("eu_dmy", "%02d.%02d.%04d" % (d, m, y)),
        ("compact", "%04d%02d%02d" % (y, m, d)),
        ("korean", f"{y}년 {m}월 {d}일"),
        ("dot_spaced", f"{y}. {m}. {d}."),
        ("month_name", f"{MONTHS[m - 1]} {d}, {y}"),
        ("day_month", f"{d} {MONTHS[m - 1][:3]} {y}"),
    ]
    var, v = pick(forms)
    return dict(value=v, variant=var)


PW_WORDS = ["Sunflower", "dragon", "Tiger", "hanbit", "Seoul", "winter", "Gangnam", "coffee",
            "Blue", "orange"]
PW_SYMS = "!$*-_.~@^"


def v_password():
    r = R.random()
    if r < 0.45:
        while True:
            p = rstr(B62 + PW_SYMS, R.randrange(10, 22))
            if any(c.isdigit() for c in p) and any(c.isalpha() for c in p):
                break
        var = "random"
    elif r < 0.8:
        p = pick(PW_WORDS) + str(R.randrange(1970, 2027)) + pick("!@$*#")
        p = p.replace("#", "!")
        var = "word_year_symbol"
    else:
        p = rstr(string.ascii_lowercase, 5) + pick(PW_SYMS) + rstr(string.digits, 4) + rstr(string.ascii_uppercase, 2)
        var = "mixed"
    return dict(value=p, variant=var)


def public_ipv4():
    while True:
        a = R.randrange(1, 224)
        if a in (10, 127, 0, 100, 169, 172, 192, 198, 203):
            continue
        return "%d.%d.%d.%d" % (a, R.randrange(256), R.randrange(256), R.randrange(1, 255))


def v_ipv4():
    return dict(value=public_ipv4(), variant="dotted")


def v_ipv6():
    groups = [pick(["2001", "2a00", "2a01", "2a02", "2400", "2404", "2600", "2607", "2620", "2c0f"])]
    groups += ["%x" % R.randrange(0, 0x10000) for _ in range(7)]
    k = R.randrange(6)
    if k == 0:
        v, var = ":".join("%04x" % int(g, 16) for g in groups), "full"
    elif k in (1, 2):
        # RFC 5952: compress the longest run of zero groups (length >= 2)
        gs = groups[:]
        start = R.randrange(2, 5)
        ln = R.randrange(2, 4)
        for i in range(start, start + ln):
            gs[i] = "0"
        v = ":".join(gs[:start]) + "::" + ":".join(gs[start + ln:])
        var = "compressed"
    elif k == 3:
        iid = ["%x" % R.randrange(0, 0x10000) for _ in range(4)]
        v = "fe80::" + ":".join(iid) + "%" + pick(["eth0", "en0", "ens5", "wlan0", "25"])
        var = "link_local_zone"
    elif k == 4:
        v = "::ffff:" + public_ipv4()
        var = "ipv4_mapped"
    else:
        v = ":".join(groups[:4]) + "::" + groups[7]
        var = "compressed_tail"
    return dict(value=v, variant=var)


def v_jwt():
    alg = pick(["HS256", "RS256", "ES256", "HS512"])
    hdr = {"alg": alg, "typ": "JWT"}
    if alg != "HS256" and R.random() < 0.7:
        hdr["kid"] = rstr(B64U, 22)
    iat = 1764000000 + R.randrange(0, 9000000)
    pl = {"sub": str(R.randrange(10 ** 6, 10 ** 9)), "iat": iat, "exp": iat + pick([900, 3600, 86400])}
    if R.random() < 0.5:
        pl["iss"] = pick(["https://auth.example.com", "accounts.acme.io", "keycloak"])
    if R.random() < 0.4:
        pl["scope"] = pick(["read write", "openid profile", "orders:read"])
    h = b64url(json.dumps(hdr, separators=(",", ":")).encode())
    p = b64url(json.dumps(pl, separators=(",", ":")).encode())
    siglen = {"HS256": 32, "RS256": 256, "ES256": 64, "HS512": 64}[alg]
    s = b64url(rbytes(siglen))
    return dict(value=f"{h}.{p}.{s}", variant=alg, fragments=[p, s])


def v_session_cookie():
    k = R.randrange(7)
    if k == 0:
        name, val = "JSESSIONID", rstr("0123456789ABCDEF", 32)
    elif k == 1:
        name, val = "PHPSESSID", rstr("0123456789abcdefghijklmnopqrstuv", 26)
    elif k == 2:
        name, val = "connect.sid", "s%3A" + rstr(B64U, 32) + "." + rstr(B62 + "%", 43).replace("%", "F")
    elif k == 3:
        name, val = "ASP.NET_SessionId", rstr("abcdefghijklmnopqrstuvwxyz012345", 24)
    elif k == 4:
        name, val = "sessionid", rstr(string.ascii_lowercase + string.digits, 32)
    elif k == 5:
        name, val = "laravel_session", rstr(B62, 40) + "%3D"
    else:
        name, val = "SESSION", base64.b64encode(str(
            "%08x-%04x-4%03x-a%03x-%012x" % (R.getrandbits(32), R.getrandbits(16), R.getrandbits(12),
                                              R.getrandbits(12), R.getrandbits(48))).encode()).decode()
    return dict(value=val, variant=name, cookie=name)


def v_aws_access_key():
    p = pick(["AKIA", "AKIA", "ASIA"])
    return dict(value=p + rstr(string.ascii_uppercase + "234567", 16), variant=p)


def v_aws_secret_key():
    return dict(value=rstr(B62 + "+/", 40), variant="secret")


def gh_checksum(s):
    crc = binascii.crc32(s.encode()) & 0xFFFFFFFF
    out = ""
    while crc:
        crc, r = divmod(crc, 62)
        out = (string.digits + string.ascii_uppercase + string.ascii_lowercase)[r] + out
    return out.rjust(6, "0")


def v_github_token():
    if R.random() < 0.2:
        v = "github_pat_" + rstr(B62, 22) + "_" + rstr(B62, 59)
        return dict(value=v, variant="fine_grained")
    p = pick(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"])
    body = rstr(B62, 30)
    return dict(value=p + body + gh_checksum(body), variant=p)


def v_gitlab_token():
    p = pick(["glpat-", "glpat-", "gldt-", "glrt-"]) if R.random() < 0.3 else "glpat-"
    return dict(value=p + rstr(B64U, 20), variant=p)


def v_slack_token():
    k = R.randrange(3)
    if k == 0:
        v = f"xoxb-{digits(12, '123456789')}-{digits(13, '123456789')}-{rstr(B62, 24)}"
    elif k == 1:
        v = f"xoxp-{digits(11, '123456789')}-{digits(12, '123456789')}-{digits(13, '123456789')}-{rstr(HEX, 32)}"
    else:
        v = f"xoxa-2-{digits(12, '123456789')}-{digits(13, '123456789')}-{rstr(HEX, 64)}"
    return dict(value=v, variant=v[:4])


def v_slack_webhook():
    t = "T" + rstr(string.ascii_uppercase + string.digits, pick([8, 10]))
    b = "B" + rstr(string.ascii_uppercase + string.digits, pick([8, 10, 11]))
    sec = rstr(B62, 24)
    return dict(value=f"https://hooks.slack.com/services/{t}/{b}/{sec}", variant="services", fragments=[sec])


def v_stripe_key():
    p = pick(["sk_live_", "rk_live_", "pk_live_", "sk_live_"])
    n = pick([24, 99])
    return dict(value=p + rstr(B62, n), variant=p + str(n))


def v_google_api_key():
    return dict(value="AIza" + rstr(B64U, 35), variant="AIza")


def v_sendgrid_key():
    return dict(value="SG." + rstr(B64U, 22) + "." + rstr(B64U, 43), variant="SG")


def v_twilio_key():
    p = pick(["SK", "AC"])
    return dict(value=p + rstr(HEX, 32), variant=p)


def v_openai_key():
    k = R.randrange(3)
    if k == 0:
        v = "sk-" + rstr(B62, 20) + "T3BlbkFJ" + rstr(B62, 20)
        var = "legacy"
    elif k == 1:
        v = "sk-proj-" + rstr(B64U, 74) + "T3BlbkFJ" + rstr(B64U, 74)
        var = "project"
    else:
        v = "sk-svcacct-" + rstr(B64U, 74) + "T3BlbkFJ" + rstr(B64U, 74)
        var = "service_account"
    return dict(value=v, variant=var)


def v_npm_token():
    return dict(value="npm_" + rstr(B62, 36), variant="npm_")


def v_pypi_token():
    # A PyPI token is a macaroon: "pypi-" + base64url of a binary macaroon whose location is pypi.org.
    mac = b"\x02\x01\x08pypi.org\x02" + bytes([R.randrange(30, 60)]) + rbytes(R.randrange(120, 170))
    return dict(value="pypi-" + b64url(mac), variant="macaroon")


def v_generic_api_key():
    k = R.randrange(6)
    if k == 0:
        v = rstr(HEX, 32)
    elif k == 1:
        v = rstr(HEX, 40)
    elif k == 2:
        v = rstr(HEX, 64)
    elif k == 3:
        v = rstr(B62, R.randrange(32, 49))
    elif k == 4:
        # 40 characters, capitals and small letters, exactly one digit
        v = list(rstr(string.ascii_letters, 40))
        v[R.randrange(40)] = pick(string.digits)
        v = "".join(v)
    else:
        v = rstr(B64U, R.randrange(32, 65))
    if not any(c.isdigit() for c in v):
        v = v[:-1] + pick(string.digits)
    return dict(value=v, variant=["hex32", "hex40", "hex64", "base62", "base62_one_digit", "base64url"][k])


PEM_KINDS = ["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY",
             "OPENSSH PRIVATE KEY", "DSA PRIVATE KEY", "RSA_LEGACY"]


def v_private_key():
    kind = pick(PEM_KINDS)
    headers = []
    if kind == "OPENSSH PRIVATE KEY":
        raw = b"openssh-key-v1\x00" + rbytes(R.randrange(300, 420))
        width = 70
    else:
        n = {"RSA PRIVATE KEY": 600, "EC PRIVATE KEY": 121, "PRIVATE KEY": 138,
             "ENCRYPTED PRIVATE KEY": 240, "DSA PRIVATE KEY": 440, "RSA_LEGACY": 608}[kind]
        raw = b"\x30\x82" + rbytes(n)
        width = 64
    label = kind
    if kind == "RSA_LEGACY":
        label = "RSA PRIVATE KEY"
        headers = ["Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC," + rstr("0123456789ABCDEF", 32)]
    b = base64.b64encode(raw).decode()
    lines = [b[i:i + width] for i in range(0, len(b), width)]
    body = lines[:]
    text = [f"-----BEGIN {label}-----"] + headers + ([""] if headers else []) + lines + [f"-----END {label}-----"]
    cut = False
    if R.random() < 0.15:
        # the logger cut the block off after a few body lines
        keep = max(2, len(lines) // 2)
        text = text[:len(headers) + (2 if headers else 1) + keep]
        body = lines[:keep]
        cut = True
    return dict(value="\n".join(text), variant=kind.split()[0].lower() + ("_cut" if cut else ""),
                fragments=[ln for ln in body if len(ln) >= 16])


URL_USERS = ["app", "admin", "svc_orders", "deploy", "root", "grafana", "etl"]


def v_url_credentials():
    pw = v_password()["value"]
    user = pick(URL_USERS + [""]) if R.random() < 0.2 else pick(URL_USERS)
    scheme, host = pick([("postgres", "db-primary.internal:5432/orders"), ("mysql", "10.0.3.4:3306/shop"),
                         ("mongodb+srv", "cluster0.ab1cd.mongodb.net/prod"),
                         ("amqp", "rabbit.svc.cluster.local:5672/%2F"),
                         ("redis", "cache.internal:6379/0"), ("https", "git.corp.example/infra/deploy.git"),
                         ("ftp", "files.partner.example/outbox")])
    enc = urllib.parse.quote(pw, safe="!$*-_.~^")
    url = f"{scheme}://{user}:{enc}@{host}"
    return dict(value=pw, variant=scheme + ("_nouser" if not user else ""), url=url, enc=enc)


def v_basic_auth():
    user = pick(["admin", "ci-bot", "svc-export", "kim.minsu", "partner_api", "grafana"])
    pw = v_password()["value"]
    tok = base64.b64encode(f"{user}:{pw}".encode()).decode()
    return dict(value=tok, variant="basic", userpass=f"{user}:{pw}")


GEN = {
    "email": v_email, "kr_mobile": v_kr_mobile, "kr_safe_number": v_kr_safe_number,
    "kr_landline": v_kr_landline, "us_phone": v_us_phone, "phone_intl": v_phone_intl,
    "credit_card": v_credit_card, "kr_rrn": v_kr_rrn, "kr_frn": v_kr_frn, "kr_brn": v_kr_brn,
    "kr_bank_account": v_kr_bank_account, "kr_driver_license": v_kr_driver_license,
    "us_ssn": v_us_ssn, "iban": v_iban, "dob": v_dob, "password": v_password, "ipv4": v_ipv4,
    "ipv6": v_ipv6, "jwt": v_jwt, "session_cookie": v_session_cookie,
    "aws_access_key": v_aws_access_key, "aws_secret_key": v_aws_secret_key,
    "github_token": v_github_token, "gitlab_token": v_gitlab_token, "slack_token": v_slack_token,
    "slack_webhook": v_slack_webhook, "stripe_key": v_stripe_key,
    "google_api_key": v_google_api_key, "sendgrid_key": v_sendgrid_key,
    "twilio_key": v_twilio_key, "openai_key": v_openai_key, "npm_token": v_npm_token,
    "pypi_token": v_pypi_token, "generic_api_key": v_generic_api_key,
    "private_key": v_private_key, "url_credentials": v_url_credentials,
    "basic_auth": v_basic_auth,
}

# Keys a value sits under (mixed case on purpose) and words that mark it in prose.
KEYS = {
    "email": ["email", "userEmail", "contact_email", "EMAIL", "mail", "owner-email", "replyTo", "e-mail"],
    "kr_mobile": ["phone", "mobile", "cellPhone", "휴대폰", "hp_no", "phone_number", "MobileNo"],
    "kr_safe_number": ["safe_number", "virtualPhone", "안심번호", "relay_phone"],
    "kr_landline": ["tel", "office_phone", "전화번호", "fax", "landline"],
    "us_phone": ["phone", "phoneNumber", "contact_phone", "Tel", "mobile"],
    "phone_intl": ["phone", "msisdn", "intl_phone", "whatsapp", "contactNumber"],
    "credit_card": ["card_number", "cardNo", "pan", "CreditCard", "cc_number"],
    "kr_rrn": ["rrn", "주민등록번호", "jumin_no", "resident_reg_no", "residentNumber"],
    "kr_frn": ["frn", "외국인등록번호", "alien_reg_no", "foreignerNo"],
    "kr_brn": ["brn", "사업자등록번호", "biz_no", "business_number", "tax_id", "bizRegNo"],
    "kr_bank_account": ["account_no", "계좌번호", "bankAccount", "deposit_account", "refund_account", "acct_no"],
    "kr_driver_license": ["driver_license", "운전면허번호", "license_no", "dl_number", "driverLicenseNo"],
    "us_ssn": ["ssn", "SSN", "social_security_number", "socialSecurityNo"],
    "iban": ["iban", "IBAN", "payout_iban", "beneficiary"],
    "dob": ["dob", "birth_date", "birthday", "dateOfBirth", "생년월일", "DOB", "birthDate"],
    "password": ["password", "PassWord", "PASSWORD", "passwd", "pwd", "db_password", "DB_PASSWORD",
                 "비밀번호", "admin_pass", "MYSQL_ROOT_PASSWORD", "Passphrase"],
    "ipv4": ["client_ip", "remote_addr", "ip", "X-Forwarded-For", "peer"],
    "ipv6": ["client_ip", "remote_addr", "ip6", "X-Real-IP", "peerAddr"],
    "jwt": ["id_token", "access_token", "jwt", "refreshToken"],
    "aws_access_key": ["aws_access_key_id", "AWS_ACCESS_KEY_ID", "accessKeyId"],
    "aws_secret_key": ["aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "secretAccessKey"],
    "github_token": ["GITHUB_TOKEN", "gh_token", "token"],
    "gitlab_token": ["GITLAB_TOKEN", "private_token", "CI_JOB_TOKEN"],
    "slack_token": ["SLACK_BOT_TOKEN", "slack_token", "token"],
    "slack_webhook": ["webhook_url", "SLACK_WEBHOOK", "url"],
    "stripe_key": ["STRIPE_SECRET_KEY", "stripe_key", "apiKey"],
    "google_api_key": ["GOOGLE_API_KEY", "maps_key", "key"],
    "sendgrid_key": ["SENDGRID_API_KEY", "sendgrid", "mail_key"],
    "twilio_key": ["TWILIO_API_KEY", "twilio_sid", "accountSid"],
    "openai_key": ["OPENAI_API_KEY", "openai_key", "llm_key"],
    "npm_token": ["NPM_TOKEN", "npm_auth", "_authToken"],
    "pypi_token": ["PYPI_TOKEN", "TWINE_PASSWORD", "pypi_api_token"],
    "generic_api_key": ["X-Api-Key", "api_key", "apiKey", "API_KEY", "x-api-key", "api-token",
                        "client_secret", "ClientSecret", "X-Auth-Token"],
    "private_key": ["private_key", "tls.key", "ssh_private_key", "signingKey"],
    "url_credentials": ["DATABASE_URL", "dsn", "broker_url", "remote"],
    "basic_auth": ["Authorization", "AUTHORIZATION", "authorization"],
    "session_cookie": ["Cookie", "cookie", "Set-Cookie"],
}

WORDS = {
    "email": ["mail to", "contact", "이메일", "sent to", "user"],
    "kr_mobile": ["연락처", "휴대폰", "phone", "call", "문자 발송 대상"],
    "kr_safe_number": ["안심번호", "relay", "연락처"],
    "kr_landline": ["전화", "tel", "대표 연락처", "fax"],
    "us_phone": ["call", "phone", "tel", "cell"],
    "phone_intl": ["call", "phone", "WhatsApp"],
    "credit_card": ["card", "카드번호", "charged card", "PAN"],
    "kr_rrn": ["주민등록번호", "주민번호", "RRN"],
    "kr_frn": ["외국인등록번호", "alien registration no.", "외국인번호"],
    "kr_brn": ["사업자등록번호", "사업자번호", "business reg. no", "BRN"],
    "kr_bank_account": ["계좌", "입금 계좌", "환불 계좌번호", "account", "bank account"],
    "kr_driver_license": ["운전면허번호", "면허번호", "driver license", "license no"],
    "us_ssn": ["SSN", "ssn", "social security number", "SSN#"],
    "iban": ["IBAN", "to", "payout to", "account"],
    "dob": ["DOB", "born", "birthday", "생년월일", "date of birth", "born on"],
    "password": ["password", "Password:", "pwd", "비밀번호", "passwd", "password is"],
    "generic_api_key": ["api key", "apikey", "API 키", "token", "client secret", "secret"],
    "aws_secret_key": ["secret access key", "aws secret", "시크릿 키"],
}

# Types whose detection needs a key or a marking word.
NEEDS_CONTEXT = {"dob", "kr_bank_account", "password", "generic_api_key", "aws_secret_key",
                 "session_cookie"}
# Types whose plain spelling needs context.
PLAIN_NEEDS_CONTEXT = {"us_ssn", "kr_brn", "kr_frn", "kr_driver_license", "kr_landline", "us_phone"}

PARTICLES = ["로", "으로", "이", "가", "입니다", "는", "을", "를", "에", "(으)로", "이며", "입니다."]


# ---------------------------------------------------------------- hard negatives

def n_uuid():
    return "%08x-%04x-4%03x-%x%03x-%012x" % (R.getrandbits(32), R.getrandbits(16), R.getrandbits(12),
                                            R.randrange(8, 12), R.getrandbits(12), R.getrandbits(48))


def n_ean():
    if R.random() < 0.75:
        body = pick(["880", "880", "400", "471", "590", "00"]) 
        body = body + digits(12 - len(body))
        return body + ean_check(body)
    body = digits(7)
    return body + ean_check(body)


def n_isbn():
    if R.random() < 0.7:
        body = "97889" + digits(7)
        n = body + ean_check(body)
        return pick([n, f"978-89-{n[5:9]}-{n[9:12]}-{n[12]}", "ISBN " + n])
    body = "89" + digits(7)
    s = sum((10 - i) * int(c) for i, c in enumerate(body))
    c = (11 - s % 11) % 11
    return body + ("X" if c == 10 else str(c))


def n_non_luhn16():
    while True:
        n = digits(16, "123456789")
        if not luhn_ok(n):
            return n


def n_epoch():
    if R.random() < 0.5:
        return str(1700000000 + R.randrange(0, 90000000))
    return str(1700000000000 + R.randrange(0, 90000000000))


def n_non_dob_date():
    y = R.randrange(2019, 2027)
    m, d = R.randrange(1, 13), R.randrange(1, 29)
    return pick(["%04d-%02d-%02d" % (y, m, d), "%04d/%02d/%02d" % (y, m, d), "%04d.%02d.%02d" % (y, m, d),
                 f"{y}년 {m}월 {d}일", "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, m, d, R.randrange(24), R.randrange(60), R.randrange(60))])


def n_kr_rep_number():
    return pick(["1588", "1577", "1600", "1644", "1899", "1544", "1566", "1661", "1670", "1688"]) + "-" + digits(4)


def n_version_ip():
    return "%d.%d.%d.%d" % (R.randrange(1, 20), R.randrange(0, 30), R.randrange(0, 256), R.randrange(1, 256))


def n_mac():
    sep = pick([":", "-"])
    m = sep.join("%02x" % R.randrange(256) for _ in range(6))
    return m.upper() if R.random() < 0.4 else m


def n_k8s_name():
    app = pick(["checkout-api", "payment-worker", "kafka-connect", "redis-ha", "order-sync", "ingress-nginx-controller"])
    if R.random() < 0.5:
        return f"{app}-{rstr('bcdfghjklmnpqrstvwxz2456789', 10)}-{rstr('bcdfghjklmnpqrstvwxz2456789', 5)}"
    return f"{app}-{R.randrange(0, 6)}"


def n_non_rrn_13():
    # 13 digits whose first six are no date (month 13-99) and that fail Luhn
    while True:
        n = digits(2) + "%02d" % R.randrange(13, 100) + digits(9)
        if not luhn_ok(n):
            return n


def n_user_agent():
    return pick([
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.%d.%d Safari/537.36"
        % (R.randrange(110, 132), R.randrange(5000, 6999), R.randrange(10, 250)),
        "Mozilla/5.0 (Linux; Android 14; SM-S918N Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Version/4.0 Chrome/%d.0.%d.%d Mobile Safari/537.36 KAKAOTALK/10.%d.%d"
        % (R.randrange(110, 132), R.randrange(5000, 6999), R.randrange(10, 250), R.randrange(1, 9), R.randrange(0, 9)),
        "okhttp/4.%d.%d" % (R.randrange(0, 13), R.randrange(0, 5)),
        "Dalvik/2.1.0 (Linux; U; Android 13; SM-A536N Build/TP1A.220624.014)",
    ])


def n_ga_id():
    return pick(["UA-%d-%d" % (R.randrange(10 ** 7, 10 ** 9), R.randrange(1, 9)),
                 "G-" + rstr(string.ascii_uppercase + string.digits, 10),
                 "GTM-" + rstr(string.ascii_uppercase + string.digits, 7)])


def n_timestamp():
    y, m, d = R.randrange(2024, 2027), R.randrange(1, 13), R.randrange(1, 29)
    return pick(["%04d-%02d-%02dT%02d:%02d:%02d.%03d+09:00" % (y, m, d, R.randrange(24), R.randrange(60), R.randrange(60), R.randrange(1000)),
                 "%04d-%02d-%02d %02d:%02d:%02d,%03d" % (y, m, d, R.randrange(24), R.randrange(60), R.randrange(60), R.randrange(1000)),
                 "%s %2d %02d:%02d:%02d" % (MONTHS[m - 1][:3], d, R.randrange(24), R.randrange(60), R.randrange(60))])


def n_oid():
    return "1.3.6.1.%d.%d.%d.%d.%d" % (R.randrange(2, 5), R.randrange(1, 40000), R.randrange(1, 30), R.randrange(1, 10), R.randrange(0, 300))


def n_postcode():
    return pick(["%05d" % R.randrange(1000, 63999), "%05d-%04d" % (R.randrange(10000, 99999), R.randrange(10000))])


NEG = {
    "non_rrn_13": n_non_rrn_13,
    "duration": lambda: pick(["%dms" % R.randrange(1, 99999), "%dh%dm%ds" % (R.randrange(0, 48), R.randrange(60), R.randrange(60)),
                              "%.3fs" % R.uniform(0, 120), "PT%dM%dS" % (R.randrange(60), R.randrange(60))]),
    "user_agent": n_user_agent,
    "ga_id": n_ga_id,
    "timestamp": n_timestamp,
    "snmp_oid": n_oid,
    "postcode": n_postcode,
    "uuid": n_uuid,
    "trace_id": lambda: rstr(HEX, 32),
    "span_id": lambda: rstr(HEX, 16),
    "sha256": lambda: rstr(HEX, 64),
    "git_sha": lambda: rstr(HEX, pick([40, 40, 7, 12])),
    "image_digest": lambda: "sha256:" + rstr(HEX, 64),
    "semver": lambda: pick(["v", ""]) + "%d.%d.%d" % (R.randrange(0, 20), R.randrange(0, 40), R.randrange(0, 60))
    + pick(["", "", "-rc.%d" % R.randrange(1, 5), "-beta.%d" % R.randrange(1, 9), "+build.%d" % R.randrange(1, 999)]),
    "build_number": lambda: pick(["%d.%d" % (20240000 + R.randrange(0, 30000), R.randrange(1, 40)),
                                  "%d" % R.randrange(1000, 99999), "b%d" % R.randrange(100, 9999)]),
    "epoch": n_epoch,
    "isbn": n_isbn,
    "ean": n_ean,
    "order_id": lambda: pick(["ORD-%d-%06d" % (R.randrange(2023, 2027), R.randrange(10 ** 6)),
                              "PO-%05d" % R.randrange(10 ** 5), "2026%02d%02d%07d" % (R.randrange(1, 13), R.randrange(1, 29), R.randrange(10 ** 7)),
                              "A%09d" % R.randrange(10 ** 9)]),
    "amount": lambda: pick(["₩{:,}".format(R.randrange(1000, 9999999)), "${:,.2f}".format(R.randrange(100, 9999999) / 100),
                            "{:,}원".format(R.randrange(1000, 99999999)), "EUR {:,.2f}".format(R.randrange(100, 999999) / 100)]),
    "kr_rep_number": n_kr_rep_number,
    "coordinates": lambda: "%.6f, %.6f" % (R.uniform(33.0, 38.6), R.uniform(124.5, 131.9)),
    "mac_address": n_mac,
    "k8s_name": n_k8s_name,
    "version_ip": n_version_ip,
    "non_dob_date": n_non_dob_date,
    "non_luhn_16": n_non_luhn16,
}

NEG_KEYS = {
    "non_rrn_13": ["member_seq", "ref_no", "item_code"],
    "duration": ["duration", "elapsed", "latency", "took"],
    "user_agent": ["user_agent", "User-Agent", "http.user_agent", "ua"],
    "ga_id": ["ga_id", "tracking_id", "gtm_container", "measurement_id"],
    "timestamp": ["@timestamp", "logged_at", "time", "received"],
    "snmp_oid": ["oid", "snmp_oid", "metric_oid"],
    "postcode": ["zipcode", "postal_code", "우편번호"],
    "uuid": ["request_id", "correlationId", "uuid", "order_uuid"],
    "trace_id": ["trace_id", "traceId"],
    "span_id": ["span_id", "spanId", "parent_span_id"],
    "sha256": ["sha256", "checksum", "content_sha256", "etag"],
    "git_sha": ["commit", "git_sha", "revision", "GIT_COMMIT"],
    "image_digest": ["imageID", "digest", "image_digest"],
    "semver": ["version", "chart_version", "sdk.version", "appVersion"],
    "build_number": ["build", "build_number", "BUILD_ID", "ci_build"],
    "epoch": ["ts", "created_at", "iat", "exp", "timestamp_ms", "updated"],
    "isbn": ["isbn", "ISBN", "book_isbn"],
    "ean": ["barcode", "ean", "sku", "gtin"],
    "order_id": ["order_id", "orderNo", "po_number"],
    "amount": ["amount", "total", "price", "결제금액"],
    "kr_rep_number": ["cs_center", "대표번호", "support_line", "helpdesk"],
    "coordinates": ["location", "coords", "latlng", "geo"],
    "mac_address": ["mac", "hwaddr", "bssid", "device_mac"],
    "k8s_name": ["pod", "k8s.pod.name", "podName", "deployment"],
    "version_ip": ["version", "app_version", "build_version", "firmware_version"],
    "non_dob_date": ["created_at", "order_date", "expires_on", "shipped", "배송일"],
    "non_luhn_16": ["tracking_no", "order_no", "txn_id", "invoice_no", "reference"],
}

NEG_WORDS = {
    "non_rrn_13": "ref", "duration": "took", "user_agent": "UA", "ga_id": "ga", "timestamp": "at",
    "snmp_oid": "oid", "postcode": "우편번호",
    "uuid": "request", "trace_id": "trace_id=", "span_id": "span_id=", "sha256": "sha256",
    "git_sha": "commit", "image_digest": "image", "semver": "version", "build_number": "build",
    "epoch": "epoch", "isbn": "ISBN", "ean": "barcode", "order_id": "order", "amount": "결제금액",
    "kr_rep_number": "고객센터", "coordinates": "at", "mac_address": "mac", "k8s_name": "pod",
    "version_ip": "version", "non_dob_date": "shipped on", "non_luhn_16": "tracking number",
}


# ---------------------------------------------------------------- escaping

def snake(k):
    out = ""
    for i, c in enumerate(k):
        if c.isupper() and i and (k[i - 1].islower() or k[i - 1].isdigit()):
            out += "_"
        out += c.lower()
    return out.replace("-", "_").replace(".", "_")


def json_str_escape(s):
    return json.dumps(s, ensure_ascii=False)[1:-1]


def json_fancy(s):
    """JSON string content with the escapes some serializers choose (\\u0040, \\u002e, \\/)."""
    out = json_str_escape(s)
    k = R.randrange(3)
    if k == 0:
        out = out.replace("@", "\\u0040")
    elif k == 1:
        out = out.replace("/", "\\/")
    else:
        out = out.replace("@", "\\u0040").replace(".", "\\u002e", 1)
    return out


def pct(s):
    return urllib.parse.quote(s, safe="-_.~")


def html_esc(s):
    return s.replace("&", "&amp;").replace("@", "&#64;").replace("<", "&lt;").replace(">", "&gt;")


class Emb:
    """JSON held in a string."""

    def __init__(self, obj):
        self.obj = obj


class Doc:
    """A document under construction: text with placeholders, each standing for a PII item or a keep."""

    def __init__(self):
        self.items = []  # (placeholder, record, raw)
        self.keeps = []

    def ph(self, n):
        return f"\u27e6{n}\u27e7"


def find_path(obj, needle, path=()):
    if isinstance(obj, Emb):
        return find_path(obj.obj, needle, path + ("#json",))
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = find_path(v, needle, path + (k,))
            if p is not None:
                return p
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            p = find_path(v, needle, path + (i,))
            if p is not None:
                return p
    elif isinstance(obj, str) and needle in obj:
        return path
    return None


def dump(obj, indent=None):
    def conv(o):
        if isinstance(o, Emb):
            return json.dumps(conv(o.obj), ensure_ascii=False, separators=(",", ":"))
        if isinstance(o, dict):
            return {k: conv(v) for k, v in o.items()}
        if isinstance(o, list):
            return [conv(v) for v in o]
        return o
    return json.dumps(conv(obj), ensure_ascii=False, indent=indent,
                      separators=(",", ": ") if indent else (", ", ": ") if R.random() < 0.3 else (",", ":"))


def put(obj, keys, val):
    """Set a member under one of `keys` that is still free."""
    free = [k for k in keys if k not in obj]
    k = pick(free) if free else keys[0] + "_%d" % len(obj)
    obj[k] = val


def depth_of(path):
    return sum(1 for p in path if p == "#json")


# ---------------------------------------------------------------- items in context

class Item:
    def __init__(self, typ):
        self.typ = typ
        self.g = GEN[typ]()
        self.value = self.g["value"]
        self.key = pick(KEYS.get(typ, ["value"]))
        if typ == "session_cookie":
            # a session id is written under its cookie's name
            self.key = self.g["cookie"]
        self.word = pick(WORDS.get(typ, KEYS.get(typ, ["value"])))

    def needs_context(self):
        if self.typ in NEEDS_CONTEXT:
            return True
        if self.typ in PLAIN_NEEDS_CONTEXT and self.g["variant"] in ("plain", "spaced", "region_name"):
            return True
        return False

    def record(self, raw, location, context, key, path):
        r = {"type": self.typ, "variant": self.g["variant"], "value": self.value, "raw": raw,
             "location": location, "context": context}
        if key is not None:
            r["key"] = key
        r["path"] = list(path)
        if self.g.get("digits"):
            r["digits"] = self.g["digits"]
        if self.g.get("fragments"):
            r["fragments"] = self.g["fragments"]
        return r


def text_value(item):
    """How an item is written inside a plain-text line: the spelled value, or its embedding form."""
    t = item.typ
    if t == "url_credentials":
        return item.g["url"], item.g["enc"]
    if t == "basic_auth":
        return "Basic " + item.value, item.value
    if t == "slack_webhook":
        return item.value, item.value
    return item.value, item.value


# Document shapes.  Each takes an Item (and a list of keep negatives) and returns
# (format, doc, [pii records], [keep records]).  A shape that gives no context is used
# only for items that need none.

def kv_text(item):
    """A `key: value` / `word value` fragment for inline text, with the context used."""
    full, raw = text_value(item)
    if item.typ in ("url_credentials", "slack_webhook"):
        return full, raw, "none", None
    if item.typ == "basic_auth":
        return f"{item.key}: {full}", raw, "key", item.key
    if item.typ == "session_cookie":
        return f"Cookie: theme=dark; {item.g['cookie']}={full}; lang=ko", raw, "key", item.g["cookie"]
    if item.typ == "private_key":
        return full, raw, "none", None
    r = R.random()
    if item.needs_context() or r < 0.5:
        if R.random() < 0.5 and item.typ in WORDS:
            return f"{item.word} {full}", raw, "word", None
        sep = pick(["=", ": ", "="])
        return f"{item.key}{sep}{full}", raw, "key", item.key
    return full, raw, "none", None


NEG_TEXT = {}


def neg_text(ntyp, val):
    w = NEG_WORDS[ntyp]
    k = pick(NEG_KEYS[ntyp])
    if ntyp in ("trace_id", "span_id"):
        return f"{w}{val}"
    if ntyp == "coordinates":
        return f"geo=({val})"
    if R.random() < 0.5:
        return f"{k}={val}"
    return f"{w} {val}"


def make_neg():
    t = pick(sorted(NEG))
    return t, NEG[t]()


# ---- text shapes

def sh_stack_trace(item, negs):
    frag, raw, ctx, key = kv_text(item)
    cls = pick(["com.acme.billing.PaymentService", "kr.co.shop.member.MemberController",
                "io.northwind.auth.TokenFilter", "org.example.orders.OrderMapper"])
    exc = pick(["java.lang.IllegalArgumentException", "org.springframework.dao.DataIntegrityViolationException",
                "com.fasterxml.jackson.databind.exc.InvalidFormatException", "java.sql.SQLException"])
    wrap = R.random() < 0.5 and ctx != "none" and item.typ != "private_key"
    if wrap:
        # the key ends one line, the value starts the next (the logger wrapped the message)
        head, _, tail = frag.partition(raw)
        msg = f"{exc}: rejected update ({head.rstrip()}\n    {raw}{tail})"
    else:
        msg = f"{exc}: rejected update [{frag}]"
    neg_lines = "".join(f"\n\tat {cls}.handle({n}) // {neg_text(t, v)}" for t, v, n in
                        [(t, v, "%s.java:%d" % (cls.rsplit('.', 1)[1], R.randrange(20, 900))) for t, v in negs])
    doc = (f"{msg}\n\tat {cls}.update({cls.rsplit('.', 1)[1]}.java:{R.randrange(40, 400)})"
           f"\n\tat jdk.internal.reflect.GeneratedMethodAccessor{R.randrange(10, 300)}.invoke(Unknown Source){neg_lines}"
           f"\n\t... {R.randrange(3, 60)} more")
    return "text", doc, [(raw, "stack_trace", ctx, key)]


def sh_markdown(item, negs):
    full, raw = text_value(item)
    ctx, key = "none", None
    col = {"email": "Email", "kr_mobile": "연락처", "us_phone": "Phone", "iban": "IBAN"}.get(item.typ, "Value")
    cell = full
    if item.needs_context():
        cell = f"{item.word} {full}" if item.typ in WORDS else f"{item.key}={full}"
        ctx = "word" if item.typ in WORDS else "key"
        key = None if ctx == "word" else item.key
    rows = [f"| {pick(['김민수', 'Olivia Park', '이서연', 'D. Okafor'])} | {cell} | {pick(['active', '휴면', 'pending'])} |"]
    for t, v in negs:
        rows.append(f"| {NEG_KEYS[t][0]} | {v} | ok |")
    R.shuffle(rows)
    doc = f"### Export {pick(['members', 'payouts', 'tickets'])}\n\n| Name | {col} | Status |\n|---|---|---|\n" + "\n".join(rows)
    return "text", doc, [(raw, "markdown_table", ctx, key)]


def sh_mail_headers(item, negs):
    if item.typ == "email":
        name = pick(['"Kim, Minsu"', "Olivia Park", "=?UTF-8?B?6rmA66+87IiY?=", "이서연"])
        hdr = pick(["From", "To", "Cc", "Reply-To"])
        others = f"To: ops-team@example.org\n" if hdr != "To" else "From: noreply@example.org\n"
        body = "\n".join(f"X-Ref: {neg_text(t, v)}" for t, v in negs)
        doc = (f"Received: from mx1.example.org ([{public_ipv4()}])\n{others}{hdr}: {name} <{item.value}>\n"
               f"Subject: Re: 배송 문의\nMessage-ID: <{n_uuid()}@mail.example.org>\n{body}")
        return "text", doc, [(item.value, "mail_header", "key", hdr)]
    frag, raw, ctx, key = kv_text(item)
    doc = (f"From: support@example.org\nTo: ops@example.org\nSubject: ticket #{R.randrange(1000, 99999)}\n\n"
           f"Customer wrote: please update {frag} thanks\n" + "\n".join(neg_text(t, v) for t, v in negs))
    return "text", doc, [(raw, "mail_body", ctx, key)]


def sh_graphql(item, negs):
    full, raw = text_value(item)
    if item.typ in ("private_key",):
        return sh_env(item, negs)
    esc = json_str_escape(full)
    raw_esc = json_str_escape(raw) if raw in full else raw
    k = item.key if item.typ not in ("session_cookie",) else "sessionCookie"
    extra = "".join(f', {NEG_KEYS[t][0].replace(".", "_").replace("결제금액", "amount")}: "{v}"' for t, v in negs)
    doc = (f'mutation UpdateProfile {{ updateMember(id: "{R.randrange(1, 99999)}", input: {{ {k}: "{esc}"{extra} }}) '
           f'{{ id updatedAt }} }}')
    return "text", doc, [(raw_esc, "graphql", "key", k)]


def sh_protobuf(item, negs):
    full, raw = text_value(item)
    k = snake(item.key)
    if not k.isascii():
        k = "value"
        ctx = "none"
        if item.needs_context():
            return sh_korean(item, negs)
    else:
        ctx = "key"
    esc = full.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    raw_esc = raw.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") if item.typ != "private_key" else None
    lines = [f'member {{\n  id: {R.randrange(1, 10 ** 6)}\n  {k}: "{esc}"']
    for t, v in negs:
        nk = NEG_KEYS[t][0]
        nk = nk if nk.isascii() else "amount"
        nk = nk.replace(".", "_")
        lines.append(f'  {nk}: "{v}"')
    doc = "\n".join(lines) + "\n}"
    if raw_esc is None:
        raw_esc = esc
    return "text", doc, [(raw_esc, "protobuf_text", ctx, k if ctx == "key" else None)]


def sh_hcl(item, negs):
    full, raw = text_value(item)
    k = snake(item.key)
    ctx = "key"
    if not k.isascii():
        k = "value"
        ctx = "none"
        if item.needs_context():
            return sh_env(item, negs)
    if item.typ == "private_key":
        body = f'  {k} = <<-EOT\n{full}\n  EOT'
        rawv = raw
    else:
        body = f'  {k} = "{full}"'
        rawv = raw
    neg = "".join(f'\n  # {neg_text(t, v)}' for t, v in negs)
    res = pick([('resource "aws_db_instance" "orders"', 'engine = "postgres"'),
                ('module "notify"', 'source = "./modules/notify"'),
                ('resource "kubernetes_secret" "app"', 'type = "Opaque"')])
    doc = f"{res[0]} {{\n  {res[1]}\n{body}{neg}\n}}"
    return "text", doc, [(rawv, "terraform", ctx, k if ctx == "key" else None)]


def sh_env(item, negs):
    full, raw = text_value(item)
    k = item.key.upper().replace("-", "_").replace(".", "_")
    if not k.isascii():
        k = "USER_" + item.typ.upper()
    if item.typ == "private_key":
        line = f'{k}="{full}"'
    elif any(c in full for c in " #$'\"") or R.random() < 0.2:
        line = f"{k}='{full}'"
    else:
        line = f"{k}={full}"
    lines = ["# generated by deploy, do not edit", f"APP_ENV={pick(['production', 'staging'])}", line]
    for t, v in negs:
        lines.append(f"{NEG_KEYS[t][0].upper().replace('.', '_') if NEG_KEYS[t][0].isascii() else 'AMOUNT'}={v}")
    R.shuffle(lines[1:])
    return "text", "\n".join(lines), [(raw, "dotenv", "key", k)]


def sh_docker_inspect(item, negs):
    full, raw = text_value(item)
    k = item.key.upper().replace("-", "_").replace(".", "_")
    if not k.isascii():
        k = "USER_" + item.typ.upper()
    env = [f"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin", f"{k}={full}", "LANG=C.UTF-8"]
    labels = {"org.opencontainers.image.source": "https://github.com/acme/orders"}
    for t, v in negs:
        labels["com.acme." + NEG_KEYS[t][0].replace("결제금액", "amount")] = v
    obj = [{"Id": rstr(HEX, 64), "Created": "2026-11-30T04:12:55.120Z",
            "Config": {"Hostname": rstr(HEX, 12), "Env": env, "Labels": labels}}]
    doc = json.dumps(obj, indent=4, ensure_ascii=False)
    rawj = json_str_escape(raw)
    return "text", doc, [(rawj, "docker_inspect", "key", k)]


def sh_kubectl(item, negs):
    full, raw = text_value(item)
    k = item.key.upper().replace("-", "_").replace(".", "_")
    if not k.isascii():
        k = "USER_" + item.typ.upper()
    if item.typ == "private_key":
        return sh_env(item, negs)
    ann = "\n".join(f"              {NEG_KEYS[t][0].replace('결제금액', 'amount')}: {v}" for t, v in negs) or "              <none>"
    doc = (f"Name:         {n_k8s_name()}\nNamespace:    {pick(['prod', 'payments', 'default'])}\n"
           f"Node:         ip-10-0-{R.randrange(256)}-{R.randrange(256)}.ap-northeast-2.compute.internal/10.0.1.7\n"
           f"Annotations:\n{ann}\nContainers:\n  app:\n    Image:          registry.example.com/app:1.4.2\n"
           f"    Environment:\n      LOG_LEVEL:     info\n      {k}:  {full}\n      TZ:            Asia/Seoul\n")
    return "text", doc, [(raw, "kubectl_describe", "key", k)]


def sh_java(item, negs):
    full, raw = text_value(item)
    k = item.key
    if not k.isascii() or "-" in k or "." in k:
        k = {"email": "email", "kr_mobile": "phone"}.get(item.typ, "value")
        if k == "value" and item.needs_context():
            return sh_korean(item, negs)
    ctx = "key" if k != "value" else "none"
    if item.typ == "private_key":
        return sh_env(item, negs)
    fields = [f"id={R.randrange(1, 10 ** 6)}", f"{k}={full}"]
    for t, v in negs:
        nk = NEG_KEYS[t][0]
        fields.append(f"{nk if nk.isascii() else 'amount'}={v}")
    cls = pick(["User", "Member", "PaymentRequest", "Customer", "Credentials"])
    doc = f"{pick(['DEBUG', 'INFO', 'WARN'])} [http-nio-8080-exec-{R.randrange(1, 40)}] saving {cls}{{{', '.join(fields)}}}"
    return "text", doc, [(raw, "java_tostring", ctx, k if ctx == "key" else None)]


def sh_python(item, negs):
    full, raw = text_value(item)
    k = item.key
    if item.typ == "private_key":
        esc = full.replace("\n", "\\n")
        doc = f"DEBUG loaded settings: {{'{k}': '{esc}', 'debug': False}}"
        return "text", doc, [(raw.replace("\n", "\\n"), "python_repr", "key", k)]
    parts = [f"'{k}': '{full}'"]
    for t, v in negs:
        parts.append(f"'{NEG_KEYS[t][0]}': '{v}'")
    R.shuffle(parts)
    if R.random() < 0.5:
        doc = f"ERROR validation failed for payload {{{', '.join(parts)}}}"
    else:
        ka = k if k.isidentifier() else "value"
        ctx_ok = ka != "value" or not item.needs_context()
        if not ctx_ok:
            doc = f"ERROR validation failed for payload {{{', '.join(parts)}}}"
        else:
            args = [f"{ka}='{full}'"] + [f"{NEG_KEYS[t][0].replace('.', '_') if NEG_KEYS[t][0].isidentifier() else 'ref'}='{v}'" for t, v in negs]
            doc = f"WARNING:root:retrying Customer({', '.join(args)})"
            return "text", doc, [(raw, "python_repr", "key" if ka != "value" else "none", ka if ka != "value" else None)]
    return "text", doc, [(raw, "python_repr", "key", k)]


def sh_rust(item, negs):
    full, raw = text_value(item)
    k = snake(item.key)
    if not k.isascii():
        k = "value"
        if item.needs_context():
            return sh_korean(item, negs)
    esc = full.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    rawe = raw.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    inner = f'{k}: Some("{esc}")' if R.random() < 0.5 else f'{k}: "{esc}"'
    fields = [f"id: {R.randrange(1, 10 ** 6)}", inner]
    for t, v in negs:
        nk = NEG_KEYS[t][0].replace(".", "_")
        fields.append(f'{nk if nk.isascii() else "amount"}: "{v}"')
    doc = f"2026-12-0{R.randrange(1, 6)}T0{R.randrange(10)}:{R.randrange(10, 60)}:11Z ERROR sync: upsert failed: Account {{ {', '.join(fields)} }}"
    return "text", doc, [(rawe, "rust_debug", "key" if k != "value" else "none", k if k != "value" else None)]


def sh_korean(item, negs):
    full, raw = text_value(item)
    if item.typ == "private_key":
        return sh_env(item, negs)
    if item.typ == "session_cookie":
        doc = f"[정보] 세션 복원: {item.key}={full} 으로 로그인 처리"
        return "text", doc, [(raw, "korean_text", "key", item.key)]
    shown = full
    ctx, key = "word", None
    use_fw = item.typ in ("kr_mobile", "kr_rrn", "kr_landline", "kr_safe_number", "credit_card") and R.random() < 0.3
    if use_fw:
        shown = fullwidth(full)
        raw = fullwidth(raw)
    word = (item.word if item.typ in WORDS else item.key).rstrip(":")
    if word.isascii() and item.typ not in WORDS:
        word = {"kr_mobile": "연락처", "email": "이메일"}.get(item.typ, word)
    part = pick(PARTICLES)
    sentence = pick([
        f"고객 {word} {shown}{part} 변경되었습니다",
        f"{word}는 {shown}{part} 확인됨",
        f"{word}: {shown}{part} 등록 완료",
        f"회원님의 {word} {shown}{part} 인증 요청",
    ])
    if not item.needs_context() and R.random() < 0.3:
        sentence = f"본인 확인 완료 — {shown}{part} 안내 문자 발송"
        ctx = "none"
    negs_s = " ".join(f"({neg_text(t, v)})" for t, v in negs)
    doc = f"[{pick(['INFO', '정보', 'WARN'])}] {sentence} {negs_s}".rstrip()
    return "text", doc, [(raw, "korean_text", ctx, key)]


def sh_access_log(item, negs):
    """A value in a URL query string or fragment, percent-encoded."""
    t = item.typ
    if t in ("private_key", "session_cookie", "basic_auth"):
        return sh_http_dump(item, negs)
    full, _ = text_value(item)
    if t in ("url_credentials", "slack_webhook"):
        enc = pct(full)
        raw = enc if t == "slack_webhook" else pct(item.g["enc"])
        if raw not in enc:
            raw = enc
        doc = (f'{public_ipv4()} - - [06/Dec/2026:10:{R.randrange(10, 60)}:01 +0900] "GET /admin/integrations?redirect={enc}&step=2 HTTP/1.1" 302 0 "-" "curl/8.5.0"')
        return "text", doc, [(raw, "query", "none", "redirect")]
    qk = item.key.lower().replace("-", "_")
    if not qk.isascii():
        qk = pct(item.key)
    enc = pct(full)
    where = pick(["query", "query", "fragment"])
    extra = "&".join(f"{NEG_KEYS[nt][0] if NEG_KEYS[nt][0].isascii() else 'amt'}={pct(v)}" for nt, v in negs)
    amp = pick(["&", "&amp;"]) if where == "query" else "&"
    if where == "query":
        path = f"/api/v2/members/search?{qk}={enc}{amp}page=1" + (amp + extra.replace("&", amp) if extra else "")
    else:
        path = f"/oauth/callback#{qk}={enc}&state={rstr(B62, 12)}" + ("&" + extra if extra else "")
    doc = (f'{public_ipv4()} - - [06/Dec/2026:09:{R.randrange(10, 60)}:{R.randrange(10, 60)} +0900] "GET {path} HTTP/2.0" '
           f'200 {R.randrange(100, 9000)} "https://m.example.co.kr/" "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) '
           f'AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"')
    return "text", doc, [(enc, where, "key", qk)]


def sh_http_dump(item, negs):
    full, raw = text_value(item)
    t = item.typ
    hdrs = [f"POST /v1/{pick(['orders', 'payouts', 'sessions'])} HTTP/1.1", "Host: api.example.com",
            "User-Agent: okhttp/4.12.0", "Accept: application/json"]
    for nt, v in negs:
        nk = NEG_KEYS[nt][0]
        hdrs.append(f"X-{(nk if nk.isascii() else 'amount').replace('_', '-').title()}: {v}")
    if t == "session_cookie":
        hn = pick(["Cookie", "cookie", "COOKIE"])
        hdrs.append(f"{hn}: _ga=GA1.2.{R.randrange(10 ** 8, 10 ** 9)}.{n_epoch()[:10]}; {item.g['cookie']}={full}; theme=light")
        ctx, key = "key", item.g["cookie"]
    elif t == "basic_auth":
        hdrs.append(f"{item.key}: {full}")
        ctx, key = "key", item.key
    elif t == "private_key":
        body = full
        doc = "\n".join(hdrs) + "\nContent-Type: application/x-pem-file\n\n" + body
        return "text", doc, [(raw, "http_body", "none", None)]
    elif t in ("url_credentials", "slack_webhook"):
        hdrs.append(f"Location: {full}")
        ctx, key = "key", "Location"
    else:
        hk = item.key if item.key.isascii() else "X-User-" + t.title().replace("_", "")
        hk = hk.replace("_", "-")
        hdrs.append(f"{hk}: {full}")
        ctx, key = "key", hk
    R.shuffle(hdrs[1:])
    return "text", "\n".join(hdrs), [(raw, "header", ctx, key)]


def sh_html(item, negs):
    full, raw = text_value(item)
    if item.typ == "email":
        h = html_esc(full)
        doc = (f'<tr><td class="name">{pick(["김민수", "Olivia"])}</td><td class="mail"><a href="mailto:{h}">{h}</a></td>'
               + "".join(f"<td>{html_esc(v)}</td>" for _, v in negs) + "</tr>")
        return "text", doc, [(h, "html", "none", None)]
    if item.typ in ("private_key",):
        return sh_env(item, negs)
    frag, raw, ctx, key = kv_text(item)
    doc = f"<p>{html_esc(frag)}</p>" + "".join(f"<span>{html_esc(neg_text(t, v))}</span>" for t, v in negs)
    return "text", doc, [(html_esc(raw), "html", ctx, key)]


def sh_plain(item, negs):
    frag, raw, ctx, key = kv_text(item)
    lead = pick(["user updated profile:", "webhook delivery failed;", "retrying request with", "audit:",
                 "sync job imported", "login ok for"])
    tail = " ".join(neg_text(t, v) for t, v in negs)
    doc = f"{pick(['I', 'W', 'E'])}1206 09:{R.randrange(10, 60)}:{R.randrange(10, 60)}.{R.randrange(100, 999)} {R.randrange(1, 9999)} handler.go:{R.randrange(40, 400)}] {lead} {frag} {tail}".rstrip()
    return "text", doc, [(raw, "text", ctx, key)]


TEXT_SHAPES = [sh_stack_trace, sh_markdown, sh_mail_headers, sh_graphql, sh_protobuf, sh_hcl, sh_env,
               sh_docker_inspect, sh_kubectl, sh_java, sh_python, sh_rust, sh_korean, sh_access_log,
               sh_http_dump, sh_html, sh_plain]


# ---- JSON shapes.  Return (format, obj-with-placeholders, [(placeholder, raw-fn, location, ctx, key)])

def json_slot(item, doc, idx):
    """The string to place in a JSON structure and how its raw reads."""
    full, raw = text_value(item)
    return full, raw


def sh_json_line(item, negs):
    ph = "\u27e6P\u27e7"
    full, raw = text_value(item)
    k = item.key
    number = item.typ in ("credit_card", "kr_mobile", "us_ssn", "kr_bank_account") and full.isdigit() and not full.startswith("0") and R.random() < 0.4
    style = R.randrange(4)
    if style == 0:
        obj = {"ts": "2026-12-06T09:%02d:11.%03dZ" % (R.randrange(60), R.randrange(1000)), "level": "info",
               "msg": "profile updated", "user": {"id": R.randrange(1, 10 ** 6), k: ph}}
        loc = "json_value"
    elif style == 1:
        obj = {"@timestamp": "2026-12-06T00:%02d:00Z" % R.randrange(60), "event": "request",
               "http": {"headers": {k: ph, "accept": "*/*"}}}
        loc = "json_header"
    elif style == 2:
        obj = {"time": "2026-12-06 09:00:00", "logger": "sync",
               "payload": Emb({"data": {"attributes": {k: ph}}, "type": "member"})}
        loc = "json_in_string"
    else:
        obj = {"level": "warn", "message": "bulk import row rejected",
               "rows": [{"line": R.randrange(2, 9000), "fields": [{"name": k, "value": ph}]}]}
        loc = "json_name_value"
    neg_ph = []
    for i, (t, v) in enumerate(negs):
        nk = pick(NEG_KEYS[t])
        nph = f"\u27e6N{i}\u27e7"
        target = obj.get("user") or obj
        if isinstance(target, dict) and nk not in target:
            target[nk] = nph
        else:
            obj[nk + "_%d" % i] = nph
        neg_ph.append((nph, t, v))
    if number:
        loc = "json_number"
    return "line", obj, [(ph, full, raw, loc, "key", k, number)], neg_ph


def sh_json_msg(item, negs):
    """A JSON line whose message is prose that holds the value."""
    frag, raw, ctx, key = kv_text(item)
    ph = "\u27e6P\u27e7"
    obj = {"severity": pick(["INFO", "ERROR"]), "service": pick(["member-api", "payout", "notifier"]),
           "message": ph}
    neg_ph = []
    for i, (t, v) in enumerate(negs):
        nph = f"\u27e6N{i}\u27e7"
        put(obj, NEG_KEYS[t], nph)
        neg_ph.append((nph, t, v))
    return "line", obj, [(ph, frag, raw, "json_message", ctx, key, False)], neg_ph


def sh_json_array(item, negs):
    full, raw = text_value(item)
    ph = "\u27e6P\u27e7"
    k = item.key
    if item.needs_context():
        arrk = k
    else:
        arrk = pick(["recipients", "values", "contacts", "items"])
    other = pick(["n/a", "pending", "—"])
    arr = [other, ph] if R.random() < 0.5 else [ph, other]
    obj = {"job": "notify", arrk: arr}
    neg_ph = []
    for i, (t, v) in enumerate(negs):
        nph = f"\u27e6N{i}\u27e7"
        put(obj, NEG_KEYS[t], nph)
        neg_ph.append((nph, t, v))
    ctx = "key" if arrk == k else "none"
    return "line", obj, [(ph, full, raw, "json_array", ctx, arrk if ctx == "key" else None, False)], neg_ph


def sh_json_url(item, negs):
    """A URL inside a JSON string, the value percent-encoded in its query, slashes written `\\/`."""
    t = item.typ
    if t in ("private_key", "session_cookie", "basic_auth"):
        return sh_json_line(item, negs)
    full, raw = text_value(item)
    ph = "\u27e6P\u27e7"
    if t in ("url_credentials", "slack_webhook"):
        obj = {"msg": "outbound call", "target": ph}
        neg_ph = []
        for i, (nt, v) in enumerate(negs):
            nph = f"\u27e6N{i}\u27e7"
            put(obj, NEG_KEYS[nt], nph)
            neg_ph.append((nph, nt, v))
        return "line", obj, [(ph, full, raw, "json_url", "none", None, False)], neg_ph
    qk = item.key if item.key.isascii() else pct(item.key)
    enc = pct(full)
    url = f"https://api.example.com/v1/lookup?{qk}={enc}&lang=ko"
    obj = {"level": "debug", "request": {"method": "GET", "url": ph}}
    neg_ph = []
    for i, (nt, v) in enumerate(negs):
        nph = f"\u27e6N{i}\u27e7"
        put(obj["request"], NEG_KEYS[nt], nph)
        neg_ph.append((nph, nt, v))
    return "line", obj, [(ph, url, enc, "json_query", "key", qk, False)], neg_ph


JSON_SHAPES = [sh_json_line, sh_json_line, sh_json_msg, sh_json_array, sh_json_url]


def otlp_wrap(body_obj, attrs):
    return {"resourceLogs": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": pick(["member-api", "payments", "gateway"])}},
        {"key": "k8s.namespace.name", "value": {"stringValue": "prod"}}]},
        "scopeLogs": [{"scope": {"name": "app"}, "logRecords": [{
            "timeUnixNano": str(1764990000000000000 + R.randrange(10 ** 15)),
            "severityNumber": 9, "severityText": "INFO", "body": body_obj,
            "attributes": attrs,
            "traceId": rstr(HEX, 32), "spanId": rstr(HEX, 16)}]}]}]}


def sh_otlp(item, negs):
    full, raw = text_value(item)
    ph = "\u27e6P\u27e7"
    k = item.key
    neg_ph = []
    attrs = []
    for i, (nt, v) in enumerate(negs):
        nph = f"\u27e6N{i}\u27e7"
        attrs.append({"key": pick(NEG_KEYS[nt]), "value": {"stringValue": nph}})
        neg_ph.append((nph, nt, v))
    style = R.randrange(3)
    if style == 0:
        body = {"kvlistValue": {"values": [{"key": "event", "value": {"stringValue": "signup"}},
                                           {"key": k, "value": {"stringValue": ph}}]}}
        slot = (ph, full, raw, "otlp_kvlist", "key", k, False)
    elif style == 1:
        attrs.append({"key": k, "value": {"stringValue": ph}})
        body = {"stringValue": "member updated"}
        slot = (ph, full, raw, "otlp_attribute", "key", k, False)
    else:
        frag, raw2, ctx, key = kv_text(item)
        body = {"stringValue": ph}
        slot = (ph, frag, raw2, "otlp_string_body", ctx, key, False)
    return "otlp", otlp_wrap(body, attrs), [slot], neg_ph


SHAPES = TEXT_SHAPES + JSON_SHAPES + [sh_otlp, sh_otlp]


# ---------------------------------------------------------------- assembling documents

def finish_text(item, fmt, doc, slots, negs, did):
    pii = []
    for raw, loc, ctx, key in slots:
        assert raw in doc, (item.typ, raw, doc)
        pii.append(item.record(raw, loc, ctx, key, []))
    keep = []
    for t, v in negs:
        shown = next((f for f in (v, html_esc(v), json_str_escape(v), pct(v)) if f in doc), None)
        if shown is None:
            # the shape had no place for it: the logger's next line carries it
            doc += "\n" + neg_text(t, v)
            shown = v
        keep.append({"type": t, "value": shown, "path": [], "match": "contains"})
    return {"id": did, "format": fmt, "doc": doc, "pii": pii, "keep": keep}


def finish_json(item, fmt, obj, slots, neg_ph, did):
    path_of = {}
    for ph, *_ in slots:
        path_of[ph] = find_path(obj, ph)
    for ph, _, _ in neg_ph:
        path_of[ph] = find_path(obj, ph)
    text = dump(obj, indent=2 if fmt == "otlp" and R.random() < 0.3 else None)
    pii = []
    for ph, full, raw, loc, ctx, key, number in slots:
        path = path_of[ph]
        d = depth_of(path)
        if number and d:
            number, loc = False, "json_in_string"
        if number:
            token = json.dumps(ph, ensure_ascii=False)
            assert token in text
            text = text.replace(token, full)
            rawd = full
        else:
            enc = full
            # one level of JSON string escaping per level of nesting; the outermost may use
            # the escapes some serializers choose
            for lvl in range(d):
                enc = json_str_escape(enc)
            enc = json_fancy(enc) if d == 0 and R.random() < 0.35 else json_str_escape(enc)
            text = text.replace(ph, enc)
            # the raw as it reads in the document
            rawd = raw
            for lvl in range(d + 1):
                rawd = json_str_escape(rawd)
            if rawd not in text:
                # escapes such as \u0040 applied: find the value's raw span inside enc
                rawd = None
                cand = json_fancy_map(raw, enc)
                rawd = cand
        assert rawd and rawd in text, (item.typ, raw, rawd, text)
        pii.append(item.record(rawd, loc, ctx, key, path))
    keep = []
    for ph, t, v in neg_ph:
        path = path_of[ph]
        enc = v
        for lvl in range(depth_of(path) + 1):
            enc = json_str_escape(enc)
        text = text.replace(ph, enc)
        keep.append({"type": t, "value": v, "path": list(path), "match": "exact"})
    obj2 = json.loads(text)
    assert obj2 is not None
    return {"id": did, "format": fmt, "doc": text, "pii": pii, "keep": keep}


def json_fancy_map(raw, enc):
    """The substring of `enc` (an escaped JSON string) that spells `raw`."""
    # Try every escape choice json_fancy makes.
    base = json_str_escape(raw)
    cands = [base, base.replace("@", "\\u0040"), base.replace("/", "\\/"),
             base.replace("@", "\\u0040").replace(".", "\\u002e", 1),
             base.replace("@", "\\u0040").replace("/", "\\/")]
    for c in cands:
        if c in enc:
            return c
    # \u002e replaced the first dot of the whole string, which may fall inside the raw span
    for i in range(len(base)):
        if base[i] == ".":
            c = base[:i] + "\\u002e" + base[i + 1:]
            for c2 in (c, c.replace("@", "\\u0040"), c.replace("/", "\\/")):
                if c2 in enc:
                    return c2
    return None


def compatible(shape, item):
    t = item.typ
    if shape is sh_mail_headers:
        return True
    if shape is sh_markdown:
        return t not in ("private_key", "session_cookie", "basic_auth")
    if shape is sh_graphql and t in ("private_key", "session_cookie", "basic_auth"):
        return False
    return True


def build():
    docs = []
    did = 0
    types = sorted(GEN)
    plan = [t for t in types for _ in range(PER_TYPE)]
    R.shuffle(plan)
    for t in plan:
        item = Item(t)
        negs = [make_neg() for _ in range(pick([0, 1, 1, 2]))]
        while True:
            shape = pick(SHAPES)
            if compatible(shape, item):
                break
        res = shape(item, negs)
        did += 1
        if res[0] in ("line", "otlp") and not isinstance(res[1], str):
            rec = finish_json(item, res[0], res[1], res[2], res[3], "third-%05d" % did)
        else:
            rec = finish_text(item, res[0], res[1], res[2], negs, "third-%05d" % did)
        docs.append(rec)
    for _ in range(NEG_ONLY_DOCS):
        did += 1
        negs = [make_neg() for _ in range(pick([1, 2, 3]))]
        docs.append(neg_doc(negs, "third-%05d" % did))
    return docs


def neg_doc(negs, did):
    k = R.randrange(4)
    if k == 0:
        obj = {"ts": "2026-12-06T10:%02d:00Z" % R.randrange(60), "msg": "ok"}
        neg_ph = []
        for i, (t, v) in enumerate(negs):
            nph = f"\u27e6N{i}\u27e7"
            ks = [k for k in NEG_KEYS[t] if k not in obj]
            obj[pick(ks) if ks else pick(NEG_KEYS[t]) + "_%d" % i] = nph
            neg_ph.append((nph, t, v))
        return finish_json(None, "line", obj, [], neg_ph, did)
    if k == 1:
        attrs = []
        neg_ph = []
        for i, (t, v) in enumerate(negs):
            nph = f"\u27e6N{i}\u27e7"
            attrs.append({"key": pick(NEG_KEYS[t]), "value": {"stringValue": nph}})
            neg_ph.append((nph, t, v))
        return finish_json(None, "otlp", otlp_wrap({"stringValue": "heartbeat"}, attrs), [], neg_ph, did)
    if k == 2:
        lines = [f"{NEG_KEYS[t][0].upper().replace('.', '_') if NEG_KEYS[t][0].isascii() else 'AMOUNT'}={v}" for t, v in negs]
        doc = "\n".join(["# release manifest"] + lines)
    else:
        doc = "INFO " + "; ".join(neg_text(t, v) for t, v in negs)
    return finish_text(None, "text", doc, [], negs, did)


def main():
    docs = build()
    out = "".join(json.dumps(d, ensure_ascii=False, sort_keys=False) + "\n" for d in docs)
    if "--check" in sys.argv:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != out:
                print("corpus.jsonl differs from what gen_third.py writes", file=sys.stderr)
                sys.exit(1)
        print("corpus.jsonl is up to date")
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(out)
    counts = {}
    for d in docs:
        for p in d["pii"]:
            counts[p["type"]] = counts.get(p["type"], 0) + 1
    negc = {}
    for d in docs:
        for k in d["keep"]:
            negc[k["type"]] = negc.get(k["type"], 0) + 1
    print(f"{len(docs)} documents, {sum(counts.values())} items of {len(counts)} types, "
          f"{sum(negc.values())} hard negatives of {len(negc)} types")
    print("min items per type:", min(counts.values()), "min per negative type:", min(negc.values()))


if __name__ == "__main__":
    main()
