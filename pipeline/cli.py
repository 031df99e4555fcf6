"""``python -m pipeline run --input 'warcs/*.warc.gz' --output out/ --recipe v1 [Beam options]``
(also the console script ``swallow-corpus``).

With no ``--runner`` the pipeline runs locally, offline, on all cores: FnApiRunner with one SDK
worker process per core (the default DirectRunner may try to download Prism, which needs a
network). Any other Beam option passes through unchanged, so the same command goes to Dataflow,
Flink or Spark with runner flags only.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, SetupOptions

from pipeline import dag, recipes, report
from pipeline.options import SwallowOptions

log = logging.getLogger("pipeline")

USAGE = """usage: python -m pipeline run --input GLOB [--input GLOB ...] --output DIR [--recipe v1|v2|medical]
                          [--config overrides.json] [--rejects none|ids|full] [--prefilter swallow|kana|both]
                          [--extractor resiliparse|trafilatura] [any Beam pipeline option]"""


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
    import dataclasses

    cfg = recipes.load(opts.recipe, opts.config)
    if opts.prefilter:
        cfg = dataclasses.replace(cfg, prefilter=dataclasses.replace(cfg.prefilter, mode=opts.prefilter))
    if opts.extractor or opts.extract_timeout is not None:
        changes = {}
        if opts.extractor:
            changes["extractor"] = opts.extractor
        if opts.extract_timeout is not None:
            changes["timeout_s"] = opts.extract_timeout
        cfg = dataclasses.replace(cfg, extract=dataclasses.replace(cfg.extract, **changes))
    return cfg


def run(argv: list[str], strict: bool = True) -> dict:
    """Build and run the pipeline; write and return the report."""
    argv = local_defaults(list(argv))
    options = PipelineOptions(argv)
    opts = options.view_as(SwallowOptions)
    if not opts.input or not opts.output:
        raise SystemExit(f"--input and --output are required\n{USAGE}")
    cfg = config_from(opts)
    # Workers need this package: stage it unless the user chose how (--setup_file / image).
    options.view_as(SetupOptions).save_main_session = False

    started = time.time()
    p = beam.Pipeline(options=options)
    dag.build(p, cfg, opts.input, opts.output, rejects=opts.rejects)
    result = p.run()
    result.wait_until_finish()
    extra = {"wall_seconds": round(time.time() - started, 2), "inputs": opts.input}
    return report.build_report(opts.output, dag.funnel_stages(cfg), recipes.to_dict(cfg), opts.rejects,
                               metrics=report.metrics_by_stage(result), extra=extra, strict=strict)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    command, rest = argv[0], argv[1:]
    if command != "run":
        print(f"unknown command {command!r}\n{USAGE}", file=sys.stderr)
        return 2
    try:
        r = run(rest)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = PipelineOptions(rest).view_as(SwallowOptions).output.rstrip("/")
    print(f"records read {r['records_read']}, kept {r['kept']}, dropped {sum(r['dropped'].values())}, "
          f"errors {sum(r['errors'].values())}")
    print(f"documents: {out}/documents/   report: {out}/report.json  {out}/report.html")
    return 0
