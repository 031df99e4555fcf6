"""Every stage config checks its own values when built (``__post_init__``): a table of bad values →
the field named in the error; the stage names the config accepts are the DAG's."""
from __future__ import annotations

import typing

import pytest

from pipeline import dag, recipes
from pipeline.stage_names import STAGE_NAMES
from transforms.config_fields import ConfigError
from transforms.decode import DecodeConfig
from transforms.dedup import DedupConfig
from transforms.extract import EXTRACTORS, ExtractConfig, Extractor
from transforms.prefilter import MODES, PrefilterConfig
from transforms.quality import JapaneseConfig, RepetitionConfig
from transforms.topk import TopKConfig

BAD = [
    (DedupConfig, {"rows": 0}, "DedupConfig.rows: must be an integer >= 1, got 0"),
    (DecodeConfig, {"max_control_frac": 1.5}, "DecodeConfig.max_control_frac: must be between 0 and 1"),
    (ExtractConfig, {"extractor": "bs4"}, "ExtractConfig.extractor: must be one of resiliparse, trafilatura"),
    (ExtractConfig, {"timeout_s": float("nan")}, "ExtractConfig.timeout_s: must be a finite number"),
    (PrefilterConfig, {"mode": "all"}, "PrefilterConfig.mode: must be one of swallow, kana, both, got 'all'"),
    (JapaneseConfig, {"min_mean_sentence_len": 100}, "min_mean_sentence_len (100) > max_mean_sentence_len (90)"),
    (RepetitionConfig, {"top_ngram": ((2, 1.5),)}, "RepetitionConfig.top_ngram: items must be"),
    (TopKConfig, {"top_from": 0.5, "top_to": 0.1}, "TopKConfig.top_from: must be below top_to"),
    (recipes.PipelineConfig, {"stages": ("nope",)}, "PipelineConfig.stages: unknown stage(s) ['nope']"),
]


@pytest.mark.parametrize("cls,values,words", BAD, ids=[w[:40] for _, _, w in BAD])
def test_a_bad_value_names_its_field(cls, values, words):
    with pytest.raises(ConfigError) as e:
        cls(**values)
    assert words in str(e.value)


def test_an_override_names_the_full_path():
    with pytest.raises(ConfigError, match=r"^config field quality\.japanese\.min_chars: must be >= 0, got -1$"):
        recipes.override(recipes.v1(), {"quality": {"japanese": {"min_chars": -1}}})


def test_every_recipe_is_valid_and_none_disables_a_limit():
    for build in recipes.RECIPES.values():
        build()
    JapaneseConfig(min_mean_sentence_len=None)


def test_stage_names_are_the_dags():
    assert set(STAGE_NAMES) == set(dag.STAGES) and len(STAGE_NAMES) == len(dag.STAGES)


def test_choices_are_the_literals():
    assert set(typing.get_args(Extractor)) == set(EXTRACTORS)
    assert MODES == ("swallow", "kana", "both")
