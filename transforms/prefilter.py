"""Rapid Japanese prefilter, before extraction: Swallow's rule (App. A), a kana test (issue 11), or both.

- ``swallow`` (the paper, for fidelity): keep a page if its raw HTML has ``<html ... lang="ja...">``
  or its ``<title>`` is Japanese by the precise LID (lid.176). Paper: precision 0.888, recall
  0.967 on 2023 CC pages, ~5% of pages pass. On our labelled sample (``tests/data/warc``, 489
  Japanese HTML pages) it has precision 1.000 but recall 0.722: it drops 136 Japanese pages,
  mostly old homepages, forums and manuals with no ``lang`` attribute and a Latin or kanji-only
  title ("Calendar", "RIKUZEN", "unlink", "SSH Forwarding ([Setup] メニュー)" → zh, "打鍵｡" → zh).
- ``kana``: enough hiragana/katakana in the first ``kana_window`` characters, and kana a minimum
  share of the CJK letters there (:mod:`transforms.kana`). Sample: precision 0.994, recall 0.986
  (the misses: 4 binary-wrapped pages that never reach the prefilter, an English man page
  labelled ja, a Twitter page with its kana after 450 KB of script, a help page with 2 kana).
- ``both``: pass if either passes (sample: precision 0.994, recall 0.986; ``swallow`` adds no
  page the kana test misses here, but it keeps every page the paper keeps).

The rule writes its evidence as record fields, so that the report can compute precision/recall
for every mode from one run (:func:`prefilter_pr`):

- ``prefilter_lang_attr`` (bool): the ``<html lang=ja>`` test;
- ``prefilter_title_ja`` (bool): the title LID test;
- ``prefilter_kana`` (int): kana count, ``prefilter_cjk`` (int): Han + Hangul count in the window
  (the kana test passes iff :func:`transforms.kana.kana_passes` holds on them). Both are 0 when
  the raw bytes show that the head cannot hold ``min_kana`` kana (:meth:`RawHead.kana_stats`):
  exact for the decision, not for counts below ``min_kana``.

A field is ``None`` when the test was not run because it could not change the decision in this
mode (cost: in ``kana`` mode the title LID never runs; in ``both`` a page with kana skips the
regex and the LID; in ``swallow`` a ``lang=ja`` page skips the LID and no page is kana-counted).
``PrefilterConfig.evidence`` runs every test that can matter for any mode (an evaluation run,
``--lang_labels``); even then ``prefilter_title_ja`` is ``None`` when ``lang=ja`` already decides
both ``swallow`` and ``both``.
"""
from __future__ import annotations

import csv
import html as htmllib
import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from classifiers.langid import LangId
from transforms.decode import (
    WEAK_CHARSETS, DecodeConfig, is_binary, meta_charset, normalise_charset, sniff_utf16,
)
from transforms.kana import _KANA_REF, _KANA_UTF8, KanaStats, kana_passes, kana_stats_text

# Swallow App. A, verbatim patterns.
LANG_JA = re.compile(r"""<html[^>]*\slang\s*=\s*["']?ja""", re.IGNORECASE)
TITLE = re.compile(r"<title[^>]*>([^<]*)</title>", re.IGNORECASE)

# The scripts a title needs before lid.176 can call it Japanese: CJK symbols and punctuation,
# kana, CJK ideographs (Ext. A and the unified block) and everything between (U+3000–9FFF),
# compatibility ideographs (F900–FAFF), full-width and half-width forms (FF00–FFEF).
_LID_SCRIPT = re.compile("[\u3000-\u9fff\uf900-\ufaff\uff00-\uffef]")


def has_lid_script(title: str) -> bool:
    """Whether ``title`` has a character in U+3000–9FFF, F900–FAFF or FF00–FFEF
    (:attr:`PrefilterConfig.title_lid_needs_cjk`)."""
    return not title.isascii() and _LID_SCRIPT.search(title) is not None


REASON = "prefilter_not_ja_v1"
MODES = ("swallow", "kana", "both")
EVIDENCE_FIELDS = ("prefilter_lang_attr", "prefilter_title_ja", "prefilter_kana", "prefilter_cjk")


@dataclass(frozen=True)
class PrefilterConfig:
    """``mode``: ``swallow`` (App. A, the paper's rule), ``kana`` or ``both`` (issue 11).

    ``scan_chars``: how much of the page the Swallow regexes look at; ``<html lang>`` and
    ``<title>`` sit in the head, and a bound keeps a 50 MB page from costing a full scan.

    Kana test (issue 11, measured on ``tests/data/warc``, 489 Japanese and 62 other HTML pages):

    ``kana_window``: characters of the decoded page scanned for kana (bytes when the rule sees
    raw bytes). The cost on a page without kana is one UTF-8 encode and one regex pass over the
    window, so it is linear in it; recall (min_kana 3) by window: 8 Ki 0.976, 16 Ki 0.984,
    32 Ki 0.986, 64 Ki 0.986 (the one page 32 Ki misses has 450 KB of script first), at
    ~20/~30/~50/~85 us per non-Japanese page. 32 Ki.

    ``min_kana``: the count that passes. The sample has real Japanese pages with only 2–10 kana
    (short Shift_JIS help pages, a 53-byte ``<h1>サービス内容</h1>``); recall (64 Ki) is 0.988 at
    2, 0.986 at 3, 0.980 at 5, 0.973 at 10. 3 keeps a stray "の" or two from passing a page.
    ``min_kana_share``: kana must also be this share of kana + Han + Hangul in the window.
    Japanese pages in the sample are >= 0.25 kana. Chinese pages with a sprinkle of kana (a "の"
    in a shop name; GB2312 encodes kana in rows A4/A5 like EUC-JP) are far below 0.01. The
    tight case is an undeclared EUC-KR page, which the decoder reads as EUC-JP: its jamo row A4
    (ㅋㅋㅋ) becomes hiragana and its hangul becomes kanji; one "ㅋㅋㅋ" in a paragraph of 34
    syllables is a share of 0.08, hence 0.1 rather than 0.05 (a forum page that laughs more than
    that can still pass: the LID after extraction is the backstop). A naive byte regex passes
    ~3% of non-Japanese pages (issue 11); with this check the sample's precision is 0.994 (the
    three false positives are English pages about Japanese software/news with real Japanese).

    ``head_bytes``: when the rule sees raw bytes (it runs before Decode), only this much of the
    page is decoded (cut after its last ``>``), so a dropped page never costs a full decode; it
    bounds the kana window and the regexes the same way a 32 Ki-character window does.

    ``max_title_chars``: the title LID reads at most this much (a pathological multi-KB title
    would otherwise cost a long fastText prediction on a page about to be dropped).

    ``title_lid_needs_cjk``: run the title LID only on a title (its first ``max_title_chars``)
    with a character in U+3000–9FFF, F900–FAFF or FF00–FFEF (:func:`has_lid_script`), treating
    any other title as not Japanese. In ``swallow`` mode this changes decisions: lid.176 calls some
    Latin-only strings ``ja`` (``bench/prefilter_lid_skip.py``, counts in
    ``bench/results/2026-11-29-prefilter-lid-skip.json``): of 150 distinct titles without such a
    character in all the WARC files of the shared data, 2 are top-``ja`` ("PHOTOGRAHY",
    "S_GoFileEnd_Sel": three Japanese pages that ``swallow`` keeps on that title alone, so the v1
    golden counts move), and 245 of 11,557 first lines of Japanese texts with those characters
    deleted ("100Hz", "GPS1992GEONET"). It saves the prediction (~10–20 us) on most
    non-Japanese pages. ``None`` (the default) resolves per mode: **off for ``swallow``** (the
    paper's rule, unchanged) and **on for ``both``**: there the title test only matters for a page
    whose head has fewer than ``min_kana`` kana, and a page without kana whose Latin-only title
    lid.176 calls ``ja`` is not a Japanese page the kana test missed but a likely false positive;
    on the sample it changes no ``both`` decision (P .994 / R .984 either way). In evidence runs,
    ``prefilter_title_ja`` keeps Swallow's unskipped title verdict, so the report's per-mode P/R
    for ``swallow`` stays the paper's rule.

    ``evidence``: run every test that can matter for any mode, so the report can compare the
    modes from one run (set by the DAG when ``--lang_labels`` is given); costs the title LID
    on pages that the chosen mode would not need it for.
    """

    mode: str = "swallow"
    scan_chars: int = 65536
    head_bytes: int = 32768
    max_title_chars: int = 128
    title_lid_needs_cjk: bool | None = None
    kana_window: int = 32768
    min_kana: int = 3
    min_kana_share: float = 0.1
    evidence: bool = False

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"prefilter mode {self.mode!r}: expected swallow, kana or both")
        if self.min_kana < 1:
            raise ValueError("min_kana must be >= 1")
        if not 0.0 <= self.min_kana_share <= 1.0:
            raise ValueError("min_kana_share must be in [0, 1]")
        if self.title_lid_needs_cjk is None:  # frozen: resolve the per-mode default once
            object.__setattr__(self, "title_lid_needs_cjk", self.mode == "both")


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


def swallow_prefilter(html: str, lid: LangId, scan: int = 65536) -> tuple[bool, str]:
    """(passes, title). Pure given a loaded LID model."""
    title = page_title(html, scan)
    if has_lang_ja(html, scan):
        return True, title
    if title:
        top, _ = lid.predict(title)
        return top == "ja", title
    return False, title


def kana_ok(kana: int | None, cjk: int | None, cfg: PrefilterConfig) -> bool | None:
    if kana is None:
        return None
    return kana_passes(kana, cjk or 0, cfg.min_kana, cfg.min_kana_share)


def decide(mode: str, lang_attr, title_ja, kana_pass) -> bool | None:
    """A mode's decision from the evidence; ``None`` if the evidence cannot decide it."""
    if mode in ("swallow", "both"):
        swallow = True if lang_attr or title_ja else (
            False if lang_attr is False and title_ja is False else None)
        if mode == "swallow":
            return swallow
        if kana_pass or swallow:
            return True
        if kana_pass is False and swallow is False:
            return False
        return None
    return kana_pass


class PrefilterRule:
    name = "prefilter"

    def __init__(self, cfg: PrefilterConfig = PrefilterConfig(), lid: LangId | None = None):
        self.cfg = cfg
        # Only the top label decides (Swallow: title LID says ja): k=1 lets fastText stop at
        # the best label (the same top label as k=3; the rule never reads P(ja)).
        self.lid = lid or LangId(k=1)

    def setup(self):
        if self.cfg.mode != "kana" or self.cfg.evidence:
            self.lid.load()

    def title_is_ja(self, title: str, skip_latin: bool | None = None) -> bool:
        """Swallow's title test: lid.176's top label is ``ja`` (on at most ``max_title_chars``);
        skipped for a title without CJK or full-width characters when ``skip_latin`` (default:
        ``title_lid_needs_cjk``)."""
        seen = title[: self.cfg.max_title_chars]
        skip = self.cfg.title_lid_needs_cjk if skip_latin is None else skip_latin
        if not seen or (skip and not has_lid_script(seen)):
            return False
        return self.lid.predict(seen)[0] == "ja"

    def __call__(self, record: dict) -> tuple[dict, str | None]:
        page = record["html"]
        charset = record.get("charset") or record.get("http_charset")
        if isinstance(page, bytes):
            view = RawHead(page, charset, self.cfg)
        else:
            view = TextHead(page, self.cfg)
        cfg = self.cfg
        lang_attr = title_ja = kana = cjk = None
        title = None
        kana_pass = None
        if cfg.mode != "swallow" or cfg.evidence:
            st = view.kana_stats()
            kana, cjk = st.kana, st.cjk
            kana_pass = kana_ok(kana, cjk, cfg)
        if cfg.mode == "swallow" or cfg.evidence or (cfg.mode == "both" and not kana_pass):
            lang_attr = view.has_lang_ja()
            if not lang_attr:
                title = view.title()
                # evidence keeps Swallow's own (unskipped) verdict for the per-mode P/R
                title_ja = self.title_is_ja(title, skip_latin=False if cfg.evidence else None)
        title_decides = title_ja
        if title_ja and cfg.evidence and cfg.title_lid_needs_cjk:
            title_decides = has_lid_script(title[: cfg.max_title_chars])
        passes = decide(cfg.mode, lang_attr, title_decides, kana_pass)
        record = dict(record)
        if passes and title is None:  # the title is an output column of kept pages
            title = view.title()
        record["title"] = title or ""
        record["prefilter_lang_attr"] = lang_attr
        record["prefilter_title_ja"] = title_ja
        record["prefilter_kana"] = kana
        record["prefilter_cjk"] = cjk
        return record, (None if passes else REASON)


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
            self._meta = meta_charset(self.head, _META_SCAN)
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
_TRIAL_CODECS = frozenset({"utf_8", "cp932", "euc_jp", "iso2022_jp"})
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
_META_SCAN = 4096  # :func:`transforms.decode.meta_charset`'s default scan


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
    from transforms.decode import decode_html
    from transforms.records import RecordError

    try:
        return decode_html(head, charset)
    except ValueError as e:
        raise RecordError("undecodable", str(e)) from None


# --- evaluation (report side) ---------------------------------------------------------------
HTML_TYPES = ("text/html", "application/xhtml+xml")


def evidence_row(record: Mapping) -> dict:
    """The small row an evaluation run stores per record that reached the prefilter (kept or
    rejected): id, url and the evidence fields; :func:`prefilter_pr` reads a list of them."""
    row = {"id": record.get("id"), "url": record.get("url")}
    for f in EVIDENCE_FIELDS:
        row[f] = record.get(f)
    return row


def load_labels(path: str) -> dict[str, dict]:
    """``labels.tsv`` → ``{record id: row}`` keyed like the pipeline's records
    (:func:`transforms.read_warc.record_hash` of ``record_id``), each row with ``positive``
    (``lang_collected == ja``) and ``html`` (an HTML response, the records the prefilter sees)."""
    from transforms.read_warc import record_hash  # lazy: read_warc imports Beam

    try:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(path) as f:
            text = f.read().decode("utf-8")
    except ImportError:  # pragma: no cover
        with open(path, encoding="utf-8") as f:
            text = f.read()
    out = {}
    for row in csv.DictReader(text.splitlines(), delimiter="\t"):
        ctype = (row.get("content_type") or "").split(";")[0].strip().lower()
        out[record_hash(row["record_id"])] = {
            **row,
            "positive": (row.get("lang_collected") or "").strip() == "ja",
            "html": ctype in HTML_TYPES or not ctype,
        }
    return out


def prefilter_pr(rows: Iterable[Mapping], labels: Mapping[str, Mapping],
                 cfg: PrefilterConfig = PrefilterConfig()) -> dict:
    """Precision/recall of each prefilter mode from one run's evidence.

    ``rows``: the records that reached the prefilter (kept and rejected), with ``id`` and the
    evidence fields; ``labels``: :func:`load_labels`. Positives are the labelled Japanese HTML
    responses; a positive that never reached the prefilter (e.g. a decode error) counts as a
    false negative of every mode (the corpus loses it all the same). Rows without a label are
    counted apart and ignored. A mode whose decision the evidence cannot give for some row (the
    run did not collect it: ``evidence=False``) is ``None``.

    ``cfg`` must carry the run's kana thresholds (the kana scan stops early once they hold).

    Returns ``{mode: {precision, recall, tp, fp, fn} | None}`` plus ``"_counts"``.
    """
    positives = {i for i, r in labels.items() if r.get("positive") and r.get("html", True)}
    seen: set = set()
    tp = {m: 0 for m in MODES}
    fp = {m: 0 for m in MODES}
    undecided = {m: 0 for m in MODES}
    unlabelled = 0
    for row in rows:
        rid = row.get("id")
        if rid not in labels:
            unlabelled += 1
            continue
        if rid in seen:
            continue
        seen.add(rid)
        kp = kana_ok(row.get("prefilter_kana"), row.get("prefilter_cjk"), cfg)
        for m in MODES:
            d = decide(m, row.get("prefilter_lang_attr"), row.get("prefilter_title_ja"), kp)
            if d is None:
                undecided[m] += 1
            elif d:
                if rid in positives:
                    tp[m] += 1
                else:
                    fp[m] += 1
    out: dict = {}
    for m in MODES:
        if undecided[m]:
            out[m] = None
            continue
        fn = len(positives) - tp[m]
        out[m] = {
            "precision": round(tp[m] / (tp[m] + fp[m]), 4) if tp[m] + fp[m] else None,
            "recall": round(tp[m] / len(positives), 4) if positives else None,
            "tp": tp[m], "fp": fp[m], "fn": fn,
        }
    out["_counts"] = {
        "positives": len(positives),
        "rows": len(seen),
        "positives_not_reaching_prefilter": len(positives - seen),
        "unlabelled_rows": unlabelled,
    }
    return out
