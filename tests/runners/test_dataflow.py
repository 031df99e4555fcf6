"""Dataflow translation, offline: the full pipeline becomes a Dataflow job with ``--dry_run``
(no project, no credentials, no network). Checks the job is produced, ``--setup_file`` and
``--sdk_container_image`` reach the worker environment, and the serialized job stays far below
Dataflow's 10 MB request limit, independent of the number of input files (TFDS C4 hit that limit
with one graph node per file)."""
from __future__ import annotations

import os
import pathlib

import pytest

pytest.importorskip("apitools", reason="needs the gcp extra: pip install -e '.[gcp]'")

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402
from apache_beam.portability.api import beam_runner_api_pb2  # noqa: E402

from pipeline import dag, recipes  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
IMAGE = "us-docker.pkg.dev/demo/swallow/worker:0.1.0"
LIMIT = 10 * 1024 * 1024


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    # No GCE metadata server lookups (they would hang or need a network).
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.chdir(ROOT)


def translate(recipe: str, inputs: list[str], extra: list[str] = ()):
    opts = PipelineOptions([
        "--runner=DataflowRunner", "--dry_run=True", "--project=demo-project", "--region=us-central1",
        "--temp_location=gs://demo-bucket/tmp", f"--sdk_container_image={IMAGE}",
        "--experiments=use_runner_v2", *extra,
    ])
    opts.view_as(beam.options.pipeline_options.SetupOptions).save_main_session = False
    p = beam.Pipeline(options=opts)
    dag.build(p, recipes.get(recipe), inputs, "gs://demo-bucket/out", check_inputs=False)
    result = p.run()
    return result.job


def _env(job):
    envs = list(job.proto_pipeline.components.environments.values())
    assert envs, "no worker environment in the job"
    return envs


def _size(job) -> int:
    # What the service receives: the Job request plus the portable pipeline proto it carries.
    return len(type(job.proto).serialize(job.proto)) + job.proto_pipeline.ByteSize()


RECIPES = [r for r in ("v1", "v2") if r in recipes.RECIPES]


@pytest.mark.parametrize("recipe", RECIPES)
def test_dataflow_dry_run_translates(recipe):
    job = translate(recipe, ["gs://commoncrawl/crawl-data/CC-MAIN-2023-50/segments/*/warc/*.warc.gz"],
                    ["--setup_file=./setup.py"])
    assert job.proto_pipeline.components.transforms
    labels = {t.unique_name for t in job.proto_pipeline.components.transforms.values()}
    assert any(x.startswith("ReadWarc") for x in labels) and any(x.startswith("WriteDocuments") for x in labels)
    for env in _env(job):
        assert env.urn == "beam:env:docker:v1"
        assert beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image == IMAGE
        staged = [beam_runner_api_pb2.ArtifactStagingToRolePayload.FromString(d.role_payload).staged_name
                  for d in env.dependencies]
        assert "workflow.tar.gz" in staged, f"--setup_file not staged: {staged}"
    size = _size(job)
    assert size < LIMIT / 10, f"serialized job {size} bytes"


def test_job_size_does_not_grow_with_input_files():
    one = _size(translate("v1", ["gs://b/CC-MAIN-2023-50/*.warc.gz"]))
    many = _size(translate("v1", [f"gs://b/CC-MAIN-2023-50/segments/{i:05d}/warc/*.warc.gz" for i in range(100)]))
    # Globs are matched on the workers: 100 patterns add a few kB, not a node per file.
    assert many - one < 20_000, (one, many)
    assert many < LIMIT / 10
