"""Rapid Japanese prefilter, before extraction: Swallow's rule (App. A), a kana test, or both.

- ``swallow`` (the paper, for fidelity): keep a page if its raw HTML has ``<html ... lang="ja...">``
  or its ``<title>`` is Japanese by the precise LID. Swallow's code (swallow-corpus warc2raw.py)
  asks its own character-n-gram scorer, nanigo, for the title (score > 0); we ask lid.176 (top
  label ``ja``), the model of our LID stage. Paper: precision 0.888, recall
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

The tests run on the page's head (:mod:`transforms.prefilter_head`: raw bytes before Decode, or
decoded text); this module decides. The rule writes its evidence as record fields, so that the
report can compute precision/recall for every mode from one run
(:func:`pipeline.prefilter_eval.prefilter_pr`):

- ``prefilter_lang_attr`` (bool): the ``<html lang=ja>`` test;
- ``prefilter_title_ja`` (bool): the title LID test;
- ``prefilter_kana`` (int): kana count, ``prefilter_cjk`` (int): Han + Hangul count in the window
  (the kana test passes iff :func:`transforms.kana.kana_passes` holds on them). Both are 0 when
  the raw bytes show that the head cannot hold ``min_kana`` kana
  (:meth:`transforms.prefilter_head.RawHead.kana_stats`):
  exact for the decision, not for counts below ``min_kana``.

A field is ``None`` when the test was not run because it could not change the decision in this
mode (cost: in ``kana`` mode the title LID never runs; in ``both`` a page with kana skips the
regex and the LID; in ``swallow`` a ``lang=ja`` page skips the LID and no page is kana-counted).
``PrefilterConfig.evidence`` runs every test that can matter for any mode (an evaluation run,
``--lang_labels``); even then ``prefilter_title_ja`` is ``None`` when ``lang=ja`` already decides
both ``swallow`` and ``both``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, get_args

from classifiers.langid import LangId
from transforms.config_fields import check
from transforms.kana import kana_passes
from transforms.prefilter_head import RawHead, TextHead

# The scripts a title needs before lid.176 can call it Japanese: CJK symbols and punctuation,
# kana, CJK ideographs (Ext. A and the unified block) and everything between (U+3000–9FFF),
# compatibility ideographs (F900–FAFF), full-width and half-width forms (FF00–FFEF).
_LID_SCRIPT = re.compile("[\u3000-\u9fff\uf900-\ufaff\uff00-\uffef]")


def has_lid_script(title: str) -> bool:
    """Whether ``title`` has a character in U+3000–9FFF, F900–FAFF or FF00–FFEF
    (:attr:`PrefilterConfig.title_lid_needs_cjk`)."""
    return not title.isascii() and _LID_SCRIPT.search(title) is not None


REASON = "prefilter_not_ja_v1"
Mode = Literal["swallow", "kana", "both"]
MODES: tuple[str, ...] = get_args(Mode)
EVIDENCE_FIELDS = ("prefilter_lang_attr", "prefilter_title_ja", "prefilter_kana", "prefilter_cjk")


@dataclass(frozen=True)
class PrefilterConfig:
    """``mode``: ``swallow`` (App. A, the paper's rule), ``kana`` or ``both`` (module docstring).

    ``scan_chars``: how much of the page the Swallow regexes look at; ``<html lang>`` and
    ``<title>`` sit in the head, and a bound keeps a 50 MB page from costing a full scan.

    Kana test (measured on ``tests/data/warc``, 489 Japanese and 62 other HTML pages):

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
    ~3% of non-Japanese pages (:mod:`transforms.kana`); with this check the sample's precision is 0.994 (the
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
    modes from one run (set by the CLI when ``--lang_labels`` is given); costs the title LID
    on pages that the chosen mode would not need it for.
    """

    mode: Mode = "swallow"
    scan_chars: int = 65536
    head_bytes: int = 32768
    max_title_chars: int = 128
    title_lid_needs_cjk: bool | None = None
    kana_window: int = 32768
    min_kana: int = 3
    min_kana_share: float = 0.1
    evidence: bool = False

    def __post_init__(self):
        check(self, at_least_one=("scan_chars", "head_bytes", "max_title_chars", "kana_window", "min_kana"),
              unit_interval=("min_kana_share",))

    @property
    def lid_needs_cjk(self) -> bool:
        """``title_lid_needs_cjk`` resolved: ``None`` means on for ``both``, off otherwise. Resolved
        when read, never written into the frozen field, so ``dataclasses.replace(cfg, mode=...)``
        gets the new mode's default."""
        return self.mode == "both" if self.title_lid_needs_cjk is None else self.title_lid_needs_cjk


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
        # Only the top label decides (the title LID says ja): k=1 lets fastText stop at
        # the best label (the same top label as k=3; the rule never reads P(ja)).
        self.lid = lid or LangId(k=1)

    def setup(self):
        if self.cfg.mode != "kana" or self.cfg.evidence:
            self.lid.load()

    def title_is_ja(self, title: str, skip_latin: bool | None = None) -> bool:
        """Swallow's title test, with lid.176 in place of its nanigo scorer: the top label is
        ``ja`` (on at most ``max_title_chars``); skipped for a title without CJK or full-width
        characters when ``skip_latin`` (default: ``title_lid_needs_cjk``)."""
        seen = title[: self.cfg.max_title_chars]
        skip = self.cfg.lid_needs_cjk if skip_latin is None else skip_latin
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
        if title_ja and cfg.evidence and cfg.lid_needs_cjk:
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
