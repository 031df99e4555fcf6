"""Shared fixtures. Beam tests run on FnApiRunner (DirectRunner may try to download Prism)."""
from __future__ import annotations

import os
import pathlib

import pytest

DATA = pathlib.Path(__file__).parent / "data"
SAMPLE_WARCS = sorted(str(p) for p in (DATA / "warc").glob("*.warc.gz"))
LABELS = DATA / "warc" / "labels.tsv"

# What transforms.kana counts as kana (hiragana U+3041–3096, katakana U+30A1–30FA), written as
# ranges: the oracle its byte patterns and the prefilter's pair tables are tested against.
KANA_RANGES = ((0x3041, 0x3096), (0x30A1, 0x30FA))


def is_kana(ch: str) -> bool:
    o = ord(ch)
    return any(lo <= o <= hi for lo, hi in KANA_RANGES)


def beam_args(num_workers: int = 1, mode: str = "in_memory") -> list[str]:
    args = ["--runner=FnApiRunner", f"--direct_num_workers={num_workers}"]
    if num_workers > 1:
        args.append(f"--direct_running_mode={mode}")
    return args


@pytest.fixture
def test_pipeline():
    """A TestPipeline on FnApiRunner."""
    from apache_beam.testing.test_pipeline import TestPipeline

    return TestPipeline(argv=beam_args(), blocking=True)


@pytest.fixture(scope="session")
def sample_warcs() -> list[str]:
    return SAMPLE_WARCS


os.environ.setdefault("PYTHONHASHSEED", "0")
