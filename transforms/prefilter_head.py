"""The prefilter's view of a page's head: Swallow's two tests (App. A: ``<html lang="ja">`` and the
``<title>``) and the kana test's counts, on a decoded page (:class:`TextHead`) or on raw bytes
before Decode (:class:`RawHead`), giving the same answers either way.

Pure functions and classes, no Beam and no model: :class:`transforms.prefilter.PrefilterRule`
decides from what they return. The charset logic is the decoder's (:mod:`transforms.decode`: its
trial order, its weak declarations, its ``<meta>`` scan), so a head is read as Decode would read
the page; what is added here is which byte pairs are kana in each codec (:data:`PAIR_TABLES`).
"""
from __future__ import annotations

import html as htmllib
import re
from typing import TYPE_CHECKING

from transforms.decode import (
    TRIAL_CODECS, WEAK_CHARSETS, DecodeConfig, decode_html, is_binary, meta_charset,
    normalise_charset, sniff_utf16,
)
from transforms.kana import _KANA_REF, _KANA_UTF8, KanaStats, kana_stats_text
from transforms.records import RecordError

if TYPE_CHECKING:
    from transforms.prefilter import PrefilterConfig

# Swallow App. A, verbatim patterns.
LANG_JA = re.compile(r"""<html[^>]*\slang\s*=\s*["']?ja""", re.IGNORECASE)
TITLE = re.compile(r"<title[^>]*>([^<]*)</title>", re.IGNORECASE)


def _tag_starts(html: str, tag: str, scan: int):
    """Indexes of ``<tag`` (any case) in ``html[:scan]``, in order. A case-insensitive regex
    cannot use the literal-prefix search and tries every position; ``str.find`` on the two
    common spellings runs at memchr speed, and only a page with neither looks at every ``<``."""
    found = False
    for spelling in (tag, tag.upper()):
        i = html.find(spelling, 0, scan)
        while i >= 0:
            found = True
            yield i
            i = html.find(spelling, i + 1, scan)
    if found:
        return
    i = html.find("<", 0, scan)
    while i >= 0:  # mixed case (<Html>): rare
        if html[i : i + len(tag)].lower() == tag:
            yield i
        i = html.find("<", i + 1, scan)


def has_lang_ja(html: str, scan: int = 65536) -> bool:
    """Swallow App. A: ``LANG_JA`` (case-insensitive) at the document's own (first) ``<html``
    tag, as :class:`RawHead` tests it on bytes, so a page gets the same answer either way."""
    first = next(_tag_starts_sorted(html, "<html", scan), None)
    return first is not None and LANG_JA.match(html, first, scan) is not None


def _tag_starts_sorted(html: str, tag: str, scan: int):
    return iter(sorted(_tag_starts(html, tag, scan)))


def page_title(html: str, scan: int = 65536) -> str:
    """Text of the first ``TITLE`` match (Swallow App. A), whitespace collapsed."""
    for i in _tag_starts_sorted(html, "<title", scan):
        m = TITLE.match(html, i, scan)
        if m:
            return " ".join(htmllib.unescape(m.group(1)).split())
    return ""


class TextHead:
    """The prefilter's three tests on an already decoded page."""

    def __init__(self, text: str, cfg: PrefilterConfig):
        self.text, self.cfg = text, cfg

    def kana_stats(self) -> KanaStats:
        cfg = self.cfg
        return kana_stats_text(self.text, cfg.kana_window, cfg.min_kana, cfg.min_kana_share)

    def has_lang_ja(self) -> bool:
        return has_lang_ja(self.text, self.cfg.scan_chars)

    def title(self) -> str:
        return page_title(self.text, self.cfg.scan_chars)


# Swallow's two patterns on bytes (``re.IGNORECASE`` on a bytes pattern folds ASCII only), matched
# at the positions that :meth:`RawHead._first_tag` finds, never searched across the head.
_LANG_JA_BYTES = re.compile(LANG_JA.pattern.encode("ascii"), re.IGNORECASE)
_TITLE_BYTES = re.compile(TITLE.pattern.encode("ascii"), re.IGNORECASE)
_FIRST_WINDOW = 4096  # where <html and <title sit on nearly every page


class RawHead:
    """The prefilter's three tests on raw bytes, before Decode (the DAG's order), so that the
    ~95% of pages dropped here never pay for decoding the whole page.

    What a dropped page costs is what matters (it is most of a crawl), and on it every test must
    fail, so every search runs to its end. In CPython a search that fails costs ~25 us per 32 KiB
    (``bytes.find`` of a tag, a regex, ``bytes.lower``), except a one-byte search (``memchr``,
    ~1 us) and ``isascii`` (~2 us). Hence:

    - the tag tests find ``<html``/``<title`` in their two common spellings with ``bytes.find``
      (first in the first 4 KiB, where nearly every page has them, then in the rest) and match
      Swallow's patterns case-insensitively *at* that position; only a head with neither
      spelling is lower-cased, to find a mixed-case tag, as :func:`has_lang_ja` and
      :func:`page_title` do on text. Only the title's bytes are decoded (or the head, when the
      title's charset is unclear);
    - the kana test decodes the head (never the whole page) only when its bytes cannot rule kana
      out: an ASCII head holds kana only as references to kana code points (one regex pass);
      a head that decodes as UTF-8 (the decoder's first choice) only as ``E3 81 81``–``E3 83 BA``;
      any other head only as a byte pair that is kana in a codec the decoder may choose for it.
    UTF-16 pages are decoded first (their tags are not ASCII bytes)."""

    __slots__ = ("cfg", "charset", "head", "_text", "_low", "codec", "_declared", "_meta", "_scan",
                 "_esc", "tags_in_bytes")

    def __init__(self, raw: bytes, charset: str | None, cfg: PrefilterConfig):
        self.cfg, self.charset = cfg, charset
        self.head = _cut_head(raw, cfg.head_bytes)
        self._text: TextHead | None = None
        self._low: bytes | None = None
        self.codec: str | None = None
        self._declared: str | None | bool = False  # not looked up yet
        self._meta: str | None | bool = False
        self._scan = min(cfg.scan_chars, len(self.head))
        # UTF-16 tags are not ASCII bytes; ISO-2022-JP text hides in ASCII bytes behind escapes:
        # both are decoded first and tested as text.
        self._esc = b"\x1b" in self.head
        self.tags_in_bytes = not (
            raw.startswith((b"\xff\xfe", b"\xfe\xff"))
            or (self._esc and b"\x1b$" in self.head)
            or sniff_utf16(self.head)
        )
        if not self.tags_in_bytes:
            self._text = TextHead(_decode_head(self.head, charset), cfg)

    def _decoded(self) -> TextHead:
        if self._text is None:
            text, self.codec = _decode_head_codec(self.head, self.charset)
            self._text = TextHead(text, self.cfg)
        return self._text

    def _first_tag(self, tag: bytes, start: int = 0) -> int:
        """Offset of the first ``tag`` (lower case, e.g. ``b"<title"``) at or after ``start`` in
        the scanned head, in any case; -1 if none. The two common spellings are found with
        ``bytes.find``; a mixed-case one (``<Title``) only when neither occurs, as
        :func:`_tag_starts` does on text."""
        head, end = self.head, self._scan
        upper = tag.upper()
        lo = start
        for hi in (min(start + _FIRST_WINDOW, end), end):
            i = head.find(tag, lo, hi)
            j = head.find(upper, lo, i + len(tag) - 1 if i >= 0 else hi)
            if j >= 0:
                return j
            if i >= 0:
                return i
            if hi == end:
                break
            lo = max(start, hi - len(tag) + 1)  # a tag across the window's edge
        if self._low is None:
            self._low = head[:end].lower()
        return self._low.find(tag, start, end)

    def _meta_charset(self) -> str | None:
        """:func:`transforms.decode.meta_charset` of the head, as the decoder reads it (once)."""
        if self._meta is False:
            self._meta = meta_charset(self.head, _DECODE.meta_scan_bytes)
        return self._meta

    def declared(self) -> str | None:
        """The page's own charset claim (HTTP header, else ``<meta>``), if a strong one; the
        ``<meta>`` is only looked for when the header has no strong claim."""
        if self._declared is False:
            cs = normalise_charset(self.charset)
            if not cs or cs in WEAK_CHARSETS:
                cs = normalise_charset(self._meta_charset())
            self._declared = cs if cs and cs not in WEAK_CHARSETS else None
        return self._declared

    def kana_stats(self) -> KanaStats:
        """The kana test's counts, decoding the head only when its bytes cannot settle the
        decision. The counts are those of the decoded head (:meth:`TextHead.kana_stats`),
        except that a head whose bytes cannot hold ``min_kana`` kana in any charset the decoder
        may choose gives ``(0, 0)`` without decoding: the decision (fail) is the same. In order:

        - an ASCII head holds kana only as references to kana code points (ISO-2022-JP, whose
          ``ESC $`` hides kana in ASCII bytes, was decoded in ``__init__``): one regex pass;
        - a head that declares UTF-8 is trusted for this test: kana is ``E3 81 81``–``E3 83 BA``;
        - any other head: at most :meth:`_kana_bound` kana, so fewer than ``min_kana`` such
          byte pairs settle it; else, if it is valid UTF-8 (the decoder's first choice), the
          UTF-8 kana sequences are searched in its bytes; else the head is decoded."""
        head = self.head
        if not self.tags_in_bytes:
            return self._decoded().kana_stats()
        if head.isascii():
            # Decoding gives the same ASCII text (ESC without ``ESC $`` switches to JIS-Roman,
            # no kana): one literal-prefix regex pass (``b"&#" in head`` alone cost twice as
            # much). A binary head with a kana reference is decoded, and the decoder raises.
            end = min(len(head), self.cfg.kana_window)
            if _KANA_REF.search(head, 0, end) is None:
                return KanaStats(0, 0, end)
            return self._decoded().kana_stats()
        if self.declared() != "utf_8":
            bound = self._kana_bound()
            if bound is not None and bound < self.cfg.min_kana:
                return KanaStats(0, 0, len(head))
            if not self._utf8_text():
                decoded = self._decoded()
                if self.codec in _SINGLE_BYTE:  # no kana in any single-byte charset
                    return KanaStats(0, 0, len(head))
                return decoded.kana_stats()
        if not has_utf8_kana(head):
            return KanaStats(0, 0, len(head))
        return self._decoded().kana_stats()

    def _utf8_text(self) -> bool:
        """Whether the decoder takes the head as UTF-8 (valid UTF-8, no BOM, not binary: it
        tries UTF-8 before any declaration); if so, keeps the decoded head for later tests."""
        head = self.head
        if head.startswith(b"\xef\xbb\xbf") or is_binary(head, _DECODE.binary_scan_bytes,
                                                         _DECODE.max_control_frac):
            return False
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            return False
        self._text, self.codec = TextHead(text, self.cfg), "utf_8"
        return True

    def _kana_bound(self) -> int | None:
        """At most how many kana decoding the head can give, counted up to ``min_kana``: the
        most byte pairs that are kana in any one codec the decoder may choose (:data:`_PAIRS`):
        UTF-8, CP932 and EUC-JP (its trial order; ISO-2022-JP has no kana without ``ESC $``,
        which sends the head down the decoded path), the strong declarations of the header and
        the ``<meta>`` (both, as :func:`decode_html` tries them); single-byte charsets have none.
        Each kana of the decoded text starts at a distinct offset where such a pair occurs, so
        the count bounds it whichever codec wins. ``None`` for a declaration without a pair
        table (JIS X 0213, GB18030, ...): decode. One ``memchr`` per lead byte, and a search
        only for the lead bytes present, stopping at ``min_kana``."""
        head, cap = self.head, self.cfg.min_kana
        tables = [_PAIRS["utf_8"], _PAIRS["cp932"], _PAIRS["euc_jp"]]
        for name in (self.charset, self._meta_charset()):
            cs = normalise_charset(name)
            if cs is None or cs in WEAK_CHARSETS or cs in _SINGLE_BYTE or cs in _TRIAL_CODECS:
                continue
            table = _PAIRS.get(cs)
            if table is None:
                return None
            tables.append(table)
        best = 0
        for table in tables:
            n = 0
            for lead, pair in table:
                pos = head.find(lead)
                while pos >= 0 and n < cap:
                    m = pair.search(head, pos)
                    if m is None:
                        break
                    n += 1
                    pos = m.start() + 1
            if n >= cap:
                return n
            best = max(best, n)
        return best

    def has_lang_ja(self) -> bool:
        if not self.tags_in_bytes:
            return self._decoded().has_lang_ja()
        # The document's own <html> start tag (the first one): later "<html" strings are quoted
        # in scripts or comments, and scanning for them would cost a pass over every page.
        i = self._first_tag(b"<html")
        return i >= 0 and _LANG_JA_BYTES.match(self.head, i, self._scan) is not None

    def title(self) -> str:
        if not self.tags_in_bytes:
            return self._decoded().title()
        head, end = self.head, self._scan
        i = self._first_tag(b"<title")
        while i >= 0:
            m = _TITLE_BYTES.match(head, i, end)
            if m:
                break
            i = self._first_tag(b"<title", i + 1)
        else:
            return ""
        raw_title = head[m.start(1) : m.end(1)]
        text = (raw_title.decode("ascii") if raw_title.isascii()
                else _decode_title(raw_title, self.declared()))
        if text is None:
            # An undeclared short non-ASCII title cannot tell its own charset (EUC-JP bytes also
            # decode as CP932): decode the head, whose charset decoding is reliable.
            return self._decoded().title()
        return " ".join(htmllib.unescape(text).split())


def has_utf8_kana(b: bytes, probes: int = 16) -> bool:
    """Whether UTF-8 bytes hold a kana (``E3 81 81``–``E3 83 BA``). Chinese pages have ``E3``
    only for their punctuation (U+3000–303F), a few times per page: one ``memchr`` to each and
    an anchored match there beats a regex pass over the head (~12–19 us per 32 KiB, and a
    two-byte ``bytes.find`` ~35 us); after ``probes`` of them, the regex takes the rest."""
    i = b.find(b"\xe3")
    while i >= 0:
        if _KANA_UTF8.match(b, i):
            return True
        probes -= 1
        if probes == 0:
            return _KANA_UTF8.search(b, i + 1) is not None
        i = b.find(b"\xe3", i + 1)
    return False


# Byte pairs that decode to kana (U+3041–3096, 30A1–30FA), per codec, as lead byte → trail
# range; found by decoding every two-byte sequence (tests/unit/test_prefilter.py checks them
# again). UTF-8 kana is E3 81–83 then a continuation byte; EUC-JP's three-byte JIS X 0212 has
# no kana; GB2312 has the kana rows of EUC-JP, EUC-KR (KS X 1001) has them in rows AA/AB.
_TRIAL_CODECS = frozenset(TRIAL_CODECS)  # the decoder's trial order, as a set
_EUCJP_PAIRS = {b"\xa4": rb"[\xa1-\xf3]", b"\xa5": rb"[\xa1-\xf6]"}
_KS_PAIRS = {b"\xaa": rb"[\xa1-\xf3]", b"\xab": rb"[\xa1-\xf6]"}
_BIG5_PAIRS = {b"\xc6": rb"[\xa5-\xfe]", b"\xc7": rb"[\x40-\xb0]"}
_SJIS_PAIRS = {b"\x82": rb"[\x9f-\xf1]", b"\x83": rb"[\x40-\x96]"}
PAIR_TABLES = {
    "utf_8": {b"\xe3": rb"[\x81-\x83]"},
    "cp932": _SJIS_PAIRS, "shift_jis": _SJIS_PAIRS,
    "euc_jp": _EUCJP_PAIRS, "gb2312": _EUCJP_PAIRS, "gbk": _EUCJP_PAIRS,
    "euc_kr": _KS_PAIRS, "cp949": _KS_PAIRS,
    "big5": _BIG5_PAIRS, "cp950": _BIG5_PAIRS,
    "big5hkscs": {b"\xc6": rb"[\xe7-\xfe]", b"\xc7": rb"[\x40-\xf2]"},
}  # any other multi-byte declaration (JIS X 0213 codecs have kana elsewhere, GB18030, ...): decode
_PAIRS = {cs: tuple((lead, re.compile(re.escape(lead) + trail)) for lead, trail in table.items())
          for cs, table in PAIR_TABLES.items()}

_DECODE = DecodeConfig()  # the head is decoded with the defaults (:func:`_decode_head_codec`)


def _decode_title(raw: bytes, declared: str | None) -> str | None:
    """The title's text, or None when its bytes alone cannot tell their charset."""
    if raw.isascii():
        return raw.decode("ascii")
    try:  # legacy Japanese bytes are almost never valid UTF-8 by accident
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return raw.decode(declared)
        except (UnicodeDecodeError, LookupError):
            return None
    return None


def _cut_head(raw: bytes, limit: int) -> bytes:
    """The first ``limit`` bytes, cut after the last ``>`` (an ASCII byte in every
    ASCII-compatible charset, so no multi-byte character is split)."""
    head = raw[:limit]
    if len(raw) > limit:
        cut = head.rfind(b">")
        head = head[: cut + 1] if cut > 0 else head
    return head


_SINGLE_BYTE = frozenset({"latin_1", "iso8859_1", "iso8859_2", "iso8859_5", "iso8859_6", "iso8859_7",
                          "iso8859_8", "iso8859_9", "iso8859_15", "cp1250", "cp1251", "cp1252",
                          "cp1253", "cp1254", "cp1255", "cp1256", "koi8_r", "koi8_u", "tis_620"})


def _decode_head(head: bytes, charset: str | None) -> str:
    return _decode_head_codec(head, charset)[0]


def _decode_head_codec(head: bytes, charset: str | None) -> tuple[str, str]:
    try:
        return decode_html(head, charset)
    except ValueError as e:
        raise RecordError("undecodable", str(e)) from None
