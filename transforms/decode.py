"""Decode: raw HTML bytes → ``str``, with Japanese legacy charsets.

Order: byte-order mark → ISO-2022-JP escape sequences → the HTTP header charset → ``<meta charset>``
→ trial decoding UTF-8 → CP932 (Shift_JIS) → EUC-JP → ISO-2022-JP.

Two facts about real Japanese servers (see tests/data/warc/labels.tsv, ``header_charset=wrong``)
shape the order: misconfigured servers send ``ISO-8859-1`` for Shift_JIS/EUC-JP pages, and some
pages declare a legacy charset in ``<meta>`` but are really UTF-8. So single-byte Western
declarations are *weak* (tried only after the Japanese candidates fail), and bytes that are valid
UTF-8 with non-ASCII content are UTF-8 whatever the declaration says: legacy Japanese text is
almost never valid UTF-8 by accident.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache

from transforms.config_fields import check
from transforms.records import RecordError

# Matched on the ASCII-lower-cased head (bytes.lower touches only A-Z, offsets unchanged), so
# the search is a literal-prefix scan instead of a case-insensitive try at every position.
_META_CHARSET = re.compile(rb"""<meta[^>]{0,400}?charset\s*=\s*["']?\s*([a-z0-9_:.\-]+)""")
_ISO2022_ESC = re.compile(rb"\x1b\$[@B]|\x1b\(J")

# Declarations that decode any byte string, so they prove nothing about the bytes.
WEAK_CHARSETS = _WEAK = frozenset({"latin_1", "iso8859_1", "cp1252", "ascii", "iso8859_15"})
_ALIASES = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "x-euc-jp": "euc_jp",
    "euc-jp": "euc_jp",
    "x-euc": "euc_jp",
}
#: The Japanese trial order after the declarations (also what the prefilter's head view assumes).
TRIAL_CODECS = ("utf_8", "cp932", "euc_jp", "iso2022_jp")


@dataclass(frozen=True)
class DecodeConfig:
    """How hard to try. ``meta_scan_bytes``: how far into the page to look for ``<meta charset>``
    (HTML5 requires it in the first 1024 bytes; old pages put it later, so we look further).
    ``max_replacement_frac``: a page that no candidate decodes strictly is still accepted with the
    candidate that needs the fewest U+FFFD replacements, if that is at most this fraction of its
    characters (a stray bad byte in an otherwise fine Shift_JIS page); else it is Latin-1.
    ``binary_scan_bytes``/``max_control_frac``: a body whose head has more than this fraction of
    control bytes (NUL etc.) is binary (an image served as text/html): an ``undecodable`` error.
    """

    meta_scan_bytes: int = 4096
    max_replacement_frac: float = 0.01
    binary_scan_bytes: int = 4096
    max_control_frac: float = 0.01

    def __post_init__(self):
        check(self, at_least_one=("meta_scan_bytes", "binary_scan_bytes"),
              unit_interval=("max_replacement_frac", "max_control_frac"))


@lru_cache(maxsize=1024)
def normalise_charset(name: str | None) -> str | None:
    """Python codec name for a declared charset, or None if unknown/absent. Cached: a crawl
    names a few hundred distinct charsets, and ``codecs.lookup`` costs about a microsecond, paid
    up to twice per page by the prefilter and the decoder."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    # Python codecs that are not a page's character encoding: transforms (base64, rot13, zlib),
    # escape and label codecs, and 'undefined' (raises on every byte). WHATWG Encoding lists none.
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_PAGE_ENCODINGS:
        return None
    return info.name.replace("-", "_")


_NOT_PAGE_ENCODINGS = frozenset({"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode",
                                 "unicode-internal", "mbcs", "oem", "charmap"})


def meta_charset(raw: bytes, scan: int = 4096) -> str | None:
    """The ``charset`` of the first ``<meta ... charset=...>`` in the head, as written."""
    head = raw[:scan]
    low = head.lower()
    if b"charset" not in low:
        return None
    m = _META_CHARSET.search(low)
    return head[m.start(1) : m.end(1)].decode("ascii", "ignore") if m else None


_CONTROL = bytes(i for i in range(32) if i not in (9, 10, 12, 13, 27))


def is_binary(raw: bytes, scan: int = 4096, max_frac: float = 0.01) -> bool:
    head = raw[:scan]
    if not head:
        return False
    n_control = len(head) - len(head.translate(None, _CONTROL))
    return n_control > max_frac * len(head)


def sniff_utf16(raw: bytes, scan: int = 512) -> str | None:
    """UTF-16 without a BOM: ASCII markup leaves every other byte NUL."""
    if raw.find(b"\x00", 0, scan) < 0:  # one memchr: no NUL, no UTF-16 markup (most pages)
        return None
    head = raw[: scan - scan % 2]
    if len(head) < 8:
        return None
    if head[1::2].count(0) > 0.6 * (len(head) // 2) and head[0::2].count(0) < 0.1 * (len(head) // 2):
        return "utf_16_le"
    if head[0::2].count(0) > 0.6 * (len(head) // 2) and head[1::2].count(0) < 0.1 * (len(head) // 2):
        return "utf_16_be"
    return None


def _strict(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(
    raw: bytes, header_charset: str | None, cfg: DecodeConfig = DecodeConfig()
) -> tuple[str, str]:
    """Return ``(text, codec)``. Raises ``ValueError`` when no candidate is acceptable."""
    # 1. A byte-order mark is authoritative (UTF-16 pages exist in the sample).
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf_8", "replace"), "utf_8"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf_16", "replace"), "utf_16"
    utf16 = sniff_utf16(raw)
    if utf16:
        text = _strict(raw, utf16)
        if text is not None:
            return text, utf16
    if is_binary(raw, cfg.binary_scan_bytes, cfg.max_control_frac):
        raise ValueError(f"binary body ({len(raw)} bytes): control bytes in the first "
                         f"{cfg.binary_scan_bytes} bytes")
    # 2. Pure 7-bit with JIS escapes: ISO-2022-JP (valid ASCII/UTF-8 too, so test it first).
    if raw.isascii():
        if _ISO2022_ESC.search(raw):
            text = _strict(raw, "iso2022_jp")
            if text is not None:
                return text, "iso2022_jp"
        return raw.decode("ascii"), "ascii"
    # 3. Valid UTF-8 with non-ASCII bytes is UTF-8 whatever was declared.
    text = _strict(raw, "utf_8")
    if text is not None:
        return text, "utf_8"
    # 4. Declarations (strong first), then the Japanese trial order, then weak declarations.
    declared = [normalise_charset(header_charset), normalise_charset(meta_charset(raw, cfg.meta_scan_bytes))]
    strong = [c for c in declared if c and c not in _WEAK]
    weak = [c for c in declared if c and c in _WEAK]
    candidates = list(dict.fromkeys(strong + [c for c in TRIAL_CODECS if c != "utf_8"] + weak))
    for codec in candidates:
        text = _strict(raw, codec)
        if text is not None:
            return text, codec
    # 5. Nothing strict: the least damaged candidate, if damage is small.
    best = None
    for codec in dict.fromkeys(strong + list(TRIAL_CODECS)):
        text = raw.decode(codec, "replace")
        bad = text.count("\ufffd")
        if best is None or bad < best[0]:
            best = (bad, text, codec)
    bad, text, codec = best
    if bad <= cfg.max_replacement_frac * max(len(text), 1):
        return text, codec
    # 6. Undeclared single-byte text (ISO-8859-x pages in the sample): not Japanese, and later
    # stages will drop it; Latin-1 maps every byte, so nothing is lost or invented.
    return raw.decode("latin_1"), "latin_1"


class DecodeRule:
    """``html`` bytes → ``html`` str; adds ``charset``."""

    name = "decode"

    def __init__(self, cfg: DecodeConfig = DecodeConfig()):
        self.cfg = cfg

    def __call__(self, record: dict) -> tuple[dict, str | None]:
        try:
            text, codec = decode_html(record["html"], record.get("http_charset"), self.cfg)
        except ValueError as e:
            raise RecordError("undecodable", str(e)) from None
        out = dict(record)
        out["html"] = text
        out["charset"] = codec
        return out, None
