"""PII values and hard negatives of the seventh set, each built from its public definition.

Standard library only. Every function takes a `random.Random` and returns the value (and,
where a type has several spellings, the spelling used).
"""

import base64
import json
import string
import uuid
import zlib
from datetime import date, timedelta

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64URL = string.ascii_letters + string.digits + "-_"
HEX = "0123456789abcdef"


def pick(rng, xs):
    return xs[rng.randrange(len(xs))]


def rand(rng, alphabet, n):
    return "".join(pick(rng, alphabet) for _ in range(n))


def rand_with_digit(rng, alphabet, n):
    """A random token that holds at least two digits and a letter (as real keys do)."""
    while True:
        s = rand(rng, alphabet, n)
        if sum(c.isdigit() for c in s) >= 2 and any(c.isalpha() for c in s):
            return s


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


# ------------------------------------------------------------------ checksums


def luhn_digit(body):
    """The Luhn check digit for `body` (ISO/IEC 7812-1 annex B)."""
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


def gs1_digit(body):
    """GS1 check digit (weights 3, 1 from the right) for GTIN-8/12/13/14, GSRN, SSCC."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def iban_check(country, bban):
    """ISO 13616 / ISO 7064 MOD 97-10 check digits."""
    s = bban + country + "00"
    num = "".join(str(int(c, 36)) for c in s)
    return "%02d" % (98 - int(num) % 97)


def iban_ok(s):
    c = s.replace(" ", "").upper()
    moved = c[4:] + c[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


# ------------------------------------------------------------------ cards

# (IIN prefixes, length) from the card schemes' published IIN ranges.
CARD_SCHEMES = [
    ("visa", ["4"], 16),
    ("visa19", ["4"], 19),
    ("mastercard", [str(x) for x in range(51, 56)], 16),
    ("mastercard2", [str(x) for x in (2221, 2300, 2450, 2600, 2720)], 16),
    ("amex", ["34", "37"], 15),
    ("discover", ["6011", "644", "645", "649", "65"], 16),
    ("jcb", ["3528", "3540", "3566", "3589"], 16),
    ("diners", ["36", "300", "305"], 14),
    ("unionpay", ["62"], 16),
    ("mir", ["2200", "2201", "2204"], 16),
    ("maestro", ["5018", "5020", "6759", "6761"], 16),
]


def card(rng):
    name, prefixes, length = pick(rng, CARD_SCHEMES)
    p = pick(rng, prefixes)
    body = p + "".join(str(rng.randrange(10)) for _ in range(length - len(p) - 1))
    return name, body + luhn_digit(body)


def group_card(n, sep):
    if len(n) == 15:
        parts = [n[:4], n[4:10], n[10:]]
    elif len(n) == 14:
        parts = [n[:4], n[4:10], n[10:]]
    else:
        parts = [n[i : i + 4] for i in range(0, len(n), 4)]
    return sep.join(parts)


# ------------------------------------------------------------------ Korean numbers


def real_date(rng, lo=1940, hi=2019):
    start = date(lo, 1, 1)
    span = (date(hi, 12, 31) - start).days
    return start + timedelta(days=rng.randrange(span))


def rrn(rng, foreigner=False):
    """Resident / foreigner registration number with the pre-2020 check digit."""
    d = real_date(rng)
    if d.year < 2000:
        g = pick(rng, [5, 6]) if foreigner else pick(rng, [1, 2])
    else:
        g = pick(rng, [7, 8]) if foreigner else pick(rng, [3, 4])
    head = d.strftime("%y%m%d") + str(g)
    if foreigner:
        office = "%02d" % (2 * rng.randrange(0, 50))
        serial = office + str(rng.randrange(10)) + str(rng.randrange(10)) + str(rng.randrange(6, 10))
    else:
        serial = "".join(str(rng.randrange(10)) for _ in range(5))
    body = head + serial
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    s = sum(int(body[i]) * w[i] for i in range(12))
    check = ((13 if foreigner else 11) - s % 11) % 10
    return body + str(check)


def brn(rng):
    body = "".join(str(rng.randrange(10)) for _ in range(9))
    w = [1, 3, 7, 1, 3, 7, 1, 3, 5]
    s = sum(int(body[i]) * w[i] for i in range(9)) + int(body[8]) * 5 // 10
    return body + str((10 - s % 10) % 10)


# Bank, its account layout (group lengths) — the banks' published account formats.
KR_BANKS = [
    ("국민은행", [6, 2, 6]),
    ("신한은행", [3, 3, 6]),
    ("우리은행", [4, 3, 6]),
    ("하나은행", [3, 6, 5]),
    ("기업은행", [3, 6, 2, 3]),
    ("농협", [3, 4, 4, 2]),
    ("카카오뱅크", [4, 2, 7]),
    ("토스뱅크", [4, 4, 4]),
    ("SC제일은행", [3, 2, 6]),
    ("케이뱅크", [3, 3, 6]),
    ("대구은행", [3, 2, 6, 1]),
    ("광주은행", [3, 3, 6]),
]


def kr_account(rng):
    bank, groups = pick(rng, KR_BANKS)
    parts = []
    for i, g in enumerate(groups):
        first = "123456789" if i == 0 else string.digits
        parts.append(pick(rng, first) + rand(rng, string.digits, g - 1))
    if bank == "카카오뱅크":
        parts[0] = "3333"
    if bank == "토스뱅크":
        parts[0] = "1000"
    return bank, parts


def kr_mobile(rng):
    mid = pick(rng, "23456789") + rand(rng, string.digits, 3)
    last = rand(rng, string.digits, 4)
    return "010", mid, last


def kr_mobile_spell(rng):
    p, m, l = kr_mobile(rng)
    forms = [
        ("dash", f"{p}-{m}-{l}"),
        ("plain", f"{p}{m}{l}"),
        ("dots", f"{p}.{m}.{l}"),
        ("space", f"{p} {m} {l}"),
        ("e164", f"+82{p[1:]}{m}{l}"),
        ("intl_dash", f"+82-{p[1:]}-{m}-{l}"),
        ("intl_paren0", f"+82 (0){p[1:]}-{m}-{l}"),
        ("idd0082", f"0082-{p[1:]}-{m}-{l}"),
        ("tel_uri", f"tel:+82-{p[1:]}-{m}-{l}"),
    ]
    v, s = pick(rng, forms)
    value = s[4:] if s.startswith("tel:") else s
    return v, value, s


KR_AREAS = ["02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054", "055", "061", "062", "063", "064", "070"]


def kr_landline(rng):
    a = pick(rng, KR_AREAS)
    n1 = pick(rng, "23456789") + rand(rng, string.digits, 2 if a == "02" and rng.random() < 0.5 else 3)
    n2 = rand(rng, string.digits, 4)
    forms = [("dash", f"{a}-{n1}-{n2}"), ("paren", f"({a}) {n1}-{n2}"), ("intl", f"+82-{a[1:]}-{n1}-{n2}"), ("space", f"{a} {n1} {n2}")]
    return pick(rng, forms)


def kr_safe(rng):
    p = "050" + pick(rng, "234567")
    if rng.random() < 0.5:
        return "4-4", f"{p}-{rand(rng, string.digits, 4)}-{rand(rng, string.digits, 4)}"
    return "4-3-4", f"{p}-{rand(rng, string.digits, 3)}-{rand(rng, string.digits, 4)}"


def kr_driver(rng):
    region = pick(rng, [str(x) for x in range(11, 27)] + ["28"])
    yy = "%02d" % rng.randrange(0, 100)
    serial = rand(rng, string.digits, 6)
    chk = rand(rng, string.digits, 2)
    if rng.random() < 0.7:
        return "dashed", f"{region}-{yy}-{serial}-{chk}"
    return "plain", f"{region}{yy}{serial}{chk}"


def kr_passport(rng):
    return pick(rng, "MSROGD") + rand(rng, string.digits, 8)


# ------------------------------------------------------------------ phones


def nanp(rng):
    while True:
        npa = pick(rng, "23456789") + pick(rng, "012345678") + pick(rng, string.digits)
        if npa[1:] != "11":
            break
    if rng.random() < 0.5:
        nxx, line = "555", "01" + rand(rng, string.digits, 2)
    else:
        while True:
            nxx = pick(rng, "23456789") + rand(rng, string.digits, 2)
            if nxx[1:] != "11":
                break
        line = rand(rng, string.digits, 4)
    forms = [
        ("paren", f"({npa}) {nxx}-{line}"),
        ("paren_tight", f"({npa}){nxx}-{line}"),
        ("dash", f"{npa}-{nxx}-{line}"),
        ("dots", f"{npa}.{nxx}.{line}"),
        ("one_dash", f"1-{npa}-{nxx}-{line}"),
        ("plus1_space", f"+1 {npa} {nxx} {line}"),
        ("e164", f"+1{npa}{nxx}{line}"),
    ]
    return pick(rng, forms)


# Country code, national significant number pattern (leading digits, total length) and
# grouping, from each country's national numbering plan (ITU-T E.164 assignments). These
# are countries the other sets do not use.
INTL = [
    ("BR", "55", ["119", "219", "319", "619"], 11, [2, 5, 4]),
    ("AR", "54", ["911", "9351"], 11, [1, 2, 4, 4]),
    ("CL", "56", ["9"], 9, [1, 4, 4]),
    ("CO", "57", ["30", "31", "32"], 10, [3, 3, 4]),
    ("PE", "51", ["9"], 9, [3, 3, 3]),
    ("KE", "254", ["7"], 9, [3, 3, 3]),
    ("GH", "233", ["24", "20", "54"], 9, [2, 3, 4]),
    ("MA", "212", ["6"], 9, [3, 6]),
    ("PK", "92", ["30", "31", "33"], 10, [3, 7]),
    ("BD", "880", ["17", "18", "19"], 10, [4, 6]),
    ("MY", "60", ["12", "17"], 9, [2, 3, 4]),
    ("NZ", "64", ["21", "22", "27"], 9, [2, 3, 4]),
    ("SE", "46", ["70", "72", "73"], 9, [2, 3, 2, 2]),
    ("NO", "47", ["4", "9"], 8, [3, 2, 3]),
    ("FI", "358", ["40", "50"], 9, [2, 3, 4]),
    ("CZ", "420", ["60", "73", "77"], 9, [3, 3, 3]),
    ("GR", "30", ["69"], 10, [3, 3, 4]),
    ("PT", "351", ["91", "93", "96"], 9, [3, 3, 3]),
    ("IE", "353", ["83", "85", "87"], 9, [2, 3, 4]),
    ("TW", "886", ["9"], 9, [3, 3, 3]),
    ("HK", "852", ["5", "6", "9"], 8, [4, 4]),
]


def intl_phone(rng):
    cc_name, cc, leads, length, groups = pick(rng, INTL)
    lead = pick(rng, leads)
    nsn = lead + rand(rng, string.digits, length - len(lead))
    style = pick(rng, ["compact", "spaced", "dashed"])
    if style == "compact":
        return cc_name + "/compact", f"+{cc}{nsn}"
    parts, i = [], 0
    for g in groups:
        parts.append(nsn[i : i + g])
        i += g
    sep = " " if style == "spaced" else "-"
    return cc_name + "/" + style, f"+{cc}{sep}" + sep.join(parts)


# ------------------------------------------------------------------ other personal numbers


def ssn(rng):
    while True:
        area = rng.randrange(1, 900)
        if area != 666:
            break
    return "%03d" % area, "%02d" % rng.randrange(1, 100), "%04d" % rng.randrange(1, 10000)


# Country, BBAN layout (n digits, a capitals, c alphanumerics) per the SWIFT IBAN registry.
IBAN_LAYOUTS = {
    "FI": "14n", "SE": "20n", "IE": "4a14n", "GR": "7n16c", "SK": "20n", "MC": "10n11c2n",
    "SM": "1a10n12c", "LI": "5n12c", "GI": "4a15c", "FO": "14n", "GL": "14n", "ME": "18n",
    "MK": "3n10c2n", "RS": "18n", "AL": "8n16c", "BA": "16n", "MD": "20c", "XK": "16n",
    "TN": "20n", "MR": "23n", "MU": "4a19n3a", "SC": "4a20n3a", "BR": "23n1a1c", "CR": "18n",
    "DO": "4a20n", "GT": "4c20c", "VG": "4a16n", "TL": "19n", "BY": "4c4n16c", "IQ": "4a15n",
    "VA": "18n", "PS": "4a21c",
}


def iban(rng):
    import re

    country = pick(rng, sorted(IBAN_LAYOUTS))
    bban = ""
    for n, kind in re.findall(r"(\d+)([nac])", IBAN_LAYOUTS[country]):
        alpha = {"n": string.digits, "a": string.ascii_uppercase, "c": string.digits * 3 + string.ascii_uppercase}[kind]
        bban += rand(rng, alpha, int(n))
    compact = country + iban_check(country, bban) + bban
    assert iban_ok(compact)
    return country, compact


def dob(rng):
    d = real_date(rng, 1938, 2008)
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    forms = [
        ("iso", d.isoformat()),
        ("slash_ymd", d.strftime("%Y/%m/%d")),
        ("us", d.strftime("%m/%d/%Y")),
        ("eu_dots", d.strftime("%d.%m.%Y")),
        ("compact", d.strftime("%Y%m%d")),
        ("korean", f"{d.year}년 {d.month}월 {d.day}일"),
        ("long", f"{months[d.month - 1]} {d.day}, {d.year}"),
        ("day_month", f"{d.day} {months[d.month - 1][:3]} {d.year}"),
    ]
    return pick(rng, forms)


# Passwords avoid the characters that end a value in the shapes they are written into
# (quotes, backslashes, `;`, `&`, `,`, `=`, `%`, `+`, `#`, space) so that each label is the
# whole password by every shape's rules.
PW_SYMBOLS = "!@$^*-_.~?"
WORDS = ["Harbor", "maple", "Quartz", "violet", "Falcon", "ember", "Tundra", "cobalt", "Lantern", "orchid", "Saffron", "glacier", "Meadow", "pepper"]


def password(rng):
    kind = pick(rng, ["word_year", "random", "passphrase", "word_pin", "hangul"])
    if kind == "word_year":
        v = pick(rng, WORDS) + str(rng.randrange(1990, 2027)) + pick(rng, PW_SYMBOLS)
    elif kind == "random":
        while True:
            v = rand(rng, string.ascii_letters + string.digits + PW_SYMBOLS, rng.randrange(12, 24))
            if any(c.isdigit() for c in v) and any(c.isalpha() for c in v):
                break
    elif kind == "passphrase":
        v = "-".join(pick(rng, WORDS).lower() for _ in range(4)) + str(rng.randrange(10, 99))
    elif kind == "word_pin":
        v = pick(rng, WORDS) + "_" + rand(rng, string.digits, 6)
    else:
        v = pick(rng, ["하늘", "바다", "별빛", "단풍"]) + rand(rng, string.digits, 4) + pick(rng, PW_SYMBOLS) + pick(rng, WORDS)
    return kind, v


# ------------------------------------------------------------------ e-mail and network

ASCII_LOCALS = ["minsu.kim", "j.oconnor", "ana-lucia.reyes", "t.nakamura+billing", "Olusegun.Adeyemi", "priya_r", "lars.eriksson", "mehmet.yilmaz", "ngozi.okafor", "chen.wei+ops", "sofia.rossi"]
ASCII_DOMAINS = ["example.com", "mail.example.org", "corp.example.co.kr", "example.com.br", "examplebank.cl", "uni.example.ac.nz", "example.no", "example.fi"]
# RFC 6531 addresses in scripts the other sets do not use: Hebrew, Georgian, Armenian,
# Tamil, Bengali, Amharic, Sinhala, Khmer; and Latin with Nordic and Czech letters.
UTF8_LOCALS = ["דוד.כהן", "ნინო.ბერიძე", "արամ.պետրոսյան", "முருகன்", "সুমন.রায়", "አበበ.ከበደ", "සුනිල්", "សុខា", "åsa.lindqvist", "jiří.dvořák", "ingrid.løvås"]
UTF8_DOMAINS = ["example.com", "דוגמה.example", "example.ge", "example.am", "example.lk", "example.cz", "eksempel.no"]


def email(rng):
    if rng.random() < 0.3:
        return "utf8", pick(rng, UTF8_LOCALS) + "@" + pick(rng, UTF8_DOMAINS)
    if rng.random() < 0.08:
        return "quoted", '"' + pick(rng, ["kim minsu", "o'brien.j", "ops team"]) + '"@' + pick(rng, ASCII_DOMAINS)
    local = pick(rng, ASCII_LOCALS)
    if rng.random() < 0.3:
        local = local + str(rng.randrange(1, 999))
    return "ascii", local + "@" + pick(rng, ASCII_DOMAINS)


def public_ipv4(rng):
    while True:
        a = rng.randrange(1, 224)
        if a in (10, 100, 127, 169, 172, 192, 198, 203, 0):
            continue
        return f"{a}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


def public_ipv6(rng):
    prefix = pick(rng, ["2a00", "2a02", "2600", "2607", "2400", "2404", "2001:4860", "2a03:2880", "2c0f"])
    groups = prefix.split(":")
    while len(groups) < 8:
        groups.append("%x" % rng.randrange(0x10000))
    form = pick(rng, ["full", "compressed", "upper", "mapped", "scoped"])
    if form == "full":
        return form, ":".join("%04x" % int(g, 16) for g in groups)
    if form == "compressed":
        g = groups[:3] + ["0", "0", "0"] + groups[6:]
        return form, ":".join(g[:3]) + "::" + ":".join(g[6:])
    if form == "upper":
        return form, ":".join(groups).upper()
    if form == "mapped":
        return form, "::ffff:" + public_ipv4(rng)
    return form, "fe80::" + ":".join(groups[4:]) + "%" + pick(rng, ["eth0", "en0", "wlan0", "25"])


# ------------------------------------------------------------------ tokens and keys


def jws(rng):
    alg, sig_len = pick(rng, [("HS256", 32), ("RS256", 256), ("ES256", 64), ("EdDSA", 64), ("PS384", 384), ("HS512", 64)])
    header = {"alg": alg, "typ": "JWT"}
    if alg != "HS256":
        header["kid"] = rand(rng, B62, 16)
    claims = {
        "iss": pick(rng, ["https://accounts.example.com", "https://login.example.org/v2.0", "https://idp.example.co.kr"]),
        "sub": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "aud": pick(rng, ["web-app", "api://orders", "mobile"]),
        "iat": 1765000000 + rng.randrange(10**6),
        "exp": 1765003600 + rng.randrange(10**6),
    }
    if rng.random() < 0.5:
        claims["email"] = pick(rng, ASCII_LOCALS) + "@example.com"
        claims["nonce"] = rand(rng, B64URL, 22)
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    s = b64url(bytes(rng.getrandbits(8) for _ in range(sig_len)))
    return alg, f"{h}.{p}.{s}", [p, s]


def jwe(rng):
    header = {"alg": "RSA-OAEP-256", "enc": pick(rng, ["A256GCM", "A128CBC-HS256"]), "kid": rand(rng, B62, 12)}
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    ek = b64url(bytes(rng.getrandbits(8) for _ in range(256)))
    iv = b64url(bytes(rng.getrandbits(8) for _ in range(12)))
    ct = b64url(bytes(rng.getrandbits(8) for _ in range(rng.randrange(60, 200))))
    tag = b64url(bytes(rng.getrandbits(8) for _ in range(16)))
    return "JWE", f"{h}.{ek}.{iv}.{ct}.{tag}", [ek, ct]


def b62_crc(data):
    n = zlib.crc32(data.encode()) & 0xFFFFFFFF
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(6, "0")


def github(rng):
    if rng.random() < 0.2:
        return "fine_grained", "github_pat_" + rand(rng, B62, 22) + "_" + rand(rng, B62, 59)
    prefix = pick(rng, ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"])
    body = rand_with_digit(rng, B62, 30)
    return prefix[:-1], prefix + body + b62_crc(body)


def npm(rng):
    body = rand_with_digit(rng, B62, 30)
    return "npm", "npm_" + body + b62_crc(body)


def pypi(rng):
    macaroon = b"\x02\x01\x08pypi.org\x02\x25\x00\x02" + bytes(rng.getrandbits(8) for _ in range(rng.randrange(60, 120)))
    return "macaroon", "pypi-" + b64url(macaroon)


def gitlab(rng):
    kind = pick(rng, ["glpat-", "glpat-", "gldt-", "glrt-"])
    return kind[:-1], kind + rand_with_digit(rng, B62 + "-_", 20)


def slack_token(rng):
    kind = pick(rng, ["xoxb", "xoxp", "xoxe.xoxp"])
    a, b = rand(rng, string.digits, 12), rand(rng, string.digits, 13)
    if kind == "xoxb":
        return kind, f"xoxb-{a}-{b}-{rand_with_digit(rng, B62, 24)}"
    if kind == "xoxp":
        return kind, f"xoxp-{a}-{b}-{rand(rng, string.digits, 13)}-{rand(rng, HEX, 32)}"
    return kind, f"xoxe.xoxp-1-{rand_with_digit(rng, B62, 140)}"


def slack_webhook(rng):
    secret = rand_with_digit(rng, B62, 24)
    t = "T" + rand(rng, string.ascii_uppercase + string.digits, 10)
    b = "B" + rand(rng, string.ascii_uppercase + string.digits, 10)
    return "services", f"https://hooks.slack.com/services/{t}/{b}/{secret}", [secret]


def stripe(rng):
    kind = pick(rng, ["sk_live_", "rk_live_", "pk_live_", "whsec_"])
    n = 32 if kind == "whsec_" else pick(rng, [24, 99])
    return kind.rstrip("_"), kind + rand_with_digit(rng, B62, n)


def google_key(rng):
    return "AIza", "AIza" + rand_with_digit(rng, B64URL, 35)


def sendgrid(rng):
    return "SG", "SG." + rand_with_digit(rng, B64URL, 22) + "." + rand_with_digit(rng, B64URL, 43)


def twilio(rng):
    kind = pick(rng, ["SK", "AC"])
    return kind, kind + rand(rng, HEX, 32)


def openai(rng):
    kind = pick(rng, ["sk-proj-", "sk-svcacct-", "sk-"])
    if kind == "sk-":
        return "legacy", "sk-" + rand_with_digit(rng, B62, 20) + "T3BlbkFJ" + rand_with_digit(rng, B62, 20)
    return kind.strip("-"), kind + rand_with_digit(rng, B64URL, 74) + "T3BlbkFJ" + rand_with_digit(rng, B64URL, 74)


def aws_access(rng):
    return pick(rng, ["AKIA", "ASIA"]), pick(rng, ["AKIA", "ASIA"]) + rand(rng, string.ascii_uppercase + "234567", 16)


def aws_secret(rng):
    return "secret", rand_with_digit(rng, string.ascii_letters + string.digits + "+/", 40)


# Vendors the policy names beyond the ones with a type of their own; each with its
# documented prefix, length and alphabet.
def vendor_key(rng):
    kind = pick(rng, ["anthropic", "huggingface", "digitalocean", "grafana", "shopify", "mailgun", "square", "linear", "postman", "newrelic", "slack_app"])
    if kind == "anthropic":
        v = "sk-ant-api03-" + rand_with_digit(rng, B64URL, 93) + "AA"
    elif kind == "huggingface":
        v = "hf_" + rand(rng, string.ascii_letters, 34)
    elif kind == "digitalocean":
        v = "dop_v1_" + rand(rng, HEX, 64)
    elif kind == "grafana":
        v = "glsa_" + rand_with_digit(rng, B62, 32) + "_" + rand(rng, HEX, 8)
    elif kind == "shopify":
        v = "shpat_" + rand(rng, HEX, 32)
    elif kind == "mailgun":
        v = "key-" + rand(rng, HEX, 32)
    elif kind == "square":
        v = "sq0atp-" + rand_with_digit(rng, B64URL, 22)
    elif kind == "linear":
        v = "lin_api_" + rand_with_digit(rng, B62, 40)
    elif kind == "postman":
        v = "PMAK-" + rand(rng, HEX, 24) + "-" + rand(rng, HEX, 34)
    elif kind == "newrelic":
        v = "NRAK-" + rand_with_digit(rng, string.ascii_uppercase + string.digits, 27)
    else:
        v = f"xapp-1-A{rand(rng, string.ascii_uppercase + string.digits, 10)}-{rand(rng, string.digits, 13)}-{rand(rng, HEX, 64)}"
    return kind, v


def generic_key(rng):
    kind = pick(rng, ["hex32", "hex40", "hex64", "base62", "base64url"])
    if kind.startswith("hex"):
        while True:
            v = rand(rng, HEX, int(kind[3:]))
            if sum(c.isalpha() for c in v) >= 4 and sum(c.isdigit() for c in v) >= 4:
                return kind, v
    if kind == "base62":
        return kind, rand_with_digit(rng, B62, rng.randrange(32, 49))
    return kind, rand_with_digit(rng, B64URL, rng.randrange(32, 65))


def bearer(rng):
    kind = pick(rng, ["opaque", "google", "hex"])
    if kind == "google":
        return kind, "ya29." + rand_with_digit(rng, B64URL, 120)
    if kind == "hex":
        return kind, rand(rng, HEX, 40)
    return kind, rand_with_digit(rng, B62 + "-._~", 48)


def basic(rng):
    user = pick(rng, ["svc-deploy", "admin", "grafana", "kim.minsu", "ci-bot", "elastic"])
    _, pw = password(rng)
    raw = base64.b64encode(f"{user}:{pw}".encode()).decode()
    return user, raw


def oauth_token(rng):
    kind = pick(rng, ["refresh_token", "access_token", "code_verifier", "client_secret", "code"])
    if kind == "code_verifier":
        # RFC 7636: 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~".
        return kind, b64url(bytes(rng.getrandbits(8) for _ in range(32)))
    if kind == "code":
        return kind, rand_with_digit(rng, B62, 20) + "-" + rand_with_digit(rng, B62, 12)
    if kind == "client_secret":
        return kind, rand_with_digit(rng, B64URL, 40)
    if kind == "refresh_token":
        return kind, pick(rng, ["1//0", "rt_", "def50200"]) + rand_with_digit(rng, B64URL, 60)
    return kind, rand_with_digit(rng, B62, 43)


def webhook(rng):
    kind = pick(rng, ["discord", "teams", "google_chat", "zapier", "telegram", "ifttt", "pagerduty", "mattermost"])
    if kind == "discord":
        s = rand_with_digit(rng, B64URL, 68)
        return kind, f"https://discord.com/api/webhooks/{rand(rng, string.digits, 19)}/{s}", [s]
    if kind == "teams":
        s = rand(rng, HEX, 32)
        u = lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return kind, f"https://contoso.webhook.office.com/webhookb2/{u()}@{u()}/IncomingWebhook/{s}/{u()}", [s]
    if kind == "google_chat":
        k = "AIza" + rand_with_digit(rng, B64URL, 35)
        t = rand_with_digit(rng, B64URL, 43)
        return kind, f"https://chat.googleapis.com/v1/spaces/AAAA{rand(rng, B64URL, 7)}/messages?key={k}&token={t}", [k, t]
    if kind == "zapier":
        s = rand(rng, string.ascii_lowercase + string.digits, 7)
        return kind, f"https://hooks.zapier.com/hooks/catch/{rand(rng, string.digits, 7)}/{s}/", [f"{s}/"]
    if kind == "telegram":
        t = f"{rand(rng, string.digits, 10)}:AA{rand_with_digit(rng, B64URL, 33)}"
        return kind, f"https://api.telegram.org/bot{t}/sendMessage", [t]
    if kind == "ifttt":
        s = rand_with_digit(rng, B64URL, 22)
        return kind, f"https://maker.ifttt.com/trigger/door_open/with/key/{s}", [s]
    if kind == "pagerduty":
        s = rand(rng, HEX, 32)
        return kind, f"https://events.pagerduty.com/integration/{s}/enqueue", [s]
    s = rand(rng, "abcdefghijkmnopqrstuwxyz13456789", 26)
    return kind, f"https://chat.example.net/hooks/{s}", [s]


def session_cookie(rng):
    kind = pick(rng, ["JSESSIONID", "PHPSESSID", "connect.sid", "sessionid", "_gitlab_session", "ci_session", "ASP.NET_SessionId", "laravel_session", "_app_session", "wordpress_logged_in"])
    if kind == "JSESSIONID":
        return kind, kind, rand(rng, "0123456789ABCDEF", 32)
    if kind == "PHPSESSID":
        return kind, kind, rand_with_digit(rng, "0123456789abcdefghijklmnopqrstuv", 26)
    if kind == "connect.sid":
        return kind, kind, "s%3A" + rand_with_digit(rng, B64URL, 32) + "." + rand_with_digit(rng, string.ascii_letters + string.digits, 43)
    if kind == "sessionid":
        return kind, kind, rand_with_digit(rng, string.ascii_lowercase + string.digits, 32)
    if kind in ("_gitlab_session", "ci_session"):
        return kind, kind, rand(rng, HEX, 32 if kind == "_gitlab_session" else 40)
    if kind == "ASP.NET_SessionId":
        return kind, kind, rand_with_digit(rng, "abcdefghijklmnopqrstuvwxyz012345", 24)
    if kind == "laravel_session":
        return kind, kind, "eyJpdiI6" + rand_with_digit(rng, string.ascii_letters + string.digits, 120) + "%3D"
    if kind == "_app_session":
        return kind, kind, rand_with_digit(rng, string.ascii_letters + string.digits, 96) + "--" + rand(rng, HEX, 40)
    name = "wordpress_logged_in_" + rand(rng, HEX, 32)
    return kind, name, "admin%7C1765432100%7C" + rand_with_digit(rng, B62, 43) + "%7C" + rand(rng, HEX, 64)


PEM_LABELS = [
    ("RSA PRIVATE KEY", bytes.fromhex("308204a40201000282010100")),
    ("EC PRIVATE KEY", bytes.fromhex("30770201010420")),
    ("PRIVATE KEY", bytes.fromhex("308204bd020100300d06092a864886f70d0101010500")),
    ("ENCRYPTED PRIVATE KEY", bytes.fromhex("308205253057")),
    ("OPENSSH PRIVATE KEY", b"openssh-key-v1\x00"),
    ("DSA PRIVATE KEY", bytes.fromhex("308201bb02010002818100")),
]


def pem(rng, eol="\n"):
    label, prefix = pick(rng, PEM_LABELS)
    der = prefix + bytes(rng.getrandbits(8) for _ in range(rng.randrange(100, 400)))
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 70 if label == "OPENSSH PRIVATE KEY" else i + 64] for i in range(0, len(body), 70 if label == "OPENSSH PRIVATE KEY" else 64)]
    block = f"-----BEGIN {label}-----{eol}" + eol.join(lines) + f"{eol}-----END {label}-----"
    frags = [ln for ln in lines if len(ln) >= 24]
    return label, block, frags


URL_SCHEMES = [
    ("mongodb+srv", "cluster0.ab1cd.mongodb.net/orders?retryWrites=true&w=majority"),
    ("postgres", "db.internal.example:5432/app?sslmode=verify-full&application_name=api"),
    ("postgresql", "pg-primary.example.net/billing?options=-c%20search_path%3Dbilling"),
    ("mysql", "mysql.example.org:3306/shop"),
    ("amqp", "rabbit.example.com:5672/%2Fprod"),
    ("rediss", "cache.example.com:6380/0"),
    ("redis", "10.20.0.5:6379"),
    ("sftp", "files.example.com:22/upload"),
    ("https", "elastic.example.com:9243"),
    ("kafka+ssl", "broker-1.example.net:9093"),
    ("couchbase", "cb.example.com/travel"),
]

# RFC 3986 userinfo: unreserved and sub-delims stay, everything else is percent-encoded.
USERINFO_SAFE = string.ascii_letters + string.digits + "-._~" + "!$&'()*+,;="


def pct_userinfo(s):
    out = []
    for ch in s:
        if ch in USERINFO_SAFE:
            out.append(ch)
        else:
            out.extend("%%%02X" % b for b in ch.encode())
    return "".join(out)


def url_credentials(rng):
    scheme, rest = pick(rng, URL_SCHEMES)
    _, pw = password(rng)
    user = "" if scheme == "redis" else pick(rng, ["app", "svc_orders", "elastic", "admin", "reporting"])
    enc = pct_userinfo(pw)
    return scheme, pw, enc, f"{scheme}://{user}:{enc}@{rest}"


# ------------------------------------------------------------------ hard negatives


def isbn10(rng):
    body = pick(rng, ["0", "1", "3", "4", "89"])
    body += rand(rng, string.digits, 9 - len(body))
    if body[:3] in ("010", "011", "016", "017", "018", "019"):
        # A plain 01X number of 10 digits is a Korean mobile by the policy: group 1 instead.
        body = "1" + body[1:]
    s = sum((10 - i) * int(c) for i, c in enumerate(body))
    c = (11 - s % 11) % 11
    return body + ("X" if c == 10 else str(c))


def issn(rng):
    body = rand(rng, string.digits, 7)
    s = sum((8 - i) * int(c) for i, c in enumerate(body))
    c = (11 - s % 11) % 11
    v = body + ("X" if c == 10 else str(c))
    return v[:4] + "-" + v[4:]


def imo(rng):
    body = pick(rng, "6789") + rand(rng, string.digits, 5)
    c = sum(int(d) * w for d, w in zip(body, [7, 6, 5, 4, 3, 2])) % 10
    return "IMO " + body + str(c)


def aba(rng):
    """ABA routing number: first two digits 01-12, 21-32, 61-72, 80; 3-7-1 weighted check."""
    while True:
        p = pick(rng, ["0" + str(x) for x in range(1, 10)] + ["10", "11", "12", "21", "22", "26", "31", "32", "61", "67", "72"])
        body = p + rand(rng, string.digits, 6)
        s = sum(int(d) * w for d, w in zip(body, [3, 7, 1, 3, 7, 1, 3, 7]))
        c = (10 - s % 10) % 10
        return body + str(c)


def duns(rng):
    v = rand(rng, string.digits, 9)
    return f"{v[:2]}-{v[2:5]}-{v[5:]}"


def bic(rng):
    bank = pick(rng, ["DEUT", "BNPA", "HSBC", "KOEX", "SHBK", "NWBK", "CHAS", "BOFA", "CITI", "SOGE"])
    country = pick(rng, ["DE", "FR", "GB", "KR", "US", "JP"])
    loc = rand(rng, string.ascii_uppercase + string.digits, 2)
    return bank + country + loc + (pick(rng, ["", "XXX", "500"]))


def h3(rng):
    res = rng.randrange(5, 12)
    return "8" + "%x" % res + rand(rng, HEX, 7) + "f" * (15 - 9)


def go_pseudo(rng):
    ts = real_date(rng, 2019, 2026).strftime("%Y%m%d") + "%02d%02d%02d" % (rng.randrange(24), rng.randrange(60), rng.randrange(60))
    return f"v0.0.0-{ts}-{rand(rng, HEX, 12)}"


def pg_query_id(rng):
    while True:
        v = str(rng.randrange(10**17, 9 * 10**18))
        if not luhn_ok(v):
            return pick(rng, ["", "-"]) + v


def snowflake(rng):
    # Discord/Twitter snowflake ids: 64-bit, 17-19 digits; these start with 1 (no issuer).
    return "1" + rand(rng, string.digits, 18)


def stripe_object(rng):
    p = pick(rng, ["ch_3", "pi_3", "cus_", "evt_1", "in_1", "sub_1", "txn_3", "re_3"])
    return p + rand_with_digit(rng, B62, 24 if p.endswith(("3", "1")) else 14)


def github_node(rng):
    if rng.random() < 0.5:
        kind = pick(rng, ["User", "Repository", "PullRequest", "Issue"])
        return base64.b64encode(f"0{len(kind)}:{kind}{rng.randrange(1, 10**9)}".encode()).decode()
    return pick(rng, ["U_kgDO", "R_kgDO", "PR_kwDO", "I_kwDO"]) + rand(rng, B64URL, 8)


def hl7_ts(rng):
    d = real_date(rng, 2024, 2026)
    return d.strftime("%Y%m%d") + "%02d%02d%02d" % (rng.randrange(24), rng.randrange(60), rng.randrange(60))


def ical_dt(rng):
    return hl7_ts(rng)[:8] + "T" + hl7_ts(rng)[8:] + pick(rng, ["Z", ""])


def cert_fp(rng):
    return ":".join(rand(rng, "0123456789ABCDEF", 2) for _ in range(32))


def spiffe(rng):
    ns = pick(rng, ["default", "payments", "istio-system", "orders", "checkout"])
    sa = pick(rng, ["api", "worker", "bookinfo-productpage", "ingressgateway", "default"])
    return f"spiffe://{pick(rng, ['cluster.local', 'prod.example.org'])}/ns/{ns}/sa/{sa}"


def git_sha(rng):
    return rand(rng, HEX, 40)


def k8s_uid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def traceparent(rng):
    return f"00-{rand(rng, HEX, 32)}-{rand(rng, HEX, 16)}-0{pick(rng, '01')}"


def four_part(rng):
    return ".".join(str(rng.randrange(1, 250)) for _ in range(4))


def ean13(rng):
    body = pick(rng, ["880", "400", "500", "690", "590", "760"]) + rand(rng, string.digits, 9)
    return body + gs1_digit(body)


def upc_a(rng):
    body = pick(rng, "01236789") + rand(rng, string.digits, 10)
    return body + gs1_digit(body)


def isbn13(rng):
    body = pick(rng, ["978", "979"]) + rand(rng, string.digits, 9)
    return body + gs1_digit(body)


def non_luhn_16(rng):
    while True:
        n = pick(rng, ["4", "51", "37", "6011"])
        n += rand(rng, string.digits, 16 - len(n))
        if not luhn_ok(n):
            return n


def non_rrn_13(rng):
    while True:
        mm = "%02d" % pick(rng, [0, 13, 14, 15, 19, 20, 31, 45, 88, 99])
        n = rand(rng, string.digits, 2) + mm + rand(rng, string.digits, 9)
        if not luhn_ok(n):
            return n


def kr_rep(rng):
    return pick(rng, ["1588", "1577", "1600", "1644", "1899", "1566", "1661", "1800"]) + "-" + rand(rng, string.digits, 4)


def google_client_id(rng):
    return rand(rng, string.digits, 12) + "-" + rand(rng, string.ascii_lowercase + string.digits, 32) + ".apps.googleusercontent.com"


def asn(rng):
    return "AS" + str(pick(rng, [rng.randrange(1, 64496), rng.randrange(131072, 4199999999)]))


def cert_serial(rng):
    return rand(rng, HEX, 32)


NEGATIVES = {
    # type: (generator, keys it sits under in JSON, the word before it in text)
    "kr_rep_number": (kr_rep, ["support_line", "고객센터", "callcenter"], "고객센터"),
    "ean13": (ean13, ["barcode", "ean"], "barcode"),
    "upc_a": (upc_a, ["upc", "barcode"], "upc"),
    "isbn13": (isbn13, ["isbn"], "ISBN"),
    "non_luhn_16": (non_luhn_16, ["ticket_no", "ref_number", "batch_id"], "ref"),
    "non_rrn_13": (non_rrn_13, ["shipment_no", "serial_no"], "serial"),
    "isbn10": (isbn10, ["isbn10"], "ISBN-10"),
    "issn": (issn, ["issn"], "ISSN"),
    "imo_number": (imo, ["vessel"], "vessel"),
    "duns_number": (duns, ["duns"], "D-U-N-S"),
    "aba_routing": (aba, ["routing_number", "aba"], "ABA"),
    "bic": (bic, ["bic", "swift"], "BIC"),
    "h3_index": (h3, ["h3", "h3_cell"], "h3"),
    "go_pseudo_version": (go_pseudo, ["module_version"], "require example.com/lib"),
    "pg_query_id": (pg_query_id, ["query_id", "queryid"], "query_id"),
    "snowflake_id": (snowflake, ["message_id", "guild_id"], "message"),
    "stripe_object_id": (stripe_object, ["charge", "object_id"], "object"),
    "github_node_id": (github_node, ["node_id"], "node_id"),
    "hl7_timestamp": (hl7_ts, ["msg_time", "received"], "received"),
    "ical_datetime": (ical_dt, ["dtstart", "dtend"], "DTSTART"),
    "cert_fingerprint": (cert_fp, ["fingerprint_sha256"], "fingerprint"),
    "spiffe_id": (spiffe, ["principal", "source_principal"], "principal"),
    "git_sha": (git_sha, ["commit", "revision"], "commit"),
    "k8s_uid": (k8s_uid, ["uid"], "uid"),
    "traceparent": (traceparent, ["traceparent"], "traceparent"),
    "four_part_build": (four_part, ["app_version", "build"], "version"),
    "google_client_id": (google_client_id, ["client_id"], "client_id"),
    "asn": (asn, ["asn", "origin_as"], "origin"),
}
