"""The per-record stages as composite PTransforms: each wraps one pure rule (see the rule's module
for the logic and thresholds) and declares the Parquet columns it adds."""
from __future__ import annotations

import pyarrow as pa

from transforms.decode import DecodeConfig, DecodeRule
from transforms.extract import ExtractConfig, ExtractRule
from transforms.harmful import HarmfulConfig, HarmfulRule
from transforms.langid import LangIdConfig, LangIdRule
from transforms.normalize import NormalizeConfig, NormalizeRule
from transforms.prefilter import PrefilterConfig, PrefilterRule
from transforms.quality import QualityConfig, QualityRule, measured_columns
from transforms.stage import RuleStage


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
