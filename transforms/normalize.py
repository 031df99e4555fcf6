"""Punctuation normalisation and footer removal (Swallow NLP2024 §3.5).

Normalise, per document: if 「，」 (after a Japanese character or a closing bracket) outnumbers
「、」, replace 「，」→「、」 except after full-width alphanumerics (０-９Ａ-Ｚａ-ｚ: ``１，０００`` is a
number); the same for 「．」→「。」.

Footer removal: a line is a footer line if more than ``footer_cover`` of its characters are covered
by footer keywords (greedy, longest first); the text is cut at the first footer line among the
last ``footer_window`` lines (the paper says 3, its code 10).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from transforms.config_fields import check
from transforms.quality import HIRAGANA, KANJI, KATAKANA

DEFAULT_FOOTER_KEYWORDS = os.path.join(os.path.dirname(__file__), "data", "footer_keywords_ja.txt")

_CLOSE = "」』）】〕〉》］｝)\\]"
_AFTER_JA = f"[{HIRAGANA}{KATAKANA}{KANJI}{_CLOSE}]"
_FW_ALNUM = "０-９Ａ-Ｚａ-ｚ"


@dataclass(frozen=True)
class NormalizeConfig:
    """``footer_window``: Swallow's code cuts within the last 10 lines (the paper text says 3).
    ``footer_cover``: share of a line's characters covered by keywords to call it a footer (0.3)."""

    normalize_punctuation: bool = True
    remove_footer: bool = True
    footer_window: int = 10
    footer_cover: float = 0.3
    footer_keywords: str = DEFAULT_FOOTER_KEYWORDS

    def __post_init__(self):
        check(self, at_least_one=("footer_window",), unit_interval=("footer_cover",))


def _swap(text: str, fw: str, ja: str) -> str:
    after_ja = len(re.findall(f"(?<={_AFTER_JA}){re.escape(fw)}", text))
    if after_ja > text.count(ja):
        return re.sub(f"(?<![{_FW_ALNUM}]){re.escape(fw)}", ja, text)
    return text


def normalize_punctuation(text: str) -> str:
    return _swap(_swap(text, "，", "、"), "．", "。")


@lru_cache(maxsize=4)
def load_keywords(path: str) -> tuple[str, ...]:
    with open(path, encoding="utf-8") as f:
        words = {w.strip() for w in f if w.strip() and not w.startswith("#")}
    return tuple(sorted(words, key=lambda w: (-len(w), w)))


def keyword_cover(line: str, keywords: tuple[str, ...]) -> float:
    """Share of the line's non-space characters covered by keywords, longest first, no overlap."""
    stripped = line.strip()
    if not stripped:
        return 0.0
    covered = [False] * len(stripped)
    for kw in keywords:
        start = stripped.find(kw)
        while start != -1:
            end = start + len(kw)
            if not any(covered[start:end]):
                covered[start:end] = [True] * len(kw)
            start = stripped.find(kw, start + 1)
    n = sum(1 for c in stripped if not c.isspace())
    hit = sum(1 for c, cov in zip(stripped, covered) if cov and not c.isspace())
    return hit / n if n else 0.0


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
        return out, (None if text.strip() else "empty_after_footer_v1")
