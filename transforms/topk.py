"""Top-k% selection (Swallow v2, Hattori et al. NLP2025: keep the pages whose classifier score is
in the top 10% of the whole corpus).

The threshold is a global quantile of the whole run, computed with Beam's
``ApproximateQuantiles.Globally`` (a mergeable sketch: each worker summarises its share, never the
whole corpus on one worker). Pages are ranked by the key ``(score, tiebreak)`` where ``tiebreak``
is a hash of the page id, so equal scores are ordered deterministically and a band keeps the same
pages on every run and runner. A band ``[top_from, top_to)`` keeps pages whose rank from the top,
as a fraction, lies in it: ``(0, 0.1)`` = top 10% (default), ``(0.1, 0.3)`` = the 10–30% band.
Adjacent bands share their boundary quantile (``>=`` below, ``<`` above), so they partition the
corpus.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import apache_beam as beam

from transforms.config_fields import check, refuse
from transforms.stage import ERRORS, KEPT, REJECTED, StageCounters, reject_record

STAGE = "topk"
R_BELOW = "topk_below_threshold_v1"
R_ABOVE = "topk_above_band_v1"


@dataclass(frozen=True)
class TopKConfig:
    """``score``: the column ranked (Swallow v2 selected by its educational-value classifier);
    ``top_from``/``top_to``: the band as fractions from the top; ``num_quantiles``: the sketch's
    resolution (1001 → 0.1% steps)."""

    score: str = "edu_score"
    top_from: float = 0.0
    top_to: float = 0.10
    num_quantiles: int = 1001

    def __post_init__(self):
        check(self, at_least_one=("num_quantiles",), unit_interval=("top_from", "top_to"))
        if not self.top_from < self.top_to:  # an empty band keeps nothing
            refuse(self, "top_from", f"must be below top_to, got {self.top_from!r} >= {self.top_to!r}")


def tiebreak(record: dict) -> str:
    ident = record.get("id") or record.get("url") or record.get("text") or ""
    return hashlib.sha1(str(ident).encode("utf-8")).hexdigest()[:16]


def rank_key(record: dict, score: str) -> tuple[float, str]:
    v = record.get(score)
    try:
        x = float(v)
    except (TypeError, ValueError):
        x = -math.inf
    if math.isnan(x):
        x = -math.inf
    return (x, tiebreak(record))


def bounds(quantiles: list, cfg: TopKConfig) -> tuple[tuple | None, tuple | None]:
    """``(lower, upper)`` keys from ascending quantiles: keep ``lower <= key < upper`` (None = open)."""
    if not quantiles:
        return None, None
    last = len(quantiles) - 1

    def at(frac_from_top: float):
        return quantiles[int(round((1.0 - frac_from_top) * last))]

    lower = None if cfg.top_to >= 1.0 else at(cfg.top_to)
    upper = None if cfg.top_from <= 0.0 else at(cfg.top_from)
    return lower, upper


def decide(key: tuple, lower, upper) -> str | None:
    if lower is not None and key < lower:
        return R_BELOW
    if upper is not None and key >= upper:
        return R_ABOVE
    return None


# --- the Beam stage ----------------------------------------------------------------------------


class _Select(beam.DoFn):
    def __init__(self, cfg: TopKConfig):
        self.cfg = cfg

    def setup(self):
        self.counters = StageCounters(STAGE)

    def process(self, record, quantiles):
        lower, upper = bounds(quantiles, self.cfg)
        reason = decide(rank_key(record, self.cfg.score), lower, upper)
        if reason is None:
            self.counters.kept()
            yield record
        else:
            self.counters.dropped(reason)
            yield beam.pvalue.TaggedOutput(REJECTED, reject_record(record, STAGE, reason))


class TopK(beam.PTransform):
    """``topk``: kept/rejected/errors plus ``threshold`` (the band's score bounds and page count)."""

    columns: dict = {}

    def __init__(self, cfg: TopKConfig = TopKConfig()):
        super().__init__("TopK")
        self.cfg = cfg

    def expand(self, docs):
        cfg = self.cfg
        quantiles = (docs
                     | "Key" >> beam.Map(rank_key, cfg.score)
                     | "Quantiles" >> beam.transforms.stats.ApproximateQuantiles.Globally(cfg.num_quantiles))
        q = beam.pvalue.AsSingleton(quantiles, default_value=[])
        out = docs | "Select" >> beam.ParDo(_Select(cfg), quantiles=q).with_outputs(REJECTED, ERRORS, main=KEPT)
        n = docs | "Count" >> beam.combiners.Count.Globally()
        threshold = n | "Threshold" >> beam.Map(
            lambda pages, qs: {"score": cfg.score, "top_from": cfg.top_from, "top_to": cfg.top_to,
                               "pages_in": pages,
                               "lower": (bounds(qs, cfg)[0] or (None,))[0],
                               "upper": (bounds(qs, cfg)[1] or (None,))[0]},
            qs=q)
        return {KEPT: out[KEPT], REJECTED: out[REJECTED], ERRORS: out[ERRORS], "threshold": threshold}
