"""One corpus run: a config, input globs, an output directory and Beam options in; the Parquet,
the report and the dataset card out. :func:`run` is the one entry point: ``python -m pipeline
run`` (:mod:`pipeline.cli`) calls it once, ``python -m pipeline refresh`` (:mod:`pipeline.refresh`)
once per batch with the config it has already built and hashed.

With no ``--runner`` the pipeline runs locally, offline, on all cores (:func:`local_defaults`):
FnApiRunner with one SDK worker process per core (the default DirectRunner may try to download
Prism, which needs a network).
"""
from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import (
    PipelineOptions, PortableOptions, SetupOptions, StandardOptions, TestOptions,
)

from pipeline import dag, dataset_card, progress, recipes, report
from pipeline.argv import UsageError, check_beam_args
from pipeline.console import Console
from pipeline.options import SwallowOptions
from pipeline.progress_metrics import TrackProgress

#: Runners that run in this process's machine: progress comes from heartbeat files, since they
#: cannot be asked for metrics while running.
LOCAL_RUNNERS = (None, "FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner")


def local_defaults(argv: list[str]) -> list[str]:
    """Offline, all-cores defaults for a run that names no runner."""
    if any(a == "--runner" or a.startswith("--runner=") for a in argv):
        return argv
    workers = os.cpu_count() or 1
    extra = ["--runner=FnApiRunner", f"--direct_num_workers={workers}",
             "--default_sdk_harness_log_level=WARNING"]
    if workers > 1 and not any(a.startswith("--direct_running_mode") for a in argv):
        extra.append("--direct_running_mode=multi_processing")
    return extra + argv


def options_from(argv: list[str]) -> tuple[PipelineOptions, bool]:
    """Command-line run options → (``PipelineOptions`` with :func:`local_defaults`, whether to
    show the progress line: ``--no_progress`` turns it off). A flag no option class knows is a
    :class:`UsageError`."""
    show_progress = "--no_progress" not in argv
    argv = [a for a in argv if a != "--no_progress"]
    check_beam_args(argv)
    return PipelineOptions(local_defaults(argv)), show_progress


def is_local(options: PipelineOptions) -> bool:
    runner = options.view_as(StandardOptions).runner
    if runner in LOCAL_RUNNERS:
        return True
    return runner == "PortableRunner" and options.view_as(PortableOptions).job_endpoint == "embed"


def run(cfg, inputs: list[str] | None, output: str, beam_options: PipelineOptions, *,
        index: list[str] | None = None, show_progress: bool = True, strict: bool = True) -> dict:
    """Build the DAG of ``cfg`` (a :class:`pipeline.recipes.PipelineConfig`) and run it on
    ``inputs`` (WARC globs) or ``index`` (Parquet globs of a URL index) into ``output``; write and
    return the report (a dry run: what was translated, :func:`dry_run_summary`).

    The other run options -- ``rejects``, ``overwrite``, ``worker_log``, ``lang_labels``,
    ``subset_labels`` -- are read from ``beam_options``' :class:`SwallowOptions` view; its
    ``input``/``output``/``index`` are not (a refresh batch runs its own files into its own
    directory). ``strict``: fail the run when the report's invariant does not hold."""
    opts = beam_options.view_as(SwallowOptions)
    # Dataflow --dry_run: translate only. Inputs are not listed (a dry run needs no credentials).
    dry_run = bool(beam_options.view_as(TestOptions).dry_run)
    if not dry_run:  # before any work: a file, or another run's files
        from pipeline.output_dir import check_output

        try:
            check_output(output, overwrite=opts.overwrite)
        except ValueError as e:
            raise UsageError(str(e)) from None
    # Workers need this package: stage it unless the user chose how (--setup_file / image).
    beam_options.view_as(SetupOptions).save_main_session = False

    started = time.time()
    p = beam.Pipeline(options=beam_options)
    built = dag.build(p, cfg, inputs, output, rejects=opts.rejects, index=index, check_inputs=not dry_run)
    local = is_local(beam_options)
    heartbeat_dir = (tempfile.mkdtemp(prefix="swallow-progress-")
                     if local and show_progress and not dry_run else None)
    # With --index the WARC files are known only once the index is read: progress counts index files.
    files_total = 0 if dry_run else progress.count_inputs(inputs or index)
    # Per-stage counts and dedup's connected-components rounds: the line names the stage a run
    # is in, so an aggregating stage reads "dedup round 3/20", not a stalled percentage.
    p | "Progress" >> TrackProgress(
        files_total, built["read"], [built["documents"], *built["rejected"], built["errors"]], heartbeat_dir,
        stages=built["stages"], rounds=built["rounds"])
    if dry_run:
        return dry_run_summary(p.run(), beam_options)
    # The progress line keeps the terminal; Beam's and the workers' log lines are printed above
    # it (or to --worker_log), never through it.
    console = Console(sys.stderr if show_progress else io.StringIO(), worker_log=opts.worker_log)
    monitor = progress.ProgressMonitor(files_total, heartbeat_dir, stream=console,
                                       stages=[name for name, _, _ in built["stages"]],
                                       rounds={k: len(v) for k, v in built["rounds"].items()})
    try:
        with console.capture_stderr(enabled=show_progress or bool(opts.worker_log)), monitor:
            result = p.run()
            if not local:
                monitor.result = result  # remote runners answer metrics queries while running
            metrics = _wait_then_query_metrics(result)
    finally:
        if heartbeat_dir:
            shutil.rmtree(heartbeat_dir, ignore_errors=True)
    extra = {"wall_seconds": round(time.time() - started, 2), "inputs": inputs or [],
             **({"index_inputs": index} if index else {}),
             "progress": monitor.progress.as_dict()}
    if opts.lang_labels:
        from pipeline.prefilter_eval import prefilter_eval

        extra["prefilter_eval"] = prefilter_eval(output, opts.lang_labels, cfg.prefilter)
    if opts.subset_labels:
        from pipeline.subset_eval import subset_eval

        extra["subset_eval"] = subset_eval(output, opts.subset_labels, cfg.subset)
    r = report.build_report(output, dag.funnel_stages(cfg), recipes.to_dict(cfg), opts.rejects,
                            metrics=metrics, extra=extra, strict=strict)
    # README.md with configs: documents/rejects/errors, so load_dataset(OUT_DIR) works.
    dataset_card.write_card(output, r, built["columns"])
    return r


def _wait_then_query_metrics(result) -> dict[str, int] | None:
    """Wait for the job, then read its final metrics before the job server goes.

    A portable runner that started its own job server (FlinkRunner, SparkRunner with a job-server
    jar) stops it as soon as the job reaches a terminal state (``PipelineResult._observe_state`` in
    ``apache_beam/runners/portability/portable_runner.py``), and the metrics service with it: a
    query after ``wait_until_finish`` fails. Hold the stop back until the metrics are read."""
    held = tuple(getattr(result, "_cleanup_callbacks", ()) or ())
    if held:
        result._cleanup_callbacks = ()
    try:
        result.wait_until_finish()
        progress.forget_metrics(result)  # a progress poll may have cached mid-run counts
        return report.metrics_by_stage(result)
    finally:
        for stop in held:
            try:
                stop()
            except Exception:  # noqa: BLE001 - a job server that is already gone
                pass


def dry_run_summary(result, options) -> dict:
    """What a dry run translated: runner, job name, transforms, request size, worker images."""
    from apache_beam.options.pipeline_options import GoogleCloudOptions

    job = getattr(result, "job", None)
    out = {"dry_run": True, "runner": str(options.view_as(StandardOptions).runner),
           "job_name": options.view_as(GoogleCloudOptions).job_name, "job": job}
    if job is not None and getattr(job, "proto_pipeline", None) is not None:
        components = job.proto_pipeline.components
        out["transforms"] = len(components.transforms)
        out["job_bytes"] = len(type(job.proto).serialize(job.proto)) + job.proto_pipeline.ByteSize()
        images = set()
        for env in components.environments.values():
            if env.urn == "beam:env:docker:v1":
                from apache_beam.portability.api import beam_runner_api_pb2

                images.add(beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image)
        out["images"] = sorted(images)
        out["job_name"] = getattr(job.proto, "name", None) or out["job_name"]
    return out
