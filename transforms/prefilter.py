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
  (the kana test passes iff :func:`transforms.kana.kana_passes` holds on them).

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
from transforms.kana import KanaStats, kana_passes, kana_stats_bytes, kana_stats_text

# Swallow App. A, verbatim patterns.
LANG_JA = re.compile(r"""<html[^>]*\slang\s*=\s*["']?ja""", re.IGNORECASE)
TITLE = re.compile(r"<title[^>]*>([^<]*)</title>", re.IGNORECASE)

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

    ``evidence``: run every test that can matter for any mode, so the report can compare the
    modes from one run (set by the DAG when ``--lang_labels`` is given); costs the title LID
    on pages that the chosen mode would not need it for.
    """

    mode: str = "swallow"
    scan_chars: int = 65536
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


def page_title(html: str, scan: int = 65536) -> str:
    m = TITLE.search(html, 0, scan)
    return " ".join(htmllib.unescape(m.group(1)).split()) if m else ""


def swallow_prefilter(html: str, lid: LangId, scan: int = 65536) -> tuple[bool, str]:
    """(passes, title). Pure given a loaded LID model."""
    title = page_title(html, scan)
    if LANG_JA.search(html, 0, scan):
        return True, title
    if title:
        top, _ = lid.predict(title)
        return top == "ja", title
    return False, title


def kana_stats(page: str | bytes, charset: str | None, cfg: PrefilterConfig) -> KanaStats:
    """The kana test's counts on whatever the record holds: a decoded ``str`` (after Decode), or
    raw bytes (before it), read without decoding where the charset allows."""
    if isinstance(page, str):
        return kana_stats_text(page, cfg.kana_window, cfg.min_kana, cfg.min_kana_share)
    st = kana_stats_bytes(page, charset, cfg.kana_window)
    if st is not None:
        return st
    # Inconclusive bytes (ISO-2022-JP, GB2312, Big5, EUC-KR, unknown): decode the window.
    from transforms.decode import decode_html

    text, _ = decode_html(page[: cfg.kana_window], charset)
    return kana_stats_text(text, cfg.kana_window, cfg.min_kana, cfg.min_kana_share)


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
        self.lid = lid or LangId()

    def setup(self):
        if self.cfg.mode != "kana" or self.cfg.evidence:
            self.lid.load()

    def __call__(self, record: dict) -> tuple[dict, str | None]:
        cfg = self.cfg
        page = record["html"]
        charset = record.get("charset") or record.get("http_charset")
        lang_attr = title_ja = kana = cjk = None
        title = None
        kana_pass = None
        if cfg.mode != "swallow" or cfg.evidence:
            st = kana_stats(page, charset, cfg)
            kana, cjk = st.kana, st.cjk
            kana_pass = kana_ok(kana, cjk, cfg)
        if cfg.mode == "swallow" or cfg.evidence or (cfg.mode == "both" and not kana_pass):
            text = page if isinstance(page, str) else _head_text(page, charset, cfg.scan_chars)
            lang_attr = bool(LANG_JA.search(text, 0, cfg.scan_chars))
            if not lang_attr:
                title = page_title(text, cfg.scan_chars)
                title_ja = bool(title) and self.lid.predict(title)[0] == "ja"
        passes = decide(cfg.mode, lang_attr, title_ja, kana_pass)
        record = dict(record)
        if passes and title is None:  # the title is an output column of kept pages
            text = page if isinstance(page, str) else _head_text(page, charset, cfg.scan_chars)
            title = page_title(text, cfg.scan_chars)
        record["title"] = title or ""
        record["prefilter_lang_attr"] = lang_attr
        record["prefilter_title_ja"] = title_ja
        record["prefilter_kana"] = kana
        record["prefilter_cjk"] = cjk
        return record, (None if passes else REASON)


def _head_text(raw: bytes, charset: str | None, scan: int) -> str:
    """Decode only the head of a raw page (the prefilter runs before the full Decode, so the ~95%
    of pages it drops are never decoded). The head is cut after its last ``>``, an ASCII byte in
    every ASCII-compatible charset, so no multi-byte character is split and strict decoding of
    the head tells the same charset as the whole page."""
    from transforms.decode import decode_html
    from transforms.records import RecordError

    head = raw[:scan]
    if len(raw) > scan:
        cut = head.rfind(b">")
        head = head[: cut + 1] if cut > 0 else head
    try:
        return decode_html(head, charset)[0]
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
