"""Builders of labelled values for the eighth redaction set, each from its public definition.

Every builder takes a `random.Random` and returns the value as it is written in a document.
The source of each format is named in a comment beside its builder.
"""

import base64
import binascii
import json
import string

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64URL = string.ascii_letters + string.digits + "-_"
HEX = "0123456789abcdef"


def pick(r, seq):
    return seq[r.randrange(len(seq))]


def rand_str(r, alphabet, n):
    return "".join(pick(r, alphabet) for _ in range(n))


def digits(r, n, first=None):
    head = pick(r, first) if first else pick(r, "0123456789")
    return head + rand_str(r, "0123456789", n - 1)


# ---- check digits -------------------------------------------------------------------

def luhn_check(body):
    """ISO/IEC 7812-1 Annex B: the Luhn check digit appended to `body`."""
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
    return luhn_check(n[:-1]) == n[-1]


def gs1_check(body):
    """GS1 General Specifications 7.9.1: weights 3 and 1 from the right, mod 10."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def mod97_check(bban, country):
    """ISO 13616-1 / ISO 7064 MOD 97-10: check digits of an IBAN."""
    moved = bban + country + "00"
    num = "".join(str(int(c, 36)) for c in moved)
    return "%02d" % (98 - int(num) % 97)


def iban_ok(s):
    c = s.replace(" ", "")
    moved = c[4:] + c[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


# ---- cards (ISO/IEC 7812; issuer ranges as the card networks publish them) -----------

CARD_ISSUERS = [
    # (name, prefixes, lengths)
    ("visa", ["4"], [16]),
    ("visa19", ["4"], [19]),
    ("mastercard", ["51", "52", "53", "54", "55"], [16]),
    ("mastercard2", ["2221", "2300", "2500", "2720", "2455"], [16]),
    ("amex", ["34", "37"], [15]),
    ("discover", ["6011", "644", "645", "649", "65"], [16]),
    ("jcb", ["3528", "3530", "3566", "3589"], [16]),
    ("diners", ["36", "300", "305"], [14]),
    ("unionpay", ["62"], [16, 19]),
]


def card(r):
    name, prefixes, lengths = pick(r, CARD_ISSUERS)
    p = pick(r, prefixes)
    n = pick(r, lengths)
    body = p + rand_str(r, "0123456789", n - len(p) - 1)
    return name, body + luhn_check(body)


def group_card(n, sep):
    if len(n) == 15:
        return sep.join([n[:4], n[4:10], n[10:]])
    if len(n) == 14:
        return sep.join([n[:4], n[4:10], n[10:]])
    if len(n) == 19:
        return sep.join([n[:4], n[4:8], n[8:12], n[12:16], n[16:]])
    return sep.join(n[i:i + 4] for i in range(0, len(n), 4))


# ---- phones -------------------------------------------------------------------------

# ITU-T E.164 country codes and each national numbering plan's mobile ranges (the
# regulators' published plans: AGCOM Italy, RTR Austria, BAKOM Switzerland, BIPT Belgium,
# NMHH Hungary, ANCOM Romania, CRC Bulgaria, HAKOM Croatia, RATEL Serbia, RU Slovakia,
# RRT Lithuania, SPRK Latvia, TTJA Estonia, Fjarskiptastofa Iceland, ILR Luxembourg,
# NTA Nepal, TRCSL Sri Lanka, TDRA UAE, CRA Qatar, TRC Jordan, ECA Ethiopia, TCRA Tanzania,
# UCC Uganda, ARCOTEL Ecuador, URSEC Uruguay, SUTEL Costa Rica, ASEP Panama, DBA Denmark).
# (country, code, national mobile prefixes, national significant number length)
MOBILE_PLANS = [
    ("IT", "39", ["320", "328", "333", "340", "347", "349", "366", "388"], 10),
    ("AT", "43", ["650", "660", "664", "676", "680", "699"], 10),
    ("CH", "41", ["75", "76", "77", "78", "79"], 9),
    ("BE", "32", ["460", "470", "471", "472", "475", "477", "486", "495"], 9),
    ("HU", "36", ["20", "30", "31", "70"], 9),
    ("RO", "40", ["72", "73", "74", "75", "76", "78"], 9),
    ("BG", "359", ["87", "88", "89"], 9),
    ("HR", "385", ["91", "92", "95", "97", "98", "99"], 9),
    ("RS", "381", ["60", "61", "62", "63", "64", "65", "66"], 9),
    ("SK", "421", ["901", "902", "903", "905", "908", "910", "915", "940"], 9),
    ("LT", "370", ["6"], 8),
    ("LV", "371", ["2"], 8),
    ("EE", "372", ["5"], 8),
    ("IS", "354", ["6", "7", "8"], 7),
    ("LU", "352", ["621", "661", "671", "691"], 9),
    ("NP", "977", ["980", "981", "984", "985", "986"], 10),
    ("LK", "94", ["70", "71", "72", "75", "76", "77", "78"], 9),
    ("AE", "971", ["50", "52", "54", "55", "56", "58"], 9),
    ("QA", "974", ["3", "5", "6", "7"], 8),
    ("JO", "962", ["77", "78", "79"], 9),
    ("ET", "251", ["91", "92", "93", "94"], 9),
    ("TZ", "255", ["65", "67", "68", "71", "74", "75", "76", "78"], 9),
    ("UG", "256", ["70", "71", "75", "77", "78"], 9),
    ("EC", "593", ["96", "97", "98", "99"], 9),
    ("UY", "598", ["91", "93", "94", "95", "98", "99"], 8),
    ("CR", "506", ["6", "7", "8"], 8),
    ("PA", "507", ["6"], 8),
    ("DK", "45", ["20", "30", "40", "50", "60", "71", "81", "91"], 8),
]

# National (trunk) spellings of mobile numbers, as the plans above print them.
NATIONAL_FORMATS = {
    "IT": lambda n: f"{n[:3]} {n[3:6]} {n[6:]}",
    "AT": lambda n: f"0{n[:3]} {n[3:]}",
    "CH": lambda n: f"0{n[:2]} {n[2:5]} {n[5:7]} {n[7:]}",
    "BE": lambda n: f"0{n[:3]} {n[3:5]} {n[5:7]} {n[7:]}",
    "HU": lambda n: f"06 {n[:2]} {n[2:5]} {n[5:]}",
    "RO": lambda n: f"0{n[:3]} {n[3:6]} {n[6:]}",
    "BG": lambda n: f"0{n[:3]} {n[3:6]} {n[6:]}",
    "HR": lambda n: f"0{n[:2]} {n[2:5]} {n[5:]}",
    "RS": lambda n: f"0{n[:2]} {n[2:5]} {n[5:]}",
    "SK": lambda n: f"0{n[:3]} {n[3:6]} {n[6:]}",
    "DK": lambda n: f"{n[:2]} {n[2:4]} {n[4:6]} {n[6:]}",
    "UY": lambda n: f"0{n[:2]} {n[2:5]} {n[5:]}",
    "EC": lambda n: f"0{n[:2]} {n[2:5]} {n[5:]}",
    "AE": lambda n: f"0{n[:2]} {n[2:5]} {n[5:]}",
    "LK": lambda n: f"0{n[:2]} {n[2:5]} {n[5:]}",
}


def mobile(r):
    """An E.164 mobile: (country, code, national significant number)."""
    cc, code, prefixes, length = pick(r, MOBILE_PLANS)
    p = pick(r, prefixes)
    nsn = p + rand_str(r, "0123456789", length - len(p))
    return cc, code, nsn


def e164_spelled(r):
    cc, code, nsn = mobile(r)
    style = r.randrange(3)
    if style == 0:
        return "compact", f"+{code}{nsn}"
    if style == 1:
        groups = [nsn[i:i + 3] for i in range(0, len(nsn), 3)]
        return "spaced", f"+{code} " + " ".join(groups)
    return "dashed", f"+{code}-{nsn[:3]}-{nsn[3:]}"


def national_mobile(r):
    while True:
        cc, code, nsn = mobile(r)
        if cc in NATIONAL_FORMATS:
            return cc, NATIONAL_FORMATS[cc](nsn)


def nanp(r):
    """NANP (ATIS INC numbering guidelines): NPA [2-9][0-8][0-9] not N11, NXX [2-9]XX not
    N11; 555-0100 to 555-0199 are reserved for fiction."""
    while True:
        npa = pick(r, "23456789") + pick(r, "012345678") + pick(r, "0123456789")
        if npa[1:] != "11":
            break
    if r.random() < 0.5:
        nxx, line = "555", "01" + rand_str(r, "0123456789", 2)
    else:
        while True:
            nxx = pick(r, "23456789") + rand_str(r, "0123456789", 2)
            if nxx[1:] != "11":
                break
        line = rand_str(r, "0123456789", 4)
    style = r.randrange(5)
    return [
        ("parens", f"({npa}) {nxx}-{line}"),
        ("dashed", f"{npa}-{nxx}-{line}"),
        ("dots", f"{npa}.{nxx}.{line}"),
        ("one_dash", f"1-{npa}-{nxx}-{line}"),
        ("plus_one", f"+1 {npa} {nxx} {line}"),
    ][style]


def kr_mobile(r):
    """Korean mobile numbers (MSIT numbering plan: 010 with 8 subscriber digits)."""
    mid, end = digits(r, 4, "23456789"), digits(r, 4)
    style = r.randrange(5)
    return [
        ("dashed", f"010-{mid}-{end}"),
        ("dots", f"010.{mid}.{end}"),
        ("spaced", f"010 {mid} {end}"),
        ("plus82", f"+82-10-{mid}-{end}"),
        ("plus82_space", f"+82 10 {mid} {end}"),
    ][style]


KR_AREAS = ["02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053",
            "054", "055", "061", "062", "063", "064", "070"]


def kr_landline(r):
    """Korean area codes (MSIT numbering plan); exchange starts 2-9."""
    a = pick(r, KR_AREAS)
    mid = digits(r, 4 if a == "070" or r.random() < 0.5 else 3, "23456789")
    end = digits(r, 4)
    style = r.randrange(3)
    if style == 0:
        return "dashed", f"{a}-{mid}-{end}"
    if style == 1:
        return "parens", f"({a}) {mid}-{end}"
    return "plus82", f"+82-{a[1:]}-{mid}-{end}"


def kr_safe(r):
    """050X personal numbers (safe numbers) of 11 or 12 digits."""
    p = pick(r, ["0502", "0503", "0504", "0505", "0506", "0507", "0508"])
    if r.random() < 0.5:
        return "4-3-4", f"{p}-{digits(r, 3, '123456789')}-{digits(r, 4)}"
    return "4-4-4", f"{p}-{digits(r, 4, '123456789')}-{digits(r, 4)}"


# ---- Korean identifiers -----------------------------------------------------------------

def _real_date(r, y0, y1):
    y = r.randrange(y0, y1)
    m = r.randrange(1, 13)
    dim = [31, 29 if (y % 4 == 0 and y % 100) or y % 400 == 0 else 28, 31, 30, 31, 30, 31, 31,
           30, 31, 30, 31][m - 1]
    return y, m, r.randrange(1, dim + 1)


def kr_registration(r, foreigner):
    """Resident / foreigner registration numbers (Resident Registration Act; the check digit
    is 11 (13 for foreigners) minus the weighted sum mod 11 with weights 2..9,2..5)."""
    y, m, d = _real_date(r, 1945, 2019)
    if foreigner:
        g = (5 if r.random() < 0.5 else 6) if y < 2000 else (7 if r.random() < 0.5 else 8)
    else:
        g = (1 if r.random() < 0.5 else 2) if y < 2000 else (3 if r.random() < 0.5 else 4)
    body = f"{y % 100:02d}{m:02d}{d:02d}{g}" + rand_str(r, "0123456789", 5)
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    s = sum(int(body[i]) * w[i] for i in range(12))
    check = ((13 if foreigner else 11) - s % 11) % 10
    return body + str(check)


def kr_brn(r):
    """Business registration number: weights 1,3,7,1,3,7,1,3,5 plus floor(5*d9/10), mod 10."""
    body = digits(r, 3, "123456789") + digits(r, 2, "0123456789") + digits(r, 4)
    w = [1, 3, 7, 1, 3, 7, 1, 3, 5]
    s = sum(int(body[i]) * w[i] for i in range(9)) + int(body[8]) * 5 // 10
    n = body + str((10 - s % 10) % 10)
    return n


def kr_bank_account(r):
    """Account numbers as the banks print them (group layouts published on their sites)."""
    layouts = [("KB국민은행", [6, 2, 6]), ("신한은행", [3, 3, 6]), ("우리은행", [4, 3, 6]),
               ("하나은행", [3, 6, 5]), ("IBK기업은행", [3, 6, 2, 3]), ("NH농협", [3, 4, 4, 2]),
               ("카카오뱅크", [4, 2, 7]), ("부산은행", [3, 4, 4, 2])]
    bank, groups = pick(r, layouts)
    parts = [digits(r, g, "123456789") for g in groups]
    if bank == "카카오뱅크":
        parts[0] = "3333"
    return bank, "-".join(parts)


def kr_driver(r):
    """Driver licence numbers: region code 11-28, 2-6-2 digits."""
    region = pick(r, ["11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22",
                      "23", "24", "25", "26", "28"])
    return f"{region}-{digits(r, 2)}-{digits(r, 6)}-{digits(r, 2)}"


def kr_passport(r):
    """Korean passports: a letter (M, S, R, O, G, D) and 8 digits."""
    return pick(r, "MSRODG") + digits(r, 8, "123456789")


def us_ssn(r):
    """SSA: area 001-899 except 666, group 01-99, serial 0001-9999."""
    while True:
        a = r.randrange(1, 900)
        if a != 666:
            break
    return f"{a:03d}-{r.randrange(1, 100):02d}-{r.randrange(1, 10000):04d}"


# ---- IBAN (SWIFT IBAN registry: country, BBAN layout) ------------------------------------

IBAN_LAYOUTS = {
    # country: list of (kind, length): n digits, a capitals, c alphanumeric capitals
    "SV": [("a", 4), ("n", 20)],
    "RU": [("n", 9), ("n", 5), ("c", 15)],
    "EG": [("n", 4), ("n", 4), ("n", 17)],
    "LY": [("n", 3), ("n", 3), ("n", 15)],
    "SD": [("n", 2), ("n", 12)],
    "MN": [("n", 4), ("n", 12)],
    "OM": [("n", 3), ("c", 16)],
    "YE": [("a", 4), ("n", 4), ("c", 18)],
    "NI": [("a", 4), ("n", 20)],
    "SO": [("n", 4), ("n", 3), ("n", 12)],
    "DJ": [("n", 5), ("n", 5), ("n", 11), ("n", 2)],
    "BI": [("n", 5), ("n", 5), ("n", 11), ("n", 2)],
    "FK": [("a", 2), ("n", 12)],
    "KW": [("a", 4), ("c", 22)],
    "QA": [("a", 4), ("c", 21)],
    "JO": [("a", 4), ("n", 4), ("c", 18)],
    "LB": [("n", 4), ("c", 20)],
    "BH": [("a", 4), ("c", 14)],
    "AE": [("n", 3), ("n", 16)],
    "GE": [("a", 2), ("n", 16)],
    "AZ": [("a", 4), ("c", 20)],
    "KZ": [("n", 3), ("c", 13)],
    "ST": [("n", 4), ("n", 4), ("n", 11), ("n", 2)],
    "LC": [("a", 4), ("c", 24)],
}


def iban(r):
    country = pick(r, sorted(IBAN_LAYOUTS))
    bban = ""
    for kind, n in IBAN_LAYOUTS[country]:
        alpha = {"n": string.digits, "a": string.ascii_uppercase,
                 "c": string.digits + string.ascii_uppercase}[kind]
        bban += rand_str(r, alpha, n)
    full = country + mod97_check(bban, country) + bban
    if r.random() < 0.5:
        return country, "compact", full
    return country, "grouped", " ".join(full[i:i + 4] for i in range(0, len(full), 4))


# ---- dates of birth ----------------------------------------------------------------------

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def birth_date(r):
    y, m, d = _real_date(r, 1938, 2008)
    style = r.randrange(7)
    return [
        ("iso", f"{y}-{m:02d}-{d:02d}"),
        ("slash_ymd", f"{y}/{m:02d}/{d:02d}"),
        ("us", f"{m:02d}/{d:02d}/{y}"),
        ("dotted_dmy", f"{d:02d}.{m:02d}.{y}"),
        ("compact", f"{y}{m:02d}{d:02d}"),
        ("long", f"{MONTHS[m - 1]} {d}, {y}"),
        ("korean", f"{y}년 {m}월 {d}일"),
    ][style]


# ---- e-mail (RFC 5322 dot-atom; RFC 6531 internationalised) ------------------------------

GIVEN = ["matteo", "lukas", "noemi", "zsofia", "andrei", "ivana", "milos", "katarina",
         "ruta", "janis", "kadri", "sigrun", "anouk", "bikash", "nimal", "fatima", "yonas",
         "neema", "okello", "valentina", "camila", "soren"]
FAMILY = ["rossi", "gruber", "peeters", "nagy", "popescu", "petrova", "horvat", "jovanovic",
          "kovac", "kazlauskas", "berzins", "tamm", "jonsdottir", "shrestha", "perera",
          "alnuaimi", "tesfaye", "mwangi", "mukasa", "vasquez", "fernandez", "nielsen"]
DOMAINS = ["posteo.de", "mail.example.it", "corp.example.ch", "example.be", "uni-example.hu",
           "example.ro", "dept.example.lk", "example.co.tz", "example.com.ec", "example.dk",
           "example.is", "example.ae"]


def email_ascii(r):
    g, f = pick(r, GIVEN), pick(r, FAMILY)
    style = r.randrange(4)
    local = [f"{g}.{f}", f"{g}+{pick(r, ['billing', 'kafka', 'ci', 'scim'])}",
             f"{g[0]}{f}{r.randrange(10, 99)}", f"{g.capitalize()}.{f.capitalize()}"][style]
    return local + "@" + pick(r, DOMAINS)


# RFC 6531 addresses in scripts no other set uses: Thai, Devanagari, Greek, Arabic,
# Japanese kana, Ukrainian Cyrillic, Gujarati, Lao; IDN TLDs from the IANA root zone.
INTL_EMAILS = [
    ("thai", ["สมชาย", "วิภา", "ประยุทธ"], ["ตัวอย่าง.ไทย", "บริษัท.ไทย"]),
    ("devanagari", ["राहुल", "प्रिया", "संजय"], ["उदाहरण.भारत", "डाक.भारत"]),
    ("greek", ["γιώργος", "ελένη", "νίκος"], ["παράδειγμα.ελ", "εταιρεία.ελ"]),
    ("arabic", ["أحمد", "مريم", "خالد"], ["مثال.مصر", "شركة.امارات"]),
    ("japanese", ["さくら", "たろう", "はなこ"], ["れい.みんな", "かいしゃ.みんな"]),
    ("ukrainian", ["олена", "тарас", "ярослав"], ["приклад.укр", "пошта.укр"]),
    ("gujarati", ["હેતલ", "કિરણ"], ["ઉદાહરણ.ભારત"]),
]


def email_intl(r):
    script, locals_, domains = pick(r, INTL_EMAILS)
    return script, pick(r, locals_) + str(r.randrange(1, 99)) + "@" + pick(r, domains)


# ---- network -----------------------------------------------------------------------------

def ipv4(r):
    """A public unicast IPv4 address (outside the RFC 6890 special-purpose blocks)."""
    while True:
        a = r.randrange(1, 224)
        if a in (10, 100, 127, 169, 172, 192, 198, 203):
            continue
        return f"{a}.{r.randrange(0, 256)}.{r.randrange(0, 256)}.{r.randrange(1, 255)}"


def ipv6(r):
    """Global unicast IPv6 (2000::/3, outside 2001:db8::/32), RFC 5952 text forms."""
    first = pick(r, ["2a02", "2a01", "2604", "2607", "2406", "2c0f", "2800", "2a0e"])
    groups = [first] + ["%x" % r.randrange(0, 0x10000) for _ in range(7)]
    style = r.randrange(3)
    if style == 0:
        return "full", ":".join(groups)
    if style == 1:
        return "compressed", ":".join(groups[:3]) + "::" + ":".join(groups[6:])
    return "upper", (":".join(groups[:4]) + "::" + groups[7]).upper()


# ---- secrets -----------------------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(r):
    """RFC 7519 JWS compact serialisation: base64url(header).base64url(claims).signature,
    signature length by algorithm (RFC 7518: HS256 32 bytes, RS256 256, ES384 96)."""
    alg, sig_len = pick(r, [("HS256", 32), ("RS256", 256), ("ES384", 96), ("HS384", 48)])
    header = {"alg": alg, "typ": "JWT"}
    if alg != "HS256":
        header["kid"] = rand_str(r, B64URL, 12)
    claims = {"sub": rand_str(r, string.digits, 9), "iss": pick(r, [
        "https://login.example.it", "https://auth.example.dk", "https://sso.example.ch"]),
        "iat": 1796000000 + r.randrange(0, 9000000)}
    claims["exp"] = claims["iat"] + 3600
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    c = b64url(json.dumps(claims, separators=(",", ":")).encode())
    s = b64url(bytes(r.randrange(256) for _ in range(sig_len)))
    return alg, f"{h}.{c}.{s}"


def bearer(r):
    """RFC 6750 b64token: an opaque access token."""
    return rand_str(r, B64URL, r.randrange(32, 48)) + rand_str(r, string.digits, 2)


def basic(r):
    """RFC 7617: base64 of user-id ':' password."""
    user = pick(r, GIVEN)
    pw = pick(r, ["Tramonto", "Sonnen", "Vltava", "Kilimanjaro", "Reykja"]) + str(
        r.randrange(100, 9999)) + pick(r, "!#$%")
    return base64.b64encode(f"{user}:{pw}".encode()).decode()


def aws_key_id(r):
    """AWS IAM unique id prefixes (AKIA long-term, ASIA temporary) + 16 of [A-Z2-7]."""
    return pick(r, ["AKIA", "ASIA"]) + rand_str(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)


def aws_secret(r):
    """A 40-character secret access key of base64 characters."""
    while True:
        s = rand_str(r, string.ascii_letters + string.digits + "+/", 40)
        if any(c.isdigit() for c in s) and any(c.isupper() for c in s) and any(c.islower() for c in s):
            return s


def b62_crc(n):
    out = ""
    for _ in range(6):
        n, rem = divmod(n, 62)
        out = B62[rem] + out
    return out


def github_token(r):
    """GitHub token formats (2021 announcement): prefix, 30 base62, CRC32 of them in 6 base62."""
    prefix = pick(r, ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"])
    body = rand_str(r, B62, 30)
    return prefix, prefix + body + b62_crc(binascii.crc32(body.encode()))


def slack_token(r):
    """Slack token types: xoxb- bot, xoxp- user, with numeric team/user ids."""
    kind = pick(r, ["xoxb", "xoxp"])
    if kind == "xoxb":
        return kind, f"xoxb-{digits(r, 12, '123456789')}-{digits(r, 13, '123456789')}-{rand_str(r, B62, 24)}"
    return kind, (f"xoxp-{digits(r, 12, '123456789')}-{digits(r, 12, '123456789')}-"
                  f"{digits(r, 13, '123456789')}-{rand_str(r, HEX, 32)}")


def google_api_key(r):
    """Google API keys: `AIza` and 35 characters of [0-9A-Za-z_-]."""
    return "AIza" + rand_str(r, B64URL, 35)


def stripe_key(r):
    """Stripe secret and restricted live keys: sk_live_ / rk_live_ and 24 or 99 base62."""
    prefix = pick(r, ["sk_live_", "rk_live_"])
    return prefix, prefix + rand_str(r, B62, pick(r, [24, 99]))


def sendgrid_key(r):
    """SendGrid API keys: `SG.` 22 base64url `.` 43 base64url."""
    return f"SG.{rand_str(r, B64URL, 22)}.{rand_str(r, B64URL, 43)}"


def twilio_key(r):
    """Twilio API key SIDs (`SK`) and Account SIDs (`AC`): 32 hex."""
    prefix = pick(r, ["SK", "AC"])
    return prefix, prefix + rand_str(r, HEX, 32)


def openai_key(r):
    """OpenAI project keys: `sk-proj-` and a base64url body (164 characters in 2024)."""
    return "sk-proj-" + rand_str(r, B64URL, 156)


def anthropic_key(r):
    """Anthropic API keys: `sk-ant-api03-`, 93 base64url, `AA`."""
    return "sk-ant-api03-" + rand_str(r, B64URL, 93) + "AA"


def npm_token(r):
    """npm granular/automation tokens: `npm_`, 30 base62 and a 6-character CRC32."""
    body = rand_str(r, B62, 30)
    return "npm_" + body + b62_crc(binascii.crc32(body.encode()))


def vendor_key_value(r):
    kind = r.randrange(9)
    table = [
        ("huggingface", lambda: "hf_" + rand_str(r, string.ascii_letters, 34)),
        ("digitalocean", lambda: "dop_v1_" + rand_str(r, HEX, 64)),
        ("grafana", lambda: "glsa_" + rand_str(r, B62, 32) + "_" + rand_str(r, HEX, 8)),
        ("shopify", lambda: "shpat_" + rand_str(r, HEX, 32)),
        ("square", lambda: "sq0atp-" + rand_str(r, B64URL, 22)),
        ("linear", lambda: "lin_api_" + rand_str(r, B62, 40)),
        ("postman", lambda: "PMAK-" + rand_str(r, HEX, 24) + "-" + rand_str(r, HEX, 34)),
        ("newrelic", lambda: "NRAK-" + rand_str(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 27)),
        ("gitlab", lambda: "glpat-" + rand_str(r, B64URL, 20)),
    ]
    name, build = table[kind]
    return name, build()


def webhook_url(r):
    """Incoming-webhook URLs whose path carries the secret (vendors' documentation)."""
    kind = r.randrange(6)
    if kind == 0:
        return "slack", (f"https://hooks.slack.com/services/T{rand_str(r, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10)}"
                         f"/B{rand_str(r, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 10)}/{rand_str(r, B62, 24)}")
    if kind == 1:
        return "discord", (f"https://discord.com/api/webhooks/{digits(r, 19, '1')}/"
                           f"{rand_str(r, B64URL, 68)}")
    if kind == 2:
        g1 = "-".join(rand_str(r, HEX, n) for n in (8, 4, 4, 4, 12))
        g2 = "-".join(rand_str(r, HEX, n) for n in (8, 4, 4, 4, 12))
        return "teams", (f"https://example.webhook.office.com/webhookb2/{g1}@{g2}/IncomingWebhook/"
                         f"{rand_str(r, HEX, 32)}/{g1}")
    if kind == 3:
        return "telegram", f"https://api.telegram.org/bot{digits(r, 10, '123456789')}:{rand_str(r, B64URL, 35)}/sendMessage"
    if kind == 4:
        return "google_chat", (f"https://chat.googleapis.com/v1/spaces/{rand_str(r, B64URL, 11)}/messages"
                               f"?key=AIza{rand_str(r, B64URL, 35)}&token={rand_str(r, B64URL, 43)}")
    return "mattermost", f"https://chat.example.ee/hooks/{rand_str(r, 'abcdefghijkmnopqrstuwxyz13456789', 26)}"


def pem_block(r):
    """RFC 7468 textual encoding: label lines and base64 at 64 columns."""
    label, nbytes = pick(r, [("RSA PRIVATE KEY", 608), ("EC PRIVATE KEY", 121),
                             ("PRIVATE KEY", 138), ("OPENSSH PRIVATE KEY", 400)])
    body = base64.b64encode(bytes(r.randrange(256) for _ in range(nbytes))).decode()
    width = 70 if label == "OPENSSH PRIVATE KEY" else 64
    lines = [body[i:i + width] for i in range(0, len(body), width)]
    return label, f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def password(r):
    style = r.randrange(4)
    if style == 0:
        return "word_year", pick(r, ["Gelato", "Donau", "Lugano", "Tisza", "Danube", "Karpaty",
                                     "Vaduz", "Tallinn"]) + str(r.randrange(1970, 2026)) + pick(r, "!@#$%&*")
    if style == 1:
        return "random", rand_str(r, string.ascii_letters + string.digits + "!#%*+-", 14) + pick(r, "0123456789")
    if style == 2:
        return "passphrase", "-".join(pick(r, ["lanterna", "fiume", "montagna", "kahawa",
                                              "twiga", "maji", "saule", "rugine"]) for _ in range(4))
    return "pin_word", pick(r, ["bora", "kiwi", "sakura", "nilo"]) + str(r.randrange(1000, 9999))


def url_password(r):
    """RFC 3986 userinfo: scheme://user:password@host."""
    scheme, host = pick(r, [("mqtts", "broker.example.ee:8883"), ("smtps", "mail.example.it:465"),
                            ("ftp", "files.example.hu"), ("nats", "nats.example.dk:4222"),
                            ("clickhouse", "ch.example.be:9440"), ("ldaps", "dir.example.lu:636"),
                            ("sftp", "drop.example.ch:22"), ("amqps", "mq.example.ro:5671")])
    user = pick(r, GIVEN)
    pw = rand_str(r, string.ascii_letters + string.digits, 12) + pick(r, ["", "%21", "%23", "~"])
    return scheme, pw, f"{scheme}://{user}:{pw}@{host}"


def query_secret(r):
    param = pick(r, ["token", "access_token", "api_key", "apikey", "password", "secret"])
    return param, rand_str(r, B62, 28)


def session_cookie(r):
    """Session cookie names of frameworks (RFC 6265 cookie-pairs): Drupal SSESS<hash>, Play,
    Flask `session`, Devise `remember_user_token`, Tomcat, Express."""
    kind = r.randrange(5)
    if kind == 0:
        return "drupal", "SSESS" + rand_str(r, HEX, 32), rand_str(r, B64URL, 43)
    if kind == 1:
        return "play", "PLAY_SESSION", b64url(json.dumps({"data": {"uid": r.randrange(10**6)}}).encode()) + "." + rand_str(r, B64URL, 43)
    if kind == 2:
        return "flask", "session", "." + rand_str(r, B64URL, 40) + "." + rand_str(r, B64URL, 6) + "." + rand_str(r, B64URL, 27)
    if kind == 3:
        return "tomcat", "JSESSIONID", rand_str(r, "0123456789ABCDEF", 32)
    return "express", "connect.sid", "s%3A" + rand_str(r, B64URL, 32) + "." + rand_str(r, B62, 43)


def generic_key(r):
    style = r.randrange(3)
    if style == 0:
        return "hex32", rand_str(r, HEX, 32)
    if style == 1:
        return "hex64", rand_str(r, HEX, 64)
    while True:
        v = rand_str(r, B62, 40)
        if sum(c.isdigit() for c in v) >= 4 and sum(c.isupper() for c in v) >= 10 and sum(c.islower() for c in v) >= 10:
            return "base62", v


# ---- hard negatives ----------------------------------------------------------------------

def uuid7(r):
    """RFC 9562 UUIDv7: 48-bit Unix ms, version 7, variant 10."""
    ms = 1796000000000 + r.randrange(0, 10**9)
    h = "%012x" % ms + "7" + rand_str(r, HEX, 3) + pick(r, "89ab") + rand_str(r, HEX, 15)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(r):
    """ULID spec: 10 Crockford base32 of the ms time and 16 of randomness."""
    ms = 1796000000000 + r.randrange(0, 10**9)
    t = ""
    for _ in range(10):
        ms, rem = divmod(ms, 32)
        t = CROCKFORD[rem] + t
    return t + rand_str(r, CROCKFORD, 16)


def ksuid(r):
    """Segment KSUID: 27 base62 characters."""
    return pick(r, "23") + rand_str(r, B62, 26)


def objectid(r):
    """MongoDB ObjectId: 4-byte seconds, 5 random bytes, 3-byte counter, as 24 hex."""
    return "%08x" % (1796000000 + r.randrange(10**7)) + rand_str(r, HEX, 16)


def traceparent(r):
    """W3C Trace Context: version-traceid-parentid-flags."""
    return f"00-{rand_str(r, HEX, 32)}-{rand_str(r, HEX, 16)}-01"


def git_sha(r):
    return rand_str(r, HEX, 40)


def oci_digest(r):
    """OCI image spec digest: algorithm ':' encoded."""
    return "sha256:" + rand_str(r, HEX, 64)


def semver(r):
    """SemVer 2.0.0 with pre-release and build metadata."""
    v = f"{r.randrange(0, 20)}.{r.randrange(0, 40)}.{r.randrange(0, 30)}"
    return v + pick(r, ["", "-rc.1", "-beta.3", "+build.20261207", "-alpha.2+sha.5114f85"])


def four_part(r):
    return f"{r.randrange(1, 30)}.{r.randrange(0, 20)}.{r.randrange(0, 300)}.{r.randrange(0, 9999)}"


def rfc3339(r):
    return (f"2026-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}T{r.randrange(24):02d}:"
            f"{r.randrange(60):02d}:{r.randrange(60):02d}.{r.randrange(1000):03d}"
            + pick(r, ["Z", "+01:00", "+05:45", "-03:00"]))


def epoch_ms(r):
    return str(1796000000000 + r.randrange(0, 10**10))


def ean13(r):
    """GS1 EAN-13 with its check digit (GS1 prefixes 400-440 Germany, 800-839 Italy...)."""
    body = pick(r, ["400", "803", "540", "599", "594", "380", "858", "560"]) + rand_str(r, string.digits, 9)
    return body + gs1_check(body)


def gtin14(r):
    body = pick(r, "123456789") + pick(r, ["400", "803", "540", "599"]) + rand_str(r, string.digits, 9)
    return body + gs1_check(body)


def sscc18(r):
    """GS1 SSCC: extension digit, company prefix and serial, check digit (18 digits)."""
    body = pick(r, "0123456789") + pick(r, ["400", "803", "540", "599"]) + rand_str(r, string.digits, 13)
    # An 18-digit Luhn-valid number that starts with a card issuer's prefix (Maestro 5x, ...)
    # is a card number by ISO/IEC 7812 too; step the extension digit until it is none.
    for _ in range(10):
        if not luhn_ok(body + gs1_check(body)):
            break
        body = str((int(body[0]) + 1) % 10) + body[1:]
    return body + gs1_check(body)


def container_no(r):
    """ISO 6346 freight container number: owner code + U, 6 digits, check digit."""
    owner = rand_str(r, string.ascii_uppercase, 3) + "U"
    serial = rand_str(r, string.digits, 6)
    values = {}
    v = 10
    for c in string.ascii_uppercase:
        if v % 11 == 0:
            v += 1
        values[c] = v
        v += 1
    total = sum((values[c] if c.isalpha() else int(c)) * (2 ** i) for i, c in enumerate(owner + serial))
    return owner + serial + str(total % 11 % 10)


def isin(r):
    """ISO 6166 ISIN: country, 9 alphanumerics, Luhn over the letters as numbers."""
    body = pick(r, ["IT", "AT", "CH", "BE", "DK", "HU"]) + rand_str(r, string.digits + string.ascii_uppercase, 9)
    num = "".join(str(int(c, 36)) for c in body)
    return body + luhn_check(num)


def lei(r):
    """ISO 17442 LEI: 4-character LOU prefix, 00, 12 alphanumerics, ISO 7064 MOD 97-10."""
    body = pick(r, ["5493", "8156", "2138", "5299", "3157"]) + "00" + rand_str(r, string.digits + string.ascii_uppercase, 12)
    num = int("".join(str(int(c, 36)) for c in body + "00"))
    return body + "%02d" % (98 - num % 97)


def awb(r):
    """IATA air waybill: 3-digit airline prefix, 7-digit serial and serial mod 7."""
    serial = r.randrange(10**6, 10**7)
    return f"{pick(r, ['020', '055', '057', '074', '157', '176', '618'])}-{serial}{serial % 7}"


def x12_control(r):
    """ASC X12 ISA13 interchange control number: 9 digits."""
    return "%09d" % r.randrange(1, 10**9)


def non_luhn_16(r):
    while True:
        n = pick(r, ["4", "51", "6011"])
        n += rand_str(r, string.digits, 16 - len(n))
        if not luhn_ok(n):
            return n


def luhn_order(r):
    body = pick(r, "1789") + rand_str(r, string.digits, 14)
    return body + luhn_check(body)


def kr_rep(r):
    return f"{pick(r, ['1588', '1577', '1600', '1644', '1899', '1566'])}-{digits(r, 4)}"


def ua_version(r):
    return pick(r, [f"Chrome/{r.randrange(110, 132)}.0.{r.randrange(5000, 6999)}.{r.randrange(10, 200)}",
                    f"Edg/{r.randrange(110, 132)}.0.{r.randrange(1000, 2999)}.{r.randrange(10, 99)}",
                    f"OPR/{r.randrange(90, 115)}.0.{r.randrange(4000, 5999)}.{r.randrange(10, 99)}"])


def ga_id(r):
    return pick(r, ["G-" + rand_str(r, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 10),
                    "GTM-" + rand_str(r, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 7)])


def iban_like_sku(r):
    """A SKU that starts like an IBAN (country, two digits) but has 13 characters without its
    dashes: shorter than any IBAN (ISO 13616 registry: the shortest, Norway's, has 15)."""
    return (pick(r, ["IT", "AT", "BE", "DK"]) + rand_str(r, string.digits, 2) + "-"
            + rand_str(r, string.ascii_uppercase, 3) + "-" + rand_str(r, string.digits, 6))


def event_date(r):
    return f"2025-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}"


def span_id(r):
    return rand_str(r, HEX, 16)
