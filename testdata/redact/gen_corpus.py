#!/usr/bin/env python3
"""Generates testdata/redact/corpus.jsonl: the labelled redaction corpus.

    python3 testdata/redact/gen_corpus.py > testdata/redact/corpus.jsonl

Deterministic (fixed seed): re-running it gives the same file. Each line is one log body:

    {"kind": "json" | "text", "body": "<the log body string>",
     "pii": [["<type>", "<value that must not survive>"], ...],
     "keep": ["<hard negative that must survive unchanged>", ...]}

Bodies are realistic application logs in English and Korean: JSON access logs, nested
request/response objects and arrays, Kubernetes metadata, stack traces, nginx-style text
access logs, JSON inside JSON strings. PII appears as whole values, embedded in free text, in
URLs and query strings, in headers, under obvious and innocuous keys. Hard negatives (UUIDs,
trace/span ids, timestamps, versions, order numbers failing Luhn, 13-digit ids that are not
resident numbers, git SHAs, durations, ports, status codes, byte counts, pod names) sit next
to them. Generated PII is valid where a validator exists (Luhn, mod-97, checksums, dates).
"""

import base64
import json
import re
import random
import string

R = random.Random(20240612)

# -- valid PII -----------------------------------------------------------------------------


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_ok(num: str) -> bool:
    return luhn_digit(num[:-1]) == num[-1]


def card() -> str:
    prefix, length = R.choice([("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("37", 15), ("6011", 16), ("35", 16)])
    body = prefix + "".join(R.choice(string.digits) for _ in range(length - len(prefix) - 1))
    num = body + luhn_digit(body)
    style = R.choice(["plain", "space", "dash"])
    if length == 15:
        groups = [num[:4], num[4:10], num[10:]]
    else:
        groups = [num[i : i + 4] for i in range(0, 16, 4)]
    return {"plain": num, "space": " ".join(groups), "dash": "-".join(groups)}[style]


def days_in(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def rrn(foreigner=False) -> str:
    if R.random() < 0.3:
        year = R.randint(2000, 2023)
        sex = R.choice([7, 8] if foreigner else [3, 4])
    else:
        year = R.randint(1940, 1999)
        sex = R.choice([5, 6] if foreigner else [1, 2])
    month = R.randint(1, 12)
    day = R.randint(1, days_in(year, month))
    rest = "".join(R.choice(string.digits) for _ in range(6))
    return f"{year % 100:02d}{month:02d}{day:02d}" + R.choice(["-", "-", " "]) + f"{sex}{rest}"


def brn() -> str:
    d = [R.randint(0, 9) for _ in range(9)]
    w = [1, 3, 7, 1, 3, 7, 1, 3, 5]
    s = sum(a * b for a, b in zip(d, w)) + d[8] * 5 // 10
    d.append((10 - s % 10) % 10)
    t = "".join(map(str, d))
    return f"{t[:3]}-{t[3:5]}-{t[5:]}"


def iban() -> str:
    country, bban_len = R.choice([("DE", 18), ("GB", 18), ("FR", 23), ("NL", 14), ("ES", 20)])
    if country in ("GB", "NL"):
        bban = "".join(R.choice(string.ascii_uppercase) for _ in range(4)) + "".join(
            R.choice(string.digits) for _ in range(bban_len - 4)
        )
    else:
        bban = "".join(R.choice(string.digits) for _ in range(bban_len))
    num = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(num) % 97
    text = f"{country}{check:02d}{bban}"
    if R.random() < 0.5:
        text = " ".join(text[i : i + 4] for i in range(0, len(text), 4))
    return text


def ssn() -> str:
    return f"{R.randint(1, 665):03d}-{R.randint(1, 99):02d}-{R.randint(1, 9999):04d}"


def phone() -> str:
    a, b = R.randint(1000, 9999), R.randint(1000, 9999)
    return R.choice(
        [
            f"010-{a}-{b}",
            f"010{a}{b}",
            f"010 {a} {b}",
            f"+82 10-{a}-{b}",
            f"+82-10-{a}-{b}",
            f"+8210{a}{b}",
            f"02-{R.randint(100, 999)}-{b}",
            f"031-{R.randint(100, 999)}-{b}",
            f"051-{a}-{b}",
            f"1588-{b}",
            f"1644-{b}",
            f"070-{a}-{b}",
        ]
    )


def phone_intl() -> str:
    return R.choice(
        [
            f"+1 415 555 {R.randint(1000, 9999)}",
            f"+1-212-555-{R.randint(1000, 9999)}",
            f"+44 20 7946 {R.randint(1000, 9999)}",
            f"+81 3-1234-{R.randint(1000, 9999)}",
            f"+4915123{R.randint(100000, 999999)}",
        ]
    )


FIRST = ["kim", "lee", "park", "choi", "jung", "kang", "cho", "yoon", "jang", "lim", "john", "alice", "bob"]
DOMAINS = ["example.com", "naver.com", "gmail.com", "daum.net", "corp.example.co.kr", "kakao.com"]


def email() -> str:
    user = R.choice(FIRST) + R.choice([".", "_", ""]) + R.choice(FIRST) + str(R.randint(1, 999))
    return f"{user}@{R.choice(DOMAINS)}"


def ipv4() -> str:
    return ".".join(str(R.randint(1, 254)) for _ in range(4))


def ipv6() -> str:
    groups = [f"{R.randint(0, 0xFFFF):x}" for _ in range(8)]
    if R.random() < 0.5:
        return "2001:db8::" + ":".join(groups[:3])
    return ":".join(groups)


def b64url(n: int) -> str:
    return "".join(R.choice(string.ascii_letters + string.digits + "-_") for _ in range(n))


def jwt() -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    payload = base64.urlsafe_b64encode(json.dumps({"sub": R.randint(1, 10**6)}).encode()).decode().rstrip("=")
    return f"{header}.{payload}.{b64url(43)}"


def bearer() -> str:
    return b64url(R.randint(24, 40))


def basic() -> str:
    return base64.b64encode(f"{R.choice(FIRST)}:{b64url(10)}".encode()).decode()


def aws_key() -> str:
    return "AKIA" + "".join(R.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def github_token() -> str:
    return "ghp_" + "".join(R.choice(string.ascii_letters + string.digits) for _ in range(36))


def slack_token() -> str:
    return f"xoxb-{R.randint(10**10, 10**11)}-{R.randint(10**10, 10**11)}-{b64url(24).replace('_', 'a')}"


def google_key() -> str:
    return "AIza" + b64url(35)


def private_key() -> str:
    lines = ["".join(R.choice(string.ascii_letters + string.digits + "+/") for _ in range(64)) for _ in range(4)]
    return "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----"


def password() -> str:
    return R.choice(["Hunter", "Passw0rd", "s3cr3t", "Qwerty", "Dragon"]) + str(R.randint(10, 9999)) + R.choice("!$*")


def passport() -> str:
    return R.choice("MSROD") + (f"{R.randint(10**7, 10**8 - 1)}" if R.random() < 0.5 else f"{R.randint(100, 999)}{R.choice('ABCDEFGH')}{R.randint(1000, 9999)}")


# -- hard negatives ------------------------------------------------------------------------


def uuid() -> str:
    h = "".join(R.choice("0123456789abcdef") for _ in range(32))
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hexid(n: int) -> str:
    return "".join(R.choice("0123456789abcdef") for _ in range(n))


def iso_time() -> str:
    return f"2024-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}T{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:{R.randint(0, 59):02d}.{R.randint(0, 999):03d}Z"


def epoch_ms() -> str:
    return str(R.randint(1_700_000_000_000, 1_730_000_000_000))


def version() -> str:
    return f"{R.randint(0, 9)}.{R.randint(0, 30)}.{R.randint(0, 99)}" + R.choice(["", "-rc.1", "+build.7"])


def rrn_like(num: str) -> bool:
    """Would slotel take a 13-digit run for a resident number? (mirror of the validator)"""
    year2, month, day, sex = int(num[:2]), int(num[2:4]), int(num[4:6]), int(num[6])
    century = {1: 1900, 2: 1900, 5: 1900, 6: 1900, 3: 2000, 4: 2000, 7: 2000, 8: 2000, 9: 1800, 0: 1800}[sex]
    year = century + year2
    if not (1 <= month <= 12) or not (1 <= day <= days_in(year, month)):
        return False
    w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]
    check = (11 - sum(int(a) * b for a, b in zip(num[:12], w)) % 11) % 10
    return check == int(num[12]) or year >= 2020


def id13() -> str:
    while True:
        num = str(R.randint(10**12, 10**13 - 1))
        if not rrn_like(num) and not (num[0] == "4" and luhn_ok(num)):
            return num


def order16() -> str:
    while True:
        num = R.choice("45") + "".join(R.choice(string.digits) for _ in range(15))
        if not luhn_ok(num):
            return num


def pod() -> str:
    app = R.choice(["checkout", "payments", "search", "cart", "auth-api", "order-worker"])
    return f"{app}-{hexid(9)[:9]}-{''.join(R.choice('bcdfghjklmnpqrstvwxz2456789') for _ in range(5))}"


def duration() -> str:
    return R.choice([f"{R.randint(1, 999)}ms", f"{R.randint(1, 59)}s", f"{R.randint(1, 9)}.{R.randint(0, 9)}s", f"{R.randint(1, 90)}m"])


# -- templates -----------------------------------------------------------------------------

ROUTES = ["/api/pay", "/api/orders", "/v1/users", "/checkout", "/search", "/api/cart/items"]
KO_MSG = ["결제가 완료되었습니다", "주문 조회 실패", "로그인 성공", "배송지 변경 요청", "회원 정보 수정"]


REPRESENTATIVE = re.compile(r"^1[568][0-9]{2}-[0-9]{4}$")


class Rec:
    def __init__(self):
        self.pii = []
        self.keep = []

    def p(self, ty, value, shown=None):
        if ty == "phone" and REPRESENTATIVE.match(value):
            # A representative number (대표번호, 15xx/16xx/18xx-xxxx) belongs to a
            # business, not a person: it must survive.
            self.keep.append(value)
        else:
            self.pii.append([ty, value])
        return value if shown is None else shown

    def k(self, value):
        self.keep.append(value)
        return value


def access_json(r: Rec):
    status = R.choice([200, 201, 204, 400, 404, 500, 503])
    e = r.p("email", email())
    return {
        "timestamp": r.k(iso_time()),
        "level": R.choice(["INFO", "WARN", "ERROR"]),
        "trace_id": r.k(hexid(32)),
        "span_id": r.k(hexid(16)),
        "http": {
            "method": R.choice(["GET", "POST", "PUT"]),
            "route": R.choice(ROUTES),
            "url": f"https://shop.example.com{R.choice(ROUTES)}?user={e}&page={R.randint(1, 9)}",
            "status_code": status,
            "client_ip": r.p("ipv4", ipv4()),
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/" + r.k(version()),
            "headers": {
                "Authorization": "Bearer " + r.p("secret", bearer()),
                "X-Request-Id": r.k(uuid()),
                "Cookie": "sid=" + r.p("secret", b64url(20)),
            },
        },
        "duration": r.k(duration()),
        "bytes": int(r.k(str(R.randint(100, 10**7)))),
        "port": int(r.k(str(R.choice([8080, 443, 9090, 3000])))),
    }


def payment_json(r: Rec):
    return {
        "ts": r.k(epoch_ms()),
        "msg": R.choice(KO_MSG),
        "order": {
            "id": r.k(order16()),
            "ref": r.k(id13()),
            "items": [{"sku": r.k(uuid()), "qty": R.randint(1, 5), "price": round(R.uniform(1, 500), 2)} for _ in range(R.randint(1, 3))],
            "customer": {
                "name": "홍길동",
                "phone": r.p("phone", phone()),
                "email": r.p("email", email()),
                "rrn": r.p("kr_rrn", rrn()),
            },
            "payment": {"card_number": r.p("secret", card()), "memo": "카드 " + r.p("credit_card", card()) + " 승인"},
        },
        "commit": r.k(hexid(40)),
        "elapsed_ms": R.randint(1, 5000),
    }


def k8s_json(r: Rec):
    p = r.k(pod())
    return {
        "kubernetes": {
            "pod_name": p,
            "namespace_name": "shop-prod",
            "container_image": f"registry.example.com/shop/api:{r.k(version())}",
            "labels": {"app": "api", "pod-template-hash": r.k(hexid(9)[:9])},
            "host": r.k(f"ip-10-{R.randint(0, 9)}-{R.randint(0, 255)}-{R.randint(0, 255)}.ap-northeast-2.compute.internal"),
        },
        "log": f"connected to db postgres://app:{r.p('url_password', password())}@db.shop.svc:5432/orders in {r.k(duration())}",
        "stream": "stderr",
        "note": "owner " + r.p("email", email()) + ", on-call " + r.p("phone", phone()),
    }


def stack_json(r: Rec):
    e = r.p("email", email())
    return {
        "level": "ERROR",
        "logger": "com.example.shop.PaymentService",
        "message": f"payment failed for {e}",
        "stack_trace": (
            f"java.lang.IllegalStateException: card {r.p('credit_card', card())} declined for user {e}\n"
            "\tat com.example.shop.PaymentService.charge(PaymentService.java:142)\n"
            "\tat com.example.shop.CheckoutController.pay(CheckoutController.java:88)\n"
            f"\tat java.base/java.lang.Thread.run(Thread.java:{R.randint(800, 900)})"
        ),
        "thread": "http-nio-8080-exec-" + str(R.randint(1, 20)),
        "trace_id": r.k(hexid(32)),
    }


def nested_json(r: Rec):
    inner = {
        "event": "signup",
        "user": {"email": r.p("email", email()), "phone": r.p("phone", phone()), "ssn": r.p("secret", ssn())},
        "id": r.k(uuid()),
    }
    return {
        "time": r.k(iso_time()),
        "service": "account",
        "payload": json.dumps(inner, ensure_ascii=False),
        "tags": ["prod", r.k(version()), "release-" + r.k(hexid(7))],
    }


def misc_json(r: Rec):
    kind = R.randrange(9)
    if kind == 0:
        return {"msg": "refund to " + r.p("iban", iban()), "request_id": r.k(uuid()), "amount": R.randint(1000, 99999)}
    if kind == 1:
        return {"msg": "tax id checked", "value": r.p("kr_brn", brn()), "status": r.k(str(R.choice([200, 409])))}
    if kind == 2:
        return {"msg": "외국인 등록 확인", "data": {"frn": r.p("kr_frn", rrn(foreigner=True)), "passport": r.p("kr_passport", passport())}}
    if kind == 3:
        return {"msg": f"us customer ssn {r.p('us_ssn', ssn())} phone {r.p('phone_intl', phone_intl())}", "span_id": r.k(hexid(16))}
    if kind == 4:
        return {"msg": "upstream call", "peer": {"address": r.p("ipv6", ipv6()), "port": 443}, "took": r.k(duration())}
    if kind == 5:
        return {
            "msg": "deploy",
            "env": {"AWS_ACCESS_KEY_ID": r.p("aws_key", aws_key()), "note": "gh " + r.p("github_token", github_token())},
            "version": r.k(version()),
        }
    if kind == 6:
        return {"msg": "webhook", "detail": "slack " + r.p("slack_token", slack_token()) + " maps " + r.p("google_api_key", google_key())}
    if kind == 7:
        return {"msg": "auth", "detail": "got header Authorization: Basic " + r.p("secret", basic()), "jwt_seen": "id " + r.p("jwt", jwt())}
    return {"msg": "key loaded", "pem": r.p("private_key", private_key()), "sha": r.k(hexid(40))}


def access_text(r: Rec):
    ip = r.p("ipv4", ipv4())
    token = r.p("url_secret", b64url(16))
    return (
        f'{ip} - - [{r.k(iso_time())}] "GET {R.choice(ROUTES)}?access_token={token}&lang=ko HTTP/1.1" '
        f'{r.k(str(R.choice([200, 302, 404])))} {r.k(str(R.randint(100, 99999)))} "-" "curl/{r.k(version())}" '
        f"rt={r.k(duration())} trace={r.k(hexid(32))}"
    )


def text_line(r: Rec):
    kind = R.randrange(6)
    if kind == 0:
        return f"user {r.p('email', email())} logged in from {r.p('ipv4', ipv4())} session={r.p('secret', b64url(22))} took {r.k(duration())}"
    if kind == 1:
        return f"[{r.k(iso_time())}] 주문 {r.k(order16())} 고객 연락처 {r.p('phone', phone())} 주민번호 {r.p('kr_rrn', rrn())}"
    if kind == 2:
        return f"login failed password={r.p('secret', password())} for {r.p('email', email())} request {r.k(uuid())}"
    if kind == 3:
        return f"charge card {r.p('credit_card', card())} ref {r.k(id13())} order {r.k(order16())} status {r.k('402')}"
    if kind == 4:
        return f"callback https://api.example.com/oauth?code={r.p('url_secret', b64url(20))}&state={r.k(hexid(8))} bearer Bearer {r.p('auth_header', bearer())}"
    return f"pod {r.k(pod())} restarted after {r.k(duration())}, image {r.k(version())}, commit {r.k(hexid(40))}"


def main():
    json_kinds = [access_json, payment_json, k8s_json, stack_json, nested_json, misc_json, misc_json, misc_json]
    out = []
    for i in range(2000):
        r = Rec()
        if i % 4 == 3:
            body = (access_text if R.random() < 0.4 else text_line)(r)
            kind = "text"
        else:
            obj = R.choice(json_kinds)(r)
            body = json.dumps(obj, ensure_ascii=False, indent=None if R.random() < 0.7 else 2)
            kind = "json"
        out.append(json.dumps({"kind": kind, "body": body, "pii": r.pii, "keep": r.keep}, ensure_ascii=False))
    print("\n".join(out))


if __name__ == "__main__":
    main()
