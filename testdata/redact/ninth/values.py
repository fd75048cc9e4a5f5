"""Value builders for the ninth held-out redaction set.

Each builder makes a value from its public definition, named in the comment above it. Every
builder takes a `random.Random` so the set is reproducible from one seed.
"""

import base64
import binascii
import hashlib
import string
import uuid

DIGITS = string.digits
UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
B62 = DIGITS + UPPER + LOWER
HEX = "0123456789abcdef"
B64URL = B62 + "-_"


def rand(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def mixed(rng, n, alphabet=B62):
    """A random token of `n` characters holding a digit, a capital and a small letter."""
    while True:
        t = rand(rng, alphabet, n)
        if (
            any(c.isdigit() for c in t)
            and any(c.isupper() for c in t)
            and any(c.islower() for c in t)
        ):
            return t


# ---------------------------------------------------------------------------------------------
# Check digits
# ---------------------------------------------------------------------------------------------


# ISO/IEC 7812-1 Annex B: the Luhn (mod 10) check digit.
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


def luhn_complete(body):
    for c in DIGITS:
        if luhn_ok(body + c):
            return body + c
    raise ValueError(body)


# GS1 General Specifications 7.9.1: check digit of GTIN-8/12/13/14 (weights 3,1 from the right).
def gs1_complete(body):
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


# ISO 13616-1: IBAN check digits, ISO 7064 MOD 97-10 over BBAN + country + "00".
def iban_check(country, bban):
    moved = bban + country + "00"
    num = "".join(str(int(c, 36)) for c in moved)
    return "%02d" % (98 - int(num) % 97)


def iban_valid(s):
    c = s.replace(" ", "").upper()
    num = "".join(str(int(ch, 36)) for ch in c[4:] + c[:4])
    return int(num) % 97 == 1


# ---------------------------------------------------------------------------------------------
# Payment cards (ISO/IEC 7812 IINs as published by each network)
# ---------------------------------------------------------------------------------------------

# (network, IIN prefixes, lengths). Visa: 4, 13/16/19 (Visa rules); Mastercard: 51-55 and
# 2221-2720, 16 (Mastercard BIN table); American Express: 34/37, 15; Discover: 6011, 644-649,
# 65, 16/19 (Discover IIN ranges, D-Series); JCB: 3528-3589, 16-19; Diners Club International:
# 36 and 300-305, 14; UnionPay: 62, 16-19; Mir: 2200-2204, 16 (NSPK); Maestro: 6759, 6761-6763,
# 5018, 5020, 5038, 5893, 6304, 12-19 (Mastercard Maestro IINs).
CARD_NETWORKS = [
    ("visa", ["4"], [16, 13, 19]),
    ("mastercard", ["51", "52", "53", "54", "55", "2221", "2300", "2500", "2720"], [16]),
    ("amex", ["34", "37"], [15]),
    ("discover", ["6011", "644", "645", "649", "65"], [16, 19]),
    ("jcb", ["3528", "3540", "3566", "3589"], [16, 19]),
    ("diners", ["36", "300", "305"], [14]),
    ("unionpay", ["62"], [16, 17, 18, 19]),
    ("mir", ["2200", "2201", "2202", "2204"], [16]),
    ("maestro", ["6759", "6761", "6763", "5018", "5020", "5893", "6304"], [16, 19]),
]


def card(rng):
    net, prefixes, lengths = rng.choice(CARD_NETWORKS)
    p = rng.choice(prefixes)
    n = rng.choice(lengths)
    return net, luhn_complete(p + rand(rng, DIGITS, n - len(p) - 1))


def card_spelling(rng, net, n):
    """Plain, grouped by four with a space or dash, or Amex 4-6-5 / Diners 4-6-4."""
    style = rng.choice(["plain", "space", "dash"])
    if style == "plain":
        return style, n
    sep = " " if style == "space" else "-"
    if net in ("amex", "diners"):
        parts = [n[:4], n[4:10], n[10:]]
    else:
        parts = [n[i : i + 4] for i in range(0, len(n), 4)]
    return style, sep.join(parts)


# ---------------------------------------------------------------------------------------------
# Telephone numbers (ITU-T E.164; each country's national numbering plan as notified to the ITU)
# ---------------------------------------------------------------------------------------------

# (country, calling code, mobile prefixes, national significant number length, trunk prefix)
# from the ITU-T E.164 national numbering plan notifications of each country.
MOBILE_PLANS = [
    ("Mongolia", "976", ["88", "99", "95", "80"], 8, ""),
    ("Laos", "856", ["2020", "2030", "2055", "2077"], 10, "0"),
    ("Myanmar", "95", ["925", "979", "996"], 10, "0"),
    ("Cambodia", "855", ["12", "17", "92", "77"], 8, "0"),
    ("Bhutan", "975", ["17", "77"], 8, "0"),
    ("Maldives", "960", ["77", "96", "79"], 7, ""),
    ("Fiji", "679", ["70", "92", "83"], 7, ""),
    ("Papua New Guinea", "675", ["70", "72", "79"], 8, ""),
    ("Mauritius", "230", ["57", "59", "52"], 8, ""),
    ("Madagascar", "261", ["32", "33", "34"], 9, "0"),
    ("Mozambique", "258", ["82", "84", "86"], 9, ""),
    ("Zambia", "260", ["95", "96", "97"], 9, "0"),
    ("Zimbabwe", "263", ["71", "77", "78"], 9, "0"),
    ("Botswana", "267", ["71", "72", "74"], 8, ""),
    ("Namibia", "264", ["81", "85"], 9, "0"),
    ("Rwanda", "250", ["78", "72", "73"], 9, "0"),
    ("Senegal", "221", ["77", "78", "70"], 9, ""),
    ("Cote d'Ivoire", "225", ["07", "05", "01"], 10, ""),
    ("Cameroon", "237", ["67", "69", "65"], 9, ""),
    ("Tunisia", "216", ["20", "50", "98"], 8, ""),
    ("Algeria", "213", ["55", "66", "77"], 9, "0"),
    ("Paraguay", "595", ["981", "971", "991"], 9, "0"),
    ("Bolivia", "591", ["71", "76", "60"], 8, ""),
    ("Venezuela", "58", ["412", "414", "424"], 10, "0"),
    ("Honduras", "504", ["31", "95", "98"], 8, ""),
    ("Guatemala", "502", ["30", "41", "55"], 8, ""),
    ("El Salvador", "503", ["70", "76", "78"], 8, ""),
    ("Kazakhstan", "7", ["701", "705", "747"], 10, "8"),
    ("Uzbekistan", "998", ["90", "91", "93"], 9, ""),
    ("Kyrgyzstan", "996", ["555", "700", "770"], 9, "0"),
    ("Tajikistan", "992", ["90", "93", "98"], 9, ""),
    ("Moldova", "373", ["69", "78", "60"], 8, "0"),
    ("Belarus", "375", ["29", "33", "44"], 9, "8 0"),
    ("Albania", "355", ["67", "68", "69"], 9, "0"),
    ("North Macedonia", "389", ["70", "71", "75"], 8, "0"),
    ("Montenegro", "382", ["67", "68", "69"], 8, "0"),
    ("Bosnia and Herzegovina", "387", ["61", "62", "65"], 8, "0"),
    ("Slovenia", "386", ["31", "41", "51"], 8, "0"),
    ("Malta", "356", ["79", "99"], 8, ""),
    ("Cyprus", "357", ["96", "97", "99"], 8, ""),
    ("Brunei", "673", ["71", "81", "87"], 7, ""),
    ("Malawi", "265", ["88", "99"], 9, "0"),
    ("Angola", "244", ["92", "93", "94"], 9, ""),
]

# Countries whose national mobile spelling (trunk prefix, then groups) is written below.
NATIONAL_GROUPS = {
    "Laos": [3, 2, 3, 3],
    "Myanmar": [2, 3, 3, 3],
    "Cambodia": [3, 3, 3],
    "Madagascar": [3, 2, 3, 2],
    "Zambia": [4, 6],
    "Zimbabwe": [3, 3, 4],
    "Namibia": [3, 3, 4],
    "Rwanda": [4, 3, 3],
    "Algeria": [4, 2, 2, 2],
    "Paraguay": [4, 6],
    "Venezuela": [4, 7],
    "Kyrgyzstan": [4, 3, 3],
    "Moldova": [4, 2, 3],
    "Albania": [3, 3, 4],
    "North Macedonia": [3, 3, 3],
    "Montenegro": [3, 3, 3],
    "Bosnia and Herzegovina": [3, 3, 3],
    "Slovenia": [3, 3, 3],
    "Malawi": [4, 3, 3],
}


def mobile(rng, plan=None):
    plan = plan or rng.choice(MOBILE_PLANS)
    country, cc, prefixes, nsn_len, trunk = plan
    p = rng.choice(prefixes)
    nsn = p + rand(rng, DIGITS, nsn_len - len(p))
    return plan, nsn


def e164_spelling(rng, cc, nsn):
    style = rng.choice(["compact", "space", "dash", "dot"])
    if style == "compact":
        return style, "+" + cc + nsn
    sep = {"space": " ", "dash": "-", "dot": "."}[style]
    groups = [nsn[i : i + 3] for i in range(0, len(nsn), 3)]
    if len(groups[-1]) == 1:
        groups[-2:] = [groups[-2][:2], groups[-2][2] + groups[-1]]
    return style, "+" + cc + sep + sep.join(groups)


def national_spelling(rng, country, nsn):
    plan = next(p for p in MOBILE_PLANS if p[0] == country)
    trunk = plan[4].replace(" ", "")
    digits = trunk + nsn
    groups, i = [], 0
    for g in NATIONAL_GROUPS[country]:
        groups.append(digits[i : i + g])
        i += g
    assert i == len(digits), (country, digits)
    sep = rng.choice([" ", " ", "-"])
    return sep.join(groups)


# NANP (ATIS INC, NANP administration guidelines): NPA and NXX are [2-9]XX, not N11; the
# 555-0100..0199 lines are reserved for fiction. Area codes of Caribbean NANP members and of
# Canadian and US overlays.
NANP_AREAS = ["876", "809", "829", "868", "246", "441", "784", "473", "758", "345", "587",
              "825", "431", "548", "628", "737", "945", "984", "463", "930"]


def nanp(rng):
    npa = rng.choice(NANP_AREAS)
    while True:
        nxx = rng.choice("23456789") + rand(rng, DIGITS, 2)
        if nxx[1:] != "11":
            break
    line = "01" + rand(rng, DIGITS, 2) if nxx == "555" else rand(rng, DIGITS, 4)
    style = rng.choice(["paren", "dash", "dot", "one_dash", "plus_space", "one_paren"])
    v = {
        "paren": f"({npa}) {nxx}-{line}",
        "dash": f"{npa}-{nxx}-{line}",
        "dot": f"{npa}.{nxx}.{line}",
        "one_dash": f"1-{npa}-{nxx}-{line}",
        "plus_space": f"+1 {npa} {nxx} {line}",
        "one_paren": f"1 ({npa}) {nxx}-{line}",
    }[style]
    return style, v


# Korean numbering plan (Ministry of Science and ICT, 전기통신번호관리세칙): mobiles 010 (and the
# legacy 011, 016-019 with 3-digit exchanges), geographic area codes, 050X personal numbers.
KR_AREAS = ["02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054",
            "055", "061", "062", "063", "064", "070"]


def kr_mobile(rng):
    if rng.random() < 0.8:
        mid, last = rand(rng, DIGITS, 4), rand(rng, DIGITS, 4)
        mid = rng.choice("23456789") + mid[1:]
        style = rng.choice(["dash", "dot", "space", "plus82_dash", "plus82_space", "0082",
                            "paren_plus82", "plus82_zero"])
        v = {
            "dash": f"010-{mid}-{last}",
            "dot": f"010.{mid}.{last}",
            "space": f"010 {mid} {last}",
            "plus82_dash": f"+82-10-{mid}-{last}",
            "plus82_space": f"+82 10 {mid} {last}",
            "0082": f"0082-10-{mid}-{last}",
            "paren_plus82": f"(+82) 10-{mid}-{last}",
            "plus82_zero": f"+82 (0)10-{mid}-{last}",
        }[style]
        return style, v
    pre = rng.choice(["011", "016", "017", "018", "019"])
    mid = rng.choice("23456789") + rand(rng, DIGITS, 2)
    return "legacy_3digit", f"{pre}-{mid}-{rand(rng, DIGITS, 4)}"


def kr_landline(rng):
    area = rng.choice(KR_AREAS)
    mid_len = 3 if area == "02" and rng.random() < 0.5 else 4
    mid = rng.choice("23456789") + rand(rng, DIGITS, mid_len - 1)
    last = rand(rng, DIGITS, 4)
    style = rng.choice(["dash", "paren", "plus82", "space"])
    v = {
        "dash": f"{area}-{mid}-{last}",
        "paren": f"({area}) {mid}-{last}",
        "plus82": f"+82-{area[1:]}-{mid}-{last}",
        "space": f"{area} {mid} {last}",
    }[style]
    return style, v


def kr_safe(rng):
    p = rng.choice(["0502", "0503", "0504", "0505", "0506", "0507", "0508"])
    mid = rand(rng, DIGITS, rng.choice([3, 4]))
    return f"{p}-{mid}-{rand(rng, DIGITS, 4)}"


# ---------------------------------------------------------------------------------------------
# Korean identifiers
# ---------------------------------------------------------------------------------------------


def real_date(rng, y0, y1):
    import datetime

    start = datetime.date(y0, 1, 1).toordinal()
    end = datetime.date(y1, 12, 31).toordinal()
    return datetime.date.fromordinal(rng.randint(start, end))


# 주민등록법 시행규칙 (resident registration number): YYMMDD, a sex/century digit (1-4, 9/0 for
# 1800s; 5-8 for registered foreigners, 출입국관리법 시행규칙), five digits, and the check digit
# (11 - sum(d_i * w_i) mod 11) mod 10 with weights 2..9,2..5 (13 - … for foreigners).
def registration(rng, foreigner):
    d = real_date(rng, 1950, 2015)
    century2000 = d.year >= 2000
    male = rng.random() < 0.5
    if foreigner:
        g = (7 if male else 8) if century2000 else (5 if male else 6)
    else:
        g = (3 if male else 4) if century2000 else (1 if male else 2)
    body = d.strftime("%y%m%d") + str(g) + rand(rng, DIGITS, 5)
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    s = sum(int(body[i]) * w[i] for i in range(12))
    check = ((13 if foreigner else 11) - s % 11) % 10
    return body + str(check)


# 부가가치세법 시행령 (business registration number): 3-2-5 digits, weights 1,3,7,1,3,7,1,3,5 and
# the carried tens of the ninth product.
def kr_brn(rng):
    while True:
        body = rand(rng, "123456789", 1) + rand(rng, DIGITS, 8)
        w = [1, 3, 7, 1, 3, 7, 1, 3, 5]
        s = sum(int(body[i]) * w[i] for i in range(9)) + int(body[8]) * 5 // 10
        n = body + str((10 - s % 10) % 10)
        return f"{n[:3]}-{n[3:5]}-{n[5:]}"


# Account layouts as printed on Korean banks' passbooks (bank websites' account guides).
KR_BANKS = [
    ("SC제일은행", [3, 2, 6]),
    ("부산은행", [3, 4, 4, 2]),
    ("대구은행", [3, 2, 6, 1]),
    ("경남은행", [3, 2, 7]),
    ("광주은행", [3, 3, 6]),
    ("전북은행", [3, 2, 7]),
    ("수협은행", [3, 2, 6]),
    ("우체국", [6, 2, 6]),
    ("새마을금고", [4, 2, 6, 1]),
    ("신협", [3, 3, 6]),
    ("케이뱅크", [3, 3, 6]),
    ("씨티은행", [3, 6, 3]),
]


def kr_account(rng):
    bank, groups = rng.choice(KR_BANKS)
    parts = [rand(rng, DIGITS, g) for g in groups]
    parts[0] = rng.choice("123456789") + parts[0][1:]
    return bank, "-".join(parts)


# 도로교통법 시행규칙 별지 서식: driver licence number, region code 11-28, 2-digit year, 6-digit
# serial, 2 check digits; since 2021 the first two digits may be printed as the region name.
KR_REGIONS = {"서울": 11, "부산": 12, "경기": 13, "강원": 14, "충북": 15, "충남": 16, "전남": 17,
              "경북": 18, "경남": 19, "제주": 20, "대구": 22, "인천": 23, "광주": 24, "대전": 25,
              "울산": 26}


def kr_license(rng):
    yy = rand(rng, DIGITS, 2)
    serial = rand(rng, DIGITS, 6)
    chk = rand(rng, DIGITS, 2)
    if rng.random() < 0.25:
        name = rng.choice(list(KR_REGIONS))
        return "region_name", f"{name} {yy}-{serial}-{chk}"
    region = rng.randint(11, 28)
    return "numeric", f"{region}-{yy}-{serial}-{chk}"


# 여권법 시행령: Korean passport numbers, a type letter (M, S, R, O, G, D) and 8 digits.
def kr_passport(rng):
    return rng.choice("MSRODG") + rand(rng, DIGITS, 8)


# ---------------------------------------------------------------------------------------------
# IBAN (SWIFT IBAN Registry: BBAN structure and length per country)
# ---------------------------------------------------------------------------------------------

# n = digits, a = capitals, c = capitals and digits.
IBAN_LAYOUTS = {
    "MT": "4a5n18c",
    "MU": "4a2n2n12n3n3a",
    "SC": "4a2n2n16n3a",
    "PK": "4a16c",
    "VG": "4a16n",
    "GT": "4c20c",
    "BY": "4c4n16c",
    "UA": "6n19c",
    "PS": "4a21c",
    "IQ": "4a3n12n",
    "AL": "8n16c",
    "AD": "4n4n12c",
    "CY": "3n5n16c",
    "MC": "5n5n11c2n",
    "SM": "1a5n5n12c",
    "TN": "2n3n13n2n",
    "MR": "5n5n11n2n",
    "BA": "3n3n8n2n",
    "ME": "3n13n2n",
    "MK": "3n10c2n",
    "GI": "4a15c",
    "BR": "8n5n10n1a1c",
    "KZ": "3n13c",
    "JO": "4a4n18c",
}


def iban(rng):
    import re

    country = rng.choice(sorted(IBAN_LAYOUTS))
    bban = ""
    for n, kind in re.findall(r"(\d+)([anc])", IBAN_LAYOUTS[country]):
        alpha = {"n": DIGITS, "a": UPPER, "c": UPPER + DIGITS}[kind]
        bban += rand(rng, alpha, int(n))
    compact = country + iban_check(country, bban) + bban
    assert iban_valid(compact)
    style = rng.choice(["compact", "grouped", "grouped", "lower_grouped"])
    grouped = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    v = {"compact": compact, "grouped": grouped, "lower_grouped": grouped.lower()}[style]
    return style, v


def iban_failing(rng):
    """Same layout and length as an IBAN of its country, check digits wrong (a SKU)."""
    while True:
        _, v = iban(rng)
        c = v.replace(" ", "").upper()
        bad = c[:2] + "%02d" % ((int(c[2:4]) + rng.randint(1, 40)) % 97 + 2) + c[4:]
        if not iban_valid(bad):
            return bad


# ---------------------------------------------------------------------------------------------
# US Social Security numbers (SSA: area 001-899 except 666, group 01-99, serial 0001-9999)
# ---------------------------------------------------------------------------------------------


def ssn(rng):
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return "%03d-%02d-%04d" % (area, rng.randint(1, 99), rng.randint(1, 9999))


# ---------------------------------------------------------------------------------------------
# Network addresses (RFC 6890 special-purpose registries avoided; RFC 5952 IPv6 text)
# ---------------------------------------------------------------------------------------------

SPECIAL_V4 = [0, 10, 100, 127, 169, 172, 192, 198, 203, 224, 240, 255]


def ipv4(rng):
    while True:
        a = rng.randint(1, 223)
        if a not in SPECIAL_V4:
            break
    return "%d.%d.%d.%d" % (a, rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))


def ipv6(rng):
    first = rng.choice(["2a02", "2a01", "2600", "2405", "2c0f", "2800", "2a0e", "2001:67c"])
    groups = first.split(":")
    while len(groups) < 8:
        groups.append("%x" % rng.randint(0, 0xFFFF))
    style = rng.choice(["full", "compressed", "upper", "bracket_port"])
    if style in ("compressed", "bracket_port"):
        groups[4:7] = ["0", "0", "0"]
        text = ":".join(groups[:4]) + "::" + groups[7]
    else:
        text = ":".join(groups)
    if style == "upper":
        text = text.upper()
    return style, text


# ---------------------------------------------------------------------------------------------
# Tokens and keys
# ---------------------------------------------------------------------------------------------


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# RFC 7519 / RFC 7515 compact serialisation; signature sizes per RFC 7518 (HS512: 64 bytes,
# ES512: 132, PS256/RS256 with a 2048-bit key: 256) and RFC 8037 (EdDSA Ed25519: 64).
JWT_ALGS = [("HS512", 64), ("ES512", 132), ("PS256", 256), ("EdDSA", 64), ("RS384", 384)]


def jwt(rng, email=None):
    alg, size = rng.choice(JWT_ALGS)
    header = '{"alg":"%s","typ":"JWT","kid":"%s"}' % (alg, rand(rng, HEX, 12))
    payload = '{"sub":"%s","iss":"https://auth.example.net/","aud":"api","iat":%d,"exp":%d}' % (
        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        1765000000 + rng.randint(0, 99999),
        1765090000 + rng.randint(0, 99999),
    )
    sig = bytes(rng.getrandbits(8) for _ in range(size))
    return alg, ".".join([b64url(header.encode()), b64url(payload.encode()), b64url(sig)])


# RFC 7617: Basic credentials, base64 of "user-id:password".
def basic(rng):
    user = rng.choice(["svc-deploy", "jenkins", "grafana", "ops", "sync"])
    pw = mixed(rng, 14) + rng.choice("!#%*")
    return base64.b64encode(f"{user}:{pw}".encode()).decode()


# RFC 6750 bearer token of an opaque kind (b64token): an RFC 6749 access token.
def opaque_bearer(rng):
    return mixed(rng, rng.choice([40, 43, 64]), B64URL)


# AWS IAM "Understanding unique ID prefixes": AKIA (long-term) and ASIA (temporary) access
# key ids, 20 characters of base32 capitals and digits; secret access keys are 40 base64.
def aws_key_id(rng):
    return rng.choice(["AKIA", "ASIA"]) + rand(rng, UPPER + "234567", 16)


def aws_secret(rng):
    return mixed(rng, 40, B62 + "+/")


# GitHub "About authentication" / token formats: ghp_, gho_, ghu_, ghs_, ghr_ + 30 base62 + a
# CRC32 of them in 6 base62 characters; fine-grained github_pat_ + 22 + "_" + 59.
def _b62(n, width):
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def github_token(rng):
    if rng.random() < 0.2:
        return "fine_grained", "github_pat_" + mixed(rng, 22) + "_" + mixed(rng, 59)
    prefix = rng.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"])
    body = mixed(rng, 30)
    return prefix[:3], prefix + body + _b62(binascii.crc32(body.encode()), 6)


# Slack "Token types": bot xoxb-, user xoxp-, refresh xoxe- (token rotation docs); xoxc- is the
# token Slack's web client holds for a signed-in user (the `xox` family the policy names).
def slack_token(rng):
    kind = rng.choice(["xoxb", "xoxp", "xoxe", "xoxc"])
    n1, n2 = rand(rng, DIGITS, 12), rand(rng, DIGITS, 13)
    if kind == "xoxb":
        return kind, f"xoxb-{n1}-{n2}-{mixed(rng, 24)}"
    if kind == "xoxp":
        return kind, f"xoxp-{n1}-{n2}-{rand(rng, DIGITS, 13)}-{rand(rng, HEX, 32)}"
    if kind == "xoxe":
        return kind, f"xoxe-1-{mixed(rng, 140)}"
    return kind, f"xoxc-{n1}-{n2}-{rand(rng, DIGITS, 13)}-{rand(rng, HEX, 64)}"


# Google Cloud API keys: "AIza" and 35 characters of [A-Za-z0-9_-].
def google_key(rng):
    return "AIza" + mixed(rng, 35, B64URL)


# Stripe API keys docs: secret sk_live_, restricted rk_live_, publishable pk_live_ (the account
# part starting 51, 99 characters in all in current keys), webhook signing secrets whsec_.
def stripe_key(rng):
    kind = rng.choice(["sk_live_", "rk_live_", "pk_live_", "whsec_"])
    if kind == "whsec_":
        return kind, "whsec_" + mixed(rng, 32)
    return kind, kind + "51" + mixed(rng, 97)


# Vendor key formats with a documented prefix (each vendor's token documentation).
def vendor_key(rng):
    kind = rng.choice(["sendgrid", "twilio_sk", "twilio_ac", "npm", "gitlab", "grafana",
                       "mailgun", "shopify", "digitalocean", "huggingface", "square", "linear",
                       "postman", "newrelic", "slack_app", "pypi"])
    v = {
        "sendgrid": lambda: "SG." + mixed(rng, 22, B64URL) + "." + mixed(rng, 43, B64URL),
        "twilio_sk": lambda: "SK" + rand(rng, HEX, 32),
        "twilio_ac": lambda: "AC" + rand(rng, HEX, 32),
        "npm": lambda: "npm_" + mixed(rng, 36),
        "gitlab": lambda: "glpat-" + mixed(rng, 20, B64URL),
        "grafana": lambda: "glsa_" + mixed(rng, 32) + "_" + rand(rng, HEX, 8),
        "mailgun": lambda: "key-" + rand(rng, HEX, 32),
        "shopify": lambda: rng.choice(["shpat_", "shpca_", "shppa_", "shpss_"]) + rand(rng, HEX, 32),
        "digitalocean": lambda: rng.choice(["dop_v1_", "doo_v1_", "dor_v1_"]) + rand(rng, HEX, 64),
        "huggingface": lambda: "hf_" + rand(rng, UPPER + LOWER, 34),
        "square": lambda: "sq0atp-" + mixed(rng, 22, B64URL),
        "linear": lambda: "lin_api_" + mixed(rng, 40),
        "postman": lambda: "PMAK-" + rand(rng, HEX, 24) + "-" + rand(rng, HEX, 34),
        "newrelic": lambda: "NRAK-" + rand(rng, UPPER + DIGITS, 27),
        "slack_app": lambda: f"xapp-1-A{rand(rng, UPPER + DIGITS, 10)}-{rand(rng, DIGITS, 13)}-{rand(rng, HEX, 64)}",
        "pypi": lambda: "pypi-AgEIcHlwaS5vcmc" + mixed(rng, 70, B64URL),
    }[kind]()
    return kind, v


# OpenAI API keys: project keys sk-proj-, service account keys sk-svcacct-, admin keys
# sk-admin-; Anthropic API keys sk-ant-api03-… ending "AA".
def llm_key(rng):
    kind = rng.choice(["sk-proj-", "sk-svcacct-", "sk-admin-", "sk-ant-api03-", "sk-ant-admin01-"])
    if kind.startswith("sk-ant"):
        return kind, kind + mixed(rng, 93, B64URL) + "AA"
    return kind, kind + mixed(rng, 74, B64URL) + "T3BlbkFJ" + mixed(rng, 74, B64URL)


# Tokens of vendors without a pattern in the policy, by their documented prefixes: HashiCorp
# Vault service tokens hvs., Doppler dp.st./dp.sa., Pulumi pul-, Databricks dapi, Tailscale
# tskey-auth-, Atlassian ATATT, Fly.io fo1_, age AGE-SECRET-KEY-1 (Bech32).
def other_vendor_token(rng):
    kind = rng.choice(["vault", "doppler", "pulumi", "databricks", "tailscale", "atlassian",
                       "fly", "age"])
    v = {
        "vault": lambda: "hvs." + mixed(rng, 24),
        "doppler": lambda: rng.choice(["dp.st.", "dp.sa.", "dp.pt."]) + "prd." + mixed(rng, 40),
        "pulumi": lambda: "pul-" + rand(rng, HEX, 40),
        "databricks": lambda: "dapi" + rand(rng, HEX, 32),
        "tailscale": lambda: "tskey-auth-k" + mixed(rng, 10) + "CNTRL-" + mixed(rng, 33),
        "atlassian": lambda: "ATATT3xFfGF0" + mixed(rng, 180, B64URL) + "=" + rand(rng, HEX.upper(), 8),
        "fly": lambda: "fo1_" + mixed(rng, 43, B64URL),
        "age": lambda: "AGE-SECRET-KEY-1" + rand(rng, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L".upper(), 58),
    }[kind]()
    return kind, v


def hex_key(rng):
    return rand(rng, HEX, rng.choice([32, 40, 64]))


# Webhook URL formats documented by each service.
def webhook(rng):
    kind = rng.choice(["slack", "discord", "teams", "google_chat", "zapier", "telegram",
                       "ifttt", "pagerduty", "mattermost"])
    u = {
        "slack": lambda: "https://hooks.slack.com/services/T%s/B%s/%s" % (
            rand(rng, UPPER + DIGITS, 8), rand(rng, UPPER + DIGITS, 10), mixed(rng, 24)),
        "discord": lambda: "https://%s/api/webhooks/%s/%s" % (
            rng.choice(["discord.com", "discordapp.com", "ptb.discord.com"]),
            rand(rng, DIGITS, 19), mixed(rng, 68, B64URL)),
        "teams": lambda: "https://%s.webhook.office.com/webhookb2/%s@%s/IncomingWebhook/%s/%s" % (
            rng.choice(["contoso", "fabrikam", "northwind"]), uuid.UUID(int=rng.getrandbits(128), version=4),
            uuid.UUID(int=rng.getrandbits(128), version=4), rand(rng, HEX, 32),
            uuid.UUID(int=rng.getrandbits(128), version=4)),
        "google_chat": lambda: "https://chat.googleapis.com/v1/spaces/AAAA%s/messages?key=%s&token=%s" % (
            mixed(rng, 7), "AIza" + mixed(rng, 35, B64URL), mixed(rng, 43, B64URL)),
        "zapier": lambda: "https://hooks.zapier.com/hooks/catch/%s/%s/" % (
            rand(rng, DIGITS, 7), rand(rng, LOWER + DIGITS, 7)),
        "telegram": lambda: "https://api.telegram.org/bot%s:%s/sendMessage" % (
            rand(rng, DIGITS, 10), "AA" + mixed(rng, 33, B64URL)),
        "ifttt": lambda: "https://maker.ifttt.com/trigger/deploy_done/with/key/%s" % mixed(rng, 22, B64URL),
        "pagerduty": lambda: "https://events.pagerduty.com/integration/%s/enqueue" % rand(rng, HEX, 32),
        "mattermost": lambda: "https://chat.%s/hooks/%s" % (
            rng.choice(["ops.example.org", "team.example.io"]), rand(rng, "ybndrfg8ejkmcpqxot1uwisza345h769", 26)),
    }[kind]()
    return kind, u


# RFC 7468 textual encodings; RFC 1421 legacy encrypted-key headers; RFC 4880 ASCII armor.
def pem(rng):
    kind = rng.choice(["ENCRYPTED PRIVATE KEY", "DSA PRIVATE KEY", "PGP PRIVATE KEY BLOCK",
                       "RSA PRIVATE KEY legacy", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY"])
    body = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(rng.choice([240, 360])))).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    if kind == "PGP PRIVATE KEY BLOCK":
        block = ["-----BEGIN PGP PRIVATE KEY BLOCK-----", "", *lines,
                 "=" + rand(rng, B62, 4), "-----END PGP PRIVATE KEY BLOCK-----"]
    elif kind == "RSA PRIVATE KEY legacy":
        block = ["-----BEGIN RSA PRIVATE KEY-----", "Proc-Type: 4,ENCRYPTED",
                 "DEK-Info: AES-256-CBC," + rand(rng, HEX.upper(), 32), "", *lines,
                 "-----END RSA PRIVATE KEY-----"]
    else:
        block = [f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"]
    return kind.split()[0].lower(), "\n".join(block), [lines[0], lines[-1]]


# Dates of birth: a real date 1935-2008 written in the spellings people and programs use.
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def dob(rng):
    d = real_date(rng, 1935, 2008)
    style = rng.choice(["iso", "iso_time", "slash_ymd", "us", "dot_dmy", "compact", "long_us",
                        "day_mon", "korean"])
    v = {
        "iso": d.isoformat(),
        "iso_time": d.isoformat() + "T00:00:00",
        "slash_ymd": d.strftime("%Y/%m/%d"),
        "us": d.strftime("%m/%d/%Y"),
        "dot_dmy": d.strftime("%d.%m.%Y"),
        "compact": d.strftime("%Y%m%d"),
        "long_us": f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
        "day_mon": f"{d.day} {MONTHS[d.month - 1][:3]} {d.year}",
        "korean": f"{d.year}년 {d.month}월 {d.day}일",
    }[style]
    return style, v


# E-mail: RFC 5322 dot-atoms, quoted local parts; RFC 6531 internationalised addresses under
# the IDN ccTLDs of India's scripts (IANA root zone: .భారత్ Telugu, .ಭಾರತ Kannada, .ഭാരതം
# Malayalam, .ਭਾਰਤ Gurmukhi, .ଭାରତ Odia) and Lao and Myanmar local parts under .la and .mm.
ASCII_DOMAINS = ["mail.coop", "post.museum", "inbox.travel", "correo.com.py", "mail.gov.bt",
                 "tcell.tj", "yandex.kz", "uzmail.uz", "orange.sn", "mtn.co.rw",
                 "cg.gov.mz", "mail.net.mv", "unitel.co.ao", "alb.telekom.al"]
FIRST = ["bat-erdene", "soukphaphone", "aung.kyaw", "sokha", "tshering", "aminath", "losana",
         "priyanka", "rivo", "tendai", "kgosi", "ndapewa", "aline", "moussa", "yao", "nabil",
         "fernanda", "jorge", "dana", "nurlan", "dilnoza", "aibek", "firuz", "ion", "hanna",
         "erion", "marija", "luka", "amra", "maja", "joseph", "eleni", "hajah"]


def email(rng):
    style = rng.choice(["plain", "tag", "caps", "sub", "quoted", "digits"])
    name = rng.choice(FIRST)
    dom = rng.choice(ASCII_DOMAINS)
    v = {
        "plain": f"{name}@{dom}",
        "tag": f"{name}+{rng.choice(['billing', 'otp', 'kyc'])}@{dom}",
        "caps": f"{name.title()}.{rng.choice(FIRST).upper()}@{dom.upper()}",
        "sub": f"{name}{rng.randint(1, 99)}@{rng.choice(['hr', 'eu', 'ops'])}.{dom}",
        "quoted": f'"{name} {rng.choice(FIRST)}"@{dom}',
        "digits": f"{name}.{rng.randint(1950, 2009)}@{dom}",
    }[style]
    return style, v


IDN = [
    ("telugu", ["రవి", "లక్ష్మి", "శ్రీను"], ["మెయిల్.భారత్", "తపాలా.భారత్"]),
    ("kannada", ["ರಮೇಶ", "ಅನಿತಾ", "ಗೌರಿ"], ["ಅಂಚೆ.ಭಾರತ", "ಮೇಲ್.ಭಾರತ"]),
    ("malayalam", ["അനു", "രാജൻ", "മീര"], ["തപാൽ.ഭാരതം", "മെയിൽ.ഭാരതം"]),
    ("gurmukhi", ["ਹਰਪ੍ਰੀਤ", "ਜਸਵੀਰ", "ਗੁਰਮੀਤ"], ["ਡਾਕ.ਭਾਰਤ", "ਮੇਲ.ਭਾਰਤ"]),
    ("odia", ["ସୁମନ", "ପ୍ରିୟା", "ଅଜୟ"], ["ଡାକ.ଭାରତ", "ମେଲ.ଭାରତ"]),
    ("lao", ["ສົມພອນ", "ບຸນມີ", "ແສງດາວ"], ["mail.la", "laotel.la"]),
    ("myanmar", ["အောင်", "မြင့်", "သီတာ"], ["mail.mm", "mpt.com.mm"]),
]


def email_idn(rng):
    script, names, domains = rng.choice(IDN)
    return script, f"{rng.choice(names)}{rng.choice(['', '.', '_'])}{rng.randint(1, 99)}@{rng.choice(domains)}"


def password(rng):
    style = rng.choice(["symbols", "pin", "passphrase", "mixed"])
    if style == "symbols":
        v = mixed(rng, rng.randint(10, 16)) + rng.choice("!@#$%^*") + rand(rng, DIGITS, 2)
    elif style == "pin":
        v = rand(rng, DIGITS, rng.choice([6, 8]))
    elif style == "passphrase":
        words = ["copper", "lantern", "meadow", "orbit", "walnut", "harbor", "velvet", "tundra",
                 "saffron", "pebble", "glacier", "mosaic"]
        v = "-".join(rng.sample(words, 4))
    else:
        v = mixed(rng, rng.randint(12, 20), B62 + "_.~")
    return style, v


# ---------------------------------------------------------------------------------------------
# Hard negatives
# ---------------------------------------------------------------------------------------------


def uuid4(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# W3C Trace Context: trace-id 16 bytes, parent/span id 8 bytes, lowercase hex, not all zero.
def trace_id(rng):
    return rand(rng, HEX, 32)


def span_id(rng):
    return rand(rng, HEX, 16)


def sha256_hex(rng):
    return hashlib.sha256(rng.randbytes(16)).hexdigest()


def git_sha(rng):
    return hashlib.sha1(rng.randbytes(16)).hexdigest()


def md5_hex(rng):
    return hashlib.md5(rng.randbytes(16)).hexdigest()


# SemVer 2.0.0: MAJOR.MINOR.PATCH with pre-release and build metadata.
def semver(rng):
    v = f"{rng.randint(0, 14)}.{rng.randint(0, 40)}.{rng.randint(0, 30)}"
    r = rng.random()
    if r < 0.3:
        v += f"-rc.{rng.randint(1, 9)}"
    elif r < 0.5:
        v += f"+build.{rng.randint(100, 9999)}"
    return v


# Four-part builds: Windows (major.minor.build.revision), Chromium (MAJOR.MINOR.BUILD.PATCH).
def build4(rng):
    return f"{rng.randint(1, 30)}.{rng.randint(0, 9)}.{rng.randint(1000, 26100)}.{rng.randint(1, 6999)}"


# RFC 3339 timestamps in 2025-2026.
def rfc3339(rng):
    d = real_date(rng, 2025, 2026)
    frac = rng.choice(["", "." + rand(rng, DIGITS, 3), "." + rand(rng, DIGITS, 6)])
    return f"{d.isoformat()}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}{frac}Z"


def epoch_ms(rng):
    return str(rng.randint(1735689600000, 1798761599000))


def epoch_s(rng):
    return str(rng.randint(1735689600, 1798761599))


# GS1: EAN-13 (GS1 prefixes 20-29 for in-store, 590 Poland, 869 Türkiye, 460 Russia, 880 Korea),
# UPC-A (GTIN-12), ISBN-13 (Bookland 978/979).
def ean13(rng):
    while True:
        v = gs1_complete(rng.choice(["590", "869", "460", "880", "750", "779"]) + rand(rng, DIGITS, 9))
        if not luhn_ok(v):
            return v


def upc_a(rng):
    while True:
        v = gs1_complete(rng.choice("0136789") + rand(rng, DIGITS, 10))
        if not luhn_ok(v):
            return v


def isbn13(rng):
    return gs1_complete(rng.choice(["978", "979"]) + rand(rng, DIGITS, 9))


def non_luhn_16(rng):
    while True:
        v = rng.choice(["4", "51", "2221", "6011", "3530"])
        v += rand(rng, DIGITS, 16 - len(v))
        if not luhn_ok(v):
            return v


def luhn_order(rng):
    return luhn_complete(rng.choice(["1", "7"]) + rand(rng, DIGITS, 14))


# ABA routing transit numbers: checksum 3,7,1 weights (ABA Key to Routing Numbers).
def aba(rng):
    while True:
        body = rng.choice(["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11",
                           "12", "21", "22", "26", "32"]) + rand(rng, DIGITS, 6)
        for c in DIGITS:
            n = body + c
            if sum(int(n[i]) * [3, 7, 1][i % 3] for i in range(9)) % 10 == 0:
                return n


# ISO 3297 ISSN: 7 digits and a mod-11 check (X for 10).
def issn(rng):
    body = rand(rng, DIGITS, 7)
    s = sum((8 - i) * int(body[i]) for i in range(7))
    c = (11 - s % 11) % 11
    return f"{body[:4]}-{body[4:]}{'X' if c == 10 else c}"


# IMO ship identification numbers (IMO Resolution A.1078(28)): 7 digits, weights 7..2.
def imo(rng):
    body = rng.choice("5689") + rand(rng, DIGITS, 5)
    return "IMO " + body + str(sum(int(body[i]) * (7 - i) for i in range(6)) % 10)


# Snowflake ids (64-bit: 41 bits of milliseconds since the 2015 Discord epoch, worker, sequence).
def snowflake(rng):
    while True:
        ms = rng.randint(1735689600000, 1765000000000) - 1420070400000
        v = str((ms << 22) | rng.getrandbits(22))
        if not luhn_ok(v):
            return v


# PostgreSQL pg_stat_statements query ids: signed 64-bit integers.
def pg_query_id(rng):
    while True:
        v = rng.randint(10**17, 9 * 10**18)
        if not luhn_ok(str(v)):
            return str(-v)


# HL7 v2 DTM / compact timestamps YYYYMMDDHHMMSS.
def compact_ts(rng):
    d = real_date(rng, 2025, 2026)
    return d.strftime("%Y%m%d") + f"{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}{rng.randint(0, 59):02d}"


# Korean representative numbers (전국대표번호, 15XX/16XX/18XX-XXXX).
def kr_rep(rng):
    return rng.choice(["1588", "1577", "1544", "1600", "1644", "1661", "1800", "1899"]) + "-" + rand(rng, DIGITS, 4)


# Google Analytics 4 measurement ids and Tag Manager container ids.
def ga_id(rng):
    return rng.choice(["G-", "GTM-"]) + rand(rng, UPPER + DIGITS, rng.choice([7, 10]))


# CUSIP (ANSI X9.6): 8 characters and a "modulus 10 double add double" check digit.
def cusip(rng):
    body = rand(rng, DIGITS, 3) + rand(rng, UPPER + DIGITS, 3) + rand(rng, DIGITS, 2)
    s = 0
    for i, ch in enumerate(body):
        v = int(ch) if ch.isdigit() else ord(ch) - 55
        if i % 2 == 1:
            v *= 2
        s += v // 10 + v % 10
    return body + str((10 - s % 10) % 10)


# Stripe object ids (API reference: ch_, pi_, cus_, in_, sub_ prefixes and 24 base62).
def stripe_object(rng):
    return rng.choice(["ch_", "pi_", "cus_", "in_", "sub_", "txn_"]) + "3" + mixed(rng, 23)


# Durations: Go time.Duration strings and ISO 8601 durations.
def duration(rng):
    if rng.random() < 0.5:
        return f"{rng.randint(1, 9)}h{rng.randint(0, 59)}m{rng.randint(0, 59)}.{rand(rng, DIGITS, 3)}s"
    return f"PT{rng.randint(1, 23)}H{rng.randint(1, 59)}M{rng.randint(1, 59)}S"


def non_birth_date(rng):
    return real_date(rng, 1990, 2026).isoformat()


def k8s_resource_version(rng):
    return str(rng.randint(10_000_000, 999_999_999))


def user_agent_version(rng):
    return rng.choice(["Chrome", "Edg", "OPR", "YaBrowser"]) + "/" + build4(rng)
