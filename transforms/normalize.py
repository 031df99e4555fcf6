"""Punctuation normalisation and footer removal (Swallow NLP2024 §3.5), as swallow-corpus's
kutoten.py and footer.py (the modules its modify.py applies, in this order) do them.

Punctuation (``normalize_punctuation``, swallow-corpus kutoten.py ``normalize``): count the runs
of 「、」 and the runs of 「，」 that follow a Japanese character (hiragana, katakana, kanji,
々〇〻, or one of the full-width closing brackets ）」』］〕】〉》; ASCII brackets do not count);
if the 「，」 runs are more, every run of 「，」 that follows a character other than a full-width
digit or letter (０-９Ａ-Ｚａ-ｚ: ``１，０００`` is a number) becomes as many 「、」. A 「，」 at
the very start of the text follows no character and stays. The same, counted on the original
text, for 「．」→「。」. Two readings of Swallow's regular expressions that differ from what
they do under Python 3, with the reason:

- kanji beyond the BMP (U+20000–U+2FFFF, e.g. 𠮟) count as Japanese characters: Swallow writes
  them as a UTF-16 surrogate pair, which never matches a Python 3 ``str``;
- ``^`` before a comma is no exception: Swallow's class ``[^０-９^Ａ-Ｚ^ａ-ｚ]`` excludes it only
  because ``^`` inside a class is a literal.

Footer removal (``remove_footer``, swallow-corpus footer.py ``trim_footer``): among the last
``footer_window`` lines (its code: 10; the paper text says 3), the text is cut at the first line
of which more than ``footer_cover`` (0.3) of the characters are footer keywords: each keyword,
longest first, is deleted from the line in turn, and the deleted characters are counted against
the line's length (spaces included). The keywords are Swallow's list, shipped as data with its
attribution and MIT notice (``data/footer_keywords_ja.txt``). Reason code
``empty_after_footer_v2`` (v1: our own keyword list and a cover that skipped spaces).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from transforms.config_fields import check

DEFAULT_FOOTER_KEYWORDS = os.path.join(os.path.dirname(__file__), "data", "footer_keywords_ja.txt")
R_EMPTY = "empty_after_footer_v2"

# Swallow's "Japanese character" class (kutoten.py), supplementary-plane kanji as intended.
_JA = "[）」』］〕】〉》\u3041-\u3096\u30a1-\u30fa々〇〻\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]"
_NOT_FW_ALNUM = "[^０-９Ａ-Ｚａ-ｚ]"


@dataclass(frozen=True)
class NormalizeConfig:
    """``footer_window``: Swallow's code cuts within the last 10 lines (the paper text says 3).
    ``footer_cover``: share of a line's characters that are keywords to call it a footer (0.3)."""

    normalize_punctuation: bool = True
    remove_footer: bool = True
    footer_window: int = 10
    footer_cover: float = 0.3
    footer_keywords: str = DEFAULT_FOOTER_KEYWORDS

    def __post_init__(self):
        check(self, at_least_one=("footer_window",), unit_interval=("footer_cover",))


@lru_cache(maxsize=None)
def _rules(western: str, japanese: str) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """(runs of ``japanese`` after a Japanese character, the same for ``western``, the runs of
    ``western`` to replace)."""
    return (re.compile(f"{_JA}{re.escape(japanese)}+"), re.compile(f"{_JA}{re.escape(western)}+"),
            re.compile(f"({_NOT_FW_ALNUM})({re.escape(western)}+)"))


def prefers_western(text: str, western: str, japanese: str) -> bool:
    """True when runs of ``western`` after Japanese characters outnumber those of ``japanese``."""
    ja_runs, we_runs, _ = _rules(western, japanese)
    return sum(1 for _ in ja_runs.finditer(text)) < sum(1 for _ in we_runs.finditer(text))


def _replace(text: str, western: str, japanese: str) -> str:
    target = _rules(western, japanese)[2]
    return target.sub(lambda m: m.group(1) + japanese * len(m.group(2)), text)


def normalize_punctuation(text: str) -> str:
    """「，」→「、」 and 「．」→「。」 where the text prefers them after Japanese characters."""
    toten = prefers_western(text, "，", "、")
    kuten = prefers_western(text, "．", "。")  # counted on the original text, as Swallow
    if toten:
        text = _replace(text, "，", "、")
    if kuten:
        text = _replace(text, "．", "。")
    return text


@lru_cache(maxsize=4)
def load_keywords(path: str) -> tuple[str, ...]:
    """Keywords, longest first (ties in code-point order, so the result never depends on a hash
    seed; Swallow's order among keywords of one length is its set's)."""
    with open(path, encoding="utf-8") as f:
        words = {w.strip() for w in f if w.strip() and not w.startswith("#")}
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def keyword_cover(line: str, keywords: tuple[str, ...]) -> float:
    """Share of the line's characters (spaces included) deleted by deleting each keyword in turn,
    longest first (Swallow's ``is_footer``); 0 for an empty line."""
    total = len(line)
    if not total:
        return 0.0
    for kw in keywords:
        line = line.replace(kw, "")
    return (total - len(line)) / total


def remove_footer(text: str, keywords: tuple[str, ...], window: int = 10, cover: float = 0.3) -> tuple[str, int]:
    """(text without footer, number of lines cut)."""
    lines = text.split("\n")
    first = max(0, len(lines) - window)
    for i in range(first, len(lines)):
        if keyword_cover(lines[i], keywords) > cover:
            return "\n".join(lines[:i]), len(lines) - i
    return text, 0


class NormalizeRule:
    name = "normalize"

    def __init__(self, cfg: NormalizeConfig = NormalizeConfig()):
        self.cfg = cfg

    def __call__(self, record: dict) -> tuple[dict, str | None]:
        text = record["text"]
        if self.cfg.normalize_punctuation:
            text = normalize_punctuation(text)
        cut = 0
        if self.cfg.remove_footer:
            text, cut = remove_footer(text, load_keywords(self.cfg.footer_keywords),
                                      self.cfg.footer_window, self.cfg.footer_cover)
        out = dict(record)
        out["text"] = text
        out["text_chars"] = len(text)
        out["footer_lines_cut"] = cut
        return out, (None if text.strip() else R_EMPTY)
