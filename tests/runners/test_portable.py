"""The portable path Flink and Spark take: PortableRunner against a job service, SDK workers
started LOOPBACK (in this process) or from an EXTERNAL worker pool (how Flink/Spark task
managers run Python SDK workers as a sidecar). Outputs must equal FnApiRunner's, record for record.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from pipeline import cli
from tests.conftest import SAMPLE_WARCS, beam_args
from tests.runners._outputs import snapshot

SHARDS = SAMPLE_WARCS[:2]


def _args(out):
    return [*sum((["--input", p] for p in SHARDS), []), "--output", str(out), "--recipe", "v1"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("fnapi")
    report = cli.run(_args(out) + beam_args())
    assert report["invariant_ok"] and report["records_read"] > 0
    return report, snapshot(str(out))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker pool exited with {proc.returncode}")
        try:
            with socket.create_connection(("localhost", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"worker pool did not listen on {port}")


def _assert_same(reference, report, out):
    ref_report, ref = reference
    assert report["invariant_ok"], report["invariant_problems"]
    for key in ("records_read", "kept", "dropped", "errors", "non_response_records"):
        assert report[key] == ref_report[key], key
    got = snapshot(str(out))
    for key in ref:
        assert got[key] == ref[key], f"{key} differ from FnApiRunner"
    # Metrics queries work through the job service, so the report cross-checks them too.
    assert report.get("metrics"), "portable runner answered no metrics query"


def test_portable_loopback_equals_fnapi(reference, tmp_path):
    report = cli.run(_args(tmp_path) + ["--runner=PortableRunner", "--job_endpoint=embed",
                                        "--environment_type=LOOPBACK"])
    _assert_same(reference, report, tmp_path)


def test_portable_external_worker_pool_equals_fnapi(reference, tmp_path):
    port = _free_port()
    env = dict(os.environ)
    # The pool starts workers as `python -c ...`: that must be this interpreter (our venv).
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    pool = subprocess.Popen(
        [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main", f"--service_port={port}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port, pool)
        report = cli.run(_args(tmp_path) + ["--runner=PortableRunner", "--job_endpoint=embed",
                                            "--environment_type=EXTERNAL",
                                            f"--environment_config=localhost:{port}"])
    finally:
        pool.terminate()
        try:
            pool.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pool.kill()
    _assert_same(reference, report, tmp_path)
