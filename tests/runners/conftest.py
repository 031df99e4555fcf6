"""The ``runners`` marker: tests that run the pipeline on real Flink and Spark job servers (Java)."""
from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "runners: runs the pipeline on FlinkRunner/SparkRunner job servers (needs Java 17; "
                   "Maven fetches the jars into .runner-jars/ on first use)")
