"""Precise Japanese language ID on the extracted text (Swallow NLP2024 §3.2: fastText lid.176)."""
from __future__ import annotations

from dataclasses import dataclass

from classifiers.langid import LangId


@dataclass(frozen=True)
class LangIdConfig:
    """Keep a page iff lid.176's top label is ``lang`` and P(lang) ≥ ``min_score``. Swallow keeps
    pages fastText calls Japanese; ``min_score`` (0.5) additionally drops pages where Japanese
    wins only narrowly (mixed-language pages), and ``lang_score`` is stored so it can be re-tuned.

    ``max_chars``: predict on the first N characters only. lid.176 costs ~2 µs per Japanese
    character (no spaces: every character n-gram of one long "word"); measured on the sample's
    545 pages: whole text 1.23 ms/page, 2,000 characters 0.27 ms/page with 2 decisions changed
    (pages that start in Japanese and continue in English), 1,000 characters 0.15 ms/page with 5.
    ``None`` (the default, as Swallow) reads the whole text."""

    lang: str = "ja"
    min_score: float = 0.5
    model_path: str | None = None
    max_chars: int | None = None


class LangIdRule:
    name = "langid"

    def __init__(self, cfg: LangIdConfig = LangIdConfig()):
        self.cfg = cfg
        self.lid = LangId(cfg.model_path)

    def setup(self):
        self.lid.load()

    def __call__(self, record: dict) -> tuple[dict, str | None]:
        text = record["text"]
        if self.cfg.max_chars is not None:
            text = text[: self.cfg.max_chars]
        top, score = self.lid.predict(text, self.cfg.lang)
        out = dict(record)
        out["lang"] = top
        out["lang_score"] = score
        ok = top == self.cfg.lang and score >= self.cfg.min_score
        return out, (None if ok else "lang_not_ja_v1")
