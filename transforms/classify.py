"""Classifier stage (Swallow v2, Hattori et al. NLP2025): score every page with fastText models
(:mod:`classifiers.ft`).

``classify`` (:class:`Classify`) never drops a page: it adds one float column per model
(``wiki_score``, ``edu_score``, ``medical_score``). Each worker loads each model once in
``DoFn.setup`` (a per-process cache shared by its threads) and predicts in batches of
``batch_size`` pages (fastText's C++ loop over a list), flushing the last partial batch in
``finish_bundle``. Selection by a score is done elsewhere: top-k% (:mod:`transforms.topk`) and
domain subsets (:mod:`transforms.subset`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import apache_beam as beam
import pyarrow as pa
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

from classifiers.ft import Scorer
from transforms.config_fields import check
from transforms.stage import ERRORS, KEPT, REJECTED, RuleStage, StageCounters, exception_output

log = logging.getLogger(__name__)

STAGE = "classify"

#: (score column, model file in classifiers/models or a path, kind: binary | edu)
WIKI = ("wiki_score", "wiki.ftz", "binary")
EDU = ("edu_score", "edu.ftz", "edu")
MEDICAL = ("medical_score", "medical.ftz", "binary")


@dataclass(frozen=True)
class ClassifyConfig:
    """Swallow v2 (NLP2025 §3): a binary "Wiki" classifier (score = P(encyclopedic)) and a 4-class
    educational-value classifier (score = Σ label × P(label), 0–3), both fastText on character 2/3-
    grams. ``models``: (column, model, kind) triples; ``batch_size``: pages per fastText call;
    ``max_chars``: characters read per page (None = the model's training setting)."""

    models: tuple[tuple[str, str, str], ...] = (WIKI, EDU)
    batch_size: int = 64
    max_chars: int | None = None

    def __post_init__(self):
        check(self, at_least_one=("batch_size",))


class ScoreDoFn(beam.DoFn):
    def __init__(self, cfg: ClassifyConfig):
        self.cfg = cfg
        self.scorers = [(col, Scorer(path, kind, cfg.max_chars)) for col, path, kind in cfg.models]

    def setup(self):
        for _, s in self.scorers:
            s.load()
        self.counters = StageCounters(STAGE)

    def start_bundle(self):
        self.buf: list[dict] = []

    def process(self, record):
        self.buf.append(record)
        if len(self.buf) >= self.cfg.batch_size:
            yield from self._flush()

    def finish_bundle(self):
        for out in self._flush():
            if isinstance(out, beam.pvalue.TaggedOutput):
                yield beam.pvalue.TaggedOutput(out.tag, WindowedValue(out.value, MIN_TIMESTAMP, [GlobalWindow()]))
            else:
                yield WindowedValue(out, MIN_TIMESTAMP, [GlobalWindow()])

    def _flush(self):
        batch, self.buf = self.buf, []
        if not batch:
            return
        try:
            yield from self._score(batch)
        except Exception:  # one bad page must not take the batch with it: retry one by one
            for rec in batch:
                try:
                    yield from self._score([rec])
                except Exception as e:
                    yield exception_output(self.counters, rec, e)

    def _score(self, batch: list[dict]):
        from classifiers.ft import features

        texts = [r.get("text") or "" for r in batch]
        lines: dict[int, list[str]] = {}  # one features pass per max_chars, shared by the models
        scores = {}
        for col, s in self.scorers:
            if s.max_chars not in lines:
                lines[s.max_chars] = [features(t, s.max_chars) for t in texts]
            scores[col] = s.score_lines(lines[s.max_chars])
        out = []
        for i, rec in enumerate(batch):
            r = dict(rec)
            for col in scores:
                r[col] = scores[col][i]
            out.append(r)
        self.counters.kept(len(out))
        yield from out


class Classify(beam.PTransform):
    """``classify``: adds one score column per model; drops nothing."""

    def __init__(self, cfg: ClassifyConfig = ClassifyConfig()):
        super().__init__("Classify")
        self.cfg = cfg
        self.columns = {col: pa.float64() for col, _, _ in cfg.models}

    def expand(self, docs):
        out = docs | "Score" >> beam.ParDo(ScoreDoFn(self.cfg)).with_outputs(ERRORS, main=KEPT)
        empty = docs.pipeline | "NoRejects" >> beam.Create([])
        models = docs.pipeline | "ModelCards" >> beam.Create(model_cards(self.cfg))
        return {KEPT: out[KEPT], REJECTED: empty, ERRORS: out[ERRORS], "models": models}


def model_cards(cfg: ClassifyConfig) -> list[dict]:
    """What each score column comes from, with the model's held-out evaluation (for the report)."""
    from classifiers.ft import meta_for, model_path

    cards = []
    for col, path, kind in cfg.models:
        meta = meta_for(model_path(path))
        cards.append({"column": col, "model": path, "kind": kind,
                      **{k: meta.get(k) for k in ("train_size", "label_counts", "threshold", "params",
                                                   "search", "evaluation", "command") if k in meta}})
    return cards
