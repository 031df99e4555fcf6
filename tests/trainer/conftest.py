"""Fixtures for the trainer tests: the tokenised fixture corpus."""
from __future__ import annotations

from pathlib import Path

import pytest

from trainer_helpers import DATA, TOKENIZER


@pytest.fixture(scope="session")
def tokens_dir(tmp_path_factory) -> Path:
    from trainer.tokenize import run

    out = tmp_path_factory.mktemp("tokens")
    run([str(DATA)], str(TOKENIZER), str(out), workers=2)
    return out


@pytest.fixture(scope="session")
def tiny_args(tokens_dir) -> list[str]:
    return ["--config", "tiny", "--data.path", str(tokens_dir)]
