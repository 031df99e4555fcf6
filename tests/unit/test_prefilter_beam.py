"""Beam: the prefilter mode changes the report's counts as expected, and an evaluation run
(``--lang_labels``) reports precision/recall of every mode."""
from __future__ import annotations

import json

import pytest

from tests.conftest import LABELS, SAMPLE_WARCS

pytest.importorskip("apache_beam")

# Two shards keep the test short; they hold old Japanese pages that Swallow's rule drops.
WARCS = SAMPLE_WARCS[:2]


def _run(tmp_path, mode: str, labels: bool = True) -> dict:
    from pipeline import cli

    out = tmp_path / mode
    argv = [f"--input={w}" for w in WARCS] + [
        f"--output={out}", "--recipe=v1", f"--prefilter={mode}", "--rejects=ids", "--no_progress",
        "--runner=FnApiRunner", "--direct_num_workers=1",
    ]
    if labels:
        argv.append(f"--lang_labels={LABELS}")
    report = cli.run(argv)
    assert report["invariant_ok"], report["invariant_problems"]
    on_disk = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert on_disk.get("prefilter_eval") == report.get("prefilter_eval")
    return report


def _prefilter_row(report: dict) -> dict:
    return next(f for f in report["funnel"] if f["stage"] == "prefilter")


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("prefilter_modes")
    return {mode: _run(tmp, mode) for mode in ("swallow", "kana", "both")}


def test_mode_changes_prefilter_counts(reports):
    drop = {m: _prefilter_row(r)["dropped"] for m, r in reports.items()}
    after = {m: _prefilter_row(r)["pages_after"] for m, r in reports.items()}
    # Same input, same records read; the kana test keeps old Japanese pages Swallow's rule drops.
    assert len({r["records_read"] for r in reports.values()}) == 1
    assert drop["both"] < drop["swallow"]
    assert drop["both"] <= drop["kana"]
    assert after["both"] == after["swallow"] + (drop["swallow"] - drop["both"])
    assert reports["both"]["dropped"].get("prefilter_not_ja_v1", 0) == drop["both"]
    # Downstream: more real pages survive the v1 rules with ``both``.
    assert reports["both"]["kept"] > reports["swallow"]["kept"]


def test_evaluation_run_reports_every_mode_consistently(reports):
    evals = {m: r["prefilter_eval"] for m, r in reports.items()}
    for m, ev in evals.items():
        assert ev["mode"] == m
        for mode in ("swallow", "kana", "both"):
            assert ev[mode] is not None, (m, mode)
    # The evidence does not depend on the mode that ran: every run reports the same figures.
    for mode in ("swallow", "kana", "both"):
        assert len({json.dumps(ev[mode], sort_keys=True) for ev in evals.values()}) == 1
    ev = evals["both"]
    assert ev["swallow"]["recall"] < ev["both"]["recall"]
    assert ev["both"]["precision"] >= 0.95
    # The report's own prefilter drop count equals the evaluation's view of that mode's negatives.
    counts = ev["_counts"]
    for m, r in reports.items():
        kept_by_eval = ev[m]["tp"] + ev[m]["fp"]
        assert _prefilter_row(r)["dropped"] == counts["rows"] + counts["unlabelled_rows"] - kept_by_eval


def test_without_labels_no_evaluation(tmp_path):
    r = _run(tmp_path, "kana", labels=False)
    assert "prefilter_eval" not in r
