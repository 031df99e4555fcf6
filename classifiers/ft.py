"""fastText quality/domain classifiers on character 2- and 3-grams (Swallow v2, Hattori et al.
NLP2025 §3: fastText on character n-grams, since Japanese has no spaces).

A text becomes one line of space-separated tokens: every character 2-gram and 3-gram of the text
(newlines replaced by spaces first, whitespace runs collapsed, at most ``max_chars`` characters
read). The same :func:`features` is used to train and to predict, so a model and its input can
never drift apart. No Beam here: :mod:`transforms.classify` wraps :class:`Scorer`.

Kinds (how a model's probabilities become one score):
- ``binary``: ``P(__label__1)`` (the Wiki classifier; the medical domain classifier);
- ``edu``: Σ label × P(label) over labels 0–3 (educational value, Swallow v2).
"""
from __future__ import annotations

import json
import os
import re
from functools import lru_cache

MODELS_DIR = os.path.join(os.path.dirname(__file__), "models")
_WS = re.compile(r"\s+")
DEFAULT_MAX_CHARS = 2000
KINDS = ("binary", "edu")


def clean(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Newlines (and every whitespace run) → one space; the first ``max_chars`` characters."""
    return _WS.sub(" ", (text or "")[: max_chars * 2]).strip()[:max_chars]


def features(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Character 2- and 3-grams as fastText tokens (spaces inside an n-gram become ``_``)."""
    t = clean(text, max_chars).replace(" ", "_")
    grams = [t[i:i + 2] for i in range(len(t) - 1)]
    grams += [t[i:i + 3] for i in range(len(t) - 2)]
    return " ".join(grams)


def model_path(name: str) -> str:
    """A shipped model by file name (``classifiers/models/<name>``) or a path as given."""
    if os.path.sep in name or os.path.exists(name):
        return name
    return os.path.join(MODELS_DIR, name)


def load_fasttext(path: str):
    """``fasttext.load_model`` without the deprecation banner it prints to stderr on every load
    (through ``fasttext.FastText.eprint``, which not every fastText build has)."""
    import fasttext

    try:
        fasttext.FastText.eprint = lambda *a, **k: None
    except AttributeError:
        pass
    return fasttext.load_model(path)


@lru_cache(maxsize=8)
def load_model(path: str):
    """One fastText model per process and path (shared by all threads of a worker)."""
    return load_fasttext(path)


def meta_for(path: str) -> dict:
    """The JSON written next to a model (``<model>.json``: kind, labels, max_chars, eval)."""
    p = os.path.splitext(path)[0] + ".json"
    if os.path.exists(p):
        with open(p, encoding="utf-8") as f:
            return json.load(f)
    return {}


def score_from(labels, probs, kind: str, positive: str = "1") -> float:
    """One score from fastText's (labels, probs) for all labels (k=-1)."""
    if kind == "binary":
        want = f"__label__{positive}"
        for lab, p in zip(labels, probs):
            if lab == want:
                return float(min(max(p, 0.0), 1.0))
        return 0.0
    if kind == "edu":
        total = sum(float(p) for p in probs) or 1.0
        return float(sum(int(lab.replace("__label__", "")) * float(p) for lab, p in zip(labels, probs)) / total)
    raise ValueError(f"unknown classifier kind {kind!r}; known: {KINDS}")


class Scorer:
    """``score_batch(texts) -> [float]`` for one model. Picklable: the model is loaded lazily in
    :meth:`load` (once per process, cached) and never pickled."""

    def __init__(self, path: str, kind: str | None = None, max_chars: int | None = None):
        self.path = model_path(path)
        meta = meta_for(self.path)
        self.kind = kind or meta.get("kind", "binary")
        self.max_chars = max_chars or meta.get("max_chars", DEFAULT_MAX_CHARS)
        self.positive = str(meta.get("positive", "1"))
        self._model = None

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_model"] = None
        return d

    def load(self) -> "Scorer":
        if self._model is None:
            self._model = load_model(self.path)
        return self

    def score_batch(self, texts: list[str]) -> list[float]:
        return self.score_lines([features(t, self.max_chars) for t in texts])

    def score_lines(self, lines: list[str]) -> list[float]:
        """Scores of texts already turned into :func:`features` lines (with this model's
        ``max_chars``): models that read the same characters share one features pass."""
        self.load()
        labels, probs = self._model.predict(lines, k=-1)
        return [score_from(lab, pr, self.kind, self.positive) for lab, pr in zip(labels, probs)]

    def score(self, text: str) -> float:
        return self.score_batch([text])[0]
