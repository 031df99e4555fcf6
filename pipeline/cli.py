"""``python -m pipeline run --input 'warcs/*.warc.gz' --output out/ --recipe v1 [Beam options]``
(also the console script ``swallow-corpus``).

With no ``--runner`` the pipeline runs locally, offline, on all cores: FnApiRunner with one SDK
worker process per core (the default DirectRunner may try to download Prism, which needs a
network). Any other Beam option passes through unchanged, so the same command goes to Dataflow,
Flink or Spark with runner flags only.
"""
from __future__ import annotations

import argparse
import io
import logging
import os
import shutil
import sys
import tempfile
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, SetupOptions, TestOptions

from pipeline import dag, dataset_card, progress, recipes, report
from pipeline.argv import HELP_FLAGS, UsageError, beam_help, check_beam_args, run_help
from pipeline.console import Console
from pipeline.options import SwallowOptions

log = logging.getLogger("pipeline")

USAGE = """usage: python -m pipeline run --input GLOB [--input GLOB ...] --output DIR [--recipe v1|v2|medical]
                          [--config overrides.json] [--rejects none|ids|full] [--prefilter swallow|kana|both]
                          [--extractor resiliparse|trafilatura] [--subset_labels labels.tsv]
                          [any Beam pipeline option]
       python -m pipeline run --index INDEX_GLOB [--index_languages jpn] --output DIR [run options]
                          (index-assisted: read only the selected records by byte range; transforms/read_index.py)
       python -m pipeline refresh --input GLOB --output ROOT [--snapshot NAME] [--batch_files N] [run options]
                          (incremental: only files not yet done; see pipeline/refresh.py)
       python -m pipeline index --input GLOB --output index.parquet [--detect_languages]
                          (a Common Crawl-style URL index of local WARC files; pipeline/index_build.py)
       python -m pipeline evals-index --evals DIR --output evals_index.npz [--ngram 10]
                          (the evaluation-item index that run --evals_index FILE decontaminates against;
                          pipeline/evals_index.py)"""


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


def config_from(opts: SwallowOptions):
    """The recipe with the ``--config`` file's overrides, then the flags' (one
    :func:`recipes.override`, so a flag's value is checked like a config file's)."""
    cfg = recipes.load(opts.recipe, opts.config)
    changes: dict[str, dict] = {}
    if opts.prefilter:
        changes.setdefault("prefilter", {})["mode"] = opts.prefilter
    if opts.lang_labels:  # an evaluation run: collect every prefilter mode's evidence
        changes.setdefault("prefilter", {})["evidence"] = True
    if opts.subset_labels:  # an evaluation run: one evidence row per page the subset stage sees
        if "subset" not in cfg.stages:
            raise UsageError(f"--subset_labels: recipe {cfg.name!r} has no subset stage (use --recipe medical)")
        changes["subset"] = {"evidence": True}
    if opts.evals_index:  # decontaminate against the evaluation suites (else the stage is skipped)
        if "decontaminate" not in cfg.stages:
            raise UsageError(f"--evals_index: recipe {cfg.name!r} has no decontaminate stage")
        changes["decontaminate"] = {"index": opts.evals_index}
    if opts.index_languages:
        changes["index"] = {"languages": tuple(x.strip() for x in opts.index_languages.split(",") if x.strip())}
    if opts.extractor:
        changes.setdefault("extract", {})["extractor"] = opts.extractor
    if opts.extract_timeout is not None:
        changes.setdefault("extract", {})["timeout_s"] = opts.extract_timeout
    return recipes.override(cfg, changes)


def _is_local(argv: list[str]) -> bool:
    runner = next((a.split("=", 1)[1] for a in argv if a.startswith("--runner=")), None)
    if runner is None and "--runner" in argv:
        runner = argv[argv.index("--runner") + 1]
    if runner in (None, "FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner"):
        return True
    return runner == "PortableRunner" and any(a in ("--job_endpoint=embed",) for a in argv)


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


def run(argv: list[str], strict: bool = True, configure=None) -> dict:
    """Build and run the pipeline; write and return the report.

    ``configure(cfg) -> cfg`` may adjust the recipe's config (``refresh`` uses it to point dedup at
    the stored indexes). ``--no_progress`` turns the terminal progress line off."""
    argv = list(argv)
    show_progress = "--no_progress" not in argv
    argv = [a for a in argv if a != "--no_progress"]
    check_beam_args(argv)
    argv = local_defaults(argv)
    options = PipelineOptions(argv)
    opts = options.view_as(SwallowOptions)
    if not (opts.input or opts.index) or not opts.output:
        raise UsageError("--input (or --index) and --output are required")
    if opts.input and opts.index:
        raise UsageError("give --input (read every record) or --index (read the selected records), not both")
    try:
        cfg = config_from(opts)
    except (ValueError, OSError) as e:  # unknown recipe or config field, unreadable --config
        raise UsageError(str(e).splitlines()[0]) from None
    if configure is not None:
        cfg = configure(cfg)
    if not options.view_as(TestOptions).dry_run:  # before any work: a file, or another run's files
        from pipeline.output_dir import check_output

        try:
            check_output(opts.output, overwrite=opts.overwrite)
        except ValueError as e:
            raise UsageError(str(e)) from None
    # Workers need this package: stage it unless the user chose how (--setup_file / image).
    options.view_as(SetupOptions).save_main_session = False
    # Dataflow --dry_run: translate only. Inputs are not listed (a dry run needs no credentials).
    dry_run = bool(options.view_as(TestOptions).dry_run)

    started = time.time()
    p = beam.Pipeline(options=options)
    built = dag.build(p, cfg, opts.input, opts.output, rejects=opts.rejects, index=opts.index,
                      check_inputs=not dry_run)
    local = _is_local(argv)
    heartbeat_dir = (tempfile.mkdtemp(prefix="swallow-progress-")
                     if local and show_progress and not dry_run else None)
    # With --index the WARC files are known only once the index is read: progress counts index files.
    files_total = 0 if dry_run else progress.count_inputs(opts.input or opts.index)
    # Per-stage counts and dedup's connected-components rounds: the line names the stage a run
    # is in, so an aggregating stage reads "dedup round 3/20", not a stalled percentage.
    rounds = {name: progress.find_rounds(p, label) for name, label, _, _ in built["stages"]}
    rounds = {k: v for k, v in rounds.items() if v}
    p | "Progress" >> progress.TrackProgress(
        files_total, progress.find_read_outputs(p),
        [built["documents"], *built["rejected"], built["errors"]], heartbeat_dir,
        stages=[(name, inp, outs) for name, _, inp, outs in built["stages"]], rounds=rounds)
    if dry_run:
        return dry_run_summary(p.run(), options)
    # The progress line keeps the terminal; Beam's and the workers' log lines are printed above
    # it (or to --worker_log), never through it.
    console = Console(sys.stderr if show_progress else io.StringIO(), worker_log=opts.worker_log)
    monitor = progress.ProgressMonitor(files_total, heartbeat_dir, stream=console,
                                       stages=[s[0] for s in built["stages"]],
                                       rounds={k: len(v) for k, v in rounds.items()})
    with console.capture_stderr(enabled=show_progress or bool(opts.worker_log)):
        monitor.__enter__()
        try:
            result = p.run()
            if not local:
                monitor.result = result  # remote runners answer metrics queries while running
            metrics = _wait_then_query_metrics(result)
        finally:
            monitor.__exit__(None, None, None)
            if heartbeat_dir:
                shutil.rmtree(heartbeat_dir, ignore_errors=True)
    extra = {"wall_seconds": round(time.time() - started, 2), "inputs": opts.input or [],
             **({"index_inputs": opts.index} if opts.index else {}),
             "progress": monitor.progress.as_dict()}
    if opts.lang_labels:
        from pipeline.prefilter_eval import prefilter_eval

        extra["prefilter_eval"] = prefilter_eval(opts.output, opts.lang_labels, cfg.prefilter)
    if opts.subset_labels:
        from pipeline.subset_eval import subset_eval

        extra["subset_eval"] = subset_eval(opts.output, opts.subset_labels, cfg.subset)
    r = report.build_report(opts.output, dag.funnel_stages(cfg), recipes.to_dict(cfg), opts.rejects,
                            metrics=metrics, extra=extra, strict=strict)
    # README.md with configs: documents/rejects/errors, so load_dataset(OUT_DIR) works.
    dataset_card.write_card(opts.output, r, built["columns"])
    return r


def dry_run_summary(result, options) -> dict:
    """What a dry run translated: runner, job name, transforms, request size, worker images."""
    from apache_beam.options.pipeline_options import GoogleCloudOptions, StandardOptions

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


def dry_run_line(r: dict) -> str:
    parts = [f"{r.get('transforms', '?')} transforms"]
    if r.get("job_bytes") is not None:
        parts.append(f"{r['job_bytes'] / 1024:.0f} kB request (Dataflow's limit: 10 MB)")
    if r.get("images"):
        parts.append(f"worker image {', '.join(r['images'])}")
    return (f"dry run: {r['runner']} translated job {r.get('job_name') or '?'} ({'; '.join(parts)}); "
            f"nothing was submitted or run")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    if not argv or argv[0] in HELP_FLAGS:
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "run" and any(a in HELP_FLAGS for a in rest):
        print(run_help(USAGE))
        return 0
    if command in ("run", "refresh") and "--help_beam" in rest:
        print(beam_help())
        return 0
    if command == "refresh":
        from pipeline import refresh

        return refresh.main(rest)
    if command == "index":
        from pipeline import index_build

        return index_build.main(rest)
    if command == "evals-index":
        from pipeline import evals_index

        return evals_index.main(rest)
    if command != "run":
        print(f"python -m pipeline: error: unknown command {command!r}; expected run, refresh, index or evals-index "
              f"(see python -m pipeline --help)", file=sys.stderr)
        return 2
    try:
        r = run(rest)
    except (UsageError, FileNotFoundError) as e:
        print(f"python -m pipeline run: error: {e} (see python -m pipeline run --help)", file=sys.stderr)
        return 2
    if r.get("dry_run"):
        print(dry_run_line(r))
        return 0
    out = PipelineOptions(rest).view_as(SwallowOptions).output.rstrip("/")
    print(f"records read {r['records_read']}, kept {r['kept']}, dropped {sum(r['dropped'].values())}, "
          f"errors {sum(r['errors'].values())}")
    se = r.get("subset_eval")
    if se:
        fmt = lambda x: "n/a" if x is None else f"{x:.3f}"
        print(f"subset {se['subset']}: {se['pages_labelled']} labelled pages, precision {fmt(se['precision'])}, "
              f"recall {fmt(se['recall'])}, ROC-AUC {fmt(se['roc_auc'])}")
    if r.get("index"):
        print(f"index rows {r['index']['rows']}, selected and read {r['index']['selected']}")
    print(f"documents: {out}/documents/   report: {out}/report.json  {out}/report.html")
    return 0
