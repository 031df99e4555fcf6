"""CLI options as a Beam ``PipelineOptions`` subclass (the rest of argv goes to Beam unchanged),
and the run's config from them (:func:`config_from`)."""
from __future__ import annotations

from typing import get_args

from apache_beam.options.pipeline_options import PipelineOptions

from transforms.extract import Extractor
from transforms.prefilter import Mode


class SwallowOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--input", action="append", default=None,
                            help="WARC glob(s) on any filesystem Beam knows (local, gs://, s3://, hdfs://); repeatable")
        parser.add_argument("--output", default=None, help="output directory (documents/, rejects/, errors/, report.*)")
        parser.add_argument("--recipe", default="v1", help="v1 | v2 | medical")
        parser.add_argument("--config", default=None,
                            help="JSON file overriding any field of the recipe's config, e.g. "
                                 '{"quality": {"japanese": {"min_chars": 300}}}')
        parser.add_argument("--rejects", default="ids", choices=["none", "ids", "full"],
                            help="what to store of rejected documents (HTML is never stored)")
        parser.add_argument("--prefilter", default=None, choices=list(get_args(Mode)),
                            help="rapid prefilter mode (default: the recipe's)")
        parser.add_argument("--extractor", default=None, choices=list(get_args(Extractor)),
                            help="main-text extractor (default: the recipe's)")
        parser.add_argument("--extract_timeout", type=float, default=None,
                            help="hard per-document extraction time limit in seconds")
        # Not --labels: Beam's GoogleCloudOptions owns that flag (Dataflow job labels).
        parser.add_argument("--lang_labels", default=None,
                            help="TSV with record_id and lang_collected (e.g. labels.tsv), to report "
                                 "prefilter precision/recall")
        parser.add_argument("--subset_labels", default=None,
                            help="TSV/JSONL of pages with a domain label (record_id, id or url; a column "
                                 "named as the subset, label, or kind as in warc_sites/sites.tsv), to report "
                                 "the subset's precision/recall (recipe medical)")
        parser.add_argument("--evals_index", default=None,
                            help="evaluation-item index (`python -m pipeline evals-index`) for the "
                                 "decontaminate stage; default: none, the stage is skipped and the report "
                                 "says so")
        parser.add_argument("--index", action="append", default=None,
                            help="Parquet glob(s) of a Common Crawl-style URL index (cc-index-table "
                                 "columns; `swallow-corpus index` builds one for local WARCs): read only "
                                 "the selected records by byte range instead of --input; repeatable")
        parser.add_argument("--worker_log", default=None,
                            help="local file to append Beam's and the SDK workers' log lines to during the run "
                                 "(default: printed above the progress line)")
        parser.add_argument("--overwrite", action="store_true", default=False,
                            help="replace the files of an earlier run in --output (without it such a "
                                 "directory is refused)")
        parser.add_argument("--index_languages", default=None,
                            help="with --index: comma list of ISO-639-3 codes selected from "
                                 "content_languages (default: the recipe's, jpn)")


def config_from(opts: SwallowOptions):
    """The recipe with the ``--config`` file's overrides, then the flags' (one
    :func:`pipeline.recipes.override`, so a flag's value is checked like a config file's)."""
    from pipeline import recipes
    from pipeline.argv import UsageError

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
