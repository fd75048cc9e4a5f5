"""PII values and hard negatives of the sixth set, each built from its public definition.

Every function takes the generator's `random.Random` and returns a dict:
`value` (the decoded value), `text` (how it is written), `variant`, and where they apply
`digits` (digits-only forms) and `fragments` (secret parts of a larger value).
"""

import base64
import hashlib
import json
import string
import struct
import uuid
import zlib

B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64URL = string.ascii_letters + string.digits + "-_"
B64 = string.ascii_letters + string.digits + "+/"
HEX = "0123456789abcdef"
B32 = string.ascii_uppercase + "234567"


def rs(r, alphabet, n):
    return "".join(r.choice(alphabet) for _ in range(n))


def item(variant, value, text=None, digits=(), fragments=()):
    return {
        "variant": variant,
        "value": value,
        "text": value if text is None else text,
        "digits": [d for d in digits if d],
        "fragments": [f for f in fragments if f],
    }


def fullwidth(s):
    """Digits, '-' and '+' as their full-width forms (U+FF10..U+FF19, U+FF0D, U+FF0B)."""
    out = []
    for c in s:
        if c.isdigit():
            out.append(chr(0xFF10 + int(c)))
        elif c == "-":
            out.append("\uff0d")
        elif c == "+":
            out.append("\uff0b")
        else:
            out.append(c)
    return "".join(out)


# ----------------------------------------------------------------- checksums


def luhn_check_digit(body):
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


def gs1_check_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return str((10 - total % 10) % 10)


def mod97(s):
    n = "".join(str(int(c, 36)) for c in s)
    return int(n) % 97


def iban_check(country, bban):
    return "%02d" % (98 - mod97(bban + country + "00"))


def base62_crc32(s):
    v = zlib.crc32(s.encode()) & 0xFFFFFFFF
    out = ""
    while v:
        v, d = divmod(v, 62)
        out = B62[d] + out
    return out.rjust(6, "0")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ----------------------------------------------------------------- phones

KR_AREA = ["02", "031", "032", "033", "041", "042", "043", "044", "051", "052", "053", "054",
           "055", "061", "062", "063", "064"]


def kr_mobile(r):
    prefix = r.choice(["010"] * 6 + ["011", "016", "017", "018", "019"])
    if prefix == "010":
        mid = str(r.randint(2, 9)) + rs(r, "0123456789", 3)
    else:
        mid = str(r.randint(2, 9)) + rs(r, "0123456789", r.choice([2, 3]))
    last = rs(r, "0123456789", 4)
    nat = prefix + mid + last
    intl = "82" + nat[1:]
    spell = r.choice(["dash", "plain", "space", "dot", "plus82", "plus82_dash", "0082",
                      "paren82", "plus82_0", "fullwidth"])
    p, m, l = prefix, mid, last
    text = {
        "dash": f"{p}-{m}-{l}",
        "plain": f"{p}{m}{l}",
        "space": f"{p} {m} {l}",
        "dot": f"{p}.{m}.{l}",
        "plus82": f"+82 {p[1:]} {m} {l}",
        "plus82_dash": f"+82-{p[1:]}-{m}-{l}",
        "0082": f"0082-{p[1:]}-{m}-{l}",
        "paren82": f"(+82) {p[1:]}-{m}-{l}",
        "plus82_0": f"+82 (0){p[1:]}-{m}-{l}",
        "fullwidth": fullwidth(f"{p}-{m}-{l}"),
    }[spell]
    value = text if spell != "fullwidth" else f"{p}-{m}-{l}"
    return item(spell, value, text, digits=[nat, intl])


def kr_safe_number(r):
    n = str(r.randint(2, 7))
    if r.random() < 0.6:
        mid, last = rs(r, "0123456789", 4), rs(r, "0123456789", 4)
    else:
        mid, last = str(r.randint(2, 9)) + rs(r, "0123456789", 2), rs(r, "0123456789", 4)
    spell = r.choice(["dash", "dash", "plain", "space"])
    sep = {"dash": "-", "plain": "", "space": " "}[spell]
    text = f"050{n}{sep}{mid}{sep}{last}"
    return item(spell, text, digits=[f"050{n}{mid}{last}"])


def kr_landline(r):
    area = r.choice(KR_AREA + ["070"])
    if area == "02":
        mid = str(r.randint(2, 9)) + rs(r, "0123456789", r.choice([2, 3]))
    elif area == "070":
        mid = str(r.randint(2, 9)) + rs(r, "0123456789", 3)
    else:
        mid = str(r.randint(2, 9)) + rs(r, "0123456789", r.choice([2, 3]))
    last = rs(r, "0123456789", 4)
    spell = r.choice(["dash", "paren", "space", "plus82", "paren_close", "dot"])
    text = {
        "dash": f"{area}-{mid}-{last}",
        "paren": f"({area}) {mid}-{last}",
        "space": f"{area} {mid} {last}",
        "plus82": f"+82-{area[1:]}-{mid}-{last}",
        "paren_close": f"{area}){mid}-{last}",
        "dot": f"{area}.{mid}.{last}",
    }[spell]
    return item(spell, text, digits=[area + mid + last, "82" + area[1:] + mid + last])


def nanp(r):
    while True:
        npa = str(r.randint(2, 9)) + str(r.randint(0, 8)) + str(r.randint(0, 9))
        if npa[1:] != "11":
            break
    if r.random() < 0.5:
        nxx, line = "555", "01" + rs(r, "0123456789", 2)
    else:
        while True:
            nxx = str(r.randint(2, 9)) + rs(r, "0123456789", 2)
            if nxx[1:] != "11":
                break
        line = rs(r, "0123456789", 4)
    return npa, nxx, line


def us_phone(r, plain_ok=False):
    npa, nxx, line = nanp(r)
    spells = ["paren", "dash", "dot", "one_dash", "plus1_space", "plus1_paren", "tel_uri"]
    if plain_ok:
        spells += ["plain", "space"]
    spell = r.choice(spells)
    text = {
        "paren": f"({npa}) {nxx}-{line}",
        "dash": f"{npa}-{nxx}-{line}",
        "dot": f"{npa}.{nxx}.{line}",
        "one_dash": f"1-{npa}-{nxx}-{line}",
        "plus1_space": f"+1 {npa} {nxx} {line}",
        "plus1_paren": f"+1 ({npa}) {nxx}-{line}",
        "tel_uri": f"+1-{npa}-{nxx}-{line}",
        "plain": f"{npa}{nxx}{line}",
        "space": f"{npa} {nxx} {line}",
    }[spell]
    return item(spell, text, digits=[npa + nxx + line, "1" + npa + nxx + line])


# E.164 numbers of countries the other sets do not use, by their national numbering plans:
# (country code, national significant number pattern, grouping).
INTL = [
    ("84", lambda r: "9" + rs(r, "0123456789", 8), (2, 3, 4)),          # Viet Nam mobile 9x
    ("62", lambda r: "81" + rs(r, "0123456789", 8), (3, 4, 3)),         # Indonesia Telkomsel 081x
    ("52", lambda r: "55" + str(r.randint(1, 9)) + rs(r, "0123456789", 7), (2, 4, 4)),  # Mexico City
    ("234", lambda r: "803" + rs(r, "0123456789", 7), (3, 3, 4)),       # Nigeria MTN 0803
    ("90", lambda r: "53" + str(r.randint(0, 9)) + rs(r, "0123456789", 7), (3, 3, 2, 2)),  # Turkey
    ("48", lambda r: "5" + str(r.randint(0, 1)) + rs(r, "0123456789", 7), (3, 3, 3)),  # Poland
    ("34", lambda r: "6" + rs(r, "0123456789", 8), (3, 3, 3)),          # Spain mobile 6
    ("31", lambda r: "6" + str(r.randint(1, 5)) + rs(r, "0123456789", 7), (1, 4, 4)),  # NL 06
    ("65", lambda r: r.choice("89") + rs(r, "0123456789", 7), (4, 4)),  # Singapore
    ("63", lambda r: "917" + rs(r, "0123456789", 7), (3, 3, 4)),        # Philippines
    ("20", lambda r: "10" + rs(r, "0123456789", 8), (2, 4, 4)),         # Egypt Vodafone 010
    ("27", lambda r: "82" + rs(r, "0123456789", 7), (2, 3, 4)),         # South Africa 082
    ("966", lambda r: "5" + str(r.randint(0, 9)) + rs(r, "0123456789", 7), (2, 3, 4)),  # Saudi
    ("972", lambda r: "5" + str(r.randint(0, 8)) + rs(r, "0123456789", 7), (2, 3, 4)),  # Israel
    ("380", lambda r: "67" + rs(r, "0123456789", 7), (2, 3, 2, 2)),     # Ukraine Kyivstar
    ("66", lambda r: r.choice("689") + rs(r, "0123456789", 8), (2, 3, 4)),  # Thailand
]


def phone_intl(r):
    cc, nsn_fn, groups = r.choice(INTL)
    nsn = nsn_fn(r)
    parts, i = [], 0
    for g in groups:
        parts.append(nsn[i:i + g])
        i += g
    spell = r.choice(["compact", "spaced", "dashed", "tel_uri"])
    text = {
        "compact": f"+{cc}{nsn}",
        "spaced": f"+{cc} " + " ".join(parts),
        "dashed": f"+{cc}-" + "-".join(parts),
        "tel_uri": f"+{cc}-" + "-".join(parts),
    }[spell]
    return item(f"{cc}_{spell}", text, digits=[cc + nsn])


# ----------------------------------------------------------------- cards

CARD_ISSUERS = [
    ("visa16", lambda r: "4" + rs(r, "0123456789", 5), 16),
    ("visa19", lambda r: "4" + rs(r, "0123456789", 5), 19),
    ("mc", lambda r: str(r.randint(51, 55)) + rs(r, "0123456789", 4), 16),
    ("mc2", lambda r: str(r.randint(2221, 2720)) + rs(r, "0123456789", 2), 16),
    ("amex", lambda r: r.choice(["34", "37"]) + rs(r, "0123456789", 4), 15),
    ("discover", lambda r: r.choice(["6011", "65" + rs(r, "0123456789", 2),
                                     str(r.randint(644, 649)) + rs(r, "0123456789", 1)]) + "00", 16),
    ("jcb", lambda r: str(r.randint(3528, 3589)) + rs(r, "0123456789", 2), 16),
    ("diners", lambda r: r.choice(["36", "30" + str(r.randint(0, 5))]) + rs(r, "0123456789", 3), 14),
    ("unionpay16", lambda r: "62" + rs(r, "0123456789", 4), 16),
    ("unionpay19", lambda r: "62" + rs(r, "0123456789", 4), 19),
    ("mir", lambda r: "220" + str(r.randint(0, 4)) + rs(r, "0123456789", 2), 16),
    ("maestro", lambda r: r.choice(["6759", "6761", "6762", "6763", "5018", "5020", "5038"])
     + rs(r, "0123456789", 2), 16),
]


def credit_card(r):
    name, iin_fn, length = r.choice(CARD_ISSUERS)
    body = iin_fn(r)
    body = body[:6] + rs(r, "0123456789", length - 1 - len(body[:6]))
    n = body + luhn_check_digit(body)
    if length == 15:
        groups = [n[:4], n[4:10], n[10:]]
    elif length == 14:
        groups = [n[:4], n[4:10], n[10:]]
    elif length == 16:
        groups = [n[i:i + 4] for i in range(0, 16, 4)]
    else:
        groups = [n[i:i + 4] for i in range(0, length, 4)]
    sep = r.choice([" ", "-", "", " ", "zwsp"])
    if sep == "zwsp":
        text = "\u200b".join(groups)
    else:
        text = sep.join(groups)
    value = n if sep == "zwsp" else text
    spell = {" ": "space", "-": "dash", "": "plain", "zwsp": "zero_width_space"}[sep]
    return item(f"{name}_{spell}", value, text, digits=[n])


# ----------------------------------------------------------------- Korean identifiers


def real_date(r, y0, y1):
    y = r.randint(y0, y1)
    m = r.randint(1, 12)
    dim = [31, 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28, 31, 30, 31, 30,
           31, 31, 30, 31, 30, 31][m - 1]
    return y, m, r.randint(1, dim)


def registration(r, foreigner=False):
    y, m, d = real_date(r, 1940, 2019)
    if foreigner:
        g = (5 if r.random() < 0.5 else 6) if y < 2000 else (7 if r.random() < 0.5 else 8)
        office = "%02d" % (r.randint(0, 49) * 2)
        rest = office + rs(r, "0123456789", 2) + str(r.randint(6, 9))
    else:
        g = (1 if r.random() < 0.5 else 2) if y < 2000 else (3 if r.random() < 0.5 else 4)
        rest = rs(r, "0123456789", 5)
    body = "%02d%02d%02d" % (y % 100, m, d) + str(g) + rest
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    s = sum(int(body[i]) * w[i] for i in range(12))
    check = ((13 if foreigner else 11) - s % 11) % 10
    n = body + str(check)
    spell = r.choice(["dash", "dash", "plain", "fullwidth", "space"])
    text = {
        "dash": f"{n[:6]}-{n[6:]}",
        "plain": n,
        "fullwidth": fullwidth(f"{n[:6]}-{n[6:]}"),
        "space": f"{n[:6]} {n[6:]}",
    }[spell]
    value = f"{n[:6]}-{n[6:]}" if spell == "fullwidth" else text
    return item(spell, value, text, digits=[n])


def kr_brn(r):
    body = str(r.randint(1, 9)) + rs(r, "0123456789", 2) + r.choice(
        ["81", "85", "86", "87", "01", "02", "05", "13", "22"]) + rs(r, "0123456789", 4)
    w = [1, 3, 7, 1, 3, 7, 1, 3, 5]
    s = sum(int(body[i]) * w[i] for i in range(9)) + int(body[8]) * 5 // 10
    n = body + str((10 - s % 10) % 10)
    spell = r.choice(["dash", "dash", "plain", "space"])
    text = {"dash": f"{n[:3]}-{n[3:5]}-{n[5:]}", "plain": n,
            "space": f"{n[:3]} {n[3:5]} {n[5:]}"}[spell]
    return item(spell, text, digits=[n])


# Banks' account groupings, with the bank's name as it is written in Korean.
BANKS = [
    ("KB국민은행", (6, 2, 6)), ("신한은행", (3, 3, 6)), ("우리은행", (4, 3, 6)),
    ("하나은행", (3, 6, 5)), ("IBK기업은행", (3, 6, 2, 3)), ("NH농협은행", (3, 4, 4, 2)),
    ("카카오뱅크", (4, 2, 7)), ("토스뱅크", (4, 4, 4)), ("SC제일은행", (3, 2, 6)),
    ("케이뱅크", (3, 3, 6)), ("부산은행", (3, 4, 4, 2)), ("우체국", (6, 2, 6)),
]


def kr_bank_account(r):
    bank, groups = r.choice(BANKS)
    parts = []
    for i, g in enumerate(groups):
        if bank == "카카오뱅크" and i == 0:
            parts.append("3333")
        elif bank == "토스뱅크" and i == 0:
            parts.append("1000")
        else:
            parts.append(str(r.randint(1, 9)) + rs(r, "0123456789", g - 1))
    n = "".join(parts)
    spell = r.choice(["grouped", "grouped", "plain"])
    text = "-".join(parts) if spell == "grouped" else n
    it = item(f"{spell}_{'-'.join(map(str, groups))}", text, digits=[n])
    it["bank"] = bank
    return it


KR_REGIONS = {11: "서울", 12: "부산", 13: "경기", 14: "강원", 15: "충북", 16: "충남", 17: "전북",
              18: "전남", 19: "경북", 20: "경남", 21: "제주", 22: "대구", 23: "인천", 24: "광주",
              25: "대전", 26: "울산", 28: "경기"}


def kr_driver_license(r):
    region = r.choice(list(KR_REGIONS))
    year = "%02d" % r.randint(0, 25)
    serial = rs(r, "0123456789", 6)
    tail = rs(r, "0123456789", 2)
    spell = r.choice(["dash", "dash", "plain", "region_name"])
    if spell == "region_name":
        text = f"{KR_REGIONS[region]} {year}-{serial}-{tail}"
        return item(spell, text, digits=[year + serial + tail])
    n = f"{region}{year}{serial}{tail}"
    text = f"{region}-{year}-{serial}-{tail}" if spell == "dash" else n
    return item(spell, text, digits=[n])


def kr_passport(r):
    text = r.choice("MSROGD") + rs(r, "0123456789", 8)
    return item("type_letter_8", text)


def us_ssn(r, plain_ok=False):
    while True:
        area = r.randint(1, 899)
        if area != 666:
            break
    n = "%03d%02d%04d" % (area, r.randint(1, 99), r.randint(1, 9999))
    spells = ["dash"] + (["plain", "space"] if plain_ok else [])
    spell = r.choice(spells)
    text = {"dash": f"{n[:3]}-{n[3:5]}-{n[5:]}", "plain": n,
            "space": f"{n[:3]} {n[3:5]} {n[5:]}"}[spell]
    return item(spell, text, digits=[n])


# ----------------------------------------------------------------- IBAN
# SWIFT IBAN registry: BBAN layout per country (n digits, a capitals, c alphanumerics).
IBAN_FORMATS = {
    "SA": "2n18c", "AE": "3n16n", "TR": "5n1n16c", "QA": "4a21c", "KW": "4a22c",
    "JO": "4a4n18c", "BH": "4a14c", "IL": "3n3n13n", "EG": "4n4n17n", "UA": "6n19c",
    "LB": "4n20c", "GE": "2a16n", "KZ": "3n13c", "AZ": "4a20c", "PK": "4a16c", "IS": "4n2n6n10n",
    "MT": "4a5n18c", "CY": "3n5n16c", "BG": "4a4n2n8c", "RO": "4a16c", "HR": "7n10n",
    "SI": "5n8n2n", "EE": "2n2n11n1n", "LV": "4a13c", "LT": "5n11n", "LU": "3n13c",
    "DK": "4n9n1n", "PT": "4n4n11n2n", "AT": "5n11n", "CZ": "4n6n10n", "HU": "3n4n1n15n1n",
}
IBAN_LENGTHS = {"SA": 24, "AE": 23, "TR": 26, "QA": 29, "KW": 30, "JO": 30, "BH": 22, "IL": 23,
                "EG": 29, "UA": 29, "LB": 28, "GE": 22, "KZ": 20, "AZ": 28, "PK": 24, "IS": 26,
                "MT": 31, "CY": 28, "BG": 22, "RO": 24, "HR": 21, "SI": 19, "EE": 20, "LV": 21,
                "LT": 20, "LU": 20, "DK": 18, "PT": 25, "AT": 20, "CZ": 24, "HU": 28}


def bban(r, layout):
    out, num = "", ""
    for ch in layout:
        if ch.isdigit():
            num += ch
            continue
        k, num = int(num), ""
        alpha = {"n": string.digits, "a": string.ascii_uppercase,
                 "c": string.digits + string.ascii_uppercase}[ch]
        if ch == "c":
            # Account parts are mostly digits in practice.
            out += "".join(r.choice(alpha) if r.random() < 0.2 else r.choice(string.digits)
                           for _ in range(k))
        else:
            out += rs(r, alpha, k)
    return out


def iban_parts(r):
    country = r.choice(sorted(IBAN_FORMATS))
    b = bban(r, IBAN_FORMATS[country])
    assert len(b) + 4 == IBAN_LENGTHS[country], country
    return country, b


def iban(r):
    country, b = iban_parts(r)
    compact = country + iban_check(country, b) + b
    spell = r.choice(["compact", "grouped", "grouped", "lower_grouped"])
    grouped = " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    text = {"compact": compact, "grouped": grouped, "lower_grouped": grouped.lower()}[spell]
    return item(f"{country}_{spell}", text, digits=[])


def bad_iban(r):
    country, b = iban_parts(r)
    good = iban_check(country, b)
    bad = "%02d" % ((int(good) + r.randint(1, 40)) % 97 + 2)
    if bad == good:
        bad = "%02d" % ((int(good) + 50) % 97 + 2)
    return country + bad + b


# ----------------------------------------------------------------- dates of birth

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def dob(r):
    y, m, d = real_date(r, 1935, 2008)
    spell = r.choice(["iso", "dmy_slash", "korean", "month_name", "day_month", "dot",
                      "mdy_slash", "compact"])
    text = {
        "iso": "%04d-%02d-%02d" % (y, m, d),
        "dmy_slash": "%02d/%02d/%04d" % (d, m, y),
        "korean": f"{y}년 {m}월 {d}일",
        "month_name": f"{MONTHS[m - 1]} {d}, {y}",
        "day_month": f"{d} {MONTHS[m - 1][:3]} {y}",
        "dot": "%04d.%02d.%02d" % (y, m, d),
        "mdy_slash": "%02d/%02d/%04d" % (m, d, y),
        "compact": "%04d%02d%02d" % (y, m, d),
    }[spell]
    return item(spell, text)


# ----------------------------------------------------------------- e-mail

LOCALS = ["kim.minji", "j.park", "oliver.smith", "a.nguyen", "fatima.alsayed", "s.yilmaz",
          "p.kowalski", "lucia.garcia", "daan.devries", "wei.tan", "ngozi.okafor", "ahmed.hassan",
          "t.cohen", "o.shevchenko", "somchai.s", "maria.santos"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com", "corp.example.co.kr",
           "eu.example.com", "example.com.tr", "example.co.id"]
UTF8_ADDRS = ["사용자@예시.한국", "ユーザー@例え.jp", "ผู้ใช้@ตัวอย่าง.ไทย", "उपयोगकर्ता@उदाहरण.भारत",
              "müller.jürgen@beispiel.de", "đặng.vân@vídụ.vn", "użytkownik@przykład.pl",
              "kullanıcı@örnek.tr", "χρήστης@παράδειγμα.ελ", "пользователь@пример.рф",
              "مستخدم@مثال.اختبار", "用户@例子.广告"]


def email(r):
    spell = r.choice(["dot", "plus", "upper", "sub", "utf8", "quoted", "hyphen"])
    local = r.choice(LOCALS)
    dom = r.choice(DOMAINS)
    if spell == "plus":
        local = local + "+" + r.choice(["billing", "ci", "2026", "shop"])
    elif spell == "upper":
        local = local.title()
        dom = dom.upper()
    elif spell == "sub":
        dom = r.choice(["eng", "hr", "ops"]) + "." + dom
    elif spell == "utf8":
        return item(spell, r.choice(UTF8_ADDRS))
    elif spell == "quoted":
        local = '"' + local.replace(".", " ") + '"'
    elif spell == "hyphen":
        local = local.replace(".", "-") + str(r.randint(1, 99))
    return item(spell, f"{local}@{dom}")


# ----------------------------------------------------------------- network


def ipv4(r):
    while True:
        a = r.randint(1, 223)
        if a in (10, 127, 100, 169, 172, 192, 198, 203, 0):
            continue
        text = f"{a}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
        return item("public", text)


def ipv6(r):
    spell = r.choice(["compressed", "full", "upper", "mapped", "zone", "other_rir"])
    groups = ["2001" if spell != "other_rir" else r.choice(["2a02", "2a00", "2600", "2c0f"]),
              r.choice(["4860", "67c", "41d0", "1af8", "470", "1450", "e3a"])]
    groups += ["%x" % r.randint(0, 0xFFFF) for _ in range(6)]
    if spell == "full":
        text = ":".join(g.rjust(4, "0") for g in groups)
    elif spell == "mapped":
        text = f"::ffff:{ipv4(r)['value']}"
    elif spell == "zone":
        iid = ["%x" % r.randint(0x100, 0xFFFF) for _ in range(4)]
        text = "fe80::" + ":".join(iid) + "%" + r.choice(["eth0", "en0", "wlan0", "ens192"])
    else:
        # RFC 5952: the longest run of zero groups (two or more) is compressed.
        groups[2] = groups[3] = "0"
        text = ":".join(groups[:2]) + "::" + ":".join(groups[4:])
        if spell == "upper":
            text = text.upper()
    return item(spell, text)


# ----------------------------------------------------------------- secrets

WORDS = ["harbor", "violet", "tiger", "maple", "quartz", "ember", "falcon", "cobalt", "lunar",
         "meadow", "orbit", "saffron", "tundra", "willow", "zephyr", "nimbus"]
PW_SYMBOLS = "!#$*-_.^~"


def password(r):
    spell = r.choice(["word_year_symbol", "random", "passphrase", "pin_mix", "korean_mix"])
    if spell == "word_year_symbol":
        text = r.choice(WORDS).title() + str(r.randint(1990, 2026)) + r.choice(PW_SYMBOLS)
    elif spell == "random":
        alpha = string.ascii_letters + string.digits + PW_SYMBOLS
        while True:
            text = rs(r, alpha, r.randint(10, 20))
            if any(c.isdigit() for c in text) and any(c.isalpha() for c in text):
                break
    elif spell == "passphrase":
        text = "-".join(r.choice(WORDS) for _ in range(3)) + str(r.randint(10, 99))
    elif spell == "pin_mix":
        text = r.choice(WORDS) + "#" + rs(r, "0123456789", 4)
    else:
        text = r.choice(["한글", "비번", "서울"]) + rs(r, string.ascii_letters, 4) + rs(r, "0123456789", 3) + "!"
    return item(spell, text)


def jwt(r):
    spell = r.choice(["HS256", "RS256", "ES256", "EdDSA", "PS384", "jwe"])
    if spell == "jwe":
        header = {"alg": r.choice(["RSA-OAEP-256", "ECDH-ES+A256KW"]), "enc": "A256GCM",
                  "typ": "JWT"}
        parts = [b64url(json.dumps(header, separators=(",", ":")).encode()),
                 b64url(r.randbytes(256 if header["alg"].startswith("RSA") else 40)),
                 b64url(r.randbytes(12)), b64url(r.randbytes(r.randint(90, 200))),
                 b64url(r.randbytes(16))]
        text = ".".join(parts)
        return item(spell, text, fragments=[parts[1], parts[3], parts[4]])
    header = {"alg": spell, "typ": "JWT"}
    if r.random() < 0.5:
        header["kid"] = rs(r, B62, 16)
    claims = {"sub": str(r.randint(10000, 99999999)), "iss": "https://auth.example.com",
              "aud": r.choice(["api", "web", "mobile"]), "iat": 1796000000 + r.randint(0, 9999999),
              "exp": 1796100000 + r.randint(0, 9999999)}
    if r.random() < 0.5:
        claims["email"] = r.choice(LOCALS) + "@example.com"
    sig_len = {"HS256": 32, "RS256": 256, "ES256": 64, "EdDSA": 64, "PS384": 384}[spell]
    p = [b64url(json.dumps(header, separators=(",", ":")).encode()),
         b64url(json.dumps(claims, separators=(",", ":")).encode()),
         b64url(r.randbytes(sig_len))]
    return item(spell, ".".join(p), fragments=[p[1], p[2]])


def aws_access_key(r):
    prefix = r.choice(["AKIA", "ASIA"])
    return item(prefix, prefix + rs(r, B32, 16))


def aws_secret_key(r):
    return item("base64_40", rs(r, B64, 40))


def github_token(r):
    spell = r.choice(["ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"])
    if spell == "github_pat_":
        text = "github_pat_" + "11" + rs(r, string.ascii_uppercase + string.digits, 20) + "_" + rs(r, B62 + "_", 59)
    else:
        body = rs(r, B62, 30)
        text = spell + body + base62_crc32(body)
    return item(spell, text)


def slack_token(r):
    spell = r.choice(["xoxb", "xoxp", "xoxe_rotating", "xapp"])
    if spell == "xoxb":
        text = f"xoxb-{r.randint(10**10, 10**13)}-{r.randint(10**10, 10**13)}-{rs(r, B62, 24)}"
    elif spell == "xoxp":
        text = (f"xoxp-{r.randint(10**10, 10**13)}-{r.randint(10**10, 10**13)}-"
                f"{r.randint(10**10, 10**13)}-{rs(r, HEX, 32)}")
    elif spell == "xoxe_rotating":
        text = f"xoxe.xoxp-1-{rs(r, B62, 146)}"
    else:
        text = f"xapp-1-A{rs(r, string.ascii_uppercase + string.digits, 10)}-{r.randint(10**12, 10**13)}-{rs(r, HEX, 64)}"
    return item(spell, text)


def slack_webhook(r):
    t = "T" + rs(r, string.ascii_uppercase + string.digits, 10)
    b = "B" + rs(r, string.ascii_uppercase + string.digits, 10)
    secret = rs(r, B62, 24)
    return item("services", f"https://hooks.slack.com/services/{t}/{b}/{secret}",
                fragments=[secret])


def stripe_key(r):
    spell = r.choice(["sk_live_", "rk_live_", "whsec_", "sk_live_long"])
    if spell == "whsec_":
        text = "whsec_" + rs(r, B62, 32)
    elif spell == "sk_live_long":
        text = "sk_live_51" + rs(r, B62, 97)
    else:
        text = spell + rs(r, B62, 24)
    return item(spell, text)


def google_api_key(r):
    return item("AIza", "AIza" + rs(r, B62 + "-_", 35))


def sendgrid_key(r):
    return item("SG", f"SG.{rs(r, B64URL, 22)}.{rs(r, B64URL, 43)}")


def twilio_key(r):
    spell = r.choice(["SK", "AC"])
    return item(spell, spell + rs(r, HEX, 32))


def openai_key(r):
    spell = r.choice(["sk-proj-", "sk-svcacct-", "sk-legacy"])
    if spell == "sk-legacy":
        text = "sk-" + rs(r, B62, 20) + "T3BlbkFJ" + rs(r, B62, 20)
    else:
        text = spell + rs(r, B64URL, 74) + "T3BlbkFJ" + rs(r, B64URL, 74)
    return item(spell, text)


def anthropic_key(r):
    spell = r.choice(["api03", "admin01"])
    return item(spell, f"sk-ant-{spell}-{rs(r, B64URL, 93)}AA")


def npm_token(r):
    body = rs(r, B62, 30)
    return item("npm_", "npm_" + body + base62_crc32(body))


def pypi_token(r):
    # A macaroon serialised as base64url; the location "pypi.org" is its first field.
    raw = b"\x02\x01\x08pypi.org\x02" + bytes([0x25]) + b"\x00\x01\x02\x03" + r.randbytes(r.randint(60, 120))
    return item("macaroon", "pypi-" + b64url(raw))


def gitlab_token(r):
    spell = r.choice(["glpat-", "glpat-", "gldt-", "glrt-"])
    return item(spell, spell + rs(r, B62 + "-_", 20))


def huggingface_token(r):
    return item("hf_", "hf_" + rs(r, string.ascii_letters, 34))


def digitalocean_token(r):
    # Personal access tokens; the policy does not claim OAuth tokens (`doo_v1_`). The draw
    # that chose between them is kept so the other values do not change.
    r.choice(["dop_v1_", "doo_v1_"])
    return item("dop_v1_", "dop_v1_" + rs(r, HEX, 64))


def generic_api_key(r):
    spell = r.choice(["hex32", "hex40", "hex64", "base62_40", "base64url_48", "uuid"])
    text = {
        "hex32": rs(r, HEX, 32), "hex40": rs(r, HEX, 40), "hex64": rs(r, HEX, 64),
        "base62_40": None, "base64url_48": None, "uuid": None,
    }[spell]
    if spell == "base62_40":
        while True:
            text = rs(r, B62, 40)
            if sum(c.isdigit() for c in text) >= 3:
                break
    elif spell == "base64url_48":
        while True:
            text = rs(r, B64URL, 48)
            if sum(c.isdigit() for c in text) >= 3:
                break
    elif spell == "uuid":
        text = str(uuid.UUID(bytes=r.randbytes(16), version=4))
    return item(spell, text)


def bearer_token(r):
    spell = r.choice(["opaque_b64url", "opaque_hex", "gcp_ya29"])
    if spell == "opaque_b64url":
        text = rs(r, B64URL, r.randint(40, 64))
    elif spell == "opaque_hex":
        text = rs(r, HEX, 48)
    else:
        text = "ya29." + rs(r, B64URL, 120)
    return item(spell, text)


USERS = ["deploy", "svc-backup", "kim", "admin", "ci-bot", "o.smith", "reporting"]


def basic_auth(r):
    user = r.choice(USERS)
    pw = password(r)["value"]
    token = base64.b64encode(f"{user}:{pw}".encode()).decode()
    return item("rfc7617", token, fragments=[f"{user}:{pw}"])


def session_cookie(r):
    name, fn = r.choice([
        ("JSESSIONID", lambda: rs(r, "0123456789ABCDEF", 32)),
        ("PHPSESSID", lambda: rs(r, "0123456789abcdefghijklmnopqrstuv", 26)),
        ("connect.sid", lambda: "s%3A" + rs(r, B64URL, 32) + "." + rs(r, B64, 43).replace("+", "%2B").replace("/", "%2F")),
        ("sessionid", lambda: rs(r, string.ascii_lowercase + string.digits, 32)),
        ("_session_id", lambda: rs(r, HEX, 32)),
        ("laravel_session", lambda: rs(r, B64, 200).replace("+", "%2B").replace("/", "%2F") + "%3D"),
        ("ASP.NET_SessionId", lambda: rs(r, string.ascii_lowercase + "012345", 24)),
        ("SESSION", lambda: base64.b64encode(str(uuid.UUID(bytes=r.randbytes(16), version=4)).encode()).decode()),
        ("__Host-session", lambda: rs(r, B64URL, 43)),
    ])
    it = item(name, fn())
    it["cookie"] = name
    return it


# PEM (RFC 7468) with the DER prefixes each label's structure starts with.
PEM_KINDS = [
    ("RSA PRIVATE KEY", bytes.fromhex("308204a40201000282010100"), 1190),
    ("EC PRIVATE KEY", bytes.fromhex("30770201010420"), 121),
    ("PRIVATE KEY", bytes.fromhex("308204bd020100300d06092a864886f70d0101010500048204a7"), 1217),
    ("ENCRYPTED PRIVATE KEY", bytes.fromhex("3082052e305806092a864886f70d01050d304b"), 1330),
    ("OPENSSH PRIVATE KEY", b"openssh-key-v1\x00\x00\x00\x00\x04none\x00\x00\x00\x04none", 360),
    ("DSA PRIVATE KEY", bytes.fromhex("308201bb02010002818100"), 443),
]


def private_key(r, eol=None):
    label, prefix, size = r.choice(PEM_KINDS)
    der = prefix + r.randbytes(size - len(prefix))
    body = base64.b64encode(der).decode()
    width = 70 if label == "OPENSSH PRIVATE KEY" else 64
    lines = [body[i:i + width] for i in range(0, len(body), width)]
    eol = eol or r.choice(["\n", "\r\n"])
    cut = r.random() < 0.15
    block = [f"-----BEGIN {label}-----"] + (lines[:len(lines) // 2] if cut else lines)
    if not cut:
        block.append(f"-----END {label}-----")
    text = eol.join(block)
    spell = label.split()[0].lower() + ("_crlf" if eol == "\r\n" else "_lf") + ("_cut" if cut else "")
    frags = [ln for ln in (lines[:len(lines) // 2] if cut else lines) if len(ln) >= 16]
    return item(spell, text, fragments=frags)


def url_credentials(r):
    scheme, host = r.choice([
        ("amqps", "mq.example.net:5671/vhost"), ("rediss", "cache.example.net:6380/0"),
        ("clickhouse", "ch.example.net:9000/analytics"), ("sqlserver", "db.example.net:1433"),
        ("ldaps", "ldap.example.net:636"), ("smb", "files.example.net/share"),
        ("git+https", "git.example.net/team/repo.git"), ("mongodb+srv", "cluster0.example.net/app"),
        ("postgresql", "pg.example.net:5432/orders"), ("nats", "nats.example.net:4222"),
    ])
    user = r.choice(USERS + [""]) if scheme == "rediss" else r.choice(USERS)
    pw = password(r)["value"]
    spell = "plain"
    if r.random() < 0.4:
        pw = pw + r.choice(["@", ":", "/", "#", "?", "%"]) + rs(r, string.ascii_letters, 3)
        spell = "percent_encoded"
    # RFC 3986 userinfo: unreserved and sub-delims as they are, every other octet of the
    # UTF-8 form percent-encoded (`:` too, since it ends the user name).
    safe = string.ascii_letters + string.digits + "-._~" + "!$&'()*+,;="
    enc = "".join(c if c in safe else "".join("%%%02X" % b for b in c.encode()) for c in pw)
    return item(spell, pw, f"{scheme}://{user}:{enc}@{host}", digits=[])


# ----------------------------------------------------------------- hard negatives


def sha1_hex(r):
    return hashlib.sha1(r.randbytes(20)).hexdigest()


def docker_digest(r):
    return "sha256:" + hashlib.sha256(r.randbytes(32)).hexdigest()


def uuid4(r):
    return str(uuid.UUID(bytes=r.randbytes(16), version=4))


def uuid7(r):
    ms = 1796000000000 + r.randint(0, 10**9)
    raw = bytearray(ms.to_bytes(6, "big") + r.randbytes(10))
    raw[6] = 0x70 | (raw[6] & 0x0F)
    raw[8] = 0x80 | (raw[8] & 0x3F)
    return str(uuid.UUID(bytes=bytes(raw)))


def mac_address(r):
    b = [0x00, 0x1A, 0x2B] if r.random() < 0.3 else [r.randint(0, 255) & 0xFC for _ in range(1)] + [r.randint(0, 255) for _ in range(2)]
    b = b + [r.randint(0, 255) for _ in range(3)]
    spell = r.choice(["colon", "dash", "cisco"])
    if spell == "colon":
        return ":".join("%02x" % x for x in b)
    if spell == "dash":
        return "-".join("%02X" % x for x in b)
    h = "".join("%02x" % x for x in b)
    return f"{h[:4]}.{h[4:8]}.{h[8:]}"


def build_version(r):
    # Four parts, each at most 255 half the time, so it reads as an IPv4 address.
    if r.random() < 0.5:
        return f"{r.randint(1, 30)}.{r.randint(0, 40)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    return f"10.0.{r.randint(17000, 26100)}.{r.randint(1, 6000)}"


def product_version(r):
    prod = r.choice(["openresty", "nginx", "Apache", "envoy", "Caddy", "HAProxy", "Jetty"])
    return f"{prod}/{r.randint(1, 2)}.{r.randint(0, 30)}.{r.randint(0, 12)}.{r.randint(1, 9)}"


def ups_tracking(r):
    body = rs(r, string.ascii_uppercase + string.digits, 6) + r.choice(["01", "02", "03", "12", "13"]) + rs(r, string.digits, 7)
    total = 0
    for i, c in enumerate(body):
        v = int(c) if c.isdigit() else (ord(c) - ord("A") + 2) % 10
        total += v * (2 if i % 2 == 1 else 1)
    return "1Z" + body + str((10 - total % 10) % 10)


def usps_tracking(r):
    body = r.choice(["9400", "9205", "9361", "9405"]) + rs(r, string.digits, 17)
    n = body + gs1_check_digit(body)
    if r.random() < 0.5:
        return " ".join(n[i:i + 4] for i in range(0, 22, 4))
    return n


def non_luhn_16(r):
    while True:
        n = r.choice(["4", "5", "37", "6011"]) 
        n = n + rs(r, string.digits, 16 - len(n))
        if not luhn_ok(n):
            break
    spell = r.choice(["-", " ", ""])
    return spell.join(n[i:i + 4] for i in range(0, 16, 4))


ISO6346_VALUES = {}
_v = 10
for _c in string.ascii_uppercase:
    if _v % 11 == 0:
        _v += 1
    ISO6346_VALUES[_c] = _v
    _v += 1


def container_code(r):
    owner = rs(r, string.ascii_uppercase, 3) + r.choice("UJZ")
    serial = rs(r, string.digits, 6)
    code = owner + serial
    total = sum((ISO6346_VALUES[c] if c.isalpha() else int(c)) * (2 ** i) for i, c in enumerate(code))
    return code + str(total % 11 % 10)


VIN_TRANS = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ", [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9]))
VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]


def vin(r):
    alpha = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    v = list(r.choice(["1HG", "1FT", "5YJ", "2T1", "3VW", "JHM"]) + rs(r, alpha, 5) + "0" + rs(r, "ABCDEFGHJKLMNPRSTVWXY123456789", 1) + rs(r, alpha, 1) + rs(r, string.digits, 6))
    total = sum((VIN_TRANS[c] if c.isalpha() else int(c)) * w for c, w in zip(v, VIN_WEIGHTS))
    v[8] = "X" if total % 11 == 10 else str(total % 11)
    return "".join(v)


def isin(r):
    body = r.choice(["US", "KR", "DE", "GB", "JP", "FR"]) + rs(r, string.digits + string.ascii_uppercase[:6], 9)
    digs = "".join(str(int(c, 36)) for c in body)
    return body + luhn_check_digit(digs)


def lei(r):
    base = rs(r, string.digits, 4) + "00" + rs(r, string.digits + string.ascii_uppercase, 12)
    return base + "%02d" % (98 - mod97(base + "00"))


def gtin14(r):
    body = str(r.randint(1, 8)) + r.choice(["880", "400", "500", "871", "489", "690"]) + rs(r, string.digits, 9)
    return body + gs1_check_digit(body)


def cas_number(r):
    head = str(r.randint(50, 9999999))
    mid = "%02d" % r.randint(0, 99)
    digs = (head + mid)[::-1]
    check = sum(int(c) * (i + 1) for i, c in enumerate(digs)) % 10
    return f"{head}-{mid}-{check}"


DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def timestamp(r):
    import datetime
    t = datetime.datetime(2026, 12, 7, 0, 0, 0) + datetime.timedelta(seconds=r.randint(0, 86399), microseconds=r.randint(0, 999999))
    spell = r.choice(["rfc3339", "apache", "syslog", "http_date", "log4j", "go", "offset"])
    if spell == "rfc3339":
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
    if spell == "apache":
        return t.strftime("%d/%b/%Y:%H:%M:%S +0000")
    if spell == "syslog":
        return t.strftime("%b ") + ("%2d" % t.day) + t.strftime(" %H:%M:%S")
    if spell == "http_date":
        return DAYS[t.weekday()] + t.strftime(", %d %b %Y %H:%M:%S GMT")
    if spell == "log4j":
        return t.strftime("%Y-%m-%d %H:%M:%S,") + "%03d" % (t.microsecond // 1000)
    if spell == "go":
        return t.strftime("%Y-%m-%d %H:%M:%S.") + "%06d000 +0000 UTC" % t.microsecond
    return t.strftime("%Y-%m-%dT%H:%M:%S+09:00")


def timestamp_rfc3339(r):
    return "2026-12-07T%02d:%02d:%02d.%03dZ" % (r.randint(0, 23), r.randint(0, 59), r.randint(0, 59), r.randint(0, 999))


def duration(r):
    return r.choice([
        f"{r.randint(1, 23)}h{r.randint(1, 59)}m{r.randint(1, 59)}.{r.randint(1, 999)}s",
        f"PT{r.randint(1, 23)}H{r.randint(1, 59)}M", f"{r.randint(1, 9999)}ms",
        "%02d:%02d:%02d.%03d" % (r.randint(0, 23), r.randint(0, 59), r.randint(0, 59), r.randint(0, 999)),
        f"{r.randint(1, 30)}d{r.randint(1, 23)}h", f"{r.randint(1, 999)}.{r.randint(0, 999)}µs",
    ])


def percentage(r):
    return r.choice([f"{r.randint(90, 99)}.{r.randint(0, 99)}%", f"{r.randint(0, 100)}%",
                     f"{r.randint(1, 99)}.{r.randint(1, 9)} %"])


def hex_colour(r):
    c = rs(r, "0123456789abcdef", r.choice([6, 6, 8, 3]))
    return "#" + (c.upper() if r.random() < 0.5 else c)


def semver(r):
    v = f"{r.randint(0, 20)}.{r.randint(0, 40)}.{r.randint(0, 30)}"
    x = r.random()
    if x < 0.35:
        v += f"-rc.{r.randint(1, 9)}"
    elif x < 0.6:
        v += f"-beta.{r.randint(1, 9)}+build.{r.randint(1000, 99999)}"
    elif x < 0.8:
        v += f"+{rs(r, HEX, 7)}"
    return v


def prom_labels(r):
    job = r.choice(["checkout", "payments", "search", "auth-gateway"])
    return (f'{{job="{job}",instance="{job}-{rs(r, HEX, 5)}:9090",'
            f'le="{r.choice(["0.05", "0.25", "1", "+Inf"])}"}}')


def trace_id(r):
    return rs(r, HEX, 32)


def span_id(r):
    return rs(r, HEX, 16)


def traceparent(r):
    return f"00-{trace_id(r)}-{span_id(r)}-{r.choice(['01', '00'])}"


def jwt_like(r):
    # Three dot-separated segments that are not base64url JSON: they do not start with
    # `eyJ` and hold characters ('~') or lengths (4k+1) base64url cannot.
    segs = []
    for _ in range(3):
        n = r.choice([9, 13, 17, 21])
        segs.append(r.choice("abcdfghk") + rs(r, B62, n - 1))
    return ".".join(segs)


def ssh_fingerprint(r):
    return "SHA256:" + base64.b64encode(hashlib.sha256(r.randbytes(32)).digest()).decode().rstrip("=")


def ssh_public_key(r):
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + r.randbytes(32)
    return "ssh-ed25519 " + base64.b64encode(blob).decode()


def kr_rep_number(r):
    return r.choice(["1588", "1577", "1544", "1566", "1600", "1644", "1661", "1670", "1899"]) + "-" + rs(r, string.digits, 4)
