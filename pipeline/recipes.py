"""Recipes are functions that build a :class:`PipelineConfig` (torchtitan style): ``v1`` is the
Swallow corpus as published (Okazaki et al., NLP2024); later recipes start from it and change a
few fields. ``stages`` is the order of the DAG, so recipes can reorder stages (v1: quality → dedup →
hosts; v2: dedup → relaxed rules → classifiers) without touching transform code.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from transforms.decode import DecodeConfig
from transforms.extract import ExtractConfig
from transforms.harmful import HarmfulConfig
from transforms.langid import LangIdConfig
from transforms.normalize import NormalizeConfig
from transforms.prefilter import PrefilterConfig
from transforms.quality import QualityConfig
from transforms.read_warc import ReadConfig


@dataclass(frozen=True)
class PipelineConfig:
    name: str = "v1"
    stages: tuple[str, ...] = ()
    read: ReadConfig = field(default_factory=ReadConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    prefilter: PrefilterConfig = field(default_factory=PrefilterConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    langid: LangIdConfig = field(default_factory=LangIdConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    harmful: HarmfulConfig = field(default_factory=HarmfulConfig)
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)

    def __post_init__(self):
        from pipeline.dag import STAGES

        unknown = [s for s in self.stages if s not in STAGES]
        if unknown:
            raise ValueError(f"unknown stage(s) {unknown}; known: {sorted(STAGES)}")


def v1() -> PipelineConfig:
    """Swallow corpus v1 (NLP2024 Fig. 1): prefilter → extract → LID → quality → NG words →
    (dedup → host filter, later issues) → normalise."""
    return PipelineConfig(
        name="v1",
        stages=("decode", "prefilter", "extract", "langid", "quality", "harmful", "normalize"),
    )


RECIPES = {"v1": v1}


def get(name: str) -> PipelineConfig:
    try:
        return RECIPES[name]()
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}; known: {sorted(RECIPES)}") from None


def override(cfg, changes: dict):
    """A copy of the (nested, frozen) dataclass ``cfg`` with ``changes`` applied recursively.
    Unknown keys are an error (a typo must not silently keep the default)."""
    updates = {}
    names = {f.name: f for f in dataclasses.fields(cfg)}
    for key, value in changes.items():
        if key not in names:
            raise ValueError(f"{type(cfg).__name__} has no field {key!r}; fields: {sorted(names)}")
        current = getattr(cfg, key)
        if dataclasses.is_dataclass(current) and isinstance(value, dict):
            updates[key] = override(current, value)
        elif isinstance(current, tuple) and isinstance(value, list):
            updates[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        else:
            updates[key] = value
    return dataclasses.replace(cfg, **updates)


def load(name: str, config_file: str | None = None) -> PipelineConfig:
    cfg = get(name)
    if config_file:
        from apache_beam.io.filesystems import FileSystems

        with FileSystems.open(config_file) as f:
            cfg = override(cfg, json.loads(f.read().decode("utf-8")))
    return cfg


def to_dict(cfg) -> dict:
    return dataclasses.asdict(cfg)
