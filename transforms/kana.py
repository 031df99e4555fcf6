"""Kana test: does a page contain enough hiragana/katakana to be Japanese?

Pure functions, no Beam and no model. Kana (hiragana U+3041–U+3096, katakana U+30A1–U+30FA) is
written only in Japanese, so a kana count separates Japanese from Chinese far better than a
title LID does: on the labelled sample (``tests/data/warc``) Swallow's title/``lang`` prefilter
loses 137 of 489 Japanese pages (recall 0.720: old homepages, forums and manuals with no
``lang`` attribute and a Latin or kanji-only title), and almost all of them carry kana.

Two details keep the count honest:

- **What counts as kana.** U+30FB (・) is excluded: Python's ``gb2312`` codec maps the Chinese
  middle dot ``A1 A4`` (威廉·莎士比亚) to it. So are U+30FC–30FF (ー ヽ ヾ ヿ) and half-width
  katakana U+FF66–FF9D: a Big5, KOI8-R or windows-125x page that the decoder falls through to
  CP932 (undeclared, see :mod:`transforms.decode`) becomes a string of half-width katakana,
  since CP932 maps the single bytes ``A1–DF`` to them.
- **A second check: kana share.** GB2312 encodes kana in rows ``A4``/``A5`` exactly where
  EUC-JP does, KS X 1001 (EUC-KR) has kana in rows ``AA``/``AB`` and its jamo row ``A4``
  (ㅋㅋㅋ) reads as hiragana when an undeclared EUC-KR page is decoded as EUC-JP. A naive byte
  regex passes ~3% of non-Japanese pages. In all those cases the kana is a sprinkle
  in a sea of hanzi/hangul (which a mis-decode turns into kanji), so we also require
  ``kana >= min_share * (kana + cjk)`` where ``cjk`` counts Han ideographs and Hangul
  syllables in the same window. Japanese prose is 30–70% kana; kanji-heavy Japanese (legal
  text, kanbun) stays well above a few percent.

:func:`kana_stats_text` counts on a decoded ``str``. The window is re-encoded to UTF-8 and counted
with one bytes regex, in growing chunks (1 Ki, 2 Ki, ...) that stop as soon as the decision is
made; an ASCII string is answered in O(1). On the sample this beat ``re.findall`` over the ``str``
(~2.5x) and ``bytes.count`` of the lead pairs (slow on kana-dense text). In the DAG the prefilter
runs on raw bytes and decodes a head only when its bytes cannot settle the test
(:class:`transforms.prefilter_head.RawHead`, which uses this module's UTF-8 kana and reference
patterns); what each mode costs is measured by ``bench/prefilter_bench.py``.

Numeric character references (``&#12354;``, ``&#x30A2;``) are counted on pure-ASCII pages that
hold a reference to a kana code point: some pages write all their Japanese as references (the
JIS X 0213 table in the sample).
"""
from __future__ import annotations

import html as htmllib
import re
from typing import NamedTuple


class KanaStats(NamedTuple):
    """``kana``: hiragana+katakana characters; ``cjk``: Han ideographs + Hangul syllables,
    both in the scanned window; ``scanned``: characters (text) or bytes (raw) looked at."""

    kana: int
    cjk: int
    scanned: int = 0


def kana_passes(kana: int, cjk: int, min_kana: int, min_share: float) -> bool:
    """The kana test's decision from its two counts."""
    return kana >= min_kana and kana >= min_share * (kana + cjk)


# --- UTF-8 bytes (also the str path, after re-encoding) -------------------------------------
# U+3041–303F = E3 81 81–BF, U+3040–3096 = E3 82 80–96, U+30A1–30BF = E3 82 A1–BF,
# U+30C0–30FA = E3 83 80–BA.
_KANA_UTF8 = re.compile(rb"\xe3(?:\x81[\x81-\xbf]|\x82[\x80-\x96\xa1-\xbf]|\x83[\x80-\xba])")
# Lead bytes E4–ED: U+4000–DFFF, i.e. CJK Unified Ideographs (4E00–9FFF), Yi, Hangul syllables
# (AC00–D7A3). Extension A (3400–4DBF, lead E3) is left out: rare, and it only lowers the share.
_NOT_CJK_LEAD = bytes(b for b in range(256) if not 0xE4 <= b <= 0xED)


def _utf8_stats(b: bytes) -> tuple[int, int]:
    return len(_KANA_UTF8.findall(b)), len(b.translate(None, _NOT_CJK_LEAD))


# --- decoded str ----------------------------------------------------------------------------
# A numeric reference to U+3041–30FA: hex 3041–30FA or decimal 12353–12538 (approximate bounds,
# 12350–12549 in decimal; the exact count comes from unescaping). Only pure-ASCII pages are
# searched (``str.isascii`` is O(1)): a page with literal non-ASCII text and kana only as
# references is not worth a third pass over every page's window (measured: ``b"&#" in chunk``
# alone cost more than the kana regex on HTML, which is full of ``&``).
_KANA_REF = re.compile(rb"&#(?:[xX]0*30[4-9a-fA-F][0-9a-fA-F]|0*12(?:3[5-9]|4\d|5[0-4])\d);")
_ANY_REF = re.compile(r"&#[xX]?[0-9a-fA-F]+;")


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (never from transforms.decode, but be safe)
        return text.encode("utf-8", "surrogatepass")


def kana_stats_text(
    text: str, limit: int = 65536, min_kana: int = 0, min_share: float = 0.0, chunk: int = 1024
) -> KanaStats:
    """Kana and CJK counts in the first ``limit`` characters of a decoded page.

    With ``min_kana > 0`` the scan stops early, chunk by chunk (growing), once
    :func:`kana_passes` holds for what was scanned (a Japanese page is decided in its first
    chunk or two); the counts are then those of the scanned prefix. CJK letters are only counted
    once some kana was seen (the share cannot matter before), so a page without kana costs one
    UTF-8 encode and one regex pass over the window. With ``min_kana == 0`` the whole window is
    counted. ``scanned`` is the number of characters looked at."""
    end = min(len(text), limit)
    if text.isascii():  # O(1) in CPython: no kana, no CJK; only references can carry kana
        window = text[:end].encode("ascii")
        has_ref = _KANA_REF.search(window) is not None
        return _with_refs(text, end, 0, 0, has_ref, min_kana, min_share)
    eager = min_kana <= 0
    kana = cjk = 0
    cjk_from = 0  # characters before this position have had their CJK letters counted
    step = chunk if not eager else end
    pos = 0
    while pos < end:
        nxt = min(pos + step, end)
        b = _utf8(text[pos:nxt])
        k = len(_KANA_UTF8.findall(b))
        if k or eager:
            if cjk_from < pos:  # first kana: count the CJK letters of the chunks before
                cjk += len(_utf8(text[cjk_from:pos]).translate(None, _NOT_CJK_LEAD))
            cjk += len(b.translate(None, _NOT_CJK_LEAD))
            cjk_from = nxt
        kana += k
        pos = nxt
        if not eager and kana_passes(kana, cjk, min_kana, min_share):
            return KanaStats(kana, cjk, pos)
        step *= 2  # few, growing chunks: a page without kana pays little for the early exit
    if kana and cjk_from < end:
        cjk += len(_utf8(text[cjk_from:end]).translate(None, _NOT_CJK_LEAD))
    return KanaStats(kana, cjk, end)


def _with_refs(text: str, end: int, kana: int, cjk: int, has_ref: bool, min_kana: int,
               min_share: float) -> KanaStats:
    """Add kana (and CJK) written as numeric character references, when the window holds a
    reference to a kana code point and the literal count does not already pass."""
    if not has_ref or (min_kana > 0 and kana_passes(kana, cjk, min_kana, min_share)):
        return KanaStats(kana, cjk, end)
    refs = htmllib.unescape("".join(_ANY_REF.findall(text, 0, end)))
    k, c = _utf8_stats(_utf8(refs))
    return KanaStats(kana + k, cjk + c, end)


def kana_count_text(text: str, limit: int = 65536) -> int:
    """Kana characters (literal or as numeric references) in the first ``limit`` characters."""
    return kana_stats_text(text, limit).kana
