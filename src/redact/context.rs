//! Context: what the key above a value, or the words just before it in text, say the
//! value is. Detectors whose shapes are common for other things (a plain 10-digit number,
//! a date, a 12-digit run) fire only with the right context; hard negatives (a dotted
//! version under a `version` key, a barcode under `sku`) are left alone by it.
//!
//! A hint is a bit set. Key hints come from the JSON key, attribute or map key (or header
//! name) a value sits under; text hints from the nearest marking word at most
//! [`WINDOW`] bytes before a candidate (English words ASCII case-insensitively, Korean
//! ones as written, Korean particles after them allowed: `계좌번호는 …`). Both are worked
//! out only for candidates, never for whole strings.

/// A set of hints (bits below).
pub(crate) type Hint = u16;

/// The key a value sits under (`None`: a log body, a span name), its hint worked out
/// only when a candidate asks for it (most values have none).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Key<'a>(pub Option<&'a str>);

impl Key<'_> {
    pub(crate) const NONE: Key<'static> = Key(None);

    pub(crate) fn hint(self) -> Hint {
        self.0.map_or(0, |k| cached_key_hint(k.as_bytes()))
    }
}

/// Keys at most this long are remembered by [`cached_key_hint`].
const CACHED_KEY: usize = 32;
/// Slots of the per-thread hint cache (a power of two), two to a set.
const HINT_SLOTS: usize = 1024;

/// One remembered key: its length plus one (0: empty slot), its bytes, its hint.
type HintSlot = (u8, [u8; CACHED_KEY], Hint);

thread_local! {
    static HINTS: std::cell::RefCell<[HintSlot; HINT_SLOTS]> =
        const { std::cell::RefCell::new([(0, [0; CACHED_KEY], 0); HINT_SLOTS]) };
}

/// A hash of a short key (at most 32 bytes) for the direct-mapped key tables: its first
/// and last eight bytes and its length, mixed.
pub(crate) fn short_key_hash(k: &[u8]) -> u64 {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let (a, b) = if k.len() >= 8 {
        (word(&k[..8]), word(&k[k.len() - 8..]))
    } else {
        (word(k), 0)
    };
    let h = (a ^ b.rotate_left(29) ^ (k.len() as u64).rotate_left(58))
        .wrapping_mul(0x517c_c1b7_2722_0a95);
    h ^ (h >> 29)
}

/// [`key_hint`], remembered per thread: the same keys come back value after value and
/// body after body, and working a hint out reads the key against every name. A table
/// of short keys (fixed size, nothing allocated) in sets of two slots, so two keys whose
/// hashes meet (`key` and `email`, `value` and `values`) both stay: a key not found
/// goes to a set's first slot and moves the one there to the second.
fn cached_key_hint(k: &[u8]) -> Hint {
    if k.len() > CACHED_KEY {
        return hint_of(k);
    }
    let first = (short_key_hash(k) as usize % (HINT_SLOTS / 2)) * 2;
    HINTS
        .try_with(|cache| {
            let Ok(mut cache) = cache.try_borrow_mut() else {
                return hint_of(k);
            };
            let holds = |(len, bytes, _): &HintSlot| {
                usize::from(*len) == k.len() + 1 && &bytes[..k.len()] == k
            };
            for slot in &cache[first..first + 2] {
                if holds(slot) {
                    return slot.2;
                }
            }
            let fresh = hint_of(k);
            cache[first + 1] = cache[first];
            let (len, bytes, hint) = &mut cache[first];
            *len = k.len() as u8 + 1;
            bytes[..k.len()].copy_from_slice(k);
            *hint = fresh;
            fresh
        })
        .unwrap_or_else(|_| hint_of(k))
}

pub(crate) const DOB: Hint = 1;
pub(crate) const ACCOUNT: Hint = 1 << 1;
pub(crate) const LICENSE: Hint = 1 << 2;
pub(crate) const PHONE: Hint = 1 << 3;
pub(crate) const SSN: Hint = 1 << 4;
pub(crate) const BRN: Hint = 1 << 5;
/// Resident and foreigner registration numbers.
pub(crate) const RESIDENT: Hint = 1 << 6;
/// A credential: a long random token here is an API key.
pub(crate) const CREDENTIAL: Hint = 1 << 7;
/// A version or build number: a four-part dotted number is not an address.
pub(crate) const VERSION: Hint = 1 << 8;
/// A product code: a GTIN (EAN-13, UPC-A, EAN-8) with a valid check digit stays.
pub(crate) const BARCODE: Hint = 1 << 9;
/// A user-agent string: its version tokens stay.
pub(crate) const USER_AGENT: Hint = 1 << 10;
/// A Korean region name, which starts a driver licence number written `서울 12-…`.
pub(crate) const REGION: Hint = 1 << 11;
/// A time (`created_at`, `iat`, `expires`, `epoch`): a plain epoch in seconds or
/// milliseconds there is not a registration or account number.
pub(crate) const TIME: Hint = 1 << 12;

/// How far before a candidate a marking word may start, in bytes.
pub(crate) const WINDOW: usize = 40;

/// [`hint_of`] a key written as a string.
#[cfg(test)]
fn key_hint(key: &str) -> Hint {
    hint_of(key.as_bytes())
}

/// The hint of a key: its ASCII letters and digits lowercased, other ASCII dropped,
/// non-ASCII kept (`Date_Of_Birth` → `dateofbirth`, `생년월일`).
fn hint_of(key: &[u8]) -> Hint {
    let mut buf = [0u8; 64];
    let mut n = 0;
    for &c in key {
        if c.is_ascii_alphanumeric() || c >= 0x80 {
            let Some(slot) = buf.get_mut(n) else {
                // A long key: its end says most (`…_account_number`).
                buf.copy_within(1.., 0);
                buf[63] = c.to_ascii_lowercase();
                continue;
            };
            *slot = c.to_ascii_lowercase();
            n += 1;
        }
    }
    let k = &buf[..n];
    // A key numbered at its end (`ssn_2`, `phone1`) ends as its name does.
    let digits = k.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let named = if (1..=2).contains(&digits) {
        &k[..n - digits]
    } else {
        k
    };
    let has = |w: &str| contains(k, w.as_bytes());
    let ends = |w: &str| k.ends_with(w.as_bytes()) || named.ends_with(w.as_bytes());
    let is = |w: &str| k == w.as_bytes();
    let mut h = 0;
    if has("birth")
        || ends("dob")
        || is("bday")
        || is("born")
        || ends("bornon")
        || has("생년월일")
        || has("생일")
        || has("출생")
    {
        h |= DOB;
    }
    let id_like = ends("id") || ends("name") || ends("type") || ends("status");
    if (has("account") || has("acct") || has("계좌")) && !id_like {
        h |= ACCOUNT;
    }
    if has("license")
        || has("licence")
        || has("면허")
        || is("dl")
        || ends("dlno")
        || ends("dlnum")
        || ends("dlnumber")
    {
        h |= LICENSE;
    }
    if has("phone")
        || has("mobile")
        || ends("tel")
        || is("cell")
        || has("msisdn")
        || ends("fax")
        || has("contactno")
        || has("contactnumber")
        || ends("contact")
        || has("landline")
        || has("전화")
        || has("휴대폰")
        || has("핸드폰")
        || has("연락처")
    {
        h |= PHONE;
    }
    // `ssn`, `ssn_number`, `ss_no` (the words `ss` and `no` apart: `class_no` is not one).
    if ends("ssn")
        || ends("ssnnumber")
        || ends("ssnno")
        || ends("ssnnum")
        || last_words_are(key, "ss", "no")
        || has("socialsecurity")
        || has("사회보장")
    {
        h |= SSN;
    }
    if ends("brn")
        || has("bizno")
        || has("businessno")
        || has("businessnumber")
        || has("businessreg")
        || has("bizreg")
        || has("vatno")
        || has("vatid")
        || has("taxid")
        || has("taxno")
        || has("taxnumber")
        || has("taxregistration")
        || has("사업자")
    {
        h |= BRN;
    }
    if ends("frn")
        || ends("rrn")
        || has("alien")
        || has("foreigner")
        || has("resident")
        || ends("registrationno")
        || ends("registrationnumber")
        || has("외국인")
        || has("주민")
    {
        h |= RESIDENT;
    }
    if is("key")
        || is("auth")
        || ends("authkey")
        || ends("appkey")
        || ends("clientkey")
        || ends("masterkey")
        || ends("signingkey")
        || ends("encryptionkey")
        || ends("subscriptionkey")
        // Azure storage: `AccountKey=` in connection strings, `storage_account_key`.
        || ends("accountkey")
        || ends("functionskey")
        || ends("licensekey")
        || ends("signature")
        // Webhook signatures named by their hash: GitHub's `X-Hub-Signature-256`.
        || ends("signature256")
        || ends("signature384")
        || ends("signature512")
        || ends("webhookurl")
        || has("credential")
        // Session cookies: `sid`, `connect.sid`, `PHPSESSID`, `JSESSIONID`, `session_id`,
        // `cookie`.
        || is("sid")
        || last_word_is(key, "sid")
        || ends("sessid")
        || ends("sessionid")
        || is("session")
        || is("cookie")
    {
        h |= CREDENTIAL;
    }
    if ends("version")
        || ends("ver")
        || ends("build")
        || ends("buildno")
        || ends("buildnumber")
        || ends("release")
        || ends("revision")
    {
        h |= VERSION;
    }
    if is("sku")
        || ends("sku")
        || has("barcode")
        || has("ean")
        || ends("upc")
        || has("gtin")
        || is("isbn")
    {
        h |= BARCODE;
    }
    if ends("useragent") || is("ua") || ends("browser") {
        h |= USER_AGENT;
    }
    let time_words = [
        "at",
        "ts",
        "iat",
        "exp",
        "nbf",
        "ms",
        "time",
        "timestamp",
        "epoch",
        "expires",
        "expiry",
        "expiration",
    ];
    if has("epoch")
        || time_words
            .iter()
            .any(|w| last_word(key).eq_ignore_ascii_case(w.as_bytes()))
    {
        h |= TIME;
    }
    h
}

/// The last word of `key`: its last run of ASCII letters and digits, from its last
/// lower→upper case change (`created_at` → `at`, `createdAt` → `At`, `iat` → `iat`).
fn last_word(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .rposition(u8::is_ascii_alphanumeric)
        .map_or(0, |e| e + 1);
    let mut start = end;
    while start > 0 && b[start - 1].is_ascii_alphanumeric() {
        start -= 1;
        if b[start].is_ascii_uppercase() && start > 0 && b[start - 1].is_ascii_lowercase() {
            break;
        }
    }
    &b[start..end]
}

/// Whether the last run of ASCII letters and digits in `key` is `word` (any case):
/// `connect.sid`, `app_sid`; not `guid`.
/// Whether the last two words of `key` (split at anything but ASCII letters and digits)
/// are `first` and `last`, ignoring ASCII case.
fn last_words_are(key: &[u8], first: &str, last: &str) -> bool {
    let mut words = key
        .rsplit(|c| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty());
    words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case(last.as_bytes()))
        && words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(first.as_bytes()))
}

fn last_word_is(key: &[u8], word: &str) -> bool {
    key.rsplit(|c| !c.is_ascii_alphanumeric())
        .find(|w| !w.is_empty())
        .is_some_and(|w| w.eq_ignore_ascii_case(word.as_bytes()))
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Marking words: (word, hint, whole word). ASCII words are lowercase and compared
/// case-insensitively; `whole` ones (short ones) must not be glued to ASCII letters
/// after them either. Korean words are compared as written.
const WORDS: &[(&str, Hint, bool)] = &[
    // Dates of birth.
    ("dob", DOB, true),
    ("d.o.b", DOB, false),
    ("birth", DOB, false),
    ("born", DOB, true),
    ("bday", DOB, true),
    ("생년월일", DOB, false),
    ("생일", DOB, false),
    ("출생", DOB, false),
    // Bank accounts, and the banks' names.
    ("account", ACCOUNT, false),
    ("acct", ACCOUNT, false),
    ("a/c", ACCOUNT, true),
    ("bank", ACCOUNT, false),
    ("계좌", ACCOUNT, false),
    ("입금", ACCOUNT, false),
    ("은행", ACCOUNT, false),
    ("신한", ACCOUNT, false),
    ("농협", ACCOUNT, false),
    ("카카오뱅크", ACCOUNT, false),
    ("토스뱅크", ACCOUNT, false),
    ("케이뱅크", ACCOUNT, false),
    ("우체국", ACCOUNT, false),
    ("새마을", ACCOUNT, false),
    ("신협", ACCOUNT, false),
    ("수협", ACCOUNT, false),
    ("씨티", ACCOUNT, false),
    ("신용금고", ACCOUNT, false),
    ("kb", ACCOUNT, true),
    ("nh", ACCOUNT, true),
    ("ibk", ACCOUNT, true),
    ("shinhan", ACCOUNT, false),
    ("woori", ACCOUNT, false),
    ("hana", ACCOUNT, true),
    ("kakaobank", ACCOUNT, false),
    // Driver licences, and the region names that start one.
    ("license", LICENSE, false),
    ("licence", LICENSE, false),
    ("면허", LICENSE, false),
    ("서울", REGION, false),
    ("부산", REGION, false),
    ("경기", REGION, false),
    ("강원", REGION, false),
    ("충북", REGION, false),
    ("충남", REGION, false),
    ("전북", REGION, false),
    ("전남", REGION, false),
    ("경북", REGION, false),
    ("경남", REGION, false),
    ("제주", REGION, false),
    ("대구", REGION, false),
    ("인천", REGION, false),
    ("광주", REGION, false),
    ("대전", REGION, false),
    ("울산", REGION, false),
    // Phones.
    ("phone", PHONE, false),
    ("tel", PHONE, true),
    ("mobile", PHONE, false),
    ("cell", PHONE, false),
    ("call", PHONE, false),
    ("fax", PHONE, true),
    ("sms", PHONE, true),
    ("contact", PHONE, false),
    ("landline", PHONE, false),
    ("유선", PHONE, false),
    ("전화", PHONE, false),
    ("휴대폰", PHONE, false),
    ("핸드폰", PHONE, false),
    ("연락처", PHONE, false),
    // Registration numbers.
    ("ssn", SSN, true),
    ("social security", SSN, false),
    ("사회보장", SSN, false),
    ("brn", BRN, true),
    ("business", BRN, false),
    ("biz", BRN, true),
    ("tax id", BRN, false),
    ("taxid", BRN, false),
    ("tax no", BRN, false),
    ("사업자", BRN, false),
    ("frn", RESIDENT, true),
    ("rrn", RESIDENT, true),
    ("alien", RESIDENT, false),
    ("foreigner", RESIDENT, false),
    ("resident", RESIDENT, false),
    ("외국인", RESIDENT, false),
    ("주민", RESIDENT, false),
    // Hard-negative context.
    ("version", VERSION, false),
    ("ver", VERSION, true),
    ("build", VERSION, false),
    ("release", VERSION, false),
    ("sku", BARCODE, true),
    ("ean", BARCODE, true),
    ("upc", BARCODE, true),
    ("gtin", BARCODE, true),
    ("barcode", BARCODE, false),
    ("epoch", TIME, false),
];

/// The most marking words that share a first byte.
const PER_FIRST: usize = 48;

/// The marking words by first byte: indexes into `WORDS`, and how many.
static BY_FIRST: ([[u8; PER_FIRST]; 256], [u8; 256]) = by_first();

const fn by_first() -> ([[u8; PER_FIRST]; 256], [u8; 256]) {
    let mut idx = [[0u8; PER_FIRST]; 256];
    let mut n = [0u8; 256];
    let mut i = 0;
    while i < WORDS.len() {
        let f = WORDS[i].0.as_bytes()[0] as usize;
        // Overflowing `PER_FIRST` fails the build here.
        idx[f][n[f] as usize] = i as u8;
        n[f] += 1;
        i += 1;
    }
    (idx, n)
}

/// `START[c]`: an ASCII letter or digit.
const ALNUM: u8 = 1;
/// `START[c]`: a marking word starts with `c` (ASCII case-insensitively), and `c`
/// starts a character.
const MAY_START: u8 = 2;

/// What `text_hint` asks of each byte, in one table.
static START: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() {
            t[c] |= ALNUM;
        }
        if BY_FIRST.1[b.to_ascii_lowercase() as usize] > 0 && !(b >= 0x80 && b < 0xC0) {
            t[c] |= MAY_START;
        }
        c += 1;
    }
    t
};

/// The first two bytes (ASCII lowercased) of every marking word, as a set of 2¹⁶ bits:
/// a place whose two bytes are not in it starts no word, so its words are not compared.
static PAIRS: [u64; 1024] = pairs();

const fn pairs() -> [u64; 1024] {
    let mut set = [0u64; 1024];
    let mut i = 0;
    while i < WORDS.len() {
        let w = WORDS[i].0.as_bytes();
        // A word of one byte would start at a place with no second byte: fails the build.
        assert!(w.len() >= 2);
        let p = pair(w[0], w[1]);
        set[p / 64] |= 1 << (p % 64);
        i += 1;
    }
    set
}

const fn pair(a: u8, b: u8) -> usize {
    (a.to_ascii_lowercase() as usize) << 8 | b.to_ascii_lowercase() as usize
}

/// Whether a marking word may start with bytes `a`, `b` (ASCII case-insensitively).
fn starts_pair(a: u8, b: u8) -> bool {
    let p = pair(a, b);
    PAIRS[p / 64] & (1 << (p % 64)) != 0
}

/// The Hangul syllables (U+AC00 to U+D7A3) in Unicode order.
const SYLLABLES: usize = 11_172;

/// The first syllables of the Korean marking words, one bit per Hangul syllable: a
/// Korean place starts a word only with one of them. Two bytes (the pair filter) leave
/// 64 syllables each, so Korean text passed it often; the whole syllable says more.
static FIRST_SYLLABLES: [u64; SYLLABLES.div_ceil(64)] = first_syllables();

const fn first_syllables() -> [u64; SYLLABLES.div_ceil(64)] {
    let mut set = [0u64; SYLLABLES.div_ceil(64)];
    let mut i = 0;
    while i < WORDS.len() {
        let w = WORDS[i].0.as_bytes();
        if w[0] >= 0x80 {
            // Every non-ASCII word starts with a Hangul syllable: else this fails the build.
            let s = match syllable(w) {
                Some(s) => s,
                None => panic!("a marking word starts with a character that is not Hangul"),
            };
            set[s / 64] |= 1 << (s % 64);
        }
        i += 1;
    }
    set
}

/// The index of the Hangul syllable `b` starts with (three UTF-8 bytes), if it does.
const fn syllable(b: &[u8]) -> Option<usize> {
    if b.len() < 3 {
        return None;
    }
    let c = ((b[0] as usize & 0x0F) << 12) | ((b[1] as usize & 0x3F) << 6) | (b[2] as usize & 0x3F);
    if b[0] & 0xF0 == 0xE0 && c >= 0xAC00 && c - 0xAC00 < SYLLABLES {
        Some(c - 0xAC00)
    } else {
        None
    }
}

/// How many marking words start with a Hangul syllable.
const KOREAN_WORDS: usize = korean_words();

const fn korean_words() -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < WORDS.len() {
        n += (WORDS[i].0.as_bytes()[0] >= 0x80) as usize;
        i += 1;
    }
    n
}

/// The Korean marking words by first syllable: (syllable, index into `WORDS`), sorted
/// by syllable and, for one syllable, in the order of `WORDS`.
static BY_SYLLABLE: [(u16, u8); KOREAN_WORDS] = by_syllable();

/// The indexes of [`BY_SYLLABLE`] alone.
static BY_SYLLABLE_WORDS: [u8; KOREAN_WORDS] = {
    let mut t = [0u8; KOREAN_WORDS];
    let mut i = 0;
    while i < KOREAN_WORDS {
        t[i] = BY_SYLLABLE[i].1;
        i += 1;
    }
    t
};

const fn by_syllable() -> [(u16, u8); KOREAN_WORDS] {
    let mut t = [(0u16, 0u8); KOREAN_WORDS];
    let mut n = 0;
    let mut i = 0;
    while i < WORDS.len() {
        if let Some(s) = syllable(WORDS[i].0.as_bytes()) {
            // Insertion: after every entry with a syllable not above `s` (stable).
            let mut j = n;
            while j > 0 && t[j - 1].0 as usize > s {
                t[j] = t[j - 1];
                j -= 1;
            }
            t[j] = (s as u16, i as u8);
            n += 1;
        }
        i += 1;
    }
    t
}

/// Whether a marking word may start at `rest` (its first byte is a character start):
/// ASCII by its first two bytes, Korean by its first syllable.
fn may_start_at(rest: &[u8]) -> bool {
    match rest {
        [c, ..] if *c >= 0x80 => {
            syllable(rest).is_some_and(|s| FIRST_SYLLABLES[s / 64] & (1 << (s % 64)) != 0)
        }
        [c, d, ..] => starts_pair(*c, *d),
        _ => false,
    }
}

/// Per byte, the hints of the marking words that start with it (ASCII either case).
static FIRST_HINTS: [Hint; 256] = first_hints();

const fn first_hints() -> [Hint; 256] {
    let mut t = [0 as Hint; 256];
    let mut i = 0;
    while i < WORDS.len() {
        let (w, hint, _) = WORDS[i];
        let f = w.as_bytes()[0];
        t[f as usize] |= hint;
        t[f.to_ascii_uppercase() as usize] |= hint;
        i += 1;
    }
    t
}

/// Whether [`text_hint`] at `at` may hold a bit of `mask`: false only when no byte of
/// its window starts a marking word with such a hint, so a caller that needs only
/// those bits skips the look-back (a byte loop with one table, no word compared).
#[cfg(test)]
fn may_hint(b: &[u8], at: usize, mask: Hint) -> bool {
    window_hints(b, at) & mask != 0
}

/// The hints [`text_hint`] at `at` may hold: those of the marking words each byte of
/// its window starts (either case), and the key's.
#[cfg(test)]
fn window_hints(b: &[u8], at: usize) -> Hint {
    window_words(b, at) | text_key(b, at).map_or(0, |(hint, _)| hint)
}

/// The hints of the marking words each byte of the window before `at` may start
/// (either case): with the hint of the key before `at`, what [`text_hint`] at `at` may
/// hold. A caller that asks for several masks reads the window once.
pub(crate) fn window_words(b: &[u8], at: usize) -> Hint {
    let win = &b[at.saturating_sub(WINDOW).min(b.len())..at.min(b.len())];
    win.iter()
        .fold(0, |acc, &c| acc | FIRST_HINTS[usize::from(c)])
}

/// Whether [`text_hint`] at `at` holds a bit of `mask`, the key before `at` read once:
/// the window's first bytes rule most places out before any word is compared.
pub(crate) fn hint_has(b: &[u8], at: usize, mask: Hint) -> bool {
    let key = text_key(b, at);
    (window_words(b, at) | key.map_or(0, |(hint, _)| hint)) & mask != 0
        && text_hint_given(b, at, key) & mask != 0
}

/// The longest key [`text_key`] reads.
const TEXT_KEY: usize = 64;

/// In text, the key of a value written `key=value`, `key="value"`, `key: value` or
/// `"key": "value"` (logfmt, YAML, headers, exception messages, query strings): the
/// hint of the key right before `at` (as [`key_hint`] reads a JSON key), and whether the
/// key decides alone (joined by `=`: an assignment names its own value, so a marking word
/// before it belongs to an earlier value). `None` when no key sits right before `at`.
pub(crate) fn text_key(b: &[u8], at: usize) -> Option<(Hint, bool)> {
    key_before(b, at).map(|(key, assign)| (cached_key_hint(key), assign))
}

/// [`KEY_CLASS`]: a byte of a key in text (`[0-9A-Za-z_.-]`, non-ASCII).
const KEY_BYTE: u8 = 1;
/// [`KEY_CLASS`]: a letter (ASCII, or a non-ASCII byte).
const KEY_LETTER: u8 = 2;
/// [`KEY_CLASS`]: a non-ASCII byte (the key is checked to be UTF-8).
const KEY_WIDE: u8 = 4;
/// [`KEY_CLASS`]: a byte that cuts a key it comes before (a letter, a digit, non-ASCII).
const KEY_CUT: u8 = 8;

/// What [`key_before`] asks of each byte, in one table.
static KEY_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-') || b >= 0x80 {
            t[c] |= KEY_BYTE;
        }
        if b.is_ascii_alphabetic() || b >= 0x80 {
            t[c] |= KEY_LETTER;
        }
        if b >= 0x80 {
            t[c] |= KEY_WIDE;
        }
        if b.is_ascii_alphanumeric() || b >= 0x80 {
            t[c] |= KEY_CUT;
        }
        c += 1;
    }
    t
};

/// The key right before `at` in text (`key=`, `key="`, `key: `, `"key": "`, `'key':
/// b'`, `[key] => `, at most [`TEXT_KEY`] bytes), and whether `=` or `=>` joins it to the
/// value.
pub(crate) fn key_before(b: &[u8], at: usize) -> Option<(&[u8], bool)> {
    let at = at.min(b.len());
    if at > 0
        && b[at - 1] == b'>'
        && let Some((start, end, assign)) = element_span(b, at - 1)
    {
        return Some((&b[start..end], assign));
    }
    let (start, end, assign) = key_span(b, at)?;
    // A key that stands for one written apart (a CEF field's label).
    if assign && let Some((s, e)) = super::columns::key_named_apart(b, start, end) {
        return Some((&b[s..e], true));
    }
    Some((&b[start..end], assign))
}

/// The bounds in `b` of the key of [`key_before`] written right before `at` (`key=`,
/// `"key": `, …; not an element's name). A key of ASCII bytes alone is read once; one
/// with other bytes is checked to be UTF-8 as well.
fn key_span(b: &[u8], at: usize) -> Option<(usize, usize, bool)> {
    let back = |i: usize| i.checked_sub(1).map(|j| b[j]);
    let (mut i, mut blanks) = before_joint(b, at);
    let assign = match back(i)? {
        b'=' => true,
        b':' => false,
        // Ruby's, Perl's and PHP's `=>`.
        b'>' if i >= 2 && b[i - 2] == b'=' => {
            i -= 1;
            true
        }
        // `'name', 'value'`, `["name", "value"]`: the name is the value's key.
        b',' => {
            let q = back(at.min(b.len())).filter(|&q| q == b'"' || q == b'\'')?;
            let (s, e) = super::pairs::name_before(b, i - 1, q)?;
            return Some((s, e, false));
        }
        _ => return None,
    };
    i -= 1;
    while matches!(back(i), Some(b' ' | b'\t')) && blanks < 6 {
        i -= 1;
        blanks += 1;
    }
    // A quoted key, or PHP's `[key]`.
    if matches!(back(i), Some(b'"' | b'\'' | b']')) {
        i -= 1;
    }
    let end = i;
    // Letters, digits, `_`, `.`, `-` and non-ASCII (Korean keys): the key, at most
    // `TEXT_KEY` bytes; what its bytes are, gathered on the way.
    let stop = end.saturating_sub(TEXT_KEY);
    let mut seen = 0;
    while i > stop {
        let k = KEY_CLASS[usize::from(b[i - 1])];
        if k & KEY_BYTE == 0 {
            break;
        }
        seen |= k;
        i -= 1;
    }
    // A key starts at a character start, holds a letter, and is not cut by the limit.
    let cut = i > 0 && KEY_CLASS[usize::from(b[i - 1])] & KEY_CUT != 0;
    if cut || seen & KEY_LETTER == 0 {
        return None;
    }
    if seen & KEY_WIDE != 0 && std::str::from_utf8(&b[i..end]).is_err() {
        return None;
    }
    Some((i, end, assign))
}

/// Where the byte that joins a key to the value at `at` would be (`key=`, `key: `,
/// `"key": "`): `at` stepped back over a closing quote (with Python's `b` of `b'…'`) and
/// at most three blanks, and the blanks stepped over. [`key_span`] reads the joint at
/// `b[i - 1]`.
#[inline(always)]
fn before_joint(b: &[u8], at: usize) -> (usize, usize) {
    let mut i = at.min(b.len());
    let back = |i: usize| i.checked_sub(1).map(|j| b[j]);
    if matches!(back(i), Some(b'"' | b'\'')) {
        i -= 1;
        // A quote escaped in text that a JSON string held (`mobile=\"…\"`).
        if back(i) == Some(b'\\') {
            i -= 1;
        }
        // Python's bytes: `'key': b'…'`.
        if back(i) == Some(b'b') && matches!(i.checked_sub(2).map(|j| b[j]), Some(b' ' | b':')) {
            i -= 1;
        }
    }
    let mut blanks = 0;
    while matches!(back(i), Some(b' ' | b'\t')) && blanks < 3 {
        i -= 1;
        blanks += 1;
    }
    (i, blanks)
}

/// Whether [`key_before`] at `at` may find a key: false only where it finds none, as
/// neither an element's `>` nor a joint (`=`, `:`, `=>`, `,`) stands right before the
/// value. A few bytes read, no key: most numbers in text follow a word and a blank.
#[inline(always)]
pub(crate) fn may_key_before(b: &[u8], at: usize) -> bool {
    let at = at.min(b.len());
    if at > 0 && b[at - 1] == b'>' {
        return true;
    }
    let (i, _) = before_joint(b, at);
    i > 0 && matches!(b[i - 1], b'=' | b':' | b'>' | b',')
}

/// `<Key>` or `<ns:Key>` ending at `end` (the `>`): the element's name is the key of the
/// value right after it (XML, SOAP), and names it alone.
fn element_span(b: &[u8], end: usize) -> Option<(usize, usize, bool)> {
    let run_start = |to: usize| {
        let stop = to.saturating_sub(TEXT_KEY);
        let (mut i, mut seen) = (to, 0);
        while i > stop && KEY_CLASS[usize::from(b[i - 1])] & KEY_BYTE != 0 {
            seen |= KEY_CLASS[usize::from(b[i - 1])];
            i -= 1;
        }
        (i, seen)
    };
    let (start, seen) = run_start(end);
    let open = match start.checked_sub(1).map(|j| b[j])? {
        b'<' => true,
        // A namespace prefix: `<soap:Key>`.
        b':' => {
            let (p, _) = run_start(start - 1);
            p < start - 1 && p > 0 && b[p - 1] == b'<'
        }
        _ => false,
    };
    if !open || start == end || seen & KEY_LETTER == 0 {
        return None;
    }
    if seen & KEY_WIDE != 0 && std::str::from_utf8(&b[start..end]).is_err() {
        return None;
    }
    Some((start, end, true))
}

/// The hint of the value at `at` in text: the key right before it (`key=value`,
/// `key: value`, [`text_key`]) when it has one, else the nearest marking word
/// ([`word_hint`]). A key joined by `=` decides even without a hint.
pub(crate) fn text_hint(b: &[u8], at: usize) -> Hint {
    text_hint_given(b, at, text_key(b, at))
}

/// [`text_hint`] with the key before `at` already read ([`text_key`]).
pub(crate) fn text_hint_given(b: &[u8], at: usize, key: Option<(Hint, bool)>) -> Hint {
    match key {
        Some((hint, assign)) if hint != 0 || assign => hint,
        _ => word_hint(b, at),
    }
}

/// The hint of the nearest marking word that starts at most [`WINDOW`] bytes before
/// `at` and ends before it (0: none).
fn word_hint(b: &[u8], at: usize) -> Hint {
    let from = at.saturating_sub(WINDOW);
    let win = &b[from..at.min(b.len())];
    // The last (nearest) word wins: look from the end.
    for s in (0..win.len()).rev() {
        let c = win[s];
        let k = START[usize::from(c)];
        if k & MAY_START == 0 {
            continue;
        }
        // A word starts at a character start, not inside an ASCII word.
        if k & ALNUM != 0 && s + from > 0 && START[usize::from(b[s + from - 1])] & ALNUM != 0 {
            continue;
        }
        let first = usize::from(c.to_ascii_lowercase());
        let rest = &win[s..];
        // Every word has two bytes or more: no second byte, or a pair (a syllable) no
        // word starts with, and no word starts here.
        if !may_start_at(rest) {
            continue;
        }
        // Korean: only the words with this first syllable (most share the first byte),
        // in the order of `WORDS` as below.
        let words: &[u8] = match syllable(rest) {
            Some(syl) if c >= 0x80 => {
                let lo = BY_SYLLABLE.partition_point(|&(x, _)| usize::from(x) < syl);
                let n = BY_SYLLABLE[lo..]
                    .iter()
                    .take_while(|&&(x, _)| usize::from(x) == syl)
                    .count();
                &BY_SYLLABLE_WORDS[lo..lo + n]
            }
            _ => &BY_FIRST.0[first][..usize::from(BY_FIRST.1[first])],
        };
        for &i in words {
            let (w, hint, whole) = WORDS[usize::from(i)];
            let w = w.as_bytes();
            if rest.len() < w.len() {
                continue;
            }
            if !rest[..w.len()].eq_ignore_ascii_case(w) {
                continue;
            }
            if whole && rest.get(w.len()).is_some_and(u8::is_ascii_alphabetic) {
                continue;
            }
            // A word marks the value after it, not one past another number, nor a field
            // of a struct it names (`%Accounts.User{tracking_no: …}`: the field's key
            // names the value).
            let between = &rest[w.len()..];
            return if number_between(between) || between.contains(&b'{') {
                0
            } else {
                hint
            };
        }
    }
    0
}

/// Whether `between` (from a marking word's end to a candidate) holds a run of four or
/// more digits or a dotted number (`1.37`): another value, which the word marks instead
/// (`DOB: 1990-03-05 at 2026-08-02…`, `농협 8932774064436 device 4995970884941`,
/// `version 1.37.6-rc.5 err: from 152.63.34.218`).
fn number_between(between: &[u8]) -> bool {
    let mut run = 0;
    for (i, c) in between.iter().enumerate() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        let dotted = run > 0 && i >= 2 && between[i - 1] == b'.' && between[i - 2].is_ascii_digit();
        if run >= 4 || dotted {
            return true;
        }
    }
    false
}

/// A long random token: 32+ hex digits, or 20+ of `[A-Za-z0-9_-+/=.~]` with letters and
/// digits both and no run of one kind making up all of it; no spaces.
/// A signed session cookie (`s:<value>.<signature>`, its `:` percent-encoded or not)
/// is judged without its `s:` prefix; when that prefix is percent-encoded, so may the
/// rest be (`%2B`, `%2F`, `%3D`).
pub(crate) fn token_like(v: &str) -> bool {
    let whole = v;
    let v = ["s:", "s%3A", "s%3a"]
        .iter()
        .find_map(|p| v.strip_prefix(p))
        .filter(|rest| rest.contains('.'))
        .unwrap_or(v);
    let encoded = v.len() + 4 == whole.len();
    let b = v.as_bytes();
    if b.len() < 16 || b.len() > 512 {
        return false;
    }
    let (mut digits, mut upper, mut lower) = (0, 0, 0);
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => digits += 1,
            b'A'..=b'Z' => upper += 1,
            b'a'..=b'z' => lower += 1,
            // RFC 7235's token68 and RFC 3986's unreserved bytes: Microsoft Entra client
            // secrets hold `~` (`…8Q~…`).
            b'_' | b'-' | b'+' | b'/' | b'=' | b'.' | b'~' => {}
            b'%' if encoded
                && b.get(i + 1..i + 3)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) => {}
            _ => return false,
        }
    }
    let hex = b.iter().all(u8::is_ascii_hexdigit);
    if hex {
        return b.len() >= 32 && digits > 0 && digits < b.len();
    }
    let mixed = b.len() >= 20 && digits >= 2 && upper + lower >= 8 && (upper >= 2 || b.len() >= 32);
    // A random base62 key may hold a single digit (one in forty of 32 characters does):
    // then capitals and small letters both make a quarter of its letters or more, which
    // words glued in camel case (`userProfileV2SettingsPanel`) do not.
    let letters = upper + lower;
    let random_case = b.len() >= 24
        && digits >= 1
        && digits + letters == b.len()
        && upper * 4 >= letters
        && lower * 4 >= letters;
    mixed || random_case
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hints() {
        assert_eq!(key_hint("date_of_birth") & DOB, DOB);
        assert_eq!(key_hint("birthDate") & DOB, DOB);
        assert_eq!(key_hint("customer.dob") & DOB, DOB);
        assert_eq!(key_hint("생년월일") & DOB, DOB);
        assert_eq!(key_hint("bank_account") & ACCOUNT, ACCOUNT);
        assert_eq!(key_hint("계좌번호") & ACCOUNT, ACCOUNT);
        assert_eq!(key_hint("account_id") & ACCOUNT, 0);
        assert_eq!(key_hint("driver_license_no") & LICENSE, LICENSE);
        assert_eq!(key_hint("phoneNumber") & PHONE, PHONE);
        assert_eq!(key_hint("hotel"), PHONE); // ends with `tel`: only widens a phone check
        assert_eq!(key_hint("app_version"), VERSION);
        assert_eq!(key_hint("build"), VERSION);
        assert_eq!(key_hint("sku"), BARCODE);
        assert_eq!(key_hint("ean13"), BARCODE);
        assert_eq!(key_hint("http.user_agent"), USER_AGENT);
        assert_eq!(key_hint("key"), CREDENTIAL);
        assert_eq!(key_hint("sid") & CREDENTIAL, CREDENTIAL);
        assert_eq!(key_hint("PHPSESSID") & CREDENTIAL, CREDENTIAL);
        assert_eq!(key_hint("connect.sid") & CREDENTIAL, CREDENTIAL);
        assert_eq!(key_hint("guid") & CREDENTIAL, 0);
        assert_eq!(key_hint("session_id") & CREDENTIAL, CREDENTIAL);
        assert_eq!(key_hint("registration_no") & RESIDENT, RESIDENT);
        assert_eq!(key_hint("alien_reg_no") & RESIDENT, RESIDENT);
        assert_eq!(key_hint("office_landline") & PHONE, PHONE);
        assert_eq!(key_hint("contact") & PHONE, PHONE);
        assert_eq!(key_hint("biz_reg_no") & BRN, BRN);
        assert_eq!(key_hint("tax_id") & BRN, BRN);
        assert_eq!(key_hint("vat_no") & BRN, BRN);
        assert_eq!(key_hint("사회보장번호") & SSN, SSN);
        assert_eq!(key_hint("ssn_1") & SSN, SSN);
        for key in [
            "ssn_number",
            "SSN_NUMBER",
            "ssnNo",
            "ss_no",
            "SS-No",
            "employee.ss_no",
        ] {
            assert_eq!(key_hint(key) & SSN, SSN, "{key}");
        }
        for key in ["class_no", "boss_no", "ss", "address_no", "pass_no"] {
            assert_eq!(key_hint(key) & SSN, 0, "{key}");
        }
        assert_eq!(key_hint("dob2") & DOB, DOB);
        assert_eq!(key_hint("ean13"), BARCODE);
        assert_eq!(key_hint("iat"), TIME);
        assert_eq!(key_hint("createdAt"), TIME);
        assert_eq!(key_hint("expires_at"), TIME);
        assert_eq!(key_hint("ts_ms"), TIME);
        assert_eq!(key_hint("format") & TIME, 0);
        assert_eq!(key_hint("message"), 0);
        assert_eq!(key_hint("created_at"), TIME);
    }

    #[test]
    fn cached_hints_are_the_hints() {
        // More keys than slots, so slots are taken over; each asked twice.
        let names = [
            "dob",
            "phone",
            "version",
            "sku",
            "message",
            "api_key",
            "계좌번호",
        ];
        let keys: Vec<String> = (0..2000)
            .map(|i| format!("{}_{i}", names[i % names.len()]))
            .chain(["".to_string(), "x".repeat(33), "birth_".repeat(8)])
            .collect();
        for _ in 0..2 {
            for k in &keys {
                assert_eq!(cached_key_hint(k.as_bytes()), key_hint(k), "{k}");
                assert_eq!(Key(Some(k)).hint(), key_hint(k), "{k}");
            }
        }
        // Keys of one set, four of them, asked in every order of a random walk: two,
        // three and four keys taking turns at a set of two slots.
        let set = |k: &str| short_key_hash(k.as_bytes()) as usize % (HINT_SLOTS / 2);
        let want = set("phone_number");
        let same: Vec<String> = ["dob", "ssn", "tel", "sku", "version", "iat"]
            .iter()
            .flat_map(|n| (0..20_000).map(move |i| format!("{n}{i}")))
            .filter(|k| set(k) == want)
            .take(3)
            .chain(["phone_number".to_string()])
            .collect();
        assert_eq!(same.len(), 4, "{same:?}");
        assert!(
            same.iter().any(|k| key_hint(k) != key_hint(&same[0])),
            "{same:?}"
        );
        let mut next = crate::redact::xorshift(0x853c_49e6_748f_ea9b);
        for _ in 0..10_000 {
            let k = &same[next() as usize % (2 + (next() % 3) as usize)];
            assert_eq!(cached_key_hint(k.as_bytes()), key_hint(k), "{k}");
        }
    }

    #[test]
    fn text_hints_take_the_nearest_word() {
        let h = |s: &str| text_hint(s.as_bytes(), s.len());
        assert_eq!(h("생년월일: "), DOB);
        assert_eq!(h("Date of Birth "), DOB);
        assert_eq!(h("계좌번호는 "), ACCOUNT);
        assert_eq!(h("신한은행 "), ACCOUNT);
        assert_eq!(h("phone: 010, account "), ACCOUNT);
        assert_eq!(h("account x, phone "), PHONE);
        assert_eq!(h("SSN "), SSN);
        assert_eq!(h("사회보장번호 "), SSN);
        assert_eq!(h("landline: "), PHONE);
        assert_eq!(h("tax id "), BRN);
        assert_eq!(h("telemetry "), 0);
        assert_eq!(h("hotel "), 0);
        assert_eq!(h("the build started at "), VERSION);
        // Past another number the word marks that one.
        assert_eq!(h("DOB 1990-03-05 at "), 0);
        assert_eq!(h("농협 8932774064436 device "), 0);
        assert_eq!(h("account no. 12: "), ACCOUNT);
        assert_eq!(h("nothing here at all "), 0);
        // Farther than the window: no hint.
        assert_eq!(h("dob                                            "), 0);
    }

    #[test]
    fn a_key_in_text_is_the_values_key() {
        let h = |s: &str| text_hint(s.as_bytes(), s.len());
        assert_eq!(h("KeyError: social_security_number="), SSN);
        assert_eq!(h("tax_id=\""), BRN);
        assert_eq!(h("  - dateOfBirth: "), DOB);
        assert_eq!(h("\"date_of_birth\": \""), DOB);
        assert_eq!(h("license_no = '"), LICENSE);
        assert_eq!(h("생년월일: "), DOB);
        // An assignment names its own value: the word before it marks an earlier one.
        assert_eq!(h("DOB: 19401102 ts=") & DOB, 0);
        assert_eq!(h("born 1990-01-01, created_at=") & DOB, 0);
        // A key without a hint after `:` leaves the words to decide.
        assert_eq!(h("phone number: "), PHONE);
        assert_eq!(h("10:13:"), 0);
        // Not a key: no letter, or longer than the limit.
        assert_eq!(h("dob 12:"), DOB);
        let long = format!("dob {}=", "x".repeat(80));
        assert_eq!(h(&long), word_hint(long.as_bytes(), long.len()));
        for s in [
            "KeyError: social_security_number=",
            "  - dateOfBirth: ",
            "vat_no=",
        ] {
            let hint = h(s);
            assert!(hint != 0 && may_hint(s.as_bytes(), s.len(), hint), "{s}");
        }
    }

    #[test]
    fn may_hint_rules_out_windows_without_a_first_byte() {
        let may = |s: &str, mask: Hint| may_hint(s.as_bytes(), s.len(), mask);
        // An access log's time: nothing before it starts a date-of-birth word.
        assert!(!may("147.68.75.182 - - [", DOB));
        assert!(!may("", DOB | PHONE));
        assert!(may("Born ", DOB));
        assert!(may("생년월일 ", DOB));
        assert!(may("sku ", BARCODE));
        assert!(!may("id: ", BARCODE));
        // Farther than the window: ruled out like `text_hint` rules it out.
        assert!(!may("dob                                            ", DOB));
    }

    /// `text_hint` without the pair filter: every word compared at every place.
    fn text_hint_plain(b: &[u8], at: usize) -> Hint {
        let from = at.saturating_sub(WINDOW);
        let win = &b[from..at.min(b.len())];
        for s in (0..win.len()).rev() {
            let c = win[s];
            if (0x80..0xC0).contains(&c)
                || (c.is_ascii_alphanumeric()
                    && s + from > 0
                    && b[s + from - 1].is_ascii_alphanumeric())
            {
                continue;
            }
            for &(w, hint, whole) in WORDS {
                let rest = &win[s..];
                let w = w.as_bytes();
                if rest.len() >= w.len()
                    && rest[..w.len()].eq_ignore_ascii_case(w)
                    && !(whole && rest.get(w.len()).is_some_and(u8::is_ascii_alphabetic))
                {
                    let digits = rest[w.len()..]
                        .split(|c| !c.is_ascii_digit())
                        .any(|run| run.len() >= 4);
                    return if digits { 0 } else { hint };
                }
            }
        }
        0
    }

    #[test]
    fn the_pair_and_syllable_filters_change_no_hint() {
        // Marking words (also capitalised and cut short), pieces of them and of other
        // words, separators, digits and Korean syllables, glued at random.
        let mut pieces: Vec<String> = WORDS.iter().map(|w| w.0.to_string()).collect();
        for (w, _, _) in WORDS {
            pieces.push(w.to_ascii_uppercase());
            let cut: String = w.chars().take(w.chars().count().div_ceil(2)).collect();
            pieces.push(cut);
        }
        for p in [
            " ", ": ", "=", "_", "-", "1", "42", "x", "은", "는", "번호", "가", "/", ".",
            // Syllables next to the words' first ones (same first two bytes), the first
            // and last Hangul syllables, a jamo, a 3-byte character past the syllables
            // and a Chinese one.
            "줘", "젓", "샘", "겨", "싱", "읍", "\u{AC00}", "\u{D7A3}", "\u{3131}", "\u{D7B0}",
            "中",
        ] {
            pieces.push(p.to_string());
        }
        let mut next = crate::redact::xorshift(0x2545_f491_4f6c_dd1du64);
        let mut hits = 0;
        for _ in 0..20_000 {
            let mut s = String::new();
            for _ in 0..(next() % 12) {
                s.push_str(&pieces[next() as usize % pieces.len()]);
            }
            let b = s.as_bytes();
            for at in 0..=b.len() {
                let want = text_hint_plain(b, at);
                assert_eq!(word_hint(b, at), want, "{s:?} at {at}");
                hits += usize::from(want != 0);
                // `may_hint` never says no where the hint (with a key's) has the bit.
                let want = text_hint(b, at) | want;
                for bit in 0..Hint::BITS {
                    let mask = 1 << bit;
                    if want & mask != 0 {
                        assert!(may_hint(b, at, mask), "{s:?} at {at}, bit {bit}");
                    }
                }
            }
        }
        assert!(hits > 10_000, "{hits}");
    }

    /// `key_before` as first written: the key read to its start, then checked to be
    /// UTF-8 and to hold a letter in passes of their own.
    fn key_before_plain(b: &[u8], at: usize) -> Option<(&str, bool)> {
        let mut i = at.min(b.len());
        let back = |i: usize| i.checked_sub(1).map(|j| b[j]);
        if matches!(back(i), Some(b'"' | b'\'')) {
            i -= 1;
            if back(i) == Some(b'b') && i >= 2 && matches!(b[i - 2], b' ' | b':') {
                i -= 1;
            }
        }
        let mut blanks = 0;
        while matches!(back(i), Some(b' ' | b'\t')) && blanks < 3 {
            i -= 1;
            blanks += 1;
        }
        let assign = match back(i)? {
            b'=' => true,
            b':' => false,
            b'>' if back(i - 1) == Some(b'=') => {
                i -= 1;
                true
            }
            _ => return None,
        };
        i -= 1;
        while matches!(back(i), Some(b' ' | b'\t')) && blanks < 6 {
            i -= 1;
            blanks += 1;
        }
        if matches!(back(i), Some(b'"' | b'\'' | b']')) {
            i -= 1;
        }
        let end = i;
        while let Some(c) = back(i) {
            if !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-') || c >= 0x80)
                || end - i >= TEXT_KEY
            {
                break;
            }
            i -= 1;
        }
        let key = std::str::from_utf8(&b[i..end]).ok()?;
        let cut = back(i).is_some_and(|c| c.is_ascii_alphanumeric() || c >= 0x80);
        if cut || !key.bytes().any(|c| c.is_ascii_alphabetic() || c >= 0x80) {
            return None;
        }
        Some((key, assign))
    }

    /// Keys (marking, never-scanned, long, Korean, numbered), separators, quotes,
    /// blanks, values and bytes that are not UTF-8, glued at random.
    fn keyed_text() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            prop::sample::select(vec![
                "ts",
                "TS",
                "trace_id",
                "Trace.Id",
                "span-id",
                "service.name",
                "dob",
                "date_of_birth",
                "phone",
                "sku",
                "version",
                "ssn_2",
                "created_at",
                "iat",
                "connect.sid",
                "api_key",
                "생년월일",
                "계좌번호",
                "비번",
                "x",
                "_",
                ".",
                "-",
                "12",
                "2024",
                "a1",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            prop::sample::select(vec![
                "=", ":", ": ", " = ", "\"", "'", "\": \"", " ", "\t", "   ", ",", "\n", " => ",
                "=>", "]", "[", "': b'", " b'", "b",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            prop::sample::select(vec![
                "1705242011802",
                "4111111111111111",
                "1990-03-05",
                "010-1234-5678",
                "10.0.0.1",
                "kim@example.com",
                "info",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            // A key of 60 to 70 bytes: cut by the limit or not.
            (60usize..70).prop_map(|n| "k".repeat(n).into_bytes()),
            prop::collection::vec(any::<u8>(), 1..4),
        ];
        prop::collection::vec(piece, 0..12).prop_map(|parts| parts.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 2048,
            ..proptest::test_runner::Config::default()
        })]

        /// The key before a value, read in one pass and through a memo, is the plain
        /// look-up at every place, and so are the hints and the never-scanned check
        /// that share it.
        #[test]
        fn the_key_read_once_is_the_plain_look_up(b in keyed_text(), order in 0usize..4) {
            use super::super::keys::KeyRules;
            // The built-in never-scanned keys and one more.
            let cfg = crate::config::KeyRules {
                ignore: vec!["Span-Id".into()],
                ..crate::config::KeyRules::default()
            };
            let rules = KeyRules::new(&cfg, true)
                .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            // Every place, in several orders (the key-hint cache filled in each).
            let mut places: Vec<usize> = (0..=b.len() + 1).collect();
            match order {
                1 => places.reverse(),
                2 => places.sort_by_key(|&p| (p % 3, p)),
                3 => places.extend((0..=b.len()).rev()),
                _ => {}
            }
            for at in places {
                let plain = key_before_plain(&b, at);
                let want = plain.map(|(k, assign)| (k.as_bytes(), assign));
                proptest::prop_assert_eq!(key_before(&b, at), want, "at {}", at);
                let key = plain.map(|(k, assign)| (key_hint(k), assign));
                proptest::prop_assert_eq!(text_key(&b, at), key);
                let ignored = plain.is_some_and(|(k, _)| {
                    rules.classify(k) == super::super::keys::KeyClass::Ignored
                });
                proptest::prop_assert_eq!(rules.ignored_in_text(&b, at), ignored);
                if at <= b.len() {
                    let hint = match key {
                        Some((hint, assign)) if hint != 0 || assign => hint,
                        _ => word_hint(&b, at),
                    };
                    proptest::prop_assert_eq!(text_hint(&b, at), hint);
                    let near = window_words(&b, at) | key.map_or(0, |(h, _)| h);
                    for bit in 0..Hint::BITS {
                        let mask = 1 << bit;
                        let old = near & mask != 0 && hint & mask != 0;
                        proptest::prop_assert_eq!(hint_has(&b, at, mask), old);
                    }
                }
            }
        }
    }

    #[test]
    fn keys_before_arrows_and_bytes() {
        // PHP's `print_r` (`[key] => value`), Ruby's and Perl's `key => value`, and
        // Python's `repr()` of bytes (`'key': b'value'`).
        for (s, key, assign) in [
            ("[bizRegNo] => 6272223019", "bizRegNo", true),
            ("    [dob]=>1990-03-05", "dob", true),
            (":ssn => \"078-05-1120\"", "ssn", true),
            ("{'bizRegNo': b'1091989376'}", "bizRegNo", false),
            ("{\"phone\": b\"4155550134\"}", "phone", false),
        ] {
            let at = s.find(|c: char| c.is_ascii_digit()).unwrap();
            assert_eq!(
                key_before(s.as_bytes(), at),
                Some((key.as_bytes(), assign)),
                "{s}"
            );
        }
        // A `b` glued to a word is no bytes prefix; `>` alone joins nothing.
        assert_eq!(key_before(b"{'k': xb'12'}", 9), None);
        assert_eq!(key_before(b"a > 12", 4), None);
    }

    #[test]
    fn tokens() {
        assert!(token_like("9f86d081884c7d659a2feaa0c55ad015"));
        assert!(token_like("Zx81hQw2Lm0PqRt5Vb7Nc3Kd"));
        assert!(!token_like("ffffffffffffffffffffffffffffffff"));
        assert!(!token_like("hello world this is text"));
        assert!(!token_like("short1"));
        // Signed session cookies: `s:` + value + `.` + signature.
        assert!(token_like(
            "s%3Aq8Xk2LmN0pRt5Vb7Nc3Kd9Wz.Hf4Jd8Ks2Lq6Mz0Pw3Rt7Yv1Bx5Cn9"
        ));
        assert!(token_like(
            "s:q8Xk2LmN0pRt5Vb7Nc3Kd9Wz.Hf4Jd8Ks2Lq6Mz0Pw3Rt7Yv1Bx5Cn9"
        ));
        assert!(!token_like("s:hello.world"));
        assert!(!token_like("customer_reference_number_2"));
        assert!(token_like("ob5upkoGmrVgQWkDDfENOykFJHSoeOuJ"));
        assert!(!token_like("userProfileV2SettingsPanel"));
        assert!(token_like("Xk27Q~bN4.rT8_vLp2Ws9-Yh3Jq6~Mz1Fc5Gd0Ae"));
        assert!(!token_like("~/projects/build-output"));
        assert!(!token_like("order_summary_page_v2_mobile"));
    }

    #[test]
    fn signed_cookies_percent_encoded_whole() {
        // Express's signed cookie `s:<id>.<base64 HMAC>` as a cookie value is
        // percent-encoded: `:` as `%3A`, the signature's `+`, `/` and `=` too.
        assert!(token_like(
            "s%3Aq8Xk2LmN0pRt5Vb7Nc3Kd9Wz.Hf4Jd8Ks%2FLq6Mz0Pw3Rt7Yv%2BBx5Cn9"
        ));
        // Only there: a `%` elsewhere, or not before two hex digits, is no token byte.
        assert!(!token_like(
            "s:q8Xk2LmN0pRt5Vb7Nc3Kd9Wz.Hf4Jd8Ks%2FLq6Mz0Pw3Rt7Yv%2BBx5Cn9"
        ));
        assert!(!token_like(
            "s%3Aq8Xk2LmN0pRt5Vb7Nc3Kd9Wz.Hf4Jd8Ks%ZZLq6Mz0Pw3Rt7Yv1Bx5Cn9"
        ));
        assert!(!token_like("Hf4Jd8Ks%2FLq6Mz0Pw3Rt7Yv%2BBx5Cn9"));
    }
}
