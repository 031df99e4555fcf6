"""Run a recipe on the bundled sample crawl and summarise what a golden test compares.

Regenerate the checked-in expectations after an intended change of behaviour:

    .venv/bin/python -m tests.golden.run_golden v1   (writes tests/golden/v1_expected.json)
"""
from __future__ import annotations

import json
import pathlib
import sys
import tempfile

import pyarrow.parquet as pq

from pipeline.cli import run
from tests.conftest import SAMPLE_WARCS, beam_args

HERE = pathlib.Path(__file__).parent


def kept_ids(out: str) -> list[str]:
    files = sorted(pathlib.Path(out, "documents").glob("*.parquet"))
    return sorted(i for f in files for i in pq.read_table(f, columns=["id"]).column("id").to_pylist())


def golden_run(recipe: str, out: str, extra: list[str] | None = None, workers: int = 1,
               mode: str = "in_memory") -> tuple[dict, dict]:
    argv = ["--input", str(pathlib.Path(SAMPLE_WARCS[0]).parent / "*.warc.gz"), "--output", out,
            "--recipe", recipe, *beam_args(workers, mode), *(extra or [])]
    report = run(argv)
    summary = {
        "records_read": report["records_read"],
        "kept": report["kept"],
        "dropped": report["dropped"],
        "errors": report["errors"],
        "funnel": [(f["stage"], f["pages_after"]) for f in report["funnel"]],
        "kept_ids": kept_ids(out),
    }
    return summary, report


def expected_path(recipe: str) -> pathlib.Path:
    return HERE / f"{recipe}_expected.json"


if __name__ == "__main__":
    recipe = sys.argv[1] if len(sys.argv) > 1 else "v1"
    with tempfile.TemporaryDirectory() as tmp:
        summary, _ = golden_run(recipe, tmp)
    expected_path(recipe).write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {expected_path(recipe)}: kept {summary['kept']} of {summary['records_read']}")
