"""Domain subsets: the pages a domain classifier selects (medical first; any ``<name>_score``
column that the ``classify`` stage adds works the same way).

A subset is a score column, a threshold on it, and optional floors on other score columns (for
example a floor on ``edu_score``). :class:`SubsetRule` is the pure rule; :class:`DomainSubset`
the composite stage, which also emits the subset's share of the pages it saw and, when asked
(``evidence``), one row per page (id, url, score, selected) so that the run report can give the
subset's precision and recall against a labels file (:mod:`pipeline.subset_eval`).

Reason codes: ``<name>_below_threshold_v1`` (the score), ``<name>_<column>_floor_v1`` (a floor).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import apache_beam as beam

from transforms.config_fields import check, refuse
from transforms.records import RecordError
from transforms.stage import ERRORS, KEPT, REJECTED, RuleStage

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class SubsetConfig:
    """``name``: the subset (reason codes and report section); ``column``: the score that selects,
    kept iff ``column >= min_score``; ``floors``: ``(column, minimum)`` pairs every kept page must
    also reach; ``evidence``: emit one row per page for a precision/recall evaluation."""

    name: str = "medical"
    column: str = "medical_score"
    min_score: float = 0.5
    floors: tuple[tuple[str, float], ...] = ()
    evidence: bool = False

    def __post_init__(self):
        if not _NAME.match(self.name):
            refuse(self, "name", f"lower-case letters, digits and _ only, got {self.name!r}")
        if not isinstance(self.column, str) or not self.column:
            refuse(self, "column", f"must be a score column name, got {self.column!r}")
        if isinstance(self.min_score, bool) or not isinstance(self.min_score, (int, float)):
            refuse(self, "min_score", f"must be a number, got {self.min_score!r}")
        for floor in self.floors:
            if (len(floor) != 2 or not isinstance(floor[0], str) or isinstance(floor[1], bool)
                    or not isinstance(floor[1], (int, float)) or not math.isfinite(floor[1])):
                refuse(self, "floors", f"must be (column, minimum) pairs, got {floor!r}")
        check(self)  # finite, >= 0; not [0, 1]: a subset may select on edu_score (0-3)

    @property
    def reasons(self) -> tuple[str, ...]:
        return (f"{self.name}_below_threshold_v1",) + tuple(f"{self.name}_{c}_floor_v1" for c, _ in self.floors)


def _score(record: dict, column: str, name: str) -> float:
    v = record.get(column)
    if v is None:
        raise RecordError(f"{name}_no_score", f"no {column} on the page (is its model in classify?)")
    return float(v)


def decide(record: dict, cfg: SubsetConfig) -> str | None:
    """None (selected) or the reason code of the first test the page fails."""
    if not _score(record, cfg.column, cfg.name) >= cfg.min_score:
        return f"{cfg.name}_below_threshold_v1"
    for column, minimum in cfg.floors:
        if not _score(record, column, cfg.name) >= minimum:
            return f"{cfg.name}_{column}_floor_v1"
    return None


class SubsetRule:
    """``record -> (record, None | reason)``; pure, no Beam."""

    def __init__(self, cfg: SubsetConfig = SubsetConfig()):
        self.cfg = cfg
        self.name = "subset"

    def __call__(self, record: dict):
        return record, decide(record, self.cfg)


def evidence_row(record: dict, cfg: SubsetConfig) -> dict:
    """What the evaluation needs of one page: ids, its score and whether it was selected."""
    return {"id": record.get("id"), "url": record.get("url"), "host": record.get("host"),
            "score": record.get(cfg.column), "selected": record.get("reason") is None}


def share(pages_in: int, pages_kept: int, cfg: SubsetConfig) -> dict:
    return {"subset": cfg.name, "column": cfg.column, "min_score": cfg.min_score,
            "floors": [list(f) for f in cfg.floors], "pages_in": pages_in, "pages_kept": pages_kept,
            "share": (pages_kept / pages_in) if pages_in else 0.0}


class DomainSubset(beam.PTransform):
    """``subset``: kept/rejected/errors, plus ``share`` (one row) and, with ``evidence``, one row
    per page that reached the stage."""

    def __init__(self, cfg: SubsetConfig = SubsetConfig()):
        super().__init__(f"Subset_{cfg.name}")
        self.cfg = cfg
        self.columns = {}

    def expand(self, docs):
        cfg = self.cfg
        out = docs | RuleStage(SubsetRule(cfg), "Rule")
        seen = docs | "CountSeen" >> beam.combiners.Count.Globally()
        kept = out[KEPT] | "CountKept" >> beam.combiners.Count.Globally()
        result = {KEPT: out[KEPT], REJECTED: out[REJECTED], ERRORS: out[ERRORS],
                  "share": seen | "Share" >> beam.Map(share, beam.pvalue.AsSingleton(kept), cfg)}
        if cfg.evidence:
            result["evidence"] = ((out[KEPT], out[REJECTED]) | "Both" >> beam.Flatten()
                                  | "Evidence" >> beam.Map(evidence_row, cfg))
        return result
