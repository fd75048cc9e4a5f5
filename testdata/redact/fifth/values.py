"""PII values and hard negatives for the fifth held-out set, each from its public definition.

Every generator takes a `random.Random` and returns a dict: `value` (the decoded value),
`written` (the text as the document carries it before any JSON escaping), `variant` (its
spelling) and, where they apply, `digits` (digits-only forms) and `fragments` (secret parts
of a larger value that must not survive either).
"""

import base64
import binascii
import hashlib
import json
import random
import string

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"
FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


def rand(rng, alphabet, n):
    return "".join(rng.choice(alphabet) for _ in range(n))


def digits_of(s):
    return "".join(c for c in s if c.isdigit() and c.isascii())


def item(value, variant, written=None, digits=(), fragments=()):
    return {
        "value": value,
        "written": value if written is None else written,
        "variant": variant,
        "digits": [d for d in digits if d],
        "fragments": [f for f in fragments if f],
    }


# ------------------------------------------------------------------ checksums


def luhn_check_digit(body):
    """The digit that makes `body + digit` pass Luhn (ISO/IEC 7812-1 annex B)."""
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


def gtin_check_digit(body):
    """GS1 General Specifications 7.9.1: weights 3,1 from the right of the body."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def iban_check(country, bban):
    """ISO 13616-1: check digits 98 - (BBAN + country + 00 as digits) mod 97."""
    moved = bban + country + "00"
    num = "".join(str(int(c, 36)) for c in moved)
    return "%02d" % (98 - int(num) % 97)


def crc32_b62(s, width=6):
    v = binascii.crc32(s.encode())
    out = ""
    while v:
        v, r = divmod(v, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# ------------------------------------------------------------------ contact data

FIRST = ["minji", "seojun", "jiwoo", "haruto", "amelie", "lukas", "chloe", "oliver", "priya",
         "arjun", "lucas", "beatriz", "aiko", "noah", "isla", "mateo", "sofia", "yuna", "finn",
         "lea", "rafael", "ananya", "hugo", "mila", "kenji", "zoe", "elias", "clara"]
LAST = ["kim", "park", "choi", "tanaka", "dubois", "mueller", "smith", "sharma", "silva",
        "nguyen", "jones", "martin", "schmidt", "sato", "costa", "patel", "lee", "jung",
        "moreau", "fischer", "wilson", "oliveira", "iyer", "kobayashi"]
DOMAINS = ["example.com", "mail.example.org", "corp.example.net", "example.co.kr",
           "example.co.uk", "example.de", "example.fr", "example.com.au", "example.com.br",
           "example.in", "example.jp", "eu.example.io", "users.example.dev"]
# RFC 5891/3492 A-labels of internationalised domains (IDNA 2008), as mail systems log them.
IDN_DOMAINS = ["xn--9n2bp8q.example", "xn--bcher-kva.example", "xn--mller-kva.example.de",
               "xn--caf-dma.example.fr", "xn--3e0b707e.kr", "xn--wgv71a119e.jp"]
# RFC 6531 SMTPUTF8 domains and local parts written in Unicode.
UTF8_ADDR = ["δοκιμή@παράδειγμα.δοκιμή", "用户@例子.广告", "josé.garcía@correo.example.es",
             "müller@bücher.example", "испытание@пример.рф", "아무개@예시.한국"]


def email(rng):
    f, l = rng.choice(FIRST), rng.choice(LAST)
    kind = rng.randrange(9)
    if kind == 0:
        local, dom, var = f"{f}.{l}+{rng.choice(['billing', 'news', 'jira', 'ci-2026', 'x'])}", rng.choice(DOMAINS), "plus_tag"
    elif kind == 1:
        local, dom, var = f"{f[0]}.{l}.{rng.randrange(10, 99)}", rng.choice(DOMAINS), "dots"
    elif kind == 2:
        local, dom, var = f"{f}_{l}", rng.choice(IDN_DOMAINS), "punycode"
    elif kind == 3:
        v = rng.choice(UTF8_ADDR)
        return item(v, "smtputf8")
    elif kind == 4:
        local, dom, var = f'"{f} {l}"', rng.choice(DOMAINS), "quoted_local"
    elif kind == 5:
        local, dom, var = f"{f.upper()}.{l.capitalize()}", rng.choice(DOMAINS), "mixed_case"
    elif kind == 6:
        local, dom, var = f"{l}{rng.randrange(1950, 2010)}", f"{rng.choice(['mx', 'smtp', 'dept'])}.{rng.choice(DOMAINS)}", "subdomain"
    elif kind == 7:
        local, dom, var = f"{f}-{l}", rng.choice(DOMAINS), "hyphen"
    else:
        local, dom, var = f"{f}.{l}", rng.choice(DOMAINS), "plain"
    return item(f"{local}@{dom}", var)


def us_phone(rng, plain_ok=True):
    """NANP: NPA [2-9][0-8][0-9] (no N9X, reserved), NXX [2-9]XX not N11, line 4 digits."""
    while True:
        npa = f"{rng.randint(2, 9)}{rng.randint(0, 8)}{rng.randint(0, 9)}"
        if npa[1:] != "11":
            break
    while True:
        nxx = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
        if nxx[1:] != "11":
            break
    line = f"{rng.randrange(10000):04d}"
    n10 = npa + nxx + line
    forms = [
        (f"({npa}) {nxx}-{line}", "parens"),
        (f"{npa}.{nxx}.{line}", "dots"),
        (f"+1 {npa} {nxx} {line}", "plus1_spaces"),
        (f"1-{npa}-{nxx}-{line}", "one_dash"),
        (f"+1 ({npa}) {nxx}-{line}", "plus1_parens"),
        (f"{npa}-{nxx}-{line} ext. {rng.randint(10, 9999)}", "ext"),
        (f"+1-{npa}-{nxx}-{line}", "plus1_dash"),
        (f"{npa} {nxx} {line}", "spaces"),
    ]
    if plain_ok:
        forms.append((n10, "plain10"))
    w, var = rng.choice(forms)
    # The extension is not part of the number (E.123): the value is the number alone.
    return item(w.split(" ext. ")[0], var, written=w, digits=[n10, "1" + n10])


def phone_intl(rng):
    """E.164 numbers of seven countries, in international and national spellings."""
    c = rng.randrange(7)
    if c == 0:  # UK: Ofcom drama ranges and real geographic layout (020 + 8 digits, 07xxx + 6)
        if rng.random() < 0.5:
            nat, cc = "20" + f"7{rng.randrange(10**7):07d}", "44"
            forms = [f"+44 20 {nat[2:6]} {nat[6:]}", f"+44 (0)20 {nat[2:6]} {nat[6:]}", f"020 {nat[2:6]} {nat[6:]}", f"+44{nat}"]
        else:
            nat, cc = f"7{rng.randint(400, 999)}{rng.randrange(10**6):06d}", "44"
            forms = [f"+44 {nat[:4]} {nat[4:]}", f"+44 (0){nat[:4]} {nat[4:]}", f"0{nat[:4]} {nat[4:]}", f"+44-{nat[:4]}-{nat[4:]}"]
    elif c == 1:  # Germany: Berlin 30 + 8 digits, mobile 15x + 8
        if rng.random() < 0.5:
            nat, cc = f"30{rng.randint(2, 9)}{rng.randrange(10**7):07d}", "49"
            forms = [f"+49 30 {nat[2:]}", f"+49 (0)30 {nat[2:6]} {nat[6:]}", f"030 {nat[2:]}", f"(030) {nat[2:6]}-{nat[6:]}"]
        else:
            nat, cc = f"15{rng.choice('12579')}{rng.randrange(10**8):08d}", "49"
            forms = [f"+49 {nat[:3]} {nat[3:]}", f"+49 (0){nat[:3]} {nat[3:]}", f"0{nat[:3]} {nat[3:]}", f"+49-{nat[:3]}-{nat[3:]}"]
    elif c == 2:  # France: 9 digits after the trunk 0, written in pairs
        nat, cc = f"{rng.choice('1234567')}{rng.randrange(10**8):08d}", "33"
        p = [nat[1:3], nat[3:5], nat[5:7], nat[7:9]]
        forms = [f"+33 {nat[0]} {' '.join(p)}", f"+33 (0){nat[0]} {' '.join(p)}", f"0{nat[0]} {' '.join(p)}", f"0{nat[0]}.{'.'.join(p)}"]
    elif c == 3:  # Japan: Tokyo 3 + 8 digits, mobile 90/80/70 + 8
        if rng.random() < 0.5:
            nat, cc = f"3{rng.randrange(10**8):08d}", "81"
            forms = [f"+81 3-{nat[1:5]}-{nat[5:]}", f"+81 (0)3 {nat[1:5]} {nat[5:]}", f"03-{nat[1:5]}-{nat[5:]}", f"+81-3-{nat[1:5]}-{nat[5:]}"]
        else:
            nat, cc = f"{rng.choice('789')}0{rng.randrange(10**8):08d}", "81"
            forms = [f"+81 {nat[:2]}-{nat[2:6]}-{nat[6:]}", f"+81 {nat[:2]} {nat[2:6]} {nat[6:]}", f"0{nat[:2]}-{nat[2:6]}-{nat[6:]}", f"+81{nat}"]
    elif c == 4:  # Australia: area 2/3/7/8 + 8 digits, mobile 4 + 8
        if rng.random() < 0.5:
            nat, cc = f"{rng.choice('2378')}{rng.randrange(10**8):08d}", "61"
            forms = [f"+61 {nat[0]} {nat[1:5]} {nat[5:]}", f"+61 ({nat[0]}) {nat[1:5]} {nat[5:]}", f"(0{nat[0]}) {nat[1:5]} {nat[5:]}", f"0{nat[0]} {nat[1:5]} {nat[5:]}"]
        else:
            nat, cc = f"4{rng.randrange(10**8):08d}", "61"
            forms = [f"+61 {nat[:3]} {nat[3:6]} {nat[6:]}", f"+61{nat}", f"0{nat[:3]} {nat[3:6]} {nat[6:]}", f"+61-{nat[:3]}-{nat[3:6]}-{nat[6:]}"]
    elif c == 5:  # Brazil: DDD 11-99 + 9 + 8 digits (mobile) or 8 (fixed)
        ddd = rng.choice(["11", "21", "31", "41", "51", "61", "71", "81", "85", "92"])
        if rng.random() < 0.6:
            sub = f"9{rng.randint(6, 9)}{rng.randrange(10**7):07d}"
            nat, cc = ddd + sub, "55"
            forms = [f"+55 {ddd} {sub[:5]}-{sub[5:]}", f"+55 ({ddd}) {sub[:5]}-{sub[5:]}", f"({ddd}) {sub[:5]}-{sub[5:]}", f"+55{nat}"]
        else:
            sub = f"{rng.randint(2, 5)}{rng.randrange(10**7):07d}"
            nat, cc = ddd + sub, "55"
            forms = [f"+55 {ddd} {sub[:4]}-{sub[4:]}", f"+55 ({ddd}) {sub[:4]}-{sub[4:]}", f"({ddd}) {sub[:4]}-{sub[4:]}", f"0{ddd} {sub[:4]}-{sub[4:]}"]
    else:  # India: mobile 6-9 + 9 digits
        nat, cc = f"{rng.randint(6, 9)}{rng.randrange(10**9):09d}", "91"
        forms = [f"+91 {nat[:5]} {nat[5:]}", f"+91-{nat[:5]}-{nat[5:]}", f"0{nat[:5]} {nat[5:]}", f"+91{nat}"]
    i = rng.randrange(4)
    w = forms[i]
    var = f"{cc}_intl"
    if not w.startswith("+"):
        # The national spelling with its trunk prefix is no E.164 number (the policy claims
        # `+` and digits): written with the country code in parentheses instead.
        national = w.replace("(", "").replace(")", "")
        w = f"(+{cc}) " + (national[1:] if national.startswith("0") else national)
        var = f"{cc}_paren_plus"
    return item(w, var, digits=[cc + nat, "0" + nat, nat])


def kr_mobile(rng):
    pre = rng.choice(["010", "010", "010", "011", "016", "017", "018", "019"])
    if pre == "010":
        mid = f"{rng.randint(2, 9)}{rng.randrange(1000):03d}"
    else:
        mid = f"{rng.randint(2, 9)}{rng.randrange(100):02d}" if rng.random() < 0.5 else f"{rng.randint(2, 9)}{rng.randrange(1000):03d}"
    last = f"{rng.randrange(10000):04d}"
    nat = pre + mid + last
    k = rng.randrange(7)
    if k == 0:
        w, var = f"{pre}-{mid}-{last}".translate(FULLWIDTH), "fullwidth"
        return item(f"{pre}-{mid}-{last}", var, written=w, digits=[nat, "82" + nat[1:]])
    forms = [(f"{pre}-{mid}-{last}", "dash"), (f"+82 {pre[1:]}-{mid}-{last}", "plus82"),
             (f"+82-{pre[1:]}-{mid}-{last}", "plus82_dash"), (f"({pre}) {mid}-{last}", "parens"),
             (f"{pre} {mid} {last}", "spaces"), (f"+82 (0){pre[1:]} {mid} {last}", "plus82_trunk")]
    w, var = forms[k - 1]
    return item(w, var, digits=[nat, "82" + nat[1:]])


def kr_landline(rng):
    area = rng.choice(["02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053",
                       "054", "055", "061", "062", "063", "064", "070"])
    mid = f"{rng.randint(2, 9)}{rng.randrange(1000 if area in ('02', '070') else 100):0{3 if area in ('02', '070') else 2}d}"
    last = f"{rng.randrange(10000):04d}"
    nat = area + mid + last
    forms = [(f"{area}-{mid}-{last}", "dash"), (f"({area}) {mid}-{last}", "parens"),
             (f"+82-{area[1:]}-{mid}-{last}", "plus82"), (f"{area}.{mid}.{last}", "dots"),
             (f"{area})" + f"{mid}-{last}", "close_paren")]
    w, var = rng.choice(forms)
    return item(w, var, digits=[nat, "82" + nat[1:]])


def kr_safe_number(rng):
    pre = f"050{rng.randint(2, 7)}"
    if rng.random() < 0.7:
        mid, last = f"{rng.randrange(10000):04d}", f"{rng.randrange(10000):04d}"
    else:
        mid, last = f"{rng.randint(2, 9)}{rng.randrange(100):02d}", f"{rng.randrange(10000):04d}"
    nat = pre + mid + last
    forms = [(f"{pre}-{mid}-{last}", "dash"), (f"{pre} {mid} {last}", "spaces"), (f"{pre}.{mid}.{last}", "dots")]
    w, var = rng.choice(forms)
    return item(w, var, digits=[nat])


# ------------------------------------------------------------------ cards (ISO/IEC 7812)

CARD_BRANDS = [
    # (name, IIN prefixes, lengths, grouping per length)
    ("amex", ["34", "37"], [15]),
    ("diners", ["36", "300", "301", "302", "303", "304", "305"], [14]),
    ("unionpay", ["62"], [16, 17, 18, 19]),
    ("maestro", ["5018", "5020", "5038", "5893", "6304", "6759", "6761", "6762", "6763"], [12, 13, 15, 16, 19]),
    ("mir", ["2200", "2201", "2202", "2203", "2204"], [16]),
    ("visa", ["4"], [13, 16, 19]),
    ("mastercard2", [str(x) for x in range(2221, 2721, 37)], [16]),
    ("jcb", [str(x) for x in range(3528, 3590, 7)], [16, 19]),
    ("discover", ["6011", "644", "645", "649", "65"], [16, 19]),
]


def group(n, sizes, sep):
    out, i = [], 0
    for s in sizes:
        out.append(n[i:i + s])
        i += s
    if i < len(n):
        out.append(n[i:])
    return sep.join(x for x in out if x)


def credit_card(rng, plain_ok=True):
    name, prefixes, lengths = rng.choice(CARD_BRANDS)
    pre = rng.choice(prefixes)
    length = rng.choice(lengths)
    body = pre + "".join(str(rng.randrange(10)) for _ in range(length - len(pre) - 1))
    if length == 12:
        # Maestro allows 12 digits, but the policy claims 13-19: four more digits, drawn apart
        # so the other values stay as they were.
        sub = random.Random(body)
        body += "".join(str(sub.randrange(10)) for _ in range(4))
        length = 16
    n = body + luhn_check_digit(body)
    if length == 15:
        sizes = [4, 6, 5]
    elif length == 14:
        sizes = [4, 6, 4]
    elif length == 19 and rng.random() < 0.5:
        sizes = [6, 13]
    else:
        sizes = [4] * 5
    seps = [" ", "-"] + ([""] if plain_ok else [])
    sep = rng.choice(seps)
    w = group(n, sizes, sep) if sep else n
    return item(w, f"{name}{length}_" + {"": "plain", " ": "spaced", "-": "dashed"}[sep], digits=[n])


# ------------------------------------------------------------------ Korean numbers

def real_date(y, m, d):
    leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return 1 <= m <= 12 and 1 <= d <= days[m - 1]


def _birth(rng, lo=1940, hi=2008):
    while True:
        y, m, d = rng.randint(lo, hi), rng.randint(1, 12), rng.randint(1, 31)
        if real_date(y, m, d):
            return y, m, d


def registration(rng, foreigner):
    y, m, d = _birth(rng)
    if foreigner:
        g = (5 if y < 2000 else 7) + rng.randrange(2)
        office = f"{rng.randrange(0, 99, 2):02d}"
        rest = office + f"{rng.randrange(100):02d}" + str(rng.randint(6, 9))
    else:
        g = (1 if y < 2000 else 3) + rng.randrange(2)
        rest = f"{rng.randrange(100000):05d}"
    body = f"{y % 100:02d}{m:02d}{d:02d}{g}{rest}"
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    s = sum(int(body[i]) * w[i] for i in range(12))
    check = ((13 if foreigner else 11) - s % 11) % 10
    return body + str(check)


def kr_rrn(rng, plain_ok=True):
    n = registration(rng, False)
    forms = [(f"{n[:6]}-{n[6:]}", "dash"), (f"{n[:6]} - {n[6:]}", "spaced_dash"),
             (f"{n[:6]}-{n[6:]}".translate(FULLWIDTH), "fullwidth")]
    if plain_ok:
        forms.append((n, "plain"))
    w, var = rng.choice(forms)
    if var == "fullwidth":
        return item(f"{n[:6]}-{n[6:]}", var, written=w, digits=[n])
    return item(w, var, digits=[n])


def kr_frn(rng):
    n = registration(rng, True)
    w, var = rng.choice([(f"{n[:6]}-{n[6:]}", "dash"), (n, "plain"), (f"{n[:6]} {n[6:]}", "space")])
    return item(w, var, digits=[n])


def kr_brn(rng):
    while True:
        body = f"{rng.randint(101, 899)}{rng.randint(1, 99):02d}{rng.randrange(10000):04d}"
        wts = [1, 3, 7, 1, 3, 7, 1, 3, 5]
        s = sum(int(body[i]) * wts[i] for i in range(9)) + int(body[8]) * 5 // 10
        n = body + str((10 - s % 10) % 10)
        break
    w, var = rng.choice([(f"{n[:3]}-{n[3:5]}-{n[5:]}", "dash"), (n, "plain"), (f"{n[:3]} {n[3:5]} {n[5:]}", "spaces")])
    return item(w, var, digits=[n])


# Bank account layouts as the banks print them (issue 13 lists the groupings).
BANKS = [("국민은행", [6, 2, 6]), ("KB국민", [6, 2, 6]), ("신한은행", [3, 3, 6]), ("우리은행", [4, 3, 6]),
         ("하나은행", [3, 6, 5]), ("IBK기업은행", [3, 6, 2, 3]), ("NH농협", [3, 4, 4, 2]),
         ("카카오뱅크", [4, 2, 7]), ("토스뱅크", [4, 4, 4]), ("SC제일은행", [3, 2, 6]),
         ("Shinhan Bank", [3, 3, 6]), ("Woori Bank", [4, 3, 6])]


def kr_bank_account(rng):
    bank, sizes = rng.choice(BANKS)
    parts = []
    for i, s in enumerate(sizes):
        if bank == "카카오뱅크" and i == 0:
            parts.append("3333")
        elif bank == "토스뱅크" and i == 0:
            parts.append("1000")
        else:
            parts.append(f"{rng.randint(1, 9)}{rng.randrange(10 ** (s - 1)):0{s - 1}d}")
    n = "".join(parts)
    k = rng.randrange(3)
    w = "-".join(parts) if k < 2 else n
    return dict(item(w, ("grouped" if k < 2 else "plain") + f"_{'-'.join(map(str, sizes))}", digits=[n]), bank=bank)


REGIONS = {"서울": 11, "부산": 12, "경기": 13, "강원": 14, "충북": 15, "충남": 16, "전북": 17,
           "전남": 18, "경북": 19, "경남": 20, "제주": 21, "대구": 22, "인천": 23, "광주": 24,
           "대전": 25, "울산": 26}


def kr_driver_license(rng):
    code = rng.choice(list(range(11, 27)) + [28])
    yy = f"{rng.randrange(100):02d}"
    serial = f"{rng.randrange(10**6):06d}"
    tail = f"{rng.randrange(100):02d}"
    n = f"{code}{yy}{serial}{tail}"
    k = rng.randrange(4)
    if k == 3:
        name = rng.choice(list(REGIONS))
        w = f"{name} {yy}-{serial}-{tail}"
        return item(w, "region_name", digits=[f"{yy}{serial}{tail}"])
    w = [f"{code}-{yy}-{serial}-{tail}", n, f"{code} {yy} {serial} {tail}"][k]
    return item(w, ["dash", "plain", "spaces"][k], digits=[n])


def kr_passport(rng):
    """Korean passports: a type letter and eight digits; since Dec 2021 letter, three
    digits, a letter and four digits."""
    if rng.random() < 0.5:
        v = rng.choice("MSRGD") + f"{rng.randrange(10**8):08d}"
        return item(v, "letter8")
    v = rng.choice("MSRGD") + f"{rng.randrange(1000):03d}" + rng.choice("ABCDEFGHJK") + f"{rng.randrange(10**4):04d}"
    return item(v, "new_2021")


def us_ssn(rng, plain_ok=True):
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    grp, serial = rng.randint(1, 99), rng.randint(1, 9999)
    n = f"{area:03d}{grp:02d}{serial:04d}"
    forms = [(f"{n[:3]}-{n[3:5]}-{n[5:]}", "dash"), (f"{n[:3]} {n[3:5]} {n[5:]}", "spaces")]
    if plain_ok:
        forms.append((n, "plain"))
    w, var = rng.choice(forms)
    return item(w, var, digits=[n])


# ------------------------------------------------------------------ IBAN (SWIFT registry)

# Country: BBAN layout in the registry's notation (n digits, a upper-case letters, c alnum).
IBAN_BBAN = {
    "AD": "4n4n12c", "AE": "3n16n", "AT": "5n11n", "AZ": "4a20c", "BA": "3n3n8n2n",
    "BG": "4a4n2n8c", "BH": "4a14c", "BR": "8n5n10n1a1c", "CR": "4n14n", "CY": "3n5n16c",
    "CZ": "4n6n10n", "DK": "4n9n1n", "EE": "2n2n11n1n", "EG": "4n4n17n", "FI": "3n11n",
    "GR": "3n4n16c", "HR": "7n10n", "HU": "3n4n1n15n1n", "IE": "4a6n8n", "IL": "3n3n13n",
    "IS": "4n2n6n10n", "JO": "4a4n18c", "KW": "4a22c", "KZ": "3n13c", "LT": "5n11n",
    "LU": "3n13c", "LV": "4a13c", "MT": "4a5n18c", "PK": "4a16c", "PT": "4n4n11n2n",
    "QA": "4a21c", "RO": "4a16c", "SA": "2n18c", "SE": "3n16n1n", "SI": "5n8n2n",
    "SK": "4n6n10n", "TR": "5n1n16c", "UA": "6n19c", "NO": "4n6n1n", "BE": "3n7n2n",
    "MU": "4a2n2n12n3n3a",
}
IBAN_LEN = {"AD": 24, "AE": 23, "AT": 20, "AZ": 28, "BA": 20, "BG": 22, "BH": 22, "BR": 29,
            "CR": 22, "CY": 28, "CZ": 24, "DK": 18, "EE": 20, "EG": 29, "FI": 18, "GR": 27,
            "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "JO": 30, "KW": 30, "KZ": 20,
            "LT": 20, "LU": 20, "LV": 21, "MT": 31, "PK": 24, "PT": 25, "QA": 29, "RO": 24,
            "SA": 24, "SE": 24, "SI": 19, "SK": 24, "TR": 26, "UA": 29, "NO": 15, "BE": 16,
            "MU": 30}


def _bban(rng, layout):
    out, num = "", ""
    for ch in layout:
        if ch.isdigit():
            num += ch
            continue
        n, num = int(num), ""
        alpha = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}[ch]
        out += rand(rng, alpha, n)
    return out


def iban(rng):
    cc = rng.choice(sorted(IBAN_BBAN))
    bban = _bban(rng, IBAN_BBAN[cc])
    v = cc + iban_check(cc, bban) + bban
    assert len(v) == IBAN_LEN[cc], cc
    k = rng.randrange(3)
    if k == 0:
        return item(v, f"{cc}_compact")
    grouped = " ".join(v[i:i + 4] for i in range(0, len(v), 4))
    if k == 1:
        return item(v, f"{cc}_grouped", written=grouped)
    return item(v, f"{cc}_iban_prefix", written="IBAN " + grouped)


# ------------------------------------------------------------------ dates of birth

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


def date_of_birth(rng):
    y, m, d = _birth(rng)
    forms = [(f"{y:04d}-{m:02d}-{d:02d}", "iso"), (f"{d:02d}/{m:02d}/{y:04d}", "dd_mm_yyyy"),
             (f"{d:02d}.{m:02d}.{y:04d}", "dd.mm.yyyy"), (f"{MONTHS[m - 1]} {d}, {y}", "month_name"),
             (f"{d} {MONTHS[m - 1][:3]} {y}", "d_mon_yyyy"), (f"{y}년 {m}월 {d}일", "korean"),
             (f"{y:04d}{m:02d}{d:02d}", "yyyymmdd"), (f"{y}-{m}-{d}", "iso_unpadded"),
             (f"{y:04d}-{m:02d}-{d:02d}T00:00:00Z", "iso_datetime"), (f"{m}/{d}/{y % 100:02d}", "m_d_yy")]
    w, var = rng.choice(forms)
    return item(w, var)


# ------------------------------------------------------------------ secrets

PW_WORDS = ["Sunflower", "Tiger", "Bluebird", "Maple", "Harbor", "Galaxy", "Pepper", "Winter", "Orbit", "Lotus"]
PW_SYMBOLS = "!#$^*-_.~+=?"


def password(rng):
    k = rng.randrange(3)
    if k == 0:
        v = rng.choice(PW_WORDS) + str(rng.randint(1970, 2026)) + rng.choice(PW_SYMBOLS)
        var = "word_year_symbol"
    elif k == 1:
        v = rand(rng, ALNUM + PW_SYMBOLS, rng.randint(10, 20))
        var = "random"
    else:
        v = "-".join(rand(rng, string.ascii_lowercase, rng.randint(4, 7)) for _ in range(4))
        var = "passphrase"
    return item(v, var)


def aws_access_key(rng):
    v = rng.choice(["AKIA", "ASIA"]) + rand(rng, B32, 16)
    return item(v, v[:4].lower())


def aws_secret_key(rng):
    return item(rand(rng, B64, 40), "base64_40")


def github_token(rng):
    if rng.random() < 0.5:
        pre = rng.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"])
        r = rand(rng, B62, 30)
        return item(pre + r + crc32_b62(r), pre.rstrip("_") + "_crc32")
    v = "github_pat_" + rand(rng, B62, 22) + "_" + rand(rng, B62, 59)
    return item(v, "fine_grained")


def gitlab_token(rng):
    k = rng.randrange(3)
    if k == 0:
        return item("glpat-" + rand(rng, B64URL, 20), "glpat")
    if k == 1:
        return item("glptt-" + rand(rng, HEX, 40), "glptt_trigger")
    return item("gloas-" + rand(rng, HEX, 64), "gloas_oauth_secret")


def slack_token(rng):
    k = rng.randrange(4)
    if k == 0:
        v = f"xoxb-{rng.randrange(10**11, 10**12)}-{rng.randrange(10**12, 10**13)}-{rand(rng, ALNUM, 24)}"
        var = "xoxb"
    elif k == 1:
        v = f"xoxp-{rng.randrange(10**11, 10**12)}-{rng.randrange(10**11, 10**12)}-{rng.randrange(10**12, 10**13)}-{rand(rng, HEX, 32)}"
        var = "xoxp"
    elif k == 2:
        v = f"xapp-1-A{rand(rng, string.ascii_uppercase + string.digits, 10)}-{rng.randrange(10**12, 10**13)}-{rand(rng, HEX, 64)}"
        var = "xapp"
    else:
        v = f"xoxe.xoxp-1-{rand(rng, B64URL, 140)}"
        var = "xoxe_rotating"
    return item(v, var)


def slack_webhook(rng):
    t = "T" + rand(rng, string.ascii_uppercase + string.digits, 10)
    b = "B" + rand(rng, string.ascii_uppercase + string.digits, 10)
    s = rand(rng, ALNUM, 24)
    if rng.random() < 0.7:
        v = f"https://hooks.slack.com/services/{t}/{b}/{s}"
        return item(v, "services", fragments=[s])
    a = "A" + rand(rng, string.ascii_uppercase + string.digits, 10)
    v = f"https://hooks.slack.com/workflows/{t}/{a}/{rng.randrange(10**17, 10**18)}/{s}"
    return item(v, "workflows", fragments=[s])


def webhook_url(rng):
    """Other incoming webhooks whose URL is the credential."""
    k = rng.randrange(3)
    if k == 0:
        tok = rand(rng, B64URL, 68)
        v = f"https://discord.com/api/webhooks/{rng.randrange(10**17, 10**18)}/{tok}"
        return item(v, "discord", fragments=[tok])
    if k == 1:
        sig = rand(rng, B64URL, 43)
        g1, g2 = [f"{rand(rng, HEX, 8)}-{rand(rng, HEX, 4)}-{rand(rng, HEX, 4)}-{rand(rng, HEX, 4)}-{rand(rng, HEX, 12)}" for _ in range(2)]
        v = (f"https://prod-{rng.randint(10, 99)}.westeurope.logic.azure.com:443/workflows/{rand(rng, HEX, 32)}"
             f"/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={sig}")
        del g1, g2
        return item(v, "teams_workflow", fragments=[sig])
    # Google Chat incoming webhook: the space, and the key and token that authorise posting.
    # (Drawn from a generator seeded by the first draws, so the other values stay as they were
    # when this variant was a Mattermost URL, which the README's closed list does not claim.)
    seed = rand(rng, string.ascii_lowercase + string.digits, 26) + rng.choice(["example.com", "corp.example.net"])
    sub = random.Random(seed)
    space = "AAAA" + rand(sub, B64URL, 7)
    key = "AIzaSy" + rand(sub, B64URL, 33)
    tok = rand(sub, B64URL, 43) + "%3D"
    v = f"https://chat.googleapis.com/v1/spaces/{space}/messages?key={key}&token={tok}"
    return item(v, "google_chat", fragments=[tok[:-3]])


def stripe_key(rng):
    k = rng.randrange(3)
    if k == 0:
        return item("sk_live_" + rand(rng, ALNUM, rng.choice([24, 99])), "sk_live")
    if k == 1:
        return item("rk_live_" + rand(rng, ALNUM, rng.choice([24, 99])), "rk_live")
    return item("whsec_" + rand(rng, ALNUM, 32), "whsec")


def google_api_key(rng):
    return item("AIza" + rand(rng, B64URL, 35), "aiza")


def sendgrid_key(rng):
    return item("SG." + rand(rng, B64URL, 22) + "." + rand(rng, B64URL, 43), "sg")


def twilio_key(rng):
    return item("SK" + rand(rng, HEX, 32), "sk_sid")


def openai_key(rng):
    k = rng.randrange(3)
    if k == 0:
        return item("sk-proj-" + rand(rng, B64URL, 74) + "T3BlbkFJ" + rand(rng, B64URL, 74), "sk_proj")
    if k == 1:
        return item("sk-svcacct-" + rand(rng, B64URL, 74) + "T3BlbkFJ" + rand(rng, B64URL, 74), "sk_svcacct")
    return item("sk-" + rand(rng, ALNUM, 20) + "T3BlbkFJ" + rand(rng, ALNUM, 20), "sk_legacy")


def anthropic_key(rng):
    k = rng.randrange(2)
    pre = ["sk-ant-api03-", "sk-ant-admin01-"][k]
    return item(pre + rand(rng, B64URL, 93) + "AA", ["api03", "admin01"][k])


def hf_token(rng):
    return item("hf_" + rand(rng, string.ascii_letters, 34), "hf")


def npm_token(rng):
    r = rand(rng, B62, 30)
    return item("npm_" + r + crc32_b62(r), "npm_crc32")


def pypi_token(rng):
    # A macaroon: its first bytes are the location "pypi.org" (base64 AgEIcHlwaS5vcmc).
    ident = f"{rand(rng, HEX, 8)}-{rand(rng, HEX, 4)}-{rand(rng, HEX, 4)}-{rand(rng, HEX, 4)}-{rand(rng, HEX, 12)}"
    raw = b"\x02\x01\x08pypi.org\x02\x25" + ident.encode() + b"\x00\x02" + bytes(rng.randrange(256) for _ in range(rng.randint(60, 120)))
    return item("pypi-" + b64url(raw), "macaroon")


def api_key(rng):
    k = rng.randrange(4)
    if k == 0:
        return item(rand(rng, HEX, rng.choice([32, 40, 64])), "hex")
    if k == 1:
        return item(rand(rng, ALNUM, rng.randint(32, 48)), "base62")
    if k == 2:
        return item(b64url(bytes(rng.randrange(256) for _ in range(rng.choice([24, 32, 48])))), "base64url")
    return item(f"{rand(rng, HEX, 8)}-{rand(rng, HEX, 4)}-4{rand(rng, HEX, 3)}-a{rand(rng, HEX, 3)}-{rand(rng, HEX, 12)}", "uuid_shaped")


def azure_sas(rng):
    """Azure Storage shared access signatures (`sig=` in blob and queue SAS URLs)."""
    sig = base64.b64encode(bytes(rng.randrange(256) for _ in range(32))).decode()
    if rng.random() < 0.5:
        enc = sig.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
        acct = rng.choice(["stprodlogs", "mediaexample", "backupkr01"])
        url = (f"https://{acct}.blob.core.windows.net/exports/report.csv?sv=2022-11-02&ss=b&srt=o"
               f"&sp=r&se=2026-12-31T00:00:00Z&spr=https&sig={enc}")
        return dict(item(sig, "sas_sig", written=url, fragments=[enc]), whole=True)
    # A queue-service SAS with `sig` before other parameters. (This variant was an account key
    # in a connection string, which the policy does not claim; its draws are kept so the
    # set's other values stay as they were.)
    for _ in range(64):
        rng.randrange(256)
    acct = rng.choice(["stprodlogs", "mediaexample"])
    enc = sig.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    url = (f"https://{acct}.queue.core.windows.net/jobs?sv=2022-11-02&sig={enc}&ss=q&srt=sco"
           f"&sp=rwdlacup&st=2026-12-01T00:00:00Z&se=2027-01-01T00:00:00Z&spr=https")
    return dict(item(sig, "sas_sig_queue", written=url, fragments=[enc]), whole=True)


def jwt(rng):
    alg = rng.choice(["HS256", "RS256", "ES256", "none", "EdDSA"])
    hdr = {"alg": alg, "typ": "JWT"}
    if alg != "none" and rng.random() < 0.5:
        hdr["kid"] = rand(rng, B64URL, 16)
    claims = {"sub": str(rng.randrange(10**6, 10**9)), "iat": 1796000000 + rng.randrange(10**6),
              "exp": 1796600000 + rng.randrange(10**6), "iss": rng.choice(["https://auth.example.com", "api", "https://login.example.org/tenant"])}
    if rng.random() < 0.5:
        claims["scope"] = rng.choice(["read write", "openid profile email", "admin"])
    h = b64url(json.dumps(hdr, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    if alg == "none":
        v = f"{h}.{p}."
        return item(v, "unsigned", fragments=[p])
    size = {"HS256": 32, "RS256": 256, "ES256": 64, "EdDSA": 64}[alg]
    s = b64url(bytes(rng.randrange(256) for _ in range(size)))
    return item(f"{h}.{p}.{s}", alg.lower(), fragments=[p, s])


PEM_LABELS = ["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY",
              "OPENSSH PRIVATE KEY", "DSA PRIVATE KEY"]


def private_key(rng):
    label = rng.choice(PEM_LABELS)
    size = {"RSA PRIVATE KEY": 1190, "EC PRIVATE KEY": 121, "PRIVATE KEY": 1218,
            "ENCRYPTED PRIVATE KEY": 1298, "OPENSSH PRIVATE KEY": 399, "DSA PRIVATE KEY": 444}[label]
    lead = {"RSA PRIVATE KEY": b"\x30\x82\x04\xa2\x02\x01\x00\x02\x82\x01\x01\x00",
            "EC PRIVATE KEY": b"\x30\x77\x02\x01\x01\x04\x20",
            "PRIVATE KEY": b"\x30\x82\x04\xbe\x02\x01\x00\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00",
            "ENCRYPTED PRIVATE KEY": b"\x30\x82\x05\x0e\x30\x40\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x05\x0d",
            "OPENSSH PRIVATE KEY": b"openssh-key-v1\x00",
            "DSA PRIVATE KEY": b"\x30\x82\x01\xbb\x02\x01\x00"}[label]
    data = lead + bytes(rng.randrange(256) for _ in range(size - len(lead)))
    width = 70 if label == "OPENSSH PRIVATE KEY" else 64
    b = base64.b64encode(data).decode()
    lines = [b[i:i + width] for i in range(0, len(b), width)]
    cut = rng.random() < 0.2
    if cut:
        lines = lines[: max(2, len(lines) // 2)]
        v = f"-----BEGIN {label}-----\n" + "\n".join(lines)
    else:
        v = f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"
    var = label.lower().replace(" ", "_") + ("_cut" if cut else "")
    frags = [ln for ln in lines if len(ln) >= 16]
    return item(v, var, fragments=frags)


def session_cookie(rng):
    k = rng.randrange(8)
    if k == 0:
        name, v = "JSESSIONID", rand(rng, "0123456789ABCDEF", 32)
    elif k == 1:
        name, v = "PHPSESSID", rand(rng, string.ascii_lowercase + string.digits, 26)
    elif k == 2:
        name, v = "connect.sid", "s%3A" + rand(rng, B64URL, 32) + "." + rand(rng, B64, 43).replace("+", "%2B").replace("/", "%2F")
    elif k == 3:
        name, v = "ASP.NET_SessionId", rand(rng, string.ascii_lowercase + "012345", 24)
    elif k == 4:
        name, v = "laravel_session", b64url(bytes(rng.randrange(256) for _ in range(96)))
    elif k == 5:
        name, v = "__Host-session", rand(rng, B64URL, 43)
    elif k == 6:
        name, v = "_gitlab_session", rand(rng, HEX, 32)
    else:
        name, v = "sessionid", rand(rng, string.ascii_lowercase + string.digits, 32)
    return dict(item(v, name), cookie=name)


def url_credentials(rng):
    user = rng.choice(["admin", "svc_etl", "app", "deploy", "report", "root", "backup"])
    pw = password(rng)["value"]
    enc = "".join(c if c.isalnum() or c in "-._~" else "%%%02X" % ord(c) for c in pw)
    scheme, host = rng.choice([("postgresql", "db.internal.example:5432/app"), ("mysql", "10.20.0.5:3306/orders"),
                               ("redis", "cache.example.net:6379/0"), ("amqps", "mq.example.com/vhost"),
                               ("mongodb+srv", "cluster0.example.mongodb.net/test"), ("sftp", "files.example.org:22/in"),
                               ("https", "registry.example.com/v2/"), ("smtp", "smtp.example.com:587")])
    url = f"{scheme}://{user}:{enc}@{host}"
    return dict(item(pw, scheme, written=url, fragments=[enc] if enc != pw else []), whole=True)


def basic_auth(rng):
    user = rng.choice(FIRST) + rng.choice(["", ".ops", "@example.com", "_svc"])
    pw = password(rng)["value"]
    cred = base64.b64encode(f"{user}:{pw}".encode()).decode()
    return dict(item(cred, "basic", written="Basic " + cred, fragments=[f"{user}:{pw}", pw]), whole=True)


def ipv4(rng):
    while True:
        a = rng.randint(1, 223)
        if a in (10, 127, 0, 100, 169, 172, 192, 198, 203):
            continue
        v = f"{a}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}"
        break
    k = rng.randrange(3)
    if k == 0:
        return item(v, "plain")
    if k == 1:
        return item(v, "with_port", written=f"{v}:{rng.randint(1024, 65535)}")
    return item(v, "xff")


def ipv6(rng):
    groups = [f"{rng.choice(['2001', '2a00', '2a01', '2604', '2600', '2406', '2c0f'])}"] + [f"{rng.randrange(1, 0x10000):x}" for _ in range(7)]
    k = rng.randrange(6)
    if k == 0:
        return item(":".join(groups), "full")
    if k == 1:
        v = ":".join(groups[:3]) + "::" + ":".join(groups[6:])
        return item(v, "compressed")
    if k == 2:
        v = ":".join(groups[:4]) + "::" + groups[7]
        return item(v, "bracket_port", written=f"[{v}]:{rng.randint(1024, 65535)}")
    if k == 3:
        v = f"::ffff:{rng.randint(11, 99)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randint(1, 254)}"
        return item(v, "v4_mapped")
    if k == 4:
        v = ":".join(groups[:2]) + "::" + ":".join(groups[5:]) + "%eth0"
        return item(v, "zone_id")
    v = ":".join(g.upper() for g in groups[:3]) + "::" + groups[7].upper()
    return item(v, "upper_case")


# ------------------------------------------------------------------ hard negatives


def neg_isbn13(rng):
    body = rng.choice(["978", "979"]) + f"{rng.randrange(10**9):09d}"
    n = body + gtin_check_digit(body)
    return rng.choice([n, f"{n[:3]}-{n[3]}-{n[4:8]}-{n[8:12]}-{n[12]}"])


def neg_imei(rng):
    tac = rng.choice(["35", "86", "01"]) + f"{rng.randrange(10**6):06d}"
    body = tac + f"{rng.randrange(10**6):06d}"
    return body + luhn_check_digit(body)


def neg_luhn_order_number(rng):
    body = rng.choice("179") + "".join(str(rng.randrange(10)) for _ in range(14))
    return body + luhn_check_digit(body)


def neg_aws_arn(rng):
    acct = f"{rng.randrange(10**11, 10**12)}"
    return rng.choice([f"arn:aws:iam::{acct}:role/{rng.choice(['deploy', 'app-runtime', 'ReadOnly'])}",
                       f"arn:aws:sqs:eu-west-1:{acct}:orders-{rng.randrange(100)}",
                       f"arn:aws:lambda:ap-northeast-2:{acct}:function:resize-images",
                       f"arn:aws:sns:us-east-1:{acct}:alerts"])


def neg_request_id(rng):
    k = rng.randrange(3)
    if k == 0:
        return "01" + rand(rng, "0123456789ABCDEFGHJKMNPQRSTVWXYZ", 24)  # ULID
    if k == 1:
        return f"Root=1-{rand(rng, HEX, 8)}-{rand(rng, HEX, 24)}"  # AWS X-Ray trace header
    return "req_" + rand(rng, HEX, 24)


def neg_etag(rng):
    return rng.choice([f'W/"{rand(rng, HEX, 40)}"', f'"{rand(rng, HEX, 32)}"', f'"{rand(rng, HEX, 32)}-{rng.randint(2, 40)}"'])


def neg_container_id(rng):
    return rand(rng, HEX, 64)


def neg_oid(rng):
    return rng.choice(["1.2.840.113549.1.1.11", "1.3.6.1.5.5.7.1.1", "1.3.6.1.5.5.7.3.1", "2.16.840.1.101.3.4.2.1"]) if rng.random() < 0.3 else \
        f"1.3.6.1.4.1.{rng.randint(1000, 60000)}.{rng.randint(1, 20)}.{rng.randint(1, 9)}.{rng.randint(0, 99)}"


def neg_zip4(rng):
    return f"{rng.randint(501, 99950):05d}-{rng.randint(1, 9999):04d}"


def neg_lat_lon(rng):
    return f"{rng.uniform(-80, 80):.6f},{rng.uniform(-179, 179):.6f}" if rng.random() < 0.5 else \
        f"{rng.uniform(-80, 80):.4f}, {rng.uniform(-179, 179):.4f}"


def neg_css_color(rng):
    return rng.choice([f"#{rand(rng, HEX, 6)}", f"rgb({rng.randrange(256)}, {rng.randrange(256)}, {rng.randrange(256)})",
                       f"#{rand(rng, HEX, 8)}", f"hsl({rng.randrange(360)}, {rng.randrange(101)}%, {rng.randrange(101)}%)"])


def neg_iso_duration(rng):
    return rng.choice([f"P{rng.randint(1, 9)}Y{rng.randint(1, 11)}M{rng.randint(1, 28)}DT{rng.randint(1, 23)}H{rng.randint(1, 59)}M",
                       f"PT{rng.randint(1, 72)}H", f"PT{rng.randint(1, 59)}M{rng.randint(1, 59)}.{rng.randrange(1000):03d}S",
                       f"P{rng.randint(1, 52)}W"])


def neg_windows_sid(rng):
    return f"S-1-5-21-{rng.randrange(10**9, 4 * 10**9)}-{rng.randrange(10**9, 4 * 10**9)}-{rng.randrange(10**8, 4 * 10**9)}-{rng.randint(500, 9999)}"


def neg_semver_range(rng):
    a, b, c = rng.randint(0, 20), rng.randint(0, 30), rng.randint(0, 40)
    return rng.choice([f"^{a}.{b}.{c}", f"~{a}.{b}.{c}", f">={a}.{b}.{c} <{a + 1}.0.0", f"{a}.{b}.x", f"~> {a}.{b}"])


def neg_build_version(rng):
    return rng.choice([f"10.0.{rng.randint(10000, 26100)}.{rng.randint(1, 5000)}",
                       f"{rng.randint(1, 200)}.{rng.randint(0, 255)}.{rng.randint(0, 9999)}.{rng.randint(0, 255)}",
                       f"{rng.randint(100, 130)}.0.{rng.randint(5000, 6999)}.{rng.randint(10, 250)}"])


def neg_base64_image(rng):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.randrange(256) for _ in range(rng.randint(60, 120)))
    return "data:image/png;base64," + base64.b64encode(png).decode()


def neg_sha256(rng):
    return hashlib.sha256(bytes(rng.randrange(256) for _ in range(16))).hexdigest()


def neg_uuid(rng):
    return f"{rand(rng, HEX, 8)}-{rand(rng, HEX, 4)}-4{rand(rng, HEX, 3)}-{rng.choice('89ab')}{rand(rng, HEX, 3)}-{rand(rng, HEX, 12)}"


def neg_trace_id(rng):
    return rand(rng, HEX, 32)


def neg_span_id(rng):
    return rand(rng, HEX, 16)


def neg_ean13(rng):
    body = rng.choice(["880", "400", "450", "690", "300", "500"]) + f"{rng.randrange(10**9):09d}"
    return body + gtin_check_digit(body)


def neg_upc_a(rng):
    body = f"{rng.randint(0, 9)}{rng.randrange(10**10):010d}"
    return body + gtin_check_digit(body)


def neg_non_luhn_16(rng):
    while True:
        n = f"{rng.randint(1, 9)}{rng.randrange(10**15):015d}"
        if not luhn_ok(n):
            return n


def neg_non_rrn_13(rng):
    while True:
        n = f"{rng.randrange(10**13):013d}"
        y, m, d = 1900 + int(n[:2]), int(n[2:4]), int(n[4:6])
        if not luhn_ok(n) and not real_date(y, m, d):
            return n


def neg_kr_rep_number(rng):
    return f"{rng.choice(['1588', '1577', '1544', '1600', '1644', '1661', '1899', '1566', '1855'])}-{rng.randrange(10000):04d}"


def neg_timestamp(rng):
    return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}{rng.choice(['Z', '+09:00', '-05:00', '+01:00'])}"


def neg_epoch_ms(rng):
    return str(rng.randrange(1_700_000_000_000, 1_800_000_000_000))


def neg_non_dob_date(rng):
    y, m, d = rng.randint(2019, 2027), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{y}/{m:02d}/{d:02d}"])


NEGATIVES = {
    "isbn13": (neg_isbn13, ["isbn", "ISBN", "isbn13"]),
    "imei": (neg_imei, ["imei", "deviceImei", "IMEI"]),
    "luhn_order_number": (neg_luhn_order_number, ["order_no", "orderNumber", "invoice_no", "주문번호"]),
    "aws_arn": (neg_aws_arn, ["arn", "roleArn", "resource", "topic_arn"]),
    "request_id": (neg_request_id, ["request_id", "x-request-id", "X-Amzn-Trace-Id", "reqId"]),
    "etag": (neg_etag, ["etag", "ETag", "If-None-Match"]),
    "container_id": (neg_container_id, ["container_id", "containerID", "docker.id"]),
    "oid": (neg_oid, ["oid", "sigAlgOid", "policy_oid"]),
    "zip4": (neg_zip4, ["zip", "postal_code", "zipCode"]),
    "lat_lon": (neg_lat_lon, ["location", "latlng", "geo"]),
    "css_color": (neg_css_color, ["color", "theme_color", "background"]),
    "iso_duration": (neg_iso_duration, ["duration", "ttl", "retention"]),
    "windows_sid": (neg_windows_sid, ["SubjectUserSid", "sid", "TargetSid"]),
    "semver_range": (neg_semver_range, ["requires", "engines", "version_constraint"]),
    "build_version": (neg_build_version, ["version", "build", "os_version", "FileVersion"]),
    "base64_image": (neg_base64_image, ["avatar", "thumbnail", "image"]),
    "sha256": (neg_sha256, ["sha256", "checksum", "digest"]),
    "uuid": (neg_uuid, ["uuid", "user_uuid", "correlationId"]),
    "trace_id": (neg_trace_id, ["trace_id", "traceId", "otel.trace_id"]),
    "span_id": (neg_span_id, ["span_id", "spanId", "parent_span_id"]),
    "ean13": (neg_ean13, ["ean", "barcode", "gtin"]),
    "upc_a": (neg_upc_a, ["upc", "barcode", "sku_upc"]),
    "non_luhn_16": (neg_non_luhn_16, ["ticket_no", "shipment_id", "ref"]),
    "non_rrn_13": (neg_non_rrn_13, ["tracking_no", "waybill", "doc_no"]),
    "kr_rep_number": (neg_kr_rep_number, ["대표번호", "support_line", "hotline"]),
    "timestamp": (neg_timestamp, ["ts", "time", "@timestamp", "created_at"]),
    "epoch_ms": (neg_epoch_ms, ["epoch_ms", "ts_ms", "receivedAt"]),
    "non_dob_date": (neg_non_dob_date, ["shipped_on", "expires", "due_date", "created"]),
}
