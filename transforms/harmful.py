"""Harmful-expression filter (Swallow NLP2024 §3.4): NG-word character fraction.

Greedy longest, non-overlapping matches of an NG-word list with an Aho-Corasick automaton (built
once per worker); ``ng_fraction`` = matched characters / Japanese letters; keep iff < 0.05.
Matching is case-insensitive and width-insensitive for ASCII (Ｓｅｘ = sex) with a
length-preserving character map, so match offsets stay offsets into the original text. An
all-ASCII word (``sm``, ``3p``) only counts as a whole token, never inside ``small``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from transforms.config_fields import check
from transforms.quality import _JA

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")
DEFAULT_NGWORDS = os.path.join(DATA_DIR, "ngwords_ja.txt")

# Full-width ASCII → ASCII, then lower case: both preserve length.
_FOLD = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}


def fold(text: str) -> str:
    return text.translate(_FOLD).lower()


@dataclass(frozen=True)
class HarmfulConfig:
    """``max_ng_fraction``: Swallow NLP2024 §3.4 keeps a page iff NG chars / Japanese chars < 0.05.
    ``ngwords``: a word list path (one per line, ``#`` comments); default = the shipped list."""

    max_ng_fraction: float = 0.05
    ngwords: str = DEFAULT_NGWORDS

    def __post_init__(self):
        check(self, unit_interval=("max_ng_fraction",))


def load_words(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [fold(w.strip()) for w in f if w.strip() and not w.lstrip().startswith("#")]


@lru_cache(maxsize=4)
def automaton(path: str):
    import ahocorasick

    a = ahocorasick.Automaton()
    for w in load_words(path):
        a.add_word(w, len(w))
    a.make_automaton()
    return a


def _is_word_char(c: str) -> bool:
    return c.isascii() and c.isalnum()


def whole_token(folded: str, start: int, end: int) -> bool:
    """Whether the match ``folded[start:end]`` counts: an all-ASCII word (``sm``, ``3p``) only as
    a whole token, never inside ``small``; a word with any non-ASCII character anywhere."""
    if not folded[start:end].isascii():
        return True
    return not ((start > 0 and _is_word_char(folded[start - 1]))
                or (end < len(folded) and _is_word_char(folded[end])))


def ng_matches(text: str, auto) -> list[tuple[int, int]]:
    """(start, end) spans of greedy longest non-overlapping matches."""
    folded = fold(text)
    spans = []
    for end_idx, length in auto.iter_long(folded):
        start, end = end_idx - length + 1, end_idx + 1
        if whole_token(folded, start, end):
            spans.append((start, end))
    return spans


def ng_fraction(text: str, auto, ja_chars: int | None = None) -> tuple[float, int]:
    """(NG chars / Japanese letters, NG chars). No Japanese letters → 1.0 if any match, else 0."""
    n_ng = sum(e - s for s, e in ng_matches(text, auto))
    n_ja = len(_JA.findall(text)) if ja_chars is None else ja_chars
    if n_ja == 0:
        return (1.0 if n_ng else 0.0), n_ng
    return n_ng / n_ja, n_ng


class HarmfulRule:
    name = "harmful"

    def __init__(self, cfg: HarmfulConfig = HarmfulConfig()):
        self.cfg = cfg
        self._auto = None

    def __getstate__(self):
        return {"cfg": self.cfg, "_auto": None}

    def setup(self):
        self._auto = automaton(self.cfg.ngwords)

    def __call__(self, record: dict) -> tuple[dict, str | None]:
        if self._auto is None:
            self.setup()
        ja = record.get("q_ja_chars")
        frac, n = ng_fraction(record["text"], self._auto, int(ja) if ja is not None else None)
        out = dict(record)
        out["ng_fraction"] = frac
        out["ng_chars"] = n
        return out, (None if frac < self.cfg.max_ng_fraction else "ng_word_frac_v1")
