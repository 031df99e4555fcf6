"""Recipe v1 on Beam's real Flink and Spark runners: FlinkRunner on an embedded Flink mini-cluster
(``[local]``) and SparkRunner on ``local[2]``, each through its Java job server with LOOPBACK SDK
workers. Documents, rejects, errors, outcome records, report counts and metrics must equal
FnApiRunner's on the same input; the refresh's crash-and-resume must give the one-shot run's
documents on Flink too.

The job servers come from Maven Central through ``scripts/runner_jars.py`` (cached in
``.runner-jars/``); without Java these tests are skipped, saying so.
"""
from __future__ import annotations

import glob
import os
import shutil
import sys

import pyarrow.parquet as pq
import pytest

from pipeline import cli, refresh, refresh_store
from tests.conftest import SAMPLE_WARCS, beam_args
from tests.runners._outputs import snapshot

pytestmark = [
    pytest.mark.runners,
    pytest.mark.skipif(shutil.which("java") is None,
                       reason="Java not found: the Flink/Spark job servers need Java 17 (and Maven to fetch them)"),
]

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import runner_jars  # noqa: E402

# Two shards (120 records, every outcome kind of v1 among them: kept, dropped by several rules,
# dedup losers); the whole sample costs minutes per runner.
SHARDS = SAMPLE_WARCS[:2]
RUN = ["--recipe", "v1", "--no_progress"]


def _args(out):
    return [*sum((["--input", p] for p in SHARDS), []), "--output", str(out), *RUN]


def _runner_flags(name: str) -> list[str]:
    jar, _ = runner_jars.fetch(name)
    return runner_jars.flags(name, jar)


def _ids(paths) -> list[str]:
    return sorted(i for p in paths for i in pq.read_table(p, columns=["id"]).column("id").to_pylist())


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("fnapi")
    report = cli.run(_args(out) + beam_args())
    assert report["invariant_ok"] and report["kept"] > 0
    return report, snapshot(str(out))


def _assert_same(reference, report, out):
    ref_report, ref = reference
    assert report["invariant_ok"], report["invariant_problems"]
    for key in ("records_read", "kept", "dropped", "errors", "non_response_records", "funnel"):
        assert report[key] == ref_report[key], key
    got = snapshot(str(out))
    for key in ref:  # documents (every column: dedup survivors included), rejects, errors, outcomes
        assert got[key] == ref[key], f"{key} differ from FnApiRunner"
    # The runner's metrics reach the report and agree with the outcome records.
    assert report.get("metrics"), "no metrics from the runner's job service"
    assert report["metrics"] == ref_report["metrics"]


@pytest.mark.parametrize("runner", ["flink", "spark"])
def test_runner_equals_fnapi(runner, reference, tmp_path):
    report = cli.run(_args(tmp_path) + _runner_flags(runner))
    _assert_same(reference, report, tmp_path)


def test_refresh_resume_on_flink(reference, tmp_path, monkeypatch):
    """Batch 1 commits; batch 2 is moved into place and the process dies before its commit
    record; the rerun removes batch 2, redoes it against batch 1's stored dedup index (a side
    input on Flink), and the corpus equals the one-shot FnApiRunner run."""
    root = str(tmp_path / "corpus")
    run_args = [*RUN, *_runner_flags("flink")]
    commits = []
    write_commit_record = refresh_store.Store.write_commit_record

    def die_before_second_commit(store, version_id, bid, record):
        commits.append(bid)
        if len(commits) == 2:
            raise KeyboardInterrupt("killed after move, before commit record")
        write_commit_record(store, version_id, bid, record)

    monkeypatch.setattr(refresh_store.Store, "write_commit_record", die_before_second_commit)
    with pytest.raises(KeyboardInterrupt):
        refresh.refresh(SHARDS, root, run_args, batch_files=1)
    monkeypatch.setattr(refresh_store.Store, "write_commit_record", write_commit_record)

    summary = refresh.refresh(SHARDS, root, run_args, batch_files=1)
    assert summary["status"] == "complete" and summary["files_remaining"] == 0
    assert summary["files_done_before"] == 1 and summary["batches_run"] == 1

    ref_report, ref = reference
    ids = _ids(glob.glob(os.path.join(root, "*", "batches", "*", "documents", "*.parquet")))
    assert len(ids) == len(set(ids)), "duplicate documents after resume"
    assert ids == sorted(dict(d)["id"] for d in ref["documents"]), "documents lost or changed after resume"
    table = pq.read_table(os.path.join(root, "manifest.parquet")).to_pylist()
    assert sum(r["kept"] for r in table) == ref_report["kept"]
    assert sum(r["records_read"] for r in table) == ref_report["records_read"]
