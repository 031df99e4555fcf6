"""Quality rules v1 (Swallow, Okazaki et al. NLP2024 §3.3; thresholds from the paper and its code).

All n-grams are Unicode *character* n-grams; a "paragraph" is a line of ``text.split("\\n")``; a
"sentence" is a match of ``[^。．！？!?]+[。．！？!?]?`` within a line. :func:`measure` computes every
value (they become Parquet columns, so thresholds can be re-applied later without recomputing);
:func:`decide` returns the reason code of the first rule that fires, in a fixed order, or None.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, fields, replace

import numpy as np

from transforms.config_fields import check, refuse

try:  # numba is a core dependency (the MinHash kernel); numpy's sort stays as the fallback
    from numba import njit
except ImportError:  # pragma: no cover - exercised only where numba has no wheel
    njit = None

HIRAGANA = "\u3041-\u3096"
KATAKANA = "\u30a1-\u30fa"
KANJI = "々〇〻\u3400-\u9fff\uf900-\ufaff"
JA_PUNCT = "、，。．！？"
_JA = re.compile(f"[{HIRAGANA}{KATAKANA}{KANJI}{JA_PUNCT}]")


@dataclass(frozen=True)
class RepetitionConfig:
    """Gopher-style repetition rules on characters (Rae et al. 2021, Table A1), with Swallow's
    thresholds (NLP2024 §3.3). Reject if value > threshold; ``None`` disables a rule.
    ``top_ngram``: count of the most frequent n-gram / all n-gram occurrences (n = 2, 3, 4).
    ``dup_ngram``: #distinct n-grams occurring more than once / #distinct n-grams (n = 5..10)."""

    dup_line_frac: float | None = 0.30
    dup_sentence_frac: float | None = 0.30
    dup_line_chars_frac: float | None = 0.20
    dup_sentence_chars_frac: float | None = 0.20
    top_ngram: tuple[tuple[int, float], ...] = ((2, 0.20), (3, 0.18), (4, 0.16))
    dup_ngram: tuple[tuple[int, float], ...] = (
        (5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10),
    )

    def __post_init__(self):
        check(self, unit_interval=("dup_line_frac", "dup_sentence_frac", "dup_line_chars_frac",
                                   "dup_sentence_chars_frac"))
        for name in ("top_ngram", "dup_ngram"):
            for item in getattr(self, name):
                if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], int)
                        and not isinstance(item[0], bool) and item[0] >= 1
                        and (item[1] is None or isinstance(item[1], (int, float))
                             and not isinstance(item[1], bool) and 0 <= item[1] <= 1)):
                    refuse(self, name, f"items must be [n >= 1, fraction in 0..1 or null], got {item!r}")


@dataclass(frozen=True)
class JapaneseConfig:
    """Japanese character-class rules (Swallow NLP2024 §3.3). Japanese letters = hiragana
    U+3041–3096, katakana U+30A1–30FA, kanji (々〇〻, U+3400–9FFF, U+F900–FAFF) and 、，。．！？.
    ``None`` disables a rule (the v2 recipe relaxes some)."""

    min_chars: int | None = 400
    min_ja_chars: int | None = 400
    min_hiragana_frac: float | None = 0.2
    max_katakana_frac: float | None = 0.5
    min_ja_frac: float | None = 0.5
    min_mean_sentence_len: float | None = 20
    max_mean_sentence_len: float | None = 90
    max_sentence_len: int | None = 200
    max_ellipsis_sentence_frac: float | None = 0.2

    def __post_init__(self):
        check(self, unit_interval=("min_hiragana_frac", "max_katakana_frac", "min_ja_frac",
                                   "max_ellipsis_sentence_frac"),
              ordered=(("min_mean_sentence_len", "max_mean_sentence_len"),))


@dataclass(frozen=True)
class QualityConfig:
    repetition: RepetitionConfig = field(default_factory=RepetitionConfig)
    japanese: JapaneseConfig = field(default_factory=JapaneseConfig)


# --- measuring -------------------------------------------------------------------------------

_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit constant (golden ratio)


def _ngram_keys(cps: np.ndarray, n: int) -> np.ndarray:
    """One uint64 key per character n-gram. Exact for n <= 3 (21 bits per code point); a 64-bit
    polynomial hash beyond (collision odds ~1e-10 per page, far below any threshold's resolution)."""
    m = len(cps) - n + 1
    if m <= 0:
        return np.empty(0, dtype=np.uint64)
    if n <= 3:
        key = np.zeros(m, dtype=np.uint64)
        for i in range(n):
            key = (key << np.uint64(21)) | cps[i : i + m]
        return key
    key = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(n):
            key = key * _MULT + cps[i : i + m] + np.uint64(1)
    return key


_JA_SINGLES = np.array([ord(c) for c in "々〇〻" + JA_PUNCT], dtype=np.uint32)


def _is_kanji_or_punct(cps: np.ndarray) -> np.ndarray:
    """Kanji (U+3400–9FFF, U+F900–FAFF, 々〇〻) and 、，。．！？, as in ``_JA``."""
    return (((cps >= 0x3400) & (cps <= 0x9FFF)) | ((cps >= 0xF900) & (cps <= 0xFAFF))
            | np.isin(cps, _JA_SINGLES))


def _group_counts(keys: np.ndarray) -> np.ndarray:
    """Occurrences of each distinct key (np.unique's counts without its bookkeeping)."""
    k = np.sort(keys)
    edges = np.flatnonzero(k[1:] != k[:-1]) + 1
    return np.diff(np.concatenate(([0], edges, [len(k)])))


def _key_stats_sorted(keys: np.ndarray) -> tuple[int, int, int]:
    """``(most occurrences of a key, distinct keys, distinct keys occurring more than once)``."""
    counts = _group_counts(keys)
    return int(counts.max()), len(counts), int((counts > 1).sum())


if njit is not None:

    @njit(cache=True, nogil=True)
    def _key_stats_hashed(keys):
        """:func:`_key_stats_sorted`'s three numbers from an open-addressing hash table (exact:
        keys are compared, the hash only picks the slot): one pass instead of a sort, 2–3× faster
        on page-sized arrays, and the quality rules count nine n-gram sizes per page."""
        m = keys.shape[0]
        bits = 1
        while (1 << bits) < 2 * m:
            bits += 1
        mask = (1 << bits) - 1
        shift = np.uint64(64 - bits)
        table = np.empty(1 << bits, dtype=np.uint64)
        counts = np.zeros(1 << bits, dtype=np.int32)
        top = 0
        distinct = 0
        repeated = 0
        for i in range(m):
            k = keys[i]
            h = np.int64((k * np.uint64(0x9E3779B97F4A7C15)) >> shift)
            while True:
                c = counts[h]
                if c == 0:
                    table[h] = k
                    counts[h] = 1
                    distinct += 1
                    if top == 0:
                        top = 1
                    break
                if table[h] == k:
                    c += 1
                    counts[h] = c
                    if c == 2:
                        repeated += 1
                    if c > top:
                        top = c
                    break
                h = (h + 1) & mask
        return top, distinct, repeated

    def _key_stats(keys: np.ndarray) -> tuple[int, int, int]:
        return _key_stats_hashed(keys)
else:  # pragma: no cover
    _key_stats = _key_stats_sorted


def _ngram_key_series(cps: np.ndarray, n_max: int):
    """``(n, keys)`` for n = 2..n_max, each from the previous one in one vector step (the same
    keys as :func:`_ngram_keys`: exact packing up to 3, the polynomial hash beyond)."""
    poly = None
    for n in range(1, n_max + 1):
        m = len(cps) - n + 1
        if m <= 0:
            if n >= 2:
                yield n, np.empty(0, dtype=np.uint64)
            continue
        with np.errstate(over="ignore"):
            poly = (cps[:m] + np.uint64(1)) if poly is None else poly[:m] * _MULT + cps[n - 1 : n - 1 + m] + np.uint64(1)
        if n >= 2:
            yield n, (_ngram_keys(cps, n) if n <= 3 else poly)


def _dup_stats(items: list[str]) -> tuple[float, float]:
    """(Σ(freq−1)/#items, Σ(freq−1)·len / Σ len) over a list of strings."""
    if not items:
        return 0.0, 0.0
    counts = Counter(items)
    dup_n = sum(c - 1 for c in counts.values())
    dup_chars = sum((c - 1) * len(s) for s, c in counts.items())
    total_chars = sum(len(s) for s in items)
    return dup_n / len(items), (dup_chars / total_chars if total_chars else 0.0)


# The module docstring's sentence pattern applied to each line is the same pattern with "\n"
# excluded applied to the whole text.
_SENTENCE_NO_NL = re.compile(r"[^。．！？!?\n]+[。．！？!?]?")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_NO_NL.findall(text) if not s.isspace()]


def measure(text: str, cfg: QualityConfig = QualityConfig()) -> dict[str, float]:
    """Every value the rules test, keyed by column name."""
    v: dict[str, float] = {}
    lines = text.split("\n")
    sents = sentences(text)
    v["dup_line_frac"], v["dup_line_chars_frac"] = _dup_stats(lines)
    v["dup_sentence_frac"], v["dup_sentence_chars_frac"] = _dup_stats(sents)

    cps32 = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    cps = cps32.astype(np.uint64)
    tops = dict(cfg.repetition.top_ngram)
    dups = dict(cfg.repetition.dup_ngram)
    for n, keys in _ngram_key_series(cps, max([*tops, *dups], default=0)):
        if n in tops or n in dups:
            top, distinct, repeated = _key_stats(keys) if len(keys) else (0, 0, 0)
            if n in tops:
                v[f"top_{n}gram_frac"] = top / len(keys) if len(keys) else 0.0
            if n in dups:
                v[f"dup_{n}gram_frac"] = repeated / distinct if distinct else 0.0

    # Character classes with vectorised range tests (three regex findall passes built a list of
    # one-character strings per Japanese letter).
    hira = (cps32 >= 0x3041) & (cps32 <= 0x3096)
    kata = (cps32 >= 0x30A1) & (cps32 <= 0x30FA)
    ja = hira | kata | _is_kanji_or_punct(cps32)
    n_chars = len(text)
    n_ja = int(ja.sum())
    v["chars"] = n_chars
    v["ja_chars"] = n_ja
    v["hiragana_frac"] = int(hira.sum()) / n_ja if n_ja else 0.0
    v["katakana_frac"] = int(kata.sum()) / n_ja if n_ja else 0.0
    v["ja_frac"] = n_ja / n_chars if n_chars else 0.0
    lens = [len(s) for s in sents]
    v["mean_sentence_len"] = sum(lens) / len(lens) if lens else 0.0
    v["max_sentence_len"] = max(lens) if lens else 0
    v["ellipsis_sentence_frac"] = (
        sum(1 for s in sents if s.rstrip().endswith(("・", "…"))) / len(sents) if sents else 0.0
    )
    return v


# --- deciding --------------------------------------------------------------------------------

def decide(v: dict[str, float], cfg: QualityConfig = QualityConfig()) -> str | None:
    """Reason code of the first rule that fires, or None to keep. Order: length first (on a
    20-character page every n-gram statistic is noise, and "too short" is the useful reason),
    then repetition, then the Japanese character-class rules."""
    r, j = cfg.repetition, cfg.japanese
    if j.min_chars is not None and v["chars"] < j.min_chars:
        return "ja_text_too_short_v1"
    if j.min_ja_chars is not None and v["ja_chars"] < j.min_ja_chars:
        return "ja_chars_too_few_v1"
    above = (
        ("dup_line_frac", r.dup_line_frac, "dup_line_frac_v1"),
        ("dup_sentence_frac", r.dup_sentence_frac, "dup_sentence_frac_v1"),
        ("dup_line_chars_frac", r.dup_line_chars_frac, "dup_line_chars_frac_v1"),
        ("dup_sentence_chars_frac", r.dup_sentence_chars_frac, "dup_sentence_chars_frac_v1"),
        *((f"top_{n}gram_frac", t, f"top_{n}gram_frac_v1") for n, t in r.top_ngram),
        *((f"dup_{n}gram_frac", t, f"dup_{n}gram_frac_v1") for n, t in r.dup_ngram),
    )
    for key, limit, reason in above:
        if limit is not None and v[key] > limit:
            return reason
    checks = (
        (j.min_hiragana_frac, lambda t: v["hiragana_frac"] < t, "ja_hiragana_frac_v1"),
        (j.max_katakana_frac, lambda t: v["katakana_frac"] > t, "ja_katakana_frac_v1"),
        (j.min_ja_frac, lambda t: v["ja_frac"] < t, "ja_char_frac_v1"),
        (j.min_mean_sentence_len, lambda t: v["mean_sentence_len"] < t, "ja_sentence_len_short_v1"),
        (j.max_mean_sentence_len, lambda t: v["mean_sentence_len"] > t, "ja_sentence_len_long_v1"),
        (j.max_sentence_len, lambda t: v["max_sentence_len"] > t, "ja_sentence_max_len_v1"),
        (j.max_ellipsis_sentence_frac, lambda t: v["ellipsis_sentence_frac"] > t, "ja_ellipsis_frac_v1"),
    )
    for limit, fires, reason in checks:
        if limit is not None and fires(limit):
            return reason
    return None


def measured_columns(cfg: QualityConfig = QualityConfig()) -> list[str]:
    return list(measure("", cfg).keys())


def relaxed(cfg: QualityConfig = QualityConfig()) -> QualityConfig:
    """Swallow v2's relaxed rules (Hattori et al. NLP2025): v1 minus the katakana fraction, the
    Japanese-character fraction and the duplicate 5–10-gram rules."""
    return replace(
        cfg,
        repetition=replace(cfg.repetition, dup_ngram=tuple((n, None) for n, _ in cfg.repetition.dup_ngram)),
        japanese=replace(cfg.japanese, max_katakana_frac=None, min_ja_frac=None),
    )


class QualityRule:
    name = "quality"

    def __init__(self, cfg: QualityConfig = QualityConfig()):
        self.cfg = cfg

    def __call__(self, record: dict) -> tuple[dict, str | None]:
        values = measure(record["text"], self.cfg)
        out = dict(record)
        out.update({f"q_{k}": float(x) for k, x in values.items()})
        return out, decide(values, self.cfg)


__all__ = ["QualityConfig", "RepetitionConfig", "JapaneseConfig", "measure", "decide", "QualityRule",
           "relaxed", "sentences", "fields"]
