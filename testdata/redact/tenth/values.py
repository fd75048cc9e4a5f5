"""Value builders for the tenth redaction set, each from its public definition.

Every builder takes a `random.Random` and returns a value (and for some a variant name).
The definition a builder follows is named in the comment above it.
"""

import base64
import binascii
import json
import string

B62 = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64URL = string.ascii_letters + string.digits + "-_"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def rs(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def with_digit(rng, alphabet, n):
    """A random token of `alphabet` holding at least two digits and a letter of each case."""
    while True:
        t = rs(rng, alphabet, n)
        if (
            sum(c.isdigit() for c in t) >= 2
            and any(c.islower() for c in t)
            and (not any(c.isupper() for c in alphabet) or any(c.isupper() for c in t))
        ):
            return t


def digits(rng, n):
    return rs(rng, string.digits, n)


# ---------------------------------------------------------------- checksums

# ISO/IEC 7812-1 annex B: the Luhn check digit.
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
    for c in "0123456789":
        if luhn_ok(body + c):
            return body + c
    raise AssertionError


# GS1 General Specifications 7.9: the mod-10 check digit of GTIN-8/12/13/14 (weights 3,1 from
# the right of the body).
def gs1_complete(body):
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


# ISO 7064 MOD 97-10 as ISO 13616-1 uses it for IBAN check digits.
def iban_check(country, bban):
    moved = bban + country + "00"
    num = "".join(str(int(c, 36)) for c in moved)
    return "%02d" % (98 - int(num) % 97)


def iban_valid(s):
    c = s.replace(" ", "").upper()
    moved = c[4:] + c[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


# ---------------------------------------------------------------- cards

# Issuer identification numbers and lengths from ISO/IEC 7812 and the networks' published
# BIN ranges: Visa 4 (13, 16, 19), Mastercard 51-55 and 2221-2720 (16), American Express
# 34/37 (15), Discover 6011, 644-649, 65 (16), JCB 3528-3589 (16), Diners Club International
# 36 (14), UnionPay 62 (16-19), Mir 2200-2204 (16), Maestro 6759/6761-6763/5018/5020 (16-19),
# RuPay 60/65/81/82 (16; only 60 and 65 used since 81/82 fall outside the issuer list here),
# Verve 5061 (16 and 19 via Maestro-like ranges are left out).
CARD_NETWORKS = [
    ("visa16", lambda r: "4", 16),
    ("visa13", lambda r: "4", 13),
    ("visa19", lambda r: "4", 19),
    ("mastercard", lambda r: str(r.randint(51, 55)), 16),
    ("mastercard2", lambda r: str(r.randint(2221, 2720)), 16),
    ("amex", lambda r: r.choice(["34", "37"]), 15),
    ("discover", lambda r: r.choice(["6011", str(r.randint(644, 649)), "65"]), 16),
    ("jcb", lambda r: str(r.randint(3528, 3589)), 16),
    ("diners", lambda r: "36", 14),
    ("unionpay", lambda r: "62" + str(r.randint(0, 9)), 17),
    ("unionpay19", lambda r: "62" + str(r.randint(0, 9)), 19),
    ("mir", lambda r: str(r.randint(2200, 2204)), 16),
    ("maestro", lambda r: r.choice(["6759", "6761", "6762", "6763", "5018", "5020"]), 18),
]


def card(rng):
    name, prefix, length = rng.choice(CARD_NETWORKS)
    p = prefix(rng)
    n = luhn_complete(p + digits(rng, length - len(p) - 1))
    style = rng.choice(["plain", "spaced", "dashed"])
    if name == "amex":
        groups = [n[:4], n[4:10], n[10:]]
    elif name == "diners":
        groups = [n[:4], n[4:10], n[10:]]
    else:
        groups = [n[i : i + 4] for i in range(0, len(n), 4)]
    if style == "plain":
        return n, name + "/plain"
    sep = " " if style == "spaced" else "-"
    return sep.join(groups), name + "/" + style


def card_number_only(rng):
    """A 16-digit card for a JSON number (Visa, Mastercard, Discover, JCB, Mir)."""
    p = rng.choice(["4", str(rng.randint(51, 55)), "6011", str(rng.randint(3528, 3589)), "2202"])
    return luhn_complete(p + digits(rng, 16 - len(p) - 1))


# A card-prefixed 16-digit number failing Luhn (kept: fails its checksum).
def non_luhn_16(rng):
    while True:
        n = rng.choice(["4", "52", "6011"]) + digits(rng, 12)
        n = n + digits(rng, 16 - len(n))
        if not luhn_ok(n):
            return n


# A Luhn-valid 16-digit number whose first digit no card network issues (1, 7, 8, 9):
# an order number (ISO/IEC 7812 major industry identifiers 1, 7, 8, 9 are not card issuers
# in the networks above).
def luhn_order_number(rng):
    return luhn_complete(rng.choice("1789") + digits(rng, 14))


# ---------------------------------------------------------------- phones

# ITU-T E.164 country codes and each country's national numbering plan as filed with the ITU
# (mobile ranges, national significant number lengths). 40 countries no other set names.
E164 = {
    "Greenland": ("299", lambda r: r.choice("245") + digits(r, 5), (2, 2, 2)),
    "Faroe Islands": ("298", lambda r: r.choice("25789") + digits(r, 5), (3, 3)),
    "Andorra": ("376", lambda r: r.choice("36") + digits(r, 5), (3, 3)),
    "Liechtenstein": ("423", lambda r: "7" + r.choice("3456789") + digits(r, 5), (3, 2, 2)),
    "Monaco": ("377", lambda r: "6" + digits(r, 8), (1, 2, 2, 2, 2)),
    "San Marino": ("378", lambda r: "66" + digits(r, 6), (2, 2, 2, 2)),
    "Azerbaijan": ("994", lambda r: r.choice(["50", "51", "55", "70", "77", "99"]) + digits(r, 7), (2, 3, 2, 2)),
    "Turkmenistan": ("993", lambda r: "6" + r.choice("12345") + digits(r, 6), (2, 6)),
    "Afghanistan": ("93", lambda r: "7" + r.choice("0123456789") + digits(r, 7), (2, 3, 4)),
    "Iraq": ("964", lambda r: "7" + r.choice("56789") + digits(r, 8), (3, 3, 4)),
    "Lebanon": ("961", lambda r: r.choice(["3" + digits(r, 6), "7" + r.choice("016") + digits(r, 6), "81" + digits(r, 6)]), None),
    "Bahrain": ("973", lambda r: "3" + r.choice("23456789") + digits(r, 6), (4, 4)),
    "Kuwait": ("965", lambda r: r.choice("569") + digits(r, 7), (4, 4)),
    "Yemen": ("967", lambda r: "7" + r.choice("0137") + digits(r, 7), (3, 3, 3)),
    "Sudan": ("249", lambda r: "9" + r.choice("0123569") + digits(r, 7), (2, 3, 4)),
    "Djibouti": ("253", lambda r: "77" + digits(r, 6), (2, 2, 2, 2)),
    "Somalia": ("252", lambda r: "6" + r.choice("123456789") + digits(r, 7), (2, 3, 4)),
    "Burundi": ("257", lambda r: r.choice("67") + r.choice("123456789") + digits(r, 6), (2, 2, 2, 2)),
    "Lesotho": ("266", lambda r: r.choice("56") + digits(r, 7), (4, 4)),
    "Eswatini": ("268", lambda r: "7" + r.choice("6789") + digits(r, 6), (4, 4)),
    "Gabon": ("241", lambda r: "0" + r.choice("67") + digits(r, 6), (2, 2, 2, 2)),
    "Chad": ("235", lambda r: r.choice("69") + digits(r, 7), (2, 2, 2, 2)),
    "Mali": ("223", lambda r: r.choice("67") + digits(r, 7), (2, 2, 2, 2)),
    "Burkina Faso": ("226", lambda r: r.choice("567") + digits(r, 7), (2, 2, 2, 2)),
    "Benin": ("229", lambda r: "01" + r.choice("456789") + digits(r, 7), (2, 2, 2, 2, 2)),
    "Togo": ("228", lambda r: r.choice("79") + digits(r, 7), (2, 2, 2, 2)),
    "Liberia": ("231", lambda r: r.choice(["77", "88"]) + digits(r, 7), (2, 3, 4)),
    "Sierra Leone": ("232", lambda r: r.choice(["76", "77", "78", "79", "30", "33"]) + digits(r, 6), (2, 6)),
    "Gambia": ("220", lambda r: r.choice("379") + digits(r, 6), (3, 4)),
    "Mauritania": ("222", lambda r: r.choice("234") + digits(r, 7), (2, 2, 2, 2)),
    "Cabo Verde": ("238", lambda r: r.choice("59") + digits(r, 6), (3, 2, 2)),
    "Seychelles": ("248", lambda r: "2" + r.choice("5678") + digits(r, 5), (1, 3, 3)),
    "Samoa": ("685", lambda r: "7" + r.choice("2345678") + digits(r, 5), (2, 5)),
    "Tonga": ("676", lambda r: r.choice("78") + digits(r, 6), (3, 4)),
    "Vanuatu": ("678", lambda r: r.choice("57") + digits(r, 6), (3, 4)),
    "Solomon Islands": ("677", lambda r: r.choice("78") + digits(r, 6), (3, 4)),
    "Timor-Leste": ("670", lambda r: "7" + r.choice("2345678") + digits(r, 6), (4, 4)),
    "Suriname": ("597", lambda r: r.choice("78") + digits(r, 6), (3, 4)),
    "Guyana": ("592", lambda r: "6" + digits(r, 6), (3, 4)),
    "Belize": ("501", lambda r: "6" + digits(r, 6), (3, 4)),
    "Nicaragua": ("505", lambda r: "8" + digits(r, 7), (4, 4)),
    "Haiti": ("509", lambda r: r.choice("34") + digits(r, 7), (2, 2, 4)),
    "Kosovo": ("383", lambda r: "4" + r.choice("3456789") + digits(r, 6), (2, 3, 3)),
}


def group(n, sizes):
    out, i = [], 0
    for s in sizes:
        out.append(n[i : i + s])
        i += s
    if i < len(n):
        out[-1] += n[i:]
    return out


def phone_intl(rng):
    country = rng.choice(sorted(E164))
    cc, nsn_f, sizes = E164[country]
    nsn = nsn_f(rng)
    sizes = sizes or (1, 3, 3) if len(nsn) == 7 else sizes or (2, 3, 3)
    style = rng.choice(["compact", "spaced", "dashed", "dotted", "cc-spaced"])
    if style == "compact":
        return "+" + cc + nsn, country + "/compact"
    if style == "cc-spaced":
        return "+" + cc + " " + nsn, country + "/cc-spaced"
    sep = {"spaced": " ", "dashed": "-", "dotted": "."}[style]
    return "+" + cc + sep + sep.join(group(nsn, sizes)), country + "/" + style


# National spellings (trunk prefix 0 where the plan has one, else the bare 8-digit number)
# in the groups the national plans print.
NATIONAL = {
    "Azerbaijan": lambda r: "0%s %s %s %s" % (r.choice(["50", "51", "55", "70", "77"]), digits(r, 3), digits(r, 2), digits(r, 2)),
    "Afghanistan": lambda r: "07%s %s %s" % (r.choice("0123456789"), digits(r, 3), digits(r, 4)),
    "Iraq": lambda r: "07%s%s %s %s" % (r.choice("5789"), digits(r, 1), digits(r, 3), digits(r, 4)),
    "Lebanon": lambda r: "03 %s %s" % (digits(r, 3), digits(r, 3)),
    "Sudan": lambda r: "09%s %s %s" % (r.choice("0129"), digits(r, 3), digits(r, 4)),
    "Kosovo": lambda r: "04%s %s %s" % (r.choice("345689"), digits(r, 3), digits(r, 3)),
    "Yemen": lambda r: "07%s%s %s %s" % (r.choice("0137"), digits(r, 1), digits(r, 3), digits(r, 3)),
    "Kuwait": lambda r: "%s%s %s" % (r.choice("569"), digits(r, 3), digits(r, 4)),
    "Bahrain": lambda r: "3%s%s %s" % (r.choice("3456789"), digits(r, 2), digits(r, 4)),
    "Mali": lambda r: "%s%s %s %s %s" % (r.choice("67"), digits(r, 1), digits(r, 2), digits(r, 2), digits(r, 2)),
    "Burkina Faso": lambda r: "%s%s %s %s %s" % (r.choice("67"), digits(r, 1), digits(r, 2), digits(r, 2), digits(r, 2)),
    "Togo": lambda r: "9%s %s %s %s" % (digits(r, 1), digits(r, 2), digits(r, 2), digits(r, 2)),
    "Nicaragua": lambda r: "8%s-%s" % (digits(r, 3), digits(r, 4)),
    "Haiti": lambda r: "3%s-%s" % (digits(r, 3), digits(r, 4)),
}


def phone_national(rng):
    country = rng.choice(sorted(NATIONAL))
    return NATIONAL[country](rng), country


# NANP (ATIS INC numbering guidelines): NXX area code and NXX exchange (N = 2-9), exchange not
# N11. Area codes in service in the US and Canada, chosen from states and provinces.
NANP_AREAS = ["208", "307", "406", "505", "605", "701", "802", "207", "304", "401", "479",
              "573", "641", "712", "785", "867", "782", "506", "709", "639", "431", "367"]


def us_phone(rng):
    a = rng.choice(NANP_AREAS)
    while True:
        ex = str(rng.randint(2, 9)) + digits(rng, 2)
        if ex[1:] != "11":
            break
    line = digits(rng, 4)
    style = rng.choice(["paren", "dashed", "dotted", "one-dashed", "plus-one"])
    return {
        "paren": "(%s) %s-%s" % (a, ex, line),
        "dashed": "%s-%s-%s" % (a, ex, line),
        "dotted": "%s.%s.%s" % (a, ex, line),
        "one-dashed": "1-%s-%s-%s" % (a, ex, line),
        "plus-one": "+1 %s-%s-%s" % (a, ex, line),
    }[style], style


# Korean numbering plan (Ministry of Science and ICT, 전기통신번호관리세칙): mobiles 010 and
# 8 digits; landlines by area code; 050x safe numbers.
def kr_mobile(rng):
    a, b = digits(rng, 4), digits(rng, 4)
    a = str(rng.randint(2, 9)) + a[1:]
    style = rng.choice(["dashed", "plain", "plus-dashed", "plus-spaced", "spaced", "dotted", "plus-trunk", "intl-00"])
    return {
        "dashed": "010-%s-%s" % (a, b),
        "plain": "010%s%s" % (a, b),
        "plus-dashed": "+82-10-%s-%s" % (a, b),
        "plus-spaced": "+82 10 %s %s" % (a, b),
        "spaced": "010 %s %s" % (a, b),
        "dotted": "010.%s.%s" % (a, b),
        "plus-trunk": "+82 (0)10-%s-%s" % (a, b),
        "intl-00": "0082-10-%s-%s" % (a, b),
    }[style], style


KR_AREAS = ["02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054", "055", "061", "062", "063", "064", "070"]


def kr_landline(rng):
    area = rng.choice(KR_AREAS)
    mid = str(rng.randint(2, 9)) + digits(rng, rng.choice([2, 3]))
    last = digits(rng, 4)
    style = rng.choice(["dashed", "paren", "spaced", "plus"])
    if style == "dashed":
        return "%s-%s-%s" % (area, mid, last), area + "/dashed"
    if style == "paren":
        return "(%s) %s-%s" % (area, mid, last), area + "/paren"
    if style == "spaced":
        return "%s %s %s" % (area, mid, last), area + "/spaced"
    return "+82-%s-%s-%s" % (area[1:], mid, last), area + "/plus"


def kr_safe_number(rng):
    p = "050" + str(rng.randint(2, 8))
    if rng.random() < 0.5:
        return "%s-%s-%s" % (p, digits(rng, 4), digits(rng, 4)), "12"
    return "%s-%s-%s" % (p, digits(rng, 3), digits(rng, 4)), "11"


# Korean business representative numbers (15xx, 16xx, 18xx and four digits): kept.
def kr_rep_number(rng):
    return "%s-%s" % (rng.choice(["1522", "1544", "1566", "1600", "1661", "1688", "1800", "1833"]), digits(rng, 4))


# ---------------------------------------------------------------- Korean identifiers

def real_date(y, m, d):
    import datetime

    try:
        datetime.date(y, m, d)
        return True
    except ValueError:
        return False


def birth(rng, lo=1950, hi=2015):
    while True:
        y, m, d = rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 31)
        if real_date(y, m, d):
            return y, m, d


# 주민등록법 시행규칙 별지 서식 layout: YYMMDD, sex/century digit (1/2 1900s, 3/4 2000s; 5-8 for
# foreigners), and the check digit of weights 2,3,4,5,6,7,8,9,2,3,4,5 (11 - sum mod 11) mod 10
# (residents) or (13 - sum mod 11) mod 10 (foreigners).
def registration(rng, foreigner):
    y, m, d = birth(rng)
    base = (5 if foreigner else 1) + (2 if y >= 2000 else 0) + rng.randint(0, 1)
    body = "%02d%02d%02d%d%s" % (y % 100, m, d, base, digits(rng, 5))
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    s = sum(int(body[i]) * w[i] for i in range(12))
    check = ((13 if foreigner else 11) - s % 11) % 10
    n = body + str(check)
    style = rng.choice(["dashed", "dashed", "spaced"])
    return (n[:6] + "-" + n[6:] if style == "dashed" else n[:6] + " " + n[6:]), style


# 사업자등록번호: 3-2-5 digits, weights 1,3,7,1,3,7,1,3,5 plus the tens of 5 x the ninth digit.
def kr_brn(rng):
    while True:
        body = digits(rng, 9)
        if body[0] == "0":
            continue
        w = [1, 3, 7, 1, 3, 7, 1, 3, 5]
        s = sum(int(body[i]) * w[i] for i in range(9)) + int(body[8]) * 5 // 10
        n = body + str((10 - s % 10) % 10)
        return "%s-%s-%s" % (n[:3], n[3:5], n[5:])


# Passbook layouts of banks the other sets do not name (their published account formats).
KR_BANKS = [
    ("제주은행", (2, 2, 6)),
    ("KDB산업은행", (3, 6, 2, 3)),
    ("산림조합", (3, 4, 4, 2)),
    ("저축은행", (4, 2, 7)),
    ("한국씨티은행", (3, 6, 3)),
    ("토스뱅크", (4, 4, 4)),
]


def kr_bank_account(rng):
    bank, sizes = rng.choice(KR_BANKS)
    n = str(rng.randint(1, 9)) + digits(rng, sum(sizes) - 1)
    return "-".join(group(n, sizes)), bank


# 도로교통법 시행규칙 driver licence number: region code 11-28, year, serial, check.
def kr_driver_license(rng):
    return "%d-%s-%s-%s" % (rng.randint(11, 28), digits(rng, 2), digits(rng, 6), digits(rng, 2))


# Korean passport numbers: a type letter (M, S, R, O, G, D) and 8 digits.
def kr_passport(rng):
    return rng.choice("MSRGOD") + digits(rng, 8)


# SSA: area 001-899 except 666, group 01-99, serial 0001-9999.
def us_ssn(rng):
    while True:
        a = rng.randint(1, 899)
        if a != 666:
            break
    return "%03d-%02d-%04d" % (a, rng.randint(1, 99), rng.randint(1, 9999))


# ---------------------------------------------------------------- dates

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def dob(rng):
    y, m, d = birth(rng, 1931, 2008)
    style = rng.choice(["iso", "slash", "us", "dotted-eu", "compact", "long", "day-mon", "korean", "iso-time", "dotted"])
    return {
        "iso": "%04d-%02d-%02d" % (y, m, d),
        "slash": "%04d/%02d/%02d" % (y, m, d),
        "us": "%02d/%02d/%04d" % (m, d, y),
        "dotted-eu": "%02d.%02d.%04d" % (d, m, y),
        "compact": "%04d%02d%02d" % (y, m, d),
        "long": "%s %d, %04d" % (MONTHS[m - 1], d, y),
        "day-mon": "%d %s %04d" % (d, MONTHS[m - 1][:3], y),
        "korean": "%d년 %d월 %d일" % (y, m, d),
        "iso-time": "%04d-%02d-%02dT00:00:00Z" % (y, m, d),
        "dotted": "%04d.%02d.%02d" % (y, m, d),
    }[style], style


def non_birth_date(rng):
    y, m, d = birth(rng, 2019, 2027)
    return "%04d-%02d-%02d" % (y, m, d)


# ---------------------------------------------------------------- IBAN

# SWIFT IBAN Registry BBAN structures (n digits, a capitals, c alphanumerics) of countries no
# other set's README names.
IBAN_LAYOUTS = {
    "FK": [("a", 2), ("n", 12)],
    "YE": [("a", 4), ("n", 4), ("c", 18)],
    "BI": [("n", 5), ("n", 5), ("n", 11), ("n", 2)],
    "IQ": [("a", 4), ("n", 3), ("n", 12)],
    "VA": [("n", 3), ("n", 15)],
    "SC": [("a", 4), ("n", 2), ("n", 2), ("n", 16), ("a", 3)],
    "LC": [("a", 4), ("c", 24)],
    "ST": [("n", 4), ("n", 4), ("n", 11), ("n", 2)],
    "TL": [("n", 3), ("n", 14), ("n", 2)],
    "LY": [("n", 3), ("n", 3), ("n", 15)],
    "SD": [("n", 2), ("n", 12)],
    "SO": [("n", 4), ("n", 3), ("n", 12)],
    "DJ": [("n", 5), ("n", 5), ("n", 11), ("n", 2)],
    "RU": [("n", 9), ("n", 5), ("c", 15)],
}


def bban(rng, layout):
    out = ""
    for kind, n in layout:
        alpha = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[kind]
        out += rs(rng, alpha, n)
    return out


def iban(rng):
    cc = rng.choice(sorted(IBAN_LAYOUTS))
    b = bban(rng, IBAN_LAYOUTS[cc])
    v = cc + iban_check(cc, b) + b
    assert iban_valid(v)
    style = rng.choice(["compact", "grouped", "compact", "grouped"])
    if style == "grouped":
        v = " ".join(v[i : i + 4] for i in range(0, len(v), 4))
    return v, cc + "/" + style


# An SKU laid out like a registered IBAN but with check digits that fail MOD 97-10 (kept).
def iban_like_sku(rng):
    cc = rng.choice(sorted(IBAN_LAYOUTS))
    b = bban(rng, IBAN_LAYOUTS[cc])
    good = iban_check(cc, b)
    while True:
        ck = "%02d" % rng.randint(2, 98)
        if ck != good:
            v = cc + ck + b
            assert not iban_valid(v)
            return v


# ---------------------------------------------------------------- e-mail

# RFC 5322 dot-atom local parts under ccTLDs of the phone countries above.
EMAIL_DOMAINS = ["post.gl", "olivant.fo", "andorra-telecom.ad", "treuhand.li", "yachtclub.mc",
                 "titano.sm", "bakuhost.az", "ahal.tm", "kabulnet.af", "tigris.iq", "cedre.lb",
                 "pearl.bh", "gulfmail.kw", "sanaa.ye", "nilemail.sd", "djib.dj", "hargeisa.so",
                 "umurage.bi", "maloti.ls", "lubombo.sz", "libreville.ga", "ndjamena.td",
                 "bamako.ml", "ouaga.bf", "cotonou.bj", "lome.tg", "monrovia.lr", "freetown.sl",
                 "banjul.gm", "nouakchott.mr", "praia.cv", "mahe.sc", "apia.ws", "nukualofa.to",
                 "vila.vu", "honiara.sb", "dili.tl", "paramaribo.sr", "georgetown.gy",
                 "belmopan.bz", "managua.ni", "jacmel.ht", "prishtina.xk"]
FIRST = ["aputsiaq", "bardur", "meritxell", "fabienne", "leyla", "merdan", "farid", "zainab",
         "rami", "hessa", "fatima", "abdi", "ndayisaba", "palesa", "sipho", "oumar", "kofi",
         "akosua", "tevita", "losana", "ana", "xanana", "sadia", "ricardo", "marie-claude",
         "arben", "dardan", "nawal", "ousmane", "mariama"]
LAST = ["kleist", "joensen", "casals", "rossi", "aliyeva", "ovezov", "rahimi", "hassan",
        "khoury", "alkhalifa", "alsabah", "saleh", "mohamed", "nkurunziza", "mokoena",
        "dlamini", "traore", "ouedraogo", "mensah", "fifita", "tuilagi", "soares", "martinez",
        "pierre", "krasniqi", "berisha", "diallo", "sow", "kane", "baptiste"]


def email(rng):
    f, l, dom = rng.choice(FIRST), rng.choice(LAST), rng.choice(EMAIL_DOMAINS)
    style = rng.choice(["dot", "tag", "caps", "digits", "underscore", "quoted", "sub"])
    if style == "dot":
        return "%s.%s@%s" % (f, l, dom), style
    if style == "tag":
        return "%s+%s@%s" % (f, rng.choice(["orders", "2fa", "billing", "news"]), dom), style
    if style == "caps":
        return "%s.%s@%s" % (f.capitalize(), l.upper(), dom.upper()), style
    if style == "digits":
        return "%s%s%d@%s" % (f[0], l, rng.randint(1, 99), dom), style
    if style == "underscore":
        return "%s_%s@%s" % (l, f, dom), style
    if style == "quoted":
        return '"%s %s"@%s' % (f, l, dom), style
    return "%s@%s.%s" % (f, rng.choice(["mail", "staff", "mx1"]), dom), style


# RFC 6531/6532 internationalised addresses: local parts (and some domain labels, RFC 5890
# U-labels) in scripts no other set names.
EAI = [
    ("Tibetan", ["བཀྲ་ཤིས", "ཚེ་རིང", "རྡོ་རྗེ"], ["gov.bt", "druknet.bt"]),
    ("Thaana", ["އަހުމަދު", "ޢާއިޝާ", "މުޙައްމަދު"], ["dhiraagu.mv", "raajje.mv"]),
    ("Syriac", ["ܐܦܪܝܡ", "ܫܠܡܐ", "ܡܪܝܡ"], ["nohra.iq", "suryoyo.se"]),
    ("Tifinagh", ["ⵜⴰⵎⴰⵣⵉⵖⵜ", "ⵎⴰⵙⵉⵏⵉⵙⴰ", "ⵢⵓⴱⴰ"], ["ircam.ma", "ⴰⵎⴰⵣⵉⵖ.ma"]),
    ("Cherokee", ["ᏣᎳᎩ", "ᎠᏂᏴᏫᏯ", "ᏌᏊ"], ["cherokee.us", "ᏣᎳᎩ.us"]),
    ("NKo", ["ߒߞߏ", "ߛߎ߲ߘߌߦߊߕߊ", "ߡߊ߬ߡߊߘߎ"], ["kanjamadi.gn", "ߒߞߏ.gn"]),
    ("Adlam", ["𞤀𞤣𞤤𞤢𞤥", "𞤃𞤢𞤪𞤭𞤴𞤢𞤥", "𞤊𞤵𞤤𞤦𞤫"], ["winden.sn", "pulaar.gn"]),
    ("Ol Chiki", ["ᱥᱟᱱᱛᱟᱲᱤ", "ᱵᱤᱨᱥᱟ", "ᱢᱟᱨᱟᱝ"], ["santali.in", "jharkhand.in"]),
    ("Canadian syllabics", ["ᐃᓄᒃᑎᑐᑦ", "ᓯᐊᓚ", "ᐊᓯᓐᓇ"], ["nunavut.ca", "ᐃᓄᒃᑎᑐᑦ.ca"]),
    ("Mongolian script", ["ᠪᠠᠲᠤ", "ᠰᠠᠷᠠᠨ", "ᠲᠡᠮᠦᠵᠢᠨ"], ["ordos.cn", "hohhot.cn"]),
]


def email_eai(rng):
    script, locals_, doms = rng.choice(EAI)
    return "%s@%s" % (rng.choice(locals_), rng.choice(doms)), script


# ---------------------------------------------------------------- network

# IPv4 unicast outside the RFC 6890 special-purpose blocks.
def ipv4(rng):
    while True:
        a = rng.randint(1, 223)
        b, c, d = rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)
        if a in (10, 127, 0) or (a == 100 and 64 <= b < 128) or (a == 169 and b == 254):
            continue
        if (a == 172 and 16 <= b < 32) or (a == 192 and b in (0, 88, 168)) or (a == 198 and b in (18, 19, 51)) or (a == 203 and b == 0):
            continue
        return "%d.%d.%d.%d" % (a, b, c, d)


# IPv6 global unicast 2000::/3 outside 2001:db8::/32 (RFC 4291, RFC 5952 text forms).
def ipv6(rng):
    first = rng.choice(["2a02", "2a0d", "2c0f", "2405", "2607", "2803", "2a10", "2001"])
    groups = [first] + ["%x" % rng.randint(0, 0xFFFF) for _ in range(7)]
    if first == "2001":
        groups[1] = "%x" % rng.choice([0x470, 0x67C, 0x4860, 0x1AF8])
    style = rng.choice(["full", "compressed", "upper", "bracket-port"])
    if style == "full":
        return ":".join(groups), style
    comp = groups[:3] + [""] + groups[6:]
    v = ":".join(comp)
    if style == "upper":
        return v.upper(), style
    if style == "bracket-port":
        return "[%s]:%d" % (v, rng.choice([443, 8443, 50051])), style
    return v, style


# ---------------------------------------------------------------- secrets

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# RFC 7519 JWT, JWS compact serialisation (RFC 7515); signature sizes per RFC 7518
# (HS384 48 bytes, ES384 96, PS512/RS512 with a 2048-bit key 256, ES256K 64 per RFC 8812).
def jwt(rng):
    alg, size = rng.choice([("HS384", 48), ("ES384", 96), ("PS512", 256), ("RS512", 256), ("ES256K", 64)])
    head = b64url(json.dumps({"alg": alg, "typ": "JWT", "kid": rs(rng, B62, 10)}, separators=(",", ":")).encode())
    iat = rng.randint(1764000000, 1796000000)
    body = b64url(json.dumps({"sub": rs(rng, B62, 12), "iss": "https://id.%s" % rng.choice(EMAIL_DOMAINS),
                              "iat": iat, "exp": iat + 3600, "scope": "orders:read"}, separators=(",", ":")).encode())
    sig = b64url(bytes(rng.randint(0, 255) for _ in range(size)))
    return "%s.%s.%s" % (head, body, sig), alg


# RFC 6750 bearer tokens (b64token) and RFC 7617 Basic credentials.
def auth_header(rng):
    if rng.random() < 0.5:
        return "Bearer " + with_digit(rng, B64URL, rng.choice([32, 40, 48])), "bearer"
    user = rng.choice(FIRST)
    cred = base64.b64encode(("%s:%s" % (user, with_digit(rng, B62, 14))).encode()).decode()
    return "Basic " + cred, "basic"


# AWS access key ids: AKIA (long-term) / ASIA (temporary) and 16 base32 capitals and digits;
# secret access keys: 40 characters of base64.
def aws_key(rng):
    return rng.choice(["AKIA", "ASIA"]) + rs(rng, string.ascii_uppercase + "234567", 16)


def aws_secret(rng):
    return with_digit(rng, B62 + "/+", 40)


def base62_crc(data):
    n = binascii.crc32(data.encode()) & 0xFFFFFFFF
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = (string.digits + string.ascii_uppercase + string.ascii_lowercase)[r] + out
    return out.rjust(6, "0")


# GitHub token formats (github.blog 2021-04-05 "Behind GitHub's new authentication token
# formats"): prefix, 30 base62 and a 6-character base62 CRC32; fine-grained `github_pat_`.
def github_token(rng):
    p = rng.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"])
    if p == "github_pat_":
        return p + with_digit(rng, B62, 22) + "_" + with_digit(rng, B62, 59), p
    body = with_digit(rng, B62, 30)
    return p + body + base62_crc(body), p


# Slack token types (api.slack.com/authentication/token-types): bot, user, app-level,
# configuration refresh, web client.
def slack_token(rng):
    k = rng.choice(["xoxb", "xoxp", "xoxe", "xoxc", "xoxe.xoxp"])
    if k == "xoxb":
        return "xoxb-%s-%s-%s" % (digits(rng, 12), digits(rng, 13), with_digit(rng, B62, 24)), k
    if k == "xoxp":
        return "xoxp-%s-%s-%s-%s" % (digits(rng, 12), digits(rng, 12), digits(rng, 13), rs(rng, HEX, 32)), k
    if k == "xoxe":
        return "xoxe-1-%s" % with_digit(rng, B62, 140), k
    if k == "xoxc":
        return "xoxc-%s-%s-%s-%s" % (digits(rng, 12), digits(rng, 13), digits(rng, 13), rs(rng, HEX, 64)), k
    return "xoxe.xoxp-1-%s" % with_digit(rng, B62, 150), k


# Google API keys: `AIza` and 35 characters of [A-Za-z0-9_-].
def google_api_key(rng):
    return "AIza" + with_digit(rng, B64URL, 35)


# Vendor key formats the policy names, from each vendor's documentation.
def api_key(rng):
    v = rng.choice(["stripe", "stripe-rk", "sendgrid", "twilio-sk", "npm", "gitlab", "grafana", "shopify",
                    "digitalocean", "huggingface", "square", "linear", "postman", "newrelic", "slack-app", "pypi",
                    "openai", "anthropic", "mailgun"])
    if v == "stripe":
        return "sk_live_" + with_digit(rng, B62, 99), v
    if v == "stripe-rk":
        return "rk_live_" + with_digit(rng, B62, 99), v
    if v == "sendgrid":
        return "SG.%s.%s" % (with_digit(rng, B64URL, 22), with_digit(rng, B64URL, 43)), v
    if v == "twilio-sk":
        return "SK" + rs(rng, HEX, 32), v
    if v == "npm":
        return "npm_" + with_digit(rng, B62, 36), v
    if v == "gitlab":
        return "glpat-" + with_digit(rng, B64URL, 20), v
    if v == "grafana":
        return "glsa_%s_%s" % (with_digit(rng, B62, 32), rs(rng, HEX, 8)), v
    if v == "shopify":
        return rng.choice(["shpat_", "shpca_", "shppa_"]) + rs(rng, HEX, 32), v
    if v == "digitalocean":
        return "dop_v1_" + rs(rng, HEX, 64), v
    if v == "huggingface":
        return "hf_" + with_digit(rng, B62, 34), v
    if v == "square":
        return "sq0atp-" + with_digit(rng, B64URL, 22), v
    if v == "linear":
        return "lin_api_" + with_digit(rng, B62, 40), v
    if v == "postman":
        return "PMAK-%s-%s" % (rs(rng, HEX, 24), rs(rng, HEX, 34)), v
    if v == "newrelic":
        return "NRAK-" + rs(rng, string.ascii_uppercase + string.digits, 27), v
    if v == "slack-app":
        return "xapp-1-A%s-%s-%s" % (rs(rng, string.ascii_uppercase + string.digits, 10), digits(rng, 13), rs(rng, HEX, 64)), v
    if v == "pypi":
        return "pypi-AgEIcHlwaS5vcmc" + with_digit(rng, B64URL, 70), v
    if v == "openai":
        return "sk-proj-" + with_digit(rng, B64URL, 120), v
    if v == "anthropic":
        return "sk-ant-api03-" + with_digit(rng, B64URL, 93) + "AA", v
    return "key-" + rs(rng, HEX, 32), v


# Tokens of vendors without a pattern in the policy, by their documented prefixes (GitHub's
# secret scanning partner list and the vendors' docs): only under credential keys.
def vendor_token(rng):
    v = rng.choice(["supabase", "planetscale", "rubygems", "dynatrace", "adafruit", "prefect", "clojars",
                    "dockerhub", "terraform", "replicate", "groq", "perplexity", "buildkite", "sentry"])
    return {
        "supabase": lambda: "sbp_" + rs(rng, HEX, 40),
        "planetscale": lambda: "pscale_tkn_" + with_digit(rng, B64URL, 43),
        "rubygems": lambda: "rubygems_" + rs(rng, HEX, 48),
        "dynatrace": lambda: "dt0c01.%s.%s" % (rs(rng, string.ascii_uppercase + "234567", 24), rs(rng, string.ascii_uppercase + "234567", 64)),
        "adafruit": lambda: "aio_" + with_digit(rng, B62, 28),
        "prefect": lambda: "pnu_" + with_digit(rng, B62, 36),
        "clojars": lambda: "CLOJARS_" + rs(rng, HEX, 60),
        "dockerhub": lambda: "dckr_pat_" + with_digit(rng, B64URL, 27),
        "terraform": lambda: "%s.atlasv1.%s" % (with_digit(rng, B62, 14), with_digit(rng, B62, 67)),
        "replicate": lambda: "r8_" + with_digit(rng, B62, 37),
        "groq": lambda: "gsk_" + with_digit(rng, B62, 52),
        "perplexity": lambda: "pplx-" + with_digit(rng, B62, 48),
        "buildkite": lambda: "bkua_" + rs(rng, HEX, 40),
        "sentry": lambda: "sntryu_" + rs(rng, HEX, 64),
    }[v](), v


def keyed_hex(rng):
    n = rng.choice([32, 40, 64])
    return rs(rng, HEX, n), str(n)


def base62_secret(rng):
    return with_digit(rng, B62, rng.choice([32, 40, 48])), "b62"


# OAuth 2.0 client secrets as the major identity providers issue them: Google `GOCSPX-` and 28,
# Microsoft Entra (3 characters, `8Q~`, 34), Okta-style 40 base64url, Auth0-style 64.
def client_secret(rng):
    v = rng.choice(["google", "entra", "okta", "auth0"])
    if v == "google":
        return "GOCSPX-" + with_digit(rng, B64URL, 28), v
    if v == "entra":
        return rs(rng, B62, 3) + "8Q~" + with_digit(rng, B62 + "~._-", 34) + "a1", v
    if v == "okta":
        return with_digit(rng, B64URL, 40), v
    return with_digit(rng, B64URL, 64), v


# Incoming webhook URLs as each service documents them.
def webhook_url(rng):
    v = rng.choice(["slack", "discord", "teams", "gchat", "zapier", "telegram", "ifttt", "pagerduty", "mattermost"])
    if v == "slack":
        return "https://hooks.slack.com/services/T%s/B%s/%s" % (rs(rng, string.ascii_uppercase + string.digits, 10), rs(rng, string.ascii_uppercase + string.digits, 10), with_digit(rng, B62, 24)), v
    if v == "discord":
        return "https://discord.com/api/webhooks/%s/%s" % (digits(rng, 19), with_digit(rng, B64URL, 68)), v
    if v == "teams":
        u = lambda: "%s-%s-%s-%s-%s" % (rs(rng, HEX, 8), rs(rng, HEX, 4), rs(rng, HEX, 4), rs(rng, HEX, 4), rs(rng, HEX, 12))
        return "https://%s.webhook.office.com/webhookb2/%s@%s/IncomingWebhook/%s/%s" % (rng.choice(["contoso", "fabrikam", "northwind"]), u(), u(), rs(rng, HEX, 32), u()), v
    if v == "gchat":
        return "https://chat.googleapis.com/v1/spaces/AAAA%s/messages?key=AIza%s&token=%s" % (with_digit(rng, B62, 7), with_digit(rng, B64URL, 35), with_digit(rng, B64URL, 43)), v
    if v == "zapier":
        return "https://hooks.zapier.com/hooks/catch/%s/%s/" % (digits(rng, 7), rs(rng, string.ascii_lowercase + string.digits, 6)), v
    if v == "telegram":
        return "https://api.telegram.org/bot%s:%s/sendMessage" % (digits(rng, 10), with_digit(rng, B64URL, 35)), v
    if v == "ifttt":
        return "https://maker.ifttt.com/trigger/%s/with/key/%s" % (rng.choice(["door_open", "low_stock"]), with_digit(rng, B64URL, 22)), v
    if v == "pagerduty":
        return "https://events.pagerduty.com/integration/%s/enqueue" % rs(rng, HEX, 32), v
    return "https://chat.%s/hooks/%s" % (rng.choice(["pearl.bh", "tigris.iq"]), rs(rng, "abcdefghijkmnopqrstuwxyz13456789", 26)), v


# RFC 7468 textual encodings of private keys (PKCS#1, SEC 1, PKCS#8, encrypted PKCS#8) and the
# OpenSSH key format, 64-character lines.
def private_key(rng):
    label = rng.choice(["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY"])
    body = base64.b64encode(bytes(rng.randint(0, 255) for _ in range(rng.choice([121, 240, 390])))).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----" % (label, "\n".join(lines), label), label


def password(rng):
    style = rng.choice(["symbols", "pin", "passphrase", "mixed"])
    if style == "pin":
        return digits(rng, rng.choice([6, 8])), style
    if style == "passphrase":
        words = ["maloti", "baobab", "lagoon", "harmattan", "tamarind", "kora", "sahel", "atoll", "monsoon", "reef"]
        return "-".join(rng.sample(words, 4)), style
    if style == "symbols":
        return rs(rng, string.ascii_letters, 5) + rng.choice("!#%*$^") + digits(rng, 3) + rng.choice("?!~"), style
    return with_digit(rng, B62, 14), style


def url_userinfo_password(rng):
    return with_digit(rng, B62, rng.choice([12, 16, 20]))


URL_SCHEMES = ["amqps", "mongodb+srv", "mysql", "sftp", "ldaps", "smtps", "nats", "clickhouse", "ftp", "memcached"]


def cookie_value(rng, name):
    if name == "connect.sid":
        return "s:%s.%s" % (with_digit(rng, B64URL, 32), with_digit(rng, B62, 43))
    if name in ("laravel_session", "XSRF-TOKEN"):
        return base64.b64encode(json.dumps({"iv": with_digit(rng, B62, 24), "value": with_digit(rng, B62, 40)}).encode()).decode().rstrip("=")
    return with_digit(rng, B62, 32)


SESSION_COOKIES = ["laravel_session", "_gitlab_session", "JSESSIONID", "PHPSESSID", "connect.sid", "_storefront_session", "SESSd41d8cd98f00b204"]


# ---------------------------------------------------------------- hard negatives

def uuid4(rng):
    h = rs(rng, HEX, 32)
    h = h[:12] + "4" + h[13:16] + rng.choice("89ab") + h[17:]
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])


def trace_id(rng):
    return rs(rng, HEX, 32)


def span_id(rng):
    return rs(rng, HEX, 16)


def sha256(rng):
    return rs(rng, HEX, 64)


def git_sha(rng):
    return rs(rng, HEX, 40)


def md5(rng):
    return rs(rng, HEX, 32)


# SemVer 2.0.0 with pre-release and build metadata.
def semver(rng):
    v = "%d.%d.%d" % (rng.randint(0, 9), rng.randint(0, 40), rng.randint(0, 30))
    if rng.random() < 0.4:
        v += "-%s.%d" % (rng.choice(["alpha", "beta", "rc"]), rng.randint(1, 9))
    if rng.random() < 0.3:
        v += "+%s" % rs(rng, HEX, 7)
    return v


def build_version(rng):
    return "%d.%d.%d.%d" % (rng.randint(1, 30), rng.randint(0, 20), rng.randint(0, 99), rng.randint(100, 9999))


UA_PRODUCTS = [("Firefox", lambda r: "%d.0" % r.randint(115, 134)),
               ("SamsungBrowser", lambda r: "%d.0" % r.randint(20, 27)),
               ("Vivaldi", lambda r: "%d.%d.%d.%d" % (r.randint(6, 7), r.randint(0, 9), r.randint(2000, 3500), r.randint(10, 99))),
               ("Brave", lambda r: "%d.%d.%d" % (1, r.randint(60, 75), r.randint(100, 190))),
               ("DuckDuckGo", lambda r: "%d" % r.randint(5, 7))]


def ua_version(rng):
    name, ver = rng.choice(UA_PRODUCTS)
    return "%s/%s" % (name, ver(rng))


def rfc3339(rng):
    return "2026-%02d-%02dT%02d:%02d:%02d.%03dZ" % (rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999))


def epoch_ms(rng):
    return str(rng.randint(1764000000000, 1796000000000))


def epoch_s(rng):
    return str(rng.randint(1764000000, 1796000000))


def ean13(rng):
    return gs1_complete(rng.choice(["40", "50", "76", "87", "94", "54", "64"]) + digits(rng, 10))


def upc_a(rng):
    return gs1_complete(rng.choice("0136789") + digits(rng, 10))


def isbn13(rng):
    return gs1_complete(rng.choice(["978", "979"]) + digits(rng, 9))


def duration(rng):
    return rng.choice([
        "%.6fs" % rng.uniform(0.001, 9),
        "PT%dM%dS" % (rng.randint(0, 59), rng.randint(0, 59)),
        "%dm%d.%03ds" % (rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999)),
        "%dms" % rng.randint(1, 90000),
    ])


# Google Analytics 4 measurement ids and Tag Manager containers.
def ga_id(rng):
    return rng.choice(["G-" + rs(rng, string.ascii_uppercase + string.digits, 10), "GTM-" + rs(rng, string.ascii_uppercase + string.digits, 7)])


# ULID (github.com/ulid/spec): 48-bit time and 80 random bits in Crockford base32.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(rng):
    return "01J" + rs(rng, CROCKFORD, 23)


# MongoDB ObjectId: 12 bytes as 24 hex digits.
def object_id(rng):
    return "6%s" % rs(rng, HEX, 23)


# AWS X-Ray trace id: version 1, 8 hex digits of epoch seconds, 24 hex digits.
def xray_trace_id(rng):
    return "1-%08x-%s" % (rng.randint(1764000000, 1796000000), rs(rng, HEX, 24))


# Cloudflare Ray ID: 16 hex digits and the data centre's IATA code.
def cf_ray(rng):
    return "%s-%s" % (rs(rng, HEX, 16), rng.choice(["FRA", "CDG", "NRT", "ICN", "JNB", "GRU", "DXB"]))


# An EC2 elastic network interface id: `eni-` and 17 hex digits.
def eni_id(rng):
    return "eni-0" + rs(rng, HEX, 16)


# ABA routing transit numbers: 9 digits, weights 3,7,1 sum to a multiple of 10.
def aba_routing(rng):
    while True:
        body = "%02d" % rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 21, 22, 26, 31]) + digits(rng, 6)
        for c in "0123456789":
            n = body + c
            if sum(int(n[i]) * [3, 7, 1][i % 3] for i in range(9)) % 10 == 0:
                return n


# ISSN (ISO 3297): 7 digits and a mod-11 check (X for 10), written 4-4.
def issn(rng):
    body = digits(rng, 7)
    c = (11 - sum((8 - i) * int(body[i]) for i in range(7)) % 11) % 11
    n = body + ("X" if c == 10 else str(c))
    return n[:4] + "-" + n[4:]
