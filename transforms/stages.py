"""The per-record stages as composite PTransforms: each wraps one pure rule (see the rule's module
for the logic and thresholds) and declares the Parquet columns it adds."""
from __future__ import annotations

import apache_beam as beam
import pyarrow as pa

from transforms.decode import DecodeConfig, DecodeRule
from transforms.decontaminate import R_ITEM, R_PASSAGE, DecontaminateConfig, DecontaminateRule
from transforms.decontaminate import STAGE as DECON_STAGE
from transforms.extract import ExtractConfig, ExtractRule
from transforms.harmful import HarmfulConfig, HarmfulRule
from transforms.langid import LangIdConfig, LangIdRule
from transforms.normalize import NormalizeConfig, NormalizeRule
from transforms.pii import CARD, EMAIL, IP, MY_NUMBER, PHONE, PIIConfig, PIIRule
from transforms.pii import COLUMN as PII_COLUMN
from transforms.pii import STAGE as PII_STAGE
from transforms.prefilter import PrefilterConfig, PrefilterRule
from transforms.quality import QualityConfig, QualityRule, measured_columns
from transforms.stage import ERRORS, KEPT, REJECTED, RuleStage, StageCounters


class Decode(RuleStage):
    def __init__(self, cfg: DecodeConfig = DecodeConfig()):
        super().__init__(DecodeRule(cfg), "Decode")


class Prefilter(RuleStage):
    def __init__(self, cfg: PrefilterConfig = PrefilterConfig()):
        super().__init__(PrefilterRule(cfg), "Prefilter")


class Extract(RuleStage):
    def __init__(self, cfg: ExtractConfig = ExtractConfig()):
        super().__init__(ExtractRule(cfg), "Extract")


class LanguageId(RuleStage):
    def __init__(self, cfg: LangIdConfig = LangIdConfig()):
        super().__init__(LangIdRule(cfg), "LanguageId")


class QualityRules(RuleStage):
    def __init__(self, cfg: QualityConfig = QualityConfig()):
        super().__init__(QualityRule(cfg), "QualityRules")
        self.columns = {f"q_{k}": pa.float64() for k in measured_columns(cfg)}


class HarmfulFilter(RuleStage):
    columns = {"ng_fraction": pa.float64(), "ng_chars": pa.int64()}

    def __init__(self, cfg: HarmfulConfig = HarmfulConfig()):
        super().__init__(HarmfulRule(cfg), "HarmfulFilter")


class Normalize(RuleStage):
    columns = {"footer_lines_cut": pa.int64()}

    def __init__(self, cfg: NormalizeConfig = NormalizeConfig()):
        super().__init__(NormalizeRule(cfg), "Normalize")


class AnonymizePII(RuleStage):
    """PII replaced in the text (``transforms/pii.py``); never drops. Besides kept/rejected/errors
    it returns ``counts``: one row with the replacements per kind over the run (→ the report's
    stage statistics, ``pii_counts``); each kind is also a Metrics counter ``pii.replaced.<kind>``."""

    columns = {c: pa.int64() for c in PII_COLUMN.values()}

    def __init__(self, cfg: PIIConfig = PIIConfig()):
        super().__init__(PIIRule(cfg), "AnonymizePII")
        self.cfg = cfg

    def expand(self, records):
        out = super().expand(records)
        out["counts"] = (out[KEPT]
                         | "CountKinds" >> beam.ParDo(_CountTags(PII_STAGE, "replaced", _pii_tags))
                         | "SumKinds" >> beam.CombineGlobally(_SumTags())
                         | "Row" >> beam.Map(lambda c, cfg=self.cfg: {"enabled": _enabled(cfg), **c}))
        return out


class Decontaminate(RuleStage):
    """Pages with benchmark items dropped (``transforms/decontaminate.py``). Besides
    kept/rejected/errors it returns ``matches``: one row per run with the index used and the
    pages dropped (items) and kept-and-counted (passages) per suite (→ ``decontaminate_matches``
    in the report). Without an index the stage passes every page through and the row says
    ``skipped``."""

    columns = {"eval_passage": pa.string()}

    def __init__(self, cfg: DecontaminateConfig = DecontaminateConfig()):
        super().__init__(DecontaminateRule(cfg), "Decontaminate")
        self.cfg = cfg

    def expand(self, records):
        if not self.cfg.index:
            p = records.pipeline
            return {KEPT: records, REJECTED: p | "NoRejects" >> beam.Create([]),
                    ERRORS: p | "NoErrors" >> beam.Create([]),
                    "matches": p | "Skipped" >> beam.Create([{
                        "status": "skipped", "why": "no --evals_index given: pages were not checked "
                                                    "against the evaluation suites"}])}
        out = super().expand(records)
        tagged = ((out[KEPT], out[REJECTED]) | "KeptAndDropped" >> beam.Flatten()
                  | "CountSuites" >> beam.ParDo(_CountTags(DECON_STAGE, "matched", _eval_tags)))
        out["matches"] = (tagged | "SumSuites" >> beam.CombineGlobally(_SumTags())
                          | "Row" >> beam.Map(lambda c, cfg=self.cfg: {
                              "status": "applied", "index": cfg.index, "min_fraction": cfg.min_fraction,
                              "drop_passage_matches": cfg.drop_passage_matches, **c}))
        return out


def _pii_tags(record: dict) -> list[str]:
    return [kind for kind, col in PII_COLUMN.items() for _ in range(int(record.get(col) or 0))]


def _eval_tags(record: dict) -> list[str]:
    if record.get("reason") in (R_ITEM, R_PASSAGE):
        return [f"{record['reason']}/{record.get('eval_suite')}"]
    if record.get("eval_passage"):
        return [f"{R_PASSAGE}/{record['eval_passage'].split('/', 1)[0]}"]
    return []


def _enabled(cfg: PIIConfig) -> list[str]:
    flags = {EMAIL: cfg.emails, IP: cfg.ips, PHONE: cfg.phones, MY_NUMBER: cfg.my_numbers, CARD: cfg.credit_cards}
    return [k for k, on in flags.items() if on]


class _CountTags(beam.DoFn):
    """Each record's tags → one dict of counts, and a Metrics counter ``<stage>.<group>.<tag>``."""

    def __init__(self, stage: str, group: str, tags):
        self.stage, self.group, self.tags = stage, group, tags
        self.counters = None

    def setup(self):
        self.counters = StageCounters(self.stage)

    def process(self, record):
        tags = self.tags(record)
        for tag in tags:
            self.counters.inc(f"{self.group}.{tag}")
        yield {t: tags.count(t) for t in set(tags)}


class _SumTags(beam.CombineFn):
    def create_accumulator(self):
        return {}

    def add_input(self, acc, counts):
        for k, v in counts.items():
            acc[k] = acc.get(k, 0) + v
        return acc

    def merge_accumulators(self, accs):
        out = {}
        for a in accs:
            self.add_input(out, a)
        return out

    def extract_output(self, acc):
        return {"counts": dict(sorted(acc.items())), "total": sum(acc.values())}
