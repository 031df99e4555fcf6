"""PII anonymisation: e-mail and IP addresses replaced by placeholders, as FineWeb does
(datatrove ``pipeline/formatters/pii.py``: ``PIIFormatter``), plus optional Japanese kinds.

Default (FineWeb's two kinds, with three fixes for Japanese pages):
- **e-mail** → ``email@example.com`` / ``firstname.lastname@example.org`` (RFC 2606 names).
  datatrove's pattern starts at ``\\b``, so an address glued to Japanese text
  (「お問い合わせはinfo@example.co.jpまで」) is missed: here the boundary is "no address character
  before". Full-width forms (``ｉｎｆｏ＠…``, a common anti-spam spelling) are matched too.
  ``name@2x.png`` (retina image names) is not an address.
- **IPv4** → an address of the documentation ranges (RFC 5737: 192.0.2.0/24, 198.51.100.0/24,
  203.0.113.0/24), only for public addresses (``ipaddress`` ``is_global``, as FineWeb), not
  inside a longer dotted number, not after ``v``/``ver``/``version``/``バージョン``, and not four
  single digits (``第3.5.2.1節``, ``1.2.3.4``: section and version numbers; the few hosts
  written so, like 8.8.8.8, are public services, not people).
- **IPv6** → ``2001:db8::…`` (RFC 3849), only global unicast (2000::/3, ``is_global``), so clock
  times and MAC addresses never match.

The replacement is chosen by a CRC of the matched text, not round-robin as in datatrove, so the
output does not depend on the order in which a worker sees documents.

Optional (off by default: a 10–16-digit number is often not personal data):
- **Japanese phone numbers**: fixed line (10 digits), 070/080/090/050/020 (11), 0120/0570 (10),
  0800 (11), ``+81`` forms (``+81-90-…``, ``+81 (0)3 …``), brackets (``(03)1234-5678``,
  ``03(1234)5678``), full-width digits and dashes (－ ー ‐ −). Separated forms, or unseparated
  mobile/free-dial numbers. Digits become ``0`` (``000-0000-0000``: no Japanese number starts
  with 00), separators and width kept.
- **My Number** (個人番号): 12 digits (``dddd dddd dddd`` or joined) whose last digit is the check
  digit of the Ordinance on the check digit (11 − Σ Pn·Qn mod 11; 0 if the remainder ≤ 1).
  One random 12-digit number in 11 passes, hence off by default.
- **credit cards**: 13–19 digits (grouped by spaces or hyphens or not) with a known issuer prefix
  and length (Visa, Mastercard, Amex, JCB, Diners, Discover, UnionPay) and a valid Luhn sum.
"""
from __future__ import annotations

import ipaddress
import re
import zlib
from dataclasses import dataclass

STAGE = "pii"
EMAIL = "pii_email_v1"
IP = "pii_ip_v1"
PHONE = "pii_phone_jp_v1"
MY_NUMBER = "pii_my_number_v1"
CARD = "pii_credit_card_v1"
KINDS = (EMAIL, IP, PHONE, MY_NUMBER, CARD)
#: Parquet column (count per document) of each kind.
COLUMN = {EMAIL: "pii_email", IP: "pii_ip", PHONE: "pii_phone", MY_NUMBER: "pii_my_number",
          CARD: "pii_credit_card"}

EMAIL_REPLACEMENTS = ("email@example.com", "firstname.lastname@example.org")
IPV4_REPLACEMENTS = ("192.0.2.1", "198.51.100.1", "203.0.113.1", "192.0.2.254", "198.51.100.254", "203.0.113.254")
IPV6_REPLACEMENTS = ("2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4")


@dataclass(frozen=True)
class PIIConfig:
    """Which kinds are replaced. ``emails``/``ips`` on (FineWeb); the Japanese kinds off."""

    emails: bool = True
    ips: bool = True
    only_public_ips: bool = True
    phones: bool = False
    my_numbers: bool = False
    credit_cards: bool = False


# Length-preserving fold (offsets stay offsets into the original): full-width ASCII → ASCII,
# ideographic space → space, dash look-alikes (‐ ‑ ‒ – — − ー ｰ) → "-".
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FOLD.update({0x3000: 0x20, **{cp: 0x2D for cp in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2212, 0x30FC, 0xFF70)}})


def fold(text: str) -> str:
    return text.translate(_FOLD)


_LOCAL = r"[a-z0-9!#$%&'*+/=?^_`{|}~-]"
_EMAIL_RE = re.compile(
    rf"(?<![a-z0-9!#$%&'*+/=?^_`{{|}}~.-]){_LOCAL}+(?:\.{_LOCAL}+)*@"
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+([a-z]{2,63})(?![a-z0-9-]|\.[a-z0-9])", re.I)
_FILE_EXT = {"png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "bmp", "ico", "js", "css", "pdf"}
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4_RE = re.compile(rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\d|\.\d)")
_VERSION_BEFORE = re.compile(r"(?:\bv|\bver\.?|version|バージョン)\s*$", re.I)
_IPV6_RE = re.compile(r"(?<![0-9a-f:])(?:[0-9a-f]{1,4}:){1,7}(?::|(?::[0-9a-f]{1,4}){1,7}|[0-9a-f]{1,4})"
                      r"(?![0-9a-f:])", re.I)
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")

_S = r"[-. ]"
_PHONE_RE = re.compile(
    r"(?<![0-9A-Za-z_+\-.])(?:"
    rf"(?:\+81{_S}?(?:\(0\){_S}?)?|0)\d{{1,4}}{_S}\d{{1,4}}{_S}\d{{4}}"   # 03-1234-5678, +81-90-…
    rf"|\(0\d{{1,4}}\){_S}?\d{{1,4}}{_S}\d{{4}}"                         # (03)1234-5678
    r"|0\d{1,4}\(\d{1,4}\)\d{4}"                                         # 03(1234)5678
    rf"|(?:\+81{_S}?|0)(?:120|570){_S}?\d{{3}}{_S}?\d{{3}}"                 # 0120-123-456
    r"|(?:\+81|0)(?:[2579]0\d{8}|80\d{8}|120\d{6}|800\d{7})"             # 09012345678
    r")(?![\d]|[-.]\d)")
_MOBILE = ("20", "50", "70", "80", "90")
_MY_NUMBER_RE = re.compile(r"(?<![\d\-])(?<!\d[ ])\d{4}([- ]?)\d{4}\1\d{4}(?![\d]|[- ]\d)")
_CARD_RE = re.compile(r"(?<![\d\-])(?<!\d[ ])\d(?:[- ]?\d){12,18}(?![\d]|[- ]\d)")


def _pick(options: tuple[str, ...], matched: str) -> str:
    return options[zlib.crc32(matched.encode("utf-8")) % len(options)]


def _zero_digits(span: str, keep: int = 0) -> str:
    return span[:keep] + "".join("０" if "０" <= c <= "９" else "0" if c.isdigit() else c for c in span[keep:])


def _sub(text: str, pattern: re.Pattern, replace) -> tuple[str, int]:
    """Replace matches found in the folded text, in the original text; ``replace(text, match)``
    (the original text, a match on the folded one) returns the replacement or None to leave it."""
    folded = fold(text)
    out, last, n = [], 0, 0
    for m in pattern.finditer(folded):
        new = replace(text, m)
        if new is None:
            continue
        out.append(text[last:m.start()])
        out.append(new)
        last, n = m.end(), n + 1
    if not n:
        return text, 0
    out.append(text[last:])
    return "".join(out), n


def replace_emails(text: str) -> tuple[str, int]:
    if "@" not in text and "＠" not in text:
        return text, 0
    return _sub(text, _EMAIL_RE, lambda text, m: None if m.group(1).lower() in _FILE_EXT
                else _pick(EMAIL_REPLACEMENTS, m.group()))


def replace_ips(text: str, only_public: bool = True) -> tuple[str, int]:
    def v4(text, m):
        if len(m.group()) == 7 or _VERSION_BEFORE.search(text[max(0, m.start() - 12):m.start()]):
            return None  # 3.5.2.1: a section or version number far more often than a host
        if only_public and not ipaddress.IPv4Address(m.group()).is_global:
            return None
        return _pick(IPV4_REPLACEMENTS, m.group())

    def v6(text, m):
        try:
            addr = ipaddress.IPv6Address(m.group())
        except ValueError:
            return None
        if addr not in _GLOBAL_UNICAST or (only_public and not addr.is_global):
            return None
        return _pick(IPV6_REPLACEMENTS, m.group().lower())

    n = 0
    if "." in text or "．" in text:
        text, n = _sub(text, _IPV4_RE, v4)
    if ":" in text or "：" in text:
        text, n6 = _sub(text, _IPV6_RE, v6)
        n += n6
    return text, n


def is_jp_phone(number: str) -> bool:
    """True for a valid Japanese number's digits as written (``+81…`` or ``0…``)."""
    digits = re.sub(r"\D", "", number)
    if number.startswith("+81"):
        nsn = digits[2:]
        if "(0)" in number:
            nsn = nsn[1:]
    else:
        nsn = digits[1:]
    if not nsn or nsn[0] == "0":
        return False
    if nsn[:2] in _MOBILE or nsn[:3] == "800":
        return len(nsn) == 10
    return len(nsn) == 9


def replace_phones(text: str) -> tuple[str, int]:
    return _sub(text, _PHONE_RE, lambda text, m: _zero_digits(text[m.start():m.end()], 3 if m.group().startswith("+81") else 0)
                if is_jp_phone(m.group()) else None)


def my_number_valid(digits: str) -> bool:
    """The My Number check digit: Pn = n-th digit left of the check digit, Qn = n+1 (n ≤ 6),
    n−5 (n ≥ 7); check = 0 if Σ Pn·Qn mod 11 ≤ 1 else 11 − remainder."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    r = sum(int(digits[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12)) % 11
    return int(digits[11]) == (0 if r <= 1 else 11 - r)


def replace_my_numbers(text: str) -> tuple[str, int]:
    return _sub(text, _MY_NUMBER_RE, lambda text, m: _zero_digits(text[m.start():m.end()])
                if my_number_valid(re.sub(r"\D", "", m.group())) else None)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_issuer(digits: str) -> str | None:
    """The card scheme whose prefix and length ``digits`` has, else None."""
    n, p2, p4 = len(digits), int(digits[:2]), int(digits[:4])
    if digits[0] == "4" and n in (16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= int(digits[:3]) <= 305 or p2 in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if (p4 == 6011 or p2 == 65 or 644 <= int(digits[:3]) <= 649) and 16 <= n <= 19:
        return "discover"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    return None


def replace_cards(text: str) -> tuple[str, int]:
    def card(text, m):
        digits = re.sub(r"\D", "", m.group())
        return _zero_digits(text[m.start():m.end()]) if card_issuer(digits) and luhn_valid(digits) else None

    return _sub(text, _CARD_RE, card)


def anonymize(text: str, cfg: PIIConfig = PIIConfig()) -> tuple[str, dict[str, int]]:
    """``(text with PII replaced, {kind: replacements})``. Cards and My Numbers go before phones
    (a card's digit groups must not be read as a phone number)."""
    counts = dict.fromkeys(KINDS, 0)
    if cfg.emails:
        text, counts[EMAIL] = replace_emails(text)
    if cfg.ips:
        text, counts[IP] = replace_ips(text, cfg.only_public_ips)
    if cfg.credit_cards:
        text, counts[CARD] = replace_cards(text)
    if cfg.my_numbers:
        text, counts[MY_NUMBER] = replace_my_numbers(text)
    if cfg.phones:
        text, counts[PHONE] = replace_phones(text)
    return text, counts


class PIIRule:
    """The stage's rule: never drops; replaces and records counts in ``pii_*`` columns."""

    name = STAGE

    def __init__(self, cfg: PIIConfig = PIIConfig()):
        self.cfg = cfg

    def __call__(self, record: dict) -> tuple[dict, str | None]:
        text, counts = anonymize(record.get("text") or "", self.cfg)
        out = dict(record)
        out["text"] = text
        out["text_chars"] = len(text)
        for kind, n in counts.items():
            out[COLUMN[kind]] = n
        return out, None
