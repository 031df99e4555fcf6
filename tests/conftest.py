"""Shared fixtures. Beam tests run on FnApiRunner (DirectRunner may try to download Prism)."""
from __future__ import annotations

import os
import pathlib

import pytest

DATA = pathlib.Path(__file__).parent / "data"
SAMPLE_WARCS = sorted(str(p) for p in (DATA / "warc").glob("*.warc.gz"))
LABELS = DATA / "warc" / "labels.tsv"


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
