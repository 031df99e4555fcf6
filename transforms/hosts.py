"""Host blocklist (Swallow v1, Okazaki et al. NLP2024 §3.5): remove every page of a host if

1. the host is in the UT1 blocklist under one of Swallow's categories (``ut1_categories``: the
   ``NG`` set of swallow-corpus's ngurl.py, shipped as data in
   ``transforms/data/ut1_categories_swallow.txt``), exact hostname match as Swallow, optionally
   also any parent domain (``a.b.example.com`` is blocked by ``example.com``) → ``host_ut1_v2``
   (v1 used our own category set: ``hacking`` and ``sexual_education_is_not_here`` in, most of
   Swallow's out);
2. more than 0.1% of its pages name a dating service (list = data file) → ``host_dating_v1``;
3. its NG-expression character ratio over all its pages (Σ NG chars / Σ chars, words in a
   whitelist such as 児童 not counted) is > 0.005 → ``host_ng_ratio_v1``;
4. it matches ``*wikipedia.org`` (Wikipedia is added from dumps instead) or ``*.5ch.net``
   → ``host_pattern_v1``.

Rules 2–3 aggregate over the whole corpus: per-page counts are combined per host
(``CombinePerKey``), the blocked hosts become a side input, and pages are filtered against it; no
worker ever holds the corpus. The pure logic (loading lists, per-page counts, the per-host
decision) is in the functions at the top, which use no Beam; :class:`HostFilter` wires it.
"""
from __future__ import annotations

import fnmatch
import gzip
import logging
import os
from dataclasses import dataclass
from functools import lru_cache

import apache_beam as beam

from transforms.config_fields import check
from transforms.harmful import DEFAULT_NGWORDS, automaton, fold, load_words, whole_token
from transforms.stage import ERRORS, KEPT, REJECTED, StageCounters, reject_record

log = logging.getLogger(__name__)

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
DEFAULT_UT1_DIR = os.path.join(DATA_DIR, "ut1")
DEFAULT_DATING = os.path.join(DATA_DIR, "dating_services_ja.txt")
DEFAULT_WHITELIST = os.path.join(DATA_DIR, "ng_whitelist_ja.txt")
SWALLOW_UT1_CATEGORIES_FILE = os.path.join(DATA_DIR, "ut1_categories_swallow.txt")


def load_categories(path: str) -> tuple[str, ...]:
    """UT1 category names, one a line (``#`` comments), in file order."""
    with open(path, encoding="utf-8") as f:
        return tuple(ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#"))


#: The UT1 categories Swallow v1 removes: swallow-corpus ngurl.py's ``NG`` set (MIT; attribution
#: and the two entries read differently in the data file's header).
UT1_SWALLOW = load_categories(SWALLOW_UT1_CATEGORIES_FILE)

R_UT1 = "host_ut1_v2"
R_DATING = "host_dating_v1"
R_NG = "host_ng_ratio_v1"
R_PATTERN = "host_pattern_v1"


@dataclass(frozen=True)
class HostsConfig:
    """Swallow v1 host rules (NLP2024 §3.5). ``ut1_dir``: a UT1 tree (``<category>/domains[.gz]``);
    the default is the trimmed copy shipped in ``transforms/data/ut1`` (production: a fresh
    download). ``ut1_categories``: the categories whose hosts are removed (default: Swallow's).
    ``ut1_parents``: also match parent domains (Swallow: exact match only).
    ``max_dating_page_frac``: rule 2 fires when dating pages / pages > 0.001.
    ``max_ng_char_ratio``: rule 3 fires when Σ NG chars / Σ chars > 0.005.
    ``patterns``: fnmatch patterns on the lower-cased hostname (rule 4).
    ``report_top``: how many blocked hosts the ``_stats/hosts_top.jsonl`` file lists."""

    ut1_dir: str = DEFAULT_UT1_DIR
    ut1_categories: tuple[str, ...] = UT1_SWALLOW
    ut1_parents: bool = False
    dating_services: str = DEFAULT_DATING
    max_dating_page_frac: float = 0.001
    ngwords: str = DEFAULT_NGWORDS
    ng_whitelist: str = DEFAULT_WHITELIST
    max_ng_char_ratio: float = 0.005
    patterns: tuple[str, ...] = ("*wikipedia.org", "*.5ch.net")
    report_top: int = 50

    def __post_init__(self):
        check(self, unit_interval=("max_dating_page_frac", "max_ng_char_ratio"))


# --- lists -----------------------------------------------------------------------------------

def _read_lines(path: str) -> list[str]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]


@lru_cache(maxsize=4)
def load_ut1(ut1_dir: str, categories: tuple[str, ...]) -> dict[str, str]:
    """``{hostname: category}`` from ``<ut1_dir>/<category>/domains`` (or ``domains.gz``)."""
    out: dict[str, str] = {}
    for cat in categories:
        for name in ("domains", "domains.gz"):
            path = os.path.join(ut1_dir, cat, name)
            if os.path.exists(path):
                for host in _read_lines(path):
                    out.setdefault(normalise_host(host), cat)
                break
        else:
            log.debug("UT1 category %s has no domains list under %s", cat, ut1_dir)
    return out


def normalise_host(host: str | None) -> str:
    """Lower case, no surrounding space, no trailing dot. A leading ``www.`` stays: UT1 lists hosts
    as crawled, and ``www.`` is matched by the parent option only (:func:`parents`)."""
    return (host or "").strip().lower().rstrip(".")


def parents(host: str) -> list[str]:
    """``a.b.example.com`` → ``[b.example.com, example.com]`` (never a bare TLD)."""
    parts = host.split(".")
    return [".".join(parts[i:]) for i in range(1, len(parts) - 1)]


def ut1_category(host: str, blocklist: dict[str, str], with_parents: bool) -> str | None:
    h = normalise_host(host)
    if h in blocklist:
        return blocklist[h]
    if with_parents:
        for p in parents(h):
            if p in blocklist:
                return blocklist[p]
    return None


def matches_pattern(host: str, patterns: tuple[str, ...]) -> bool:
    h = normalise_host(host)
    return any(fnmatch.fnmatchcase(h, p.lower()) for p in patterns)


def dating_automaton(path: str):
    """The dating-service names, matched like NG words (same folding and automaton)."""
    return automaton(path)


@lru_cache(maxsize=4)
def ng_automaton(ngwords: str, whitelist: str):
    """NG words (value True) and whitelist words (value False) in one automaton: a longest match
    that is a whitelist word covers (and so cancels) the NG words inside it."""
    import ahocorasick

    white = set(load_words(whitelist))
    a = ahocorasick.Automaton()
    for w in load_words(ngwords):
        if w not in white:
            a.add_word(w, (len(w), True))
    for w in white:
        a.add_word(w, (len(w), False))
    a.make_automaton()
    return a


def names_dating_service(text: str, auto) -> bool:
    folded = fold(text)
    for end_idx, length in auto.iter(folded):
        if whole_token(folded, end_idx - length + 1, end_idx + 1):
            return True
    return False


def ng_chars(text: str, auto) -> int:
    """Characters of greedy longest non-overlapping NG matches, whitelist matches excluded."""
    folded = fold(text)
    n = 0
    for end_idx, (length, is_ng) in auto.iter_long(folded):
        if is_ng and whole_token(folded, end_idx - length + 1, end_idx + 1):
            n += length
    return n


# --- per-page counts and the per-host decision -------------------------------------------------

class PageCounter:
    """``record -> (pages=1, dating_pages, ng_chars, chars)``: what the per-host combine sums."""

    def __init__(self, cfg: HostsConfig = HostsConfig()):
        self.cfg = cfg
        self._dating = self._ng = None

    def __getstate__(self):
        return {"cfg": self.cfg, "_dating": None, "_ng": None}

    def setup(self):
        self._dating = dating_automaton(self.cfg.dating_services)
        self._ng = ng_automaton(self.cfg.ngwords, self.cfg.ng_whitelist)

    def __call__(self, record: dict) -> tuple[int, int, int, int]:
        if self._ng is None:
            self.setup()
        text = record.get("text") or ""
        return (1, int(names_dating_service(text, self._dating)), ng_chars(text, self._ng), len(text))


def add_counts(a: tuple, b: tuple) -> tuple:
    return tuple(x + y for x, y in zip(a, b))


class HostDecider:
    """``(host, (pages, dating_pages, ng_chars, chars)) -> reason | None``, rules in order 4, 1, 2, 3."""

    def __init__(self, cfg: HostsConfig = HostsConfig()):
        self.cfg = cfg
        self._ut1: dict[str, str] | None = None

    def __getstate__(self):
        return {"cfg": self.cfg, "_ut1": None}

    def setup(self):
        self._ut1 = load_ut1(self.cfg.ut1_dir, tuple(self.cfg.ut1_categories))

    def static(self, host: str) -> tuple[str, str] | None:
        """Rules needing no counts: ``(reason, detail)`` or None."""
        if self._ut1 is None:
            self.setup()
        if matches_pattern(host, self.cfg.patterns):
            return R_PATTERN, "pattern"
        cat = ut1_category(host, self._ut1, self.cfg.ut1_parents)
        if cat:
            return R_UT1, cat
        return None

    def __call__(self, host: str, counts: tuple) -> dict | None:
        pages, dating, ng, chars = counts
        hit = self.static(host)
        detail = None
        if hit:
            reason, detail = hit
        elif pages and dating / pages > self.cfg.max_dating_page_frac:
            reason = R_DATING
        elif chars and ng / chars > self.cfg.max_ng_char_ratio:
            reason = R_NG
        else:
            return None
        return {"host": host, "reason": reason, "detail": detail, "pages": pages,
                "dating_pages": dating, "ng_chars": ng, "chars": chars,
                "ng_ratio": (ng / chars) if chars else 0.0}


# --- the Beam stage ----------------------------------------------------------------------------

STAGE = "hosts"


class _CountPage(beam.DoFn):
    def __init__(self, cfg: HostsConfig):
        self.counter = PageCounter(cfg)

    def setup(self):
        self.counter.setup()

    def process(self, record):
        yield normalise_host(record.get("host")), self.counter(record)


class _Decide(beam.DoFn):
    def __init__(self, cfg: HostsConfig):
        self.decide = HostDecider(cfg)

    def setup(self):
        self.decide.setup()

    def process(self, kv):
        blocked = self.decide(kv[0], kv[1])
        if blocked is not None:
            yield blocked


class _Filter(beam.DoFn):
    def setup(self):
        self.counters = StageCounters(STAGE)

    def process(self, record, blocked: dict):
        b = blocked.get(normalise_host(record.get("host")))
        if b is None:
            self.counters.kept()
            yield record
        else:
            self.counters.dropped(b["reason"])
            yield beam.pvalue.TaggedOutput(REJECTED, reject_record(record, STAGE, b["reason"]))


class HostFilter(beam.PTransform):
    """Whole-host removal. Outputs kept/rejected/errors plus ``blocked`` (one row per blocked host:
    reason, page counts, NG ratio) and ``top`` (the ``report_top`` blocked hosts with most pages)."""

    columns: dict = {}

    def __init__(self, cfg: HostsConfig = HostsConfig()):
        super().__init__("HostFilter")
        self.cfg = cfg

    def expand(self, docs):
        cfg = self.cfg
        blocked = (docs
                   | "CountPage" >> beam.ParDo(_CountPage(cfg))
                   | "SumPerHost" >> beam.CombinePerKey(_SumCounts())
                   | "Decide" >> beam.ParDo(_Decide(cfg)))
        out = docs | "Filter" >> beam.ParDo(
            _Filter(), blocked=beam.pvalue.AsDict(blocked | "ByHost" >> beam.Map(lambda b: (b["host"], b)))
        ).with_outputs(REJECTED, ERRORS, main=KEPT)
        top = (blocked
               | "Top" >> beam.combiners.Top.Of(cfg.report_top, key=lambda b: (b["pages"], b["host"]))
               | "Flat" >> beam.FlatMap(lambda xs: [dict(x, rank=i + 1) for i, x in enumerate(xs)]))
        return {KEPT: out[KEPT], REJECTED: out[REJECTED], ERRORS: out[ERRORS],
                "blocked": blocked, "top": top}


class _SumCounts(beam.CombineFn):
    def create_accumulator(self):
        return (0, 0, 0, 0)

    def add_input(self, acc, x):
        return add_counts(acc, x)

    def merge_accumulators(self, accs):
        out = (0, 0, 0, 0)
        for a in accs:
            out = add_counts(out, a)
        return out

    def extract_output(self, acc):
        return acc
