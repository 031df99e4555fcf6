"""scripts/runner_jars.py: how a Maven miss is read (no network, Maven stubbed)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
import runner_jars  # noqa: E402

FIRST_MISS = "[ERROR] Could not find artifact org.apache.beam:beam-runners-flink-1.19-job-server:jar:2.77.0"
CACHED_MISS = ("[ERROR] Failed to execute goal ...: Unable to find artifact. org.apache.beam:beam-runners-flink-"
               "1.19-job-server:jar:2.77.0 was not found in https://repo.maven.apache.org/maven2 during a "
               "previous attempt.")


@pytest.mark.parametrize("said,not_served", [(FIRST_MISS, True), (CACHED_MISS, True),
                                             ("[ERROR] Connection reset", False)])
def test_a_miss_falls_back_to_the_assembled_job_server(tmp_path, monkeypatch, said, not_served):
    monkeypatch.setattr(runner_jars, "CACHE", tmp_path)
    monkeypatch.setattr(runner_jars, "_mvn", lambda args, cwd: subprocess.CompletedProcess(args, 1, said, ""))
    assert runner_jars._released("flink", "2.77.0") is None  # never an error: assemble instead
    marker = tmp_path / "flink" / "released-2.77.0" / "NOT_SERVED"
    assert marker.exists() is not_served  # a network failure is not remembered as "not served"
