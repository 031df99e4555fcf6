"""The Swallow DAG, top-down as the paper's Fig. 1, one line of stages per recipe
(:mod:`pipeline.recipes`; ``tests/unit/test_dag_diagram.py`` checks these lines against it):

    v1:      WARC files → ReadWarc → Prefilter → (spread) → Decode → Extract → LanguageId
             → QualityRules → HarmfulFilter → AnonymizePII → Dedup → HostFilter → Normalize
             → Decontaminate → Parquet + report
    v2:      WARC files → ReadWarc → Prefilter → (spread) → Decode → Extract → LanguageId → Dedup
             → QualityRules → HarmfulFilter → AnonymizePII → Classify → TopK → Normalize
             → Decontaminate → Parquet + report
    medical: WARC files → ReadWarc → Prefilter → (spread) → Decode → Extract → LanguageId → Dedup
             → QualityRules → HarmfulFilter → AnonymizePII → Classify → Subset_medical → Normalize
             → Decontaminate → Parquet + report

The Prefilter reads the raw bytes (only the page's head is decoded: :mod:`transforms.prefilter_head`);
``(spread)`` redistributes the ~5% of pages it keeps (:data:`SPREAD_AFTER`). The recipe's
``stages`` tuple fixes the order between ReadWarc and the writers; each name maps to a stage
builder in :data:`STAGES`. Every stage returns kept/rejected/errors; rejects and errors of all
stages are written, and every exit is counted for the report.
"""
from __future__ import annotations

import json
from typing import Callable

import apache_beam as beam

from pipeline.prefilter_eval import EVIDENCE_PATH, evidence_row
from transforms import stages
from transforms.read_index import NOT_SELECTED, SELECTED, ReadWarcIndexed
from transforms.read_warc import SKIPPED, ReadWarc
from transforms.schema import BASE_COLUMNS
from transforms.stage import ERRORS, KEPT, REJECTED
from transforms.stats import CountOutcomes
from transforms.write import WriteDocuments, WriteErrors, WriteRejects

#: stage name → builder(PipelineConfig) → composite PTransform returning kept/rejected/errors.
STAGES: dict[str, Callable] = {
    "decode": lambda cfg: stages.Decode(cfg.decode),
    "prefilter": lambda cfg: stages.Prefilter(cfg.prefilter),
    "extract": lambda cfg: stages.Extract(cfg.extract),
    "langid": lambda cfg: stages.LanguageId(cfg.langid),
    "quality": lambda cfg: stages.QualityRules(cfg.quality),
    "harmful": lambda cfg: stages.HarmfulFilter(cfg.harmful),
    "normalize": lambda cfg: stages.Normalize(cfg.normalize),
    "dedup": lambda cfg: _dedup().Dedup(cfg.dedup),
    "hosts": lambda cfg: _hosts().HostFilter(cfg.hosts),
    "classify": lambda cfg: _classify().Classify(cfg.classify),
    "topk": lambda cfg: _topk().TopK(cfg.topk),
    "subset": lambda cfg: _subset().DomainSubset(cfg.subset),
    "pii": lambda cfg: stages.AnonymizePII(cfg.pii),
    "decontaminate": lambda cfg: stages.Decontaminate(cfg.decontaminate),
}


def _dedup():
    from transforms import dedup

    return dedup


def _hosts():
    from transforms import hosts
    return hosts


def _classify():
    from transforms import classify
    return classify


def _subset():
    from transforms import subset
    return subset


def _topk():
    from transforms import topk
    return topk

#: After this stage the surviving ~5% of pages are redistributed, so the expensive stages are not
#: pinned to the worker that read one huge WARC file (and only 5% of the bytes are shuffled).
SPREAD_AFTER = "prefilter"


def build(p: beam.Pipeline, cfg, inputs: list[str], output: str, rejects: str = "ids",
          check_inputs: bool = True, index: list[str] | None = None) -> dict:
    """Add the whole corpus pipeline to ``p``. With ``index`` (Parquet globs of a CC-style URL
    index) only the selected records are read, by byte range. Returns what the progress counters
    and the dataset card need: ``read`` (the reader's outputs: kept/rejected/errors/skipped),
    ``documents``, ``rejected`` (a list), ``errors``, ``columns`` (of the documents), ``stages``
    (``(name, input, [kept, rejected, errors])`` in DAG order) and ``rounds`` (stage name →
    round number → that round's PCollection, for stages that iterate: dedup's connected
    components)."""
    if index:
        reader = ReadWarcIndexed(index, cfg.index, cfg.read, check=check_inputs)
    else:
        reader = ReadWarc(inputs, cfg.read, check=check_inputs)
    read = p | "ReadWarc" >> reader
    docs = read[KEPT]
    # Rejects stay one PCollection per stage (written and counted where they arise): a Flatten
    # of ~95% of all records would make runners ship them between workers (measured on
    # FnApiRunner with 2 worker processes); errors are few and are flattened.
    rejected, errors = {"read": read[REJECTED]}, [read[ERRORS]]
    columns = dict(BASE_COLUMNS)
    stage_io = []  # (name, input, [kept, rejected, errors]) for the progress line
    rounds = {}

    for name in cfg.stages:
        stage = STAGES[name](cfg)
        out = docs | stage
        stage_io.append((name, docs, [out[KEPT], out[REJECTED], out[ERRORS]]))
        if getattr(stage, "rounds", None):
            rounds[name] = stage.rounds
        docs = out[KEPT]
        rejected[name] = out[REJECTED]
        errors.append(out[ERRORS])
        columns.update(getattr(stage, "columns", {}) or {})
        if name == "prefilter" and cfg.prefilter.evidence:  # P/R of every mode from one run
            ((out[KEPT], out[REJECTED]) | "PrefilterEvidence" >> beam.Flatten()
             | "PrefilterEvidence.Json" >> beam.Map(lambda r: json.dumps(evidence_row(r), default=str))
             | "PrefilterEvidence.Write" >> beam.io.WriteToText(
                 f"{output.rstrip('/')}/{EVIDENCE_PATH}", file_name_suffix=".jsonl",
                 num_shards=1, shard_name_template=""))
        for key, extra in out.items():  # stage statistics (e.g. dedup cluster sizes) for the report
            if key not in (KEPT, REJECTED, ERRORS):
                (extra
                 | f"{stage.label}.{key}.Json" >> beam.Map(lambda x: json.dumps(x, default=str))
                 | f"{stage.label}.{key}.Write" >> beam.io.WriteToText(
                     f"{output.rstrip('/')}/_stats/{name}_{key}", file_name_suffix=".jsonl",
                     num_shards=1, shard_name_template=""))
        if name == SPREAD_AFTER:
            docs = docs | "SpreadPages" >> beam.Reshuffle()

    all_errors = errors | "AllErrors" >> beam.Flatten()
    # Stages after the prefilter see ~5% of the records: their rejects are flattened (one writer,
    # a small job graph); the read and prefilter rejects keep their own.
    later = [pc for name, pc in rejected.items() if name not in ("read", SPREAD_AFTER)]
    rejected = {k: v for k, v in rejected.items() if k in ("read", SPREAD_AFTER)}
    if later:
        rejected["stages"] = later | "LaterRejects" >> beam.Flatten()

    docs | "WriteDocuments" >> WriteDocuments(output, columns)
    if rejects != "none":
        for name, pcoll in rejected.items():
            pcoll | f"WriteRejects.{name}" >> WriteRejects(output, rejects, name=name)
    all_errors | "WriteErrors" >> WriteErrors(output)
    selection = (read[SELECTED], read[NOT_SELECTED]) if index else None  # index rows never read
    p | "CountOutcomes" >> CountOutcomes(output, docs, rejected, all_errors, read[SKIPPED], selection)
    return {"read": read, "documents": docs, "rejected": list(rejected.values()), "errors": all_errors,
            "columns": columns, "stages": stage_io, "rounds": rounds}


def funnel_stages(cfg) -> list[str]:
    return ["read", *cfg.stages]
