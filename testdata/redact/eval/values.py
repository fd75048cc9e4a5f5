"""Value generators for the redaction evaluation set, from public format definitions.

Every generator takes a `random.Random` and returns an `Item`: the value as a person or a
program would write it, the variant (spelling) it was drawn in, whether a reader needs
context (a key or a marking word) to know what it is, and the extra forms the scorer
searches for (digits only, secret parts of a larger string).
"""

import base64
import binascii
import json
import string
from dataclasses import dataclass, field

DIGITS = string.digits
HEX = "0123456789abcdef"
ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
B64 = ALNUM + "+/"
UPPER_ALNUM = string.ascii_uppercase + string.digits


@dataclass
class Item:
    value: str
    variant: str
    needs_context: bool = False
    numeric: bool = False  # plain digits that can be written as a JSON number
    digits: list = field(default_factory=list)
    fragments: list = field(default_factory=list)


def rs(r, alphabet, n):
    return "".join(r.choice(alphabet) for _ in range(n))


def digits_only(s):
    return "".join(c for c in s if c.isdigit())


def numeric_ok(s):
    return s.isdigit() and s[0] != "0" and len(s) <= 19 and int(s) < 2**63


def num_item(value, variant, needs_context=False, extra_digits=()):
    d = digits_only(value)
    ds = [d] if d != value and len(d) >= 7 else []
    ds += [x for x in extra_digits if x not in ds and x != value]
    return Item(value, variant, needs_context, numeric_ok(value), ds)


# ---------------------------------------------------------------- checksums


def luhn_check_digit(body):
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(number):
    return luhn_check_digit(number[:-1]) == number[-1]


RRN_WEIGHTS = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]


def rrn_check(first12, foreigner=False):
    s = sum(int(c) * w for c, w in zip(first12, RRN_WEIGHTS))
    return str(((13 if foreigner else 11) - s % 11) % 10)


def brn_check(first9):
    w = [1, 3, 7, 1, 3, 7, 1, 3, 5]
    s = sum(int(c) * x for c, x in zip(first9, w))
    s += int(first9[8]) * 5 // 10
    return str((10 - s % 10) % 10)


def iban_check(country, bban):
    rearranged = bban + country + "00"
    n = int("".join(str(int(c, 36)) for c in rearranged))
    return "%02d" % (98 - n % 97)


def gtin_check(body):
    # EAN-13 / UPC-A: weights 3 and 1 from the rightmost body digit.
    s = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return str((10 - s % 10) % 10)


# ---------------------------------------------------------------- people


def birth(r, lo=1950, hi=2012):
    y = r.randint(lo, hi)
    m = r.randint(1, 12)
    d = r.randint(1, 28)
    return y, m, d


def kr_mobile(r):
    prefix = r.choice(["010"] * 6 + ["011", "016", "017", "018", "019"])
    if prefix == "010":
        mid = str(r.randint(2, 9)) + rs(r, DIGITS, 3)
    else:
        mid = str(r.randint(2, 9)) + rs(r, DIGITS, r.choice([2, 3]))
    last = rs(r, DIGITS, 4)
    national = prefix + mid + last
    v = r.choice(["dash", "dash", "space", "dot", "plain", "plus82", "plus82sp",
                  "plus82plain", "plus82zero", "0082", "0082sp"])
    intl = "82" + prefix[1:] + mid + last
    if v == "dash":
        s = f"{prefix}-{mid}-{last}"
    elif v == "space":
        s = f"{prefix} {mid} {last}"
    elif v == "dot":
        s = f"{prefix}.{mid}.{last}"
    elif v == "plain":
        s = national
    elif v == "plus82":
        s = f"+82-{prefix[1:]}-{mid}-{last}"
    elif v == "plus82sp":
        s = f"+82 {prefix[1:]} {mid} {last}"
    elif v == "plus82plain":
        s = f"+82{prefix[1:]}{mid}{last}"
    elif v == "plus82zero":
        s = f"+82 (0){prefix[1:]}-{mid}-{last}"
    elif v == "0082":
        s = f"0082-{prefix[1:]}-{mid}-{last}"
    else:
        s = f"0082 {prefix[1:]} {mid} {last}"
    needs = v == "plain" and prefix != "010"
    return num_item(s, v, needs, [national, intl])


def kr_safe_number(r):
    prefix = "050" + str(r.randint(2, 7))
    mid = str(r.randint(2, 9)) + rs(r, DIGITS, r.choice([2, 3]))
    last = rs(r, DIGITS, 4)
    v = r.choice(["dash", "dash", "space", "plain"])
    sep = {"dash": "-", "space": " ", "plain": ""}[v]
    return num_item(sep.join([prefix, mid, last]), v, v == "plain")


KR_AREA = ["02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053",
           "054", "055", "061", "062", "063", "064", "070"]


def kr_landline(r):
    area = r.choice(KR_AREA)
    mid = str(r.randint(2, 9)) + rs(r, DIGITS, r.choice([2, 3]))
    last = rs(r, DIGITS, 4)
    v = r.choice(["dash", "dash", "paren", "space", "plus82", "plain"])
    if v == "dash":
        s = f"{area}-{mid}-{last}"
    elif v == "paren":
        s = f"({area}) {mid}-{last}"
    elif v == "space":
        s = f"{area} {mid} {last}"
    elif v == "plus82":
        s = f"+82-{area[1:]}-{mid}-{last}"
    else:
        s = area + mid + last
    return num_item(s, v, v == "plain", [area + mid + last])


def nanp(r):
    npa = str(r.randint(2, 9)) + str(r.randint(0, 8)) + str(r.randint(0, 9))
    while npa[1:] == "11":
        npa = str(r.randint(2, 9)) + str(r.randint(0, 8)) + str(r.randint(0, 9))
    if r.random() < 0.5:
        nxx, line = "555", "01" + rs(r, DIGITS, 2)  # the fictional range
    else:
        nxx = str(r.randint(2, 9)) + rs(r, DIGITS, 2)
        while nxx[1:] == "11" or nxx == "555":
            nxx = str(r.randint(2, 9)) + rs(r, DIGITS, 2)
        line = rs(r, DIGITS, 4)
    return npa, nxx, line


def us_phone(r):
    a, b, c = nanp(r)
    v = r.choice(["paren", "dash", "dot", "plus1sp", "plus1dash", "1dash", "e164", "plain"])
    s = {
        "paren": f"({a}) {b}-{c}",
        "dash": f"{a}-{b}-{c}",
        "dot": f"{a}.{b}.{c}",
        "plus1sp": f"+1 {a} {b} {c}",
        "plus1dash": f"+1-{a}-{b}-{c}",
        "1dash": f"1-{a}-{b}-{c}",
        "e164": f"+1{a}{b}{c}",
        "plain": f"{a}{b}{c}",
    }[v]
    return num_item(s, v, v == "plain", [a + b + c])


CARD_BRANDS = [
    # brand, prefixes, lengths, grouping for 16/15/14 digits
    ("visa", ["4"], [16, 16, 13, 19]),
    ("mastercard", [str(x) for x in range(51, 56)] + [str(x) for x in (2221, 2300, 2500, 2720)], [16]),
    ("amex", ["34", "37"], [15]),
    ("discover", ["6011", "644", "645", "649", "65"], [16]),
    ("jcb", [str(x) for x in (3528, 3540, 3566, 3589)], [16]),
    ("diners", ["36", "300", "305"], [14]),
    ("unionpay", ["62"], [16, 19]),
]


def card(r):
    brand, prefixes, lengths = r.choice(CARD_BRANDS)
    p = r.choice(prefixes)
    n = r.choice(lengths)
    body = p + rs(r, DIGITS, n - len(p) - 1)
    num = body + luhn_check_digit(body)
    v = r.choice(["plain", "space", "dash"])
    if v == "plain":
        s = num
    else:
        if n == 15:
            groups = [num[:4], num[4:10], num[10:]]
        elif n == 14:
            groups = [num[:4], num[4:10], num[10:]]
        else:
            groups = [num[i:i + 4] for i in range(0, n, 4)]
        s = (" " if v == "space" else "-").join(groups)
    return num_item(s, f"{brand}-{v}")


def rrn_like(r, foreigner):
    y, m, d = birth(r, 1940, 2019)
    century = 0 if y < 2000 else 2
    g = (5 if foreigner else 1) + century + r.randint(0, 1)
    if foreigner:
        # Registration office (even), serial, registrant type 6-9.
        mid = "%02d" % (2 * r.randint(0, 49)) + rs(r, DIGITS, 2) + str(r.randint(6, 9))
    else:
        mid = rs(r, DIGITS, 5)
    first12 = "%02d%02d%02d" % (y % 100, m, d) + str(g) + mid
    num = first12 + rrn_check(first12, foreigner)
    v = r.choice(["dash", "dash", "plain"])
    s = num[:6] + "-" + num[6:] if v == "dash" else num
    return s, v


def kr_rrn(r):
    s, v = rrn_like(r, False)
    return num_item(s, v)


def kr_frn(r):
    s, v = rrn_like(r, True)
    return num_item(s, v, v == "plain")


def kr_brn(r):
    first9 = "%03d" % r.randint(101, 999) + "%02d" % r.randint(1, 99) + rs(r, DIGITS, 4)
    num = first9 + brn_check(first9)
    v = r.choice(["dash", "dash", "plain"])
    s = f"{num[:3]}-{num[3:5]}-{num[5:]}" if v == "dash" else num
    return num_item(s, v, v == "plain")


# Layouts by bank (digit groups); the groupings are the ones Korean banks print.
BANKS = [
    ("국민은행", "KB", [6, 2, 6]),
    ("신한은행", "Shinhan", [3, 3, 6]),
    ("우리은행", "Woori", [4, 3, 6]),
    ("하나은행", "Hana", [3, 6, 5]),
    ("기업은행", "IBK", [3, 6, 2, 3]),
    ("농협", "NH", [3, 4, 4, 2]),
    ("카카오뱅크", "Kakaobank", [4, 2, 7]),
    ("토스뱅크", "Tossbank", [4, 4, 4]),
    ("SC제일은행", "SC", [3, 2, 6]),
    ("부산은행", "BNK", [3, 4, 4, 2]),
]


def kr_bank_account(r):
    bank_ko, bank_en, groups = r.choice(BANKS)
    parts = [str(r.randint(1, 9)) + rs(r, DIGITS, n - 1) for n in groups]
    v = r.choice(["grouped", "grouped", "plain"])
    s = "-".join(parts) if v == "grouped" else "".join(parts)
    it = num_item(s, f"{'-'.join(map(str, groups))}-{v}", True)
    it.bank = (bank_ko, bank_en)
    return it


KR_LICENCE_REGIONS = [str(x) for x in range(11, 27)] + ["28"]


def kr_driver_license(r):
    region = r.choice(KR_LICENCE_REGIONS)
    year = "%02d" % r.randint(0, 99)
    serial = rs(r, DIGITS, 6)
    check = rs(r, DIGITS, 2)
    v = r.choice(["dash", "dash", "plain"])
    s = f"{region}-{year}-{serial}-{check}" if v == "dash" else region + year + serial + check
    return num_item(s, v, v == "plain")


def us_ssn(r):
    area = r.randint(1, 899)
    while area == 666:
        area = r.randint(1, 899)
    group = r.randint(1, 99)
    serial = r.randint(1, 9999)
    v = r.choice(["dash", "dash", "plain", "space"])
    a, g, s = "%03d" % area, "%02d" % group, "%04d" % serial
    text = {"dash": f"{a}-{g}-{s}", "space": f"{a} {g} {s}", "plain": a + g + s}[v]
    return num_item(text, v, v != "dash")


IBAN_COUNTRIES = [("DE", "n18"), ("GB", "a4n14"), ("FR", "n10a11n2"), ("ES", "n20"),
                  ("NL", "a4n10"), ("IT", "a1n10a12"), ("BE", "n12"), ("CH", "n17"),
                  ("NO", "n11"), ("PL", "n24")]


def iban(r):
    country, layout = r.choice(IBAN_COUNTRIES)
    bban = ""
    i = 0
    while i < len(layout):
        kind = layout[i]
        j = i + 1
        while j < len(layout) and layout[j].isdigit():
            j += 1
        n = int(layout[i + 1:j])
        bban += rs(r, DIGITS if kind == "n" else string.ascii_uppercase + DIGITS if kind == "c"
                   else string.ascii_uppercase, n)
        i = j
    compact = country + iban_check(country, bban) + bban
    v = r.choice(["compact", "grouped"])
    s = compact if v == "compact" else " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    return Item(s, f"{country}-{v}", fragments=[compact] if s != compact else [])


EMAIL_USERS = ["kim.minsu", "lee_jiyoung", "park.sh", "jdoe", "john.smith", "maria.garcia",
               "choi1987", "yuna.jung", "alex+billing", "s.kang", "wei.zhang", "hana_02",
               "ops-alerts", "tanaka.k", "o.brien", "minji.seo"]
EMAIL_DOMAINS = ["example.com", "example.co.kr", "mail.example.org", "corp.example.net",
                 "gmail.com", "naver.com", "daum.net", "kakao.com", "outlook.com",
                 "company.co.kr", "sub.example.io"]


def email(r):
    user = r.choice(EMAIL_USERS)
    if r.random() < 0.6:
        user += str(r.randint(1, 9999))
    v = r.choice(["lower", "lower", "mixed"])
    s = f"{user}@{r.choice(EMAIL_DOMAINS)}"
    if v == "mixed":
        s = s[0].upper() + s[1:]
    return Item(s, v)


def dob(r):
    y, m, d = birth(r)
    v = r.choice(["iso", "slash", "us_slash", "dot", "dot_space", "korean", "compact"])
    s = {
        "iso": f"{y}-{m:02d}-{d:02d}",
        "slash": f"{y}/{m:02d}/{d:02d}",
        "us_slash": f"{m:02d}/{d:02d}/{y}",
        "dot": f"{y}.{m:02d}.{d:02d}",
        "dot_space": f"{y}. {m}. {d}.",
        "korean": f"{y}년 {m}월 {d}일",
        "compact": f"{y}{m:02d}{d:02d}",
    }[v]
    return Item(s, v, True)


PW_CHARS = ALNUM + "!@#$%^&*-_.~"


def password(r):
    v = r.choice(["random", "random", "words"])
    if v == "random":
        s = rs(r, PW_CHARS, r.randint(8, 18))
    else:
        s = r.choice(["Summer", "Winter", "Seoul", "Dragon", "Sunny", "Blue"]) + \
            r.choice(["2024", "2025", "1987", "99"]) + r.choice(["!", "#", "@", "$"])
    # Never end on punctuation a sentence could own.
    while s[-1] in ".-_~" or s[0] in ".-_~":
        s = rs(r, ALNUM, 1) + s[1:-1] + rs(r, ALNUM, 1)
    return Item(s, v, True)


def ipv4(r):
    while True:
        a = r.randint(1, 223)
        if a not in (10, 127, 169, 172, 192, 100, 0):
            break
    s = f"{a}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    return Item(s, "dotted")


def ipv6(r):
    groups = ["%x" % r.randint(0x2001, 0x2c0f)] + ["%x" % r.randint(0, 0xffff) for _ in range(7)]
    v = r.choice(["full", "compressed"])
    if v == "full":
        s = ":".join(groups)
    else:
        groups[3:6] = ["0", "0", "0"]
        s = ":".join(groups[:3]) + "::" + ":".join(groups[6:])
    return Item(s, v)


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def jwt(r):
    alg = r.choice(["HS256", "RS256", "ES256"])
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps({"sub": str(r.randint(10000, 99999999)), "iat": 1733300000 +
                                 r.randint(0, 9999999), "exp": 1733400000 + r.randint(0, 9999999),
                                 "scope": r.choice(["read", "read write", "admin"])},
                                separators=(",", ":")).encode())
    sig = b64url(bytes(r.randrange(256) for _ in range(32 if alg != "RS256" else 256)))
    s = f"{header}.{payload}.{sig}"
    return Item(s, alg, fragments=[payload, sig])


def session_cookie(r):
    v = r.choice(["hex", "b64", "signed"])
    if v == "hex":
        s = rs(r, HEX, 32)
    elif v == "b64":
        s = rs(r, B64URL, r.randint(32, 48))
    else:
        s = "s%3A" + rs(r, B64URL, 32) + "." + rs(r, B64URL, 43)
    return Item(s, v, True)


def aws_access_key(r):
    p = r.choice(["AKIA", "ASIA"])
    return Item(p + rs(r, string.ascii_uppercase + "234567", 16), p)


def aws_secret_key(r):
    return Item(rs(r, B64, 40), "base64-40", True)


BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def base62(n, width):
    out = ""
    while n:
        n, d = divmod(n, 62)
        out = BASE62[d] + out
    return out.rjust(width, "0")


def github_token(r):
    p = r.choice(["ghp_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"])
    if p == "github_pat_":
        s = p + rs(r, ALNUM, 22) + "_" + rs(r, ALNUM, 59)
    else:
        body = rs(r, ALNUM, 30)
        s = p + body + base62(binascii.crc32(body.encode()), 6)
    return Item(s, p.rstrip("_"))


def slack_token(r):
    p = r.choice(["xoxb", "xoxp"])
    if p == "xoxb":
        s = f"xoxb-{rs(r, DIGITS, 12)}-{rs(r, DIGITS, 13)}-{rs(r, ALNUM, 24)}"
    else:
        s = f"xoxp-{rs(r, DIGITS, 12)}-{rs(r, DIGITS, 12)}-{rs(r, DIGITS, 13)}-{rs(r, HEX, 32)}"
    return Item(s, p)


def slack_webhook(r):
    secret = rs(r, ALNUM, 24)
    s = (f"https://hooks.slack.com/services/T{rs(r, UPPER_ALNUM, 8)}/"
         f"B{rs(r, UPPER_ALNUM, r.choice([8, 10]))}/{secret}")
    return Item(s, "services", fragments=[secret])


def stripe_key(r):
    p = r.choice(["sk_live_", "sk_live_", "rk_live_", "pk_live_"])
    return Item(p + rs(r, ALNUM, r.choice([24, 99])), p.rstrip("_"))


def google_api_key(r):
    return Item("AIza" + rs(r, B64URL, 35), "AIza")


def sendgrid_key(r):
    return Item(f"SG.{rs(r, B64URL, 22)}.{rs(r, B64URL, 43)}", "SG")


def twilio_key(r):
    p = r.choice(["SK", "AC"])
    return Item(p + rs(r, HEX, 32), p)


def openai_key(r):
    v = r.choice(["sk", "sk-proj"])
    if v == "sk":
        s = "sk-" + rs(r, ALNUM, 20) + "T3BlbkFJ" + rs(r, ALNUM, 20)
    else:
        s = "sk-proj-" + rs(r, B64URL, 74) + "T3BlbkFJ" + rs(r, B64URL, 74)
    return Item(s, v)


def npm_token(r):
    return Item("npm_" + rs(r, ALNUM, 36), "npm")


def pypi_token(r):
    return Item("pypi-AgEIcHlwaS5vcmc" + rs(r, B64URL, r.randint(60, 140)), "pypi")


def gitlab_token(r):
    return Item("glpat-" + rs(r, B64URL, 20), "glpat")


def generic_api_key(r):
    v = r.choice(["hex32", "hex40", "hex64", "base62", "base64url"])
    s = {
        "hex32": lambda: rs(r, HEX, 32),
        "hex40": lambda: rs(r, HEX, 40),
        "hex64": lambda: rs(r, HEX, 64),
        "base62": lambda: rs(r, ALNUM, r.randint(32, 48)),
        "base64url": lambda: rs(r, B64URL, r.randint(32, 64)),
    }[v]()
    return Item(s, v, True)


PEM_KINDS = [
    ("RSA", "RSA PRIVATE KEY", 64, 860),
    ("EC", "EC PRIVATE KEY", 64, 160),
    ("OPENSSH", "OPENSSH PRIVATE KEY", 70, 380),
    ("PKCS8", "PRIVATE KEY", 64, 220),
    ("ENCRYPTED", "ENCRYPTED PRIVATE KEY", 64, 400),
]


def private_key(r):
    name, label, width, size = r.choice(PEM_KINDS)
    body = base64.b64encode(bytes(r.randrange(256) for _ in range(size))).decode()
    lines = [body[i:i + width] for i in range(0, len(body), width)]
    truncated = r.random() < 0.25
    if truncated:
        lines = lines[: max(2, len(lines) // 2)]
        text = f"-----BEGIN {label}-----\n" + "\n".join(lines)
    else:
        text = f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"
    frags = [ln for ln in lines if len(ln) >= 40]
    return Item(text, name + ("-truncated" if truncated else ""), fragments=frags)


def url_credentials(r):
    pw = rs(r, ALNUM + "!$*-_~", r.randint(8, 16))
    while pw[-1] in "-_~" or pw[0] in "-_~":
        pw = rs(r, ALNUM, 1) + pw[1:-1] + rs(r, ALNUM, 1)
    return Item(pw, r.choice(["https", "postgres", "redis", "amqp", "mongodb", "ftp"]), True)


def basic_auth(r):
    user = r.choice(["admin", "svc-batch", "kim", "deploy", "api", "reporter"])
    pw = rs(r, ALNUM, r.randint(8, 16))
    s = base64.b64encode(f"{user}:{pw}".encode()).decode()
    return Item(s, "basic", True, fragments=[f"{user}:{pw}"])


GENERATORS = {
    "email": email,
    "kr_mobile": kr_mobile,
    "kr_safe_number": kr_safe_number,
    "kr_landline": kr_landline,
    "us_phone": us_phone,
    "credit_card": card,
    "kr_rrn": kr_rrn,
    "kr_frn": kr_frn,
    "kr_brn": kr_brn,
    "kr_bank_account": kr_bank_account,
    "kr_driver_license": kr_driver_license,
    "us_ssn": us_ssn,
    "iban": iban,
    "dob": dob,
    "password": password,
    "ipv4": ipv4,
    "ipv6": ipv6,
    "jwt": jwt,
    "session_cookie": session_cookie,
    "aws_access_key": aws_access_key,
    "aws_secret_key": aws_secret_key,
    "github_token": github_token,
    "slack_token": slack_token,
    "slack_webhook": slack_webhook,
    "stripe_key": stripe_key,
    "google_api_key": google_api_key,
    "sendgrid_key": sendgrid_key,
    "twilio_key": twilio_key,
    "openai_key": openai_key,
    "npm_token": npm_token,
    "pypi_token": pypi_token,
    "gitlab_token": gitlab_token,
    "generic_api_key": generic_api_key,
    "private_key": private_key,
    "url_credentials": url_credentials,
    "basic_auth": basic_auth,
}
