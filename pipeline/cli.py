"""``python -m pipeline run --input 'warcs/*.warc.gz' --output out/ --recipe v1 [Beam options]``
(also the console script ``swallow-corpus``).

The command line becomes a config and Beam options, and :func:`pipeline.run.run` runs them
(with no ``--runner``: locally, offline, on all cores). Any other Beam option passes through
unchanged, so the same command goes to Dataflow, Flink or Spark with runner flags only.
"""
from __future__ import annotations

import logging
import sys

from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.argv import HELP_FLAGS, UsageError, beam_help, run_help
from pipeline.options import SwallowOptions, config_from
from pipeline.run import options_from
from pipeline.run import run as run_pipeline

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


def run(argv: list[str], strict: bool = True) -> dict:
    """``python -m pipeline run ARGV``: the options and the config from the command line, then
    :func:`pipeline.run.run`; returns the report. ``--no_progress`` turns the progress line off."""
    options, show_progress = options_from(list(argv))
    opts = options.view_as(SwallowOptions)
    if not (opts.input or opts.index) or not opts.output:
        raise UsageError("--input (or --index) and --output are required")
    if opts.input and opts.index:
        raise UsageError("give --input (read every record) or --index (read the selected records), not both")
    try:
        cfg = config_from(opts)
    except (ValueError, OSError) as e:  # unknown recipe or config field, unreadable --config
        raise UsageError(str(e).splitlines()[0]) from None
    return run_pipeline(cfg, opts.input, opts.output, options, index=opts.index, show_progress=show_progress,
                        strict=strict)


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
