"""Scheduled, resumable corpus refresh: ``python -m pipeline refresh`` (``runbooks/refresh.md``).

    python -m pipeline refresh --input 'gs://commoncrawl/crawl-data/CC-MAIN-2024-10/segments/*/warc/*.warc.gz' \\
        --output gs://bucket/swallow --snapshot CC-MAIN-2024-10 --batch_files 1000 [run options] [Beam options]

Re-running the same command processes only the input files not yet done: a crash (or a failed
Dataflow job) loses at most the batch in flight, and nothing is written twice.

Layout under ``ROOT`` (``--output``; any filesystem Beam knows: local, ``gs://``, ``s3://`` ...;
:mod:`pipeline.refresh_store` reads and writes it)::

    ROOT/_tmp/<batch>/                  a batch being written (never read; cleared on start)
    ROOT/<version>/batches/<batch>/     a committed batch: documents/ rejects/ errors/ _stats/
                                        report.json [dedup_index/]
    ROOT/<version>/manifest/<batch>.json  the batch's commit record: every input file with its
                                        status, counts, output files, code and config version
    ROOT/<version>/version.json         lineage: snapshots, parent version, config, batches
    ROOT/manifest.parquet               all commit records as one table (derived; rebuilt each run)
    ROOT/CURRENT                        the latest complete version

**Commit protocol.** A batch (``--batch_files`` input files; one Beam job) is written to
``_tmp/<batch>``; after the run report's invariant holds, the directory is moved to
``<version>/batches/<batch>`` and then ``manifest/<batch>.json`` is written (temp name + move).
The manifest file is the commit point: a batch directory without one is the leftover of a crash
between the two steps and is deleted on the next start, so its files are redone under whatever
batching the rerun uses: no loss, no duplicate.

**Versions and lineage.** A version is one ``(snapshot, config hash)``; its corpus is the
committed batches of its own snapshot plus those of its parent (the latest complete version), so a
new snapshot adds to the corpus without copying it. ``version.json`` lists the snapshots,
parent, config, code version and batches.

**Incremental dedup.** When the recipe has a ``dedup`` stage (``transforms/dedup.py``), each batch
is deduplicated against the stored indexes (``dedup_index/``) of every committed batch of the
lineage (earlier snapshots and earlier batches of this one), and writes its own index: a page seen
in an earlier snapshot is not kept again. Recipes without that stage run as they are and
``version.json`` says ``"dedup": "not in recipe"``.

Only one refresh may run per ROOT at a time: ``ROOT/_lock`` is claimed by an exclusive create and
a second refresh exits with one line naming it (``pipeline/refresh_state.py``: a lock left by a
crashed refresh on the same host is taken over). Commit records and version files are validated
when read; an empty batch (one that keeps no document, so writes no dedup index) is committed and
skipped as an index.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import time
from typing import Callable

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipeline.refresh_state import RootLock
from pipeline.refresh_store import (
    Store, commit_batch, files_under, glob, write_bytes_atomic, write_json_atomic, write_manifest_table,
)

log = logging.getLogger("pipeline.refresh")

MANIFEST_SCHEMA_VERSION = 1


# ------------------------------------------------------------------------------ small helpers
def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def code_version() -> str:
    """Package version + git commit (or ``SWALLOW_CODE_VERSION``, set in the worker image)."""
    env = os.environ.get("SWALLOW_CODE_VERSION")
    if env:
        return env
    try:
        from importlib.metadata import version

        pkg = version("swallow-corpus")
    except Exception:
        pkg = "0+unknown"
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        sha = subprocess.run(["git", "-C", here, "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        if sha:
            return f"{pkg}+g{sha}{'.dirty' if dirty else ''}"
    except Exception:
        pass
    return pkg


def config_hash(cfg_dict: dict) -> str:
    return hashlib.sha256(json.dumps(cfg_dict, sort_keys=True, default=str).encode()).hexdigest()[:16]


def batch_id(paths: list[str]) -> str:
    return "b-" + hashlib.sha1("\n".join(sorted(paths)).encode()).hexdigest()[:16]


def snapshot_of(patterns: list[str]) -> str:
    for p in patterns:
        m = re.search(r"CC-MAIN-\d{4}-\d{2}", p)
        if m:
            return m.group(0)
    return "adhoc"


def list_inputs(patterns: list[str]) -> list[tuple[str, int]]:
    """(path, size) of every file the globs match, sorted, distinct (Beam filesystems). Paths are
    named as the run's warc_file column names them: the per-file counts are looked up by it."""
    from transforms.read_warc import match_inputs

    found, missing = match_inputs(patterns)
    if missing:
        raise FileNotFoundError(f"input pattern matches no file: {missing[0]}")
    return sorted(found.items())


def _parquet_counts(directory: str, sub: str) -> dict[str, int]:
    """Rows per ``warc_file`` of ``directory/sub/*.parquet`` (reads that one column only)."""
    import pyarrow.parquet as pq

    counts: dict[str, int] = {}
    for path in glob(f"{directory}/{sub}/*.parquet"):
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            col = pq.read_table(f, columns=["warc_file"]).column("warc_file").to_pylist()
        for w in col:
            counts[w] = counts.get(w, 0) + 1
    return counts


# --------------------------------------------------------------------------------- refresh
def _with_dedup_index(cfg, index_inputs: list[str], index_output: str):
    """Point the recipe's dedup stage at the stored indexes; no-op if the recipe has none."""
    if "dedup" not in getattr(cfg, "stages", ()) or not hasattr(cfg, "dedup"):
        return cfg, False
    d = dataclasses.replace(cfg.dedup, index_inputs=tuple(index_inputs), index_output=index_output)
    return dataclasses.replace(cfg, dedup=d), True


def refresh(patterns: list[str], root: str, run_args: list[str], snapshot: str | None = None,
            batch_files: int = 100, max_batches: int | None = None,
            run_fn: Callable | None = None, progress_stream=None) -> dict:
    """Process every input file not yet done, batch by batch; return a summary. The root is
    locked for the whole refresh (:class:`pipeline.refresh_state.RootLock`).

    ``run_args``: run options other than --input/--output (recipe, config, rejects, Beam/runner
    options). ``run_fn``: what runs a batch, :func:`pipeline.run.run` unless given."""
    store = Store(root)
    with RootLock(store.root):
        return _refresh(store, patterns, run_args, snapshot, batch_files, max_batches, run_fn, progress_stream)


def _refresh(store, patterns, run_args, snapshot, batch_files, max_batches, run_fn, progress_stream) -> dict:
    from apache_beam.options.pipeline_options import GoogleCloudOptions

    from pipeline import recipes
    from pipeline.argv import UsageError
    from pipeline.options import SwallowOptions, config_from
    from pipeline.progress import Progress
    from pipeline.run import options_from
    from pipeline.run import run as run_pipeline

    run_fn = run_fn or run_pipeline
    snapshot = snapshot or snapshot_of(patterns)
    opts = options_from(run_args)[0].view_as(SwallowOptions)
    if opts.index:
        raise UsageError("give --input (read every record) or --index (read the selected records), not both")
    base_cfg = config_from(opts)
    cfg_dict = recipes.to_dict(base_cfg)
    chash = config_hash(cfg_dict)
    cver = code_version()

    cleared = store.clear_tmp()
    version = store.open_version(snapshot, chash)
    orphans = store.remove_orphans(version.id)
    if cleared or orphans:
        log.warning("recovered from an interrupted run: removed %d temp and %d uncommitted batch dirs",
                    len(cleared), len(orphans))

    inputs = list_inputs(patterns)
    done = store.done_files(version)
    todo = [(p, s) for p, s in inputs if p not in done]
    batches = [todo[i:i + batch_files] for i in range(0, len(todo), batch_files)]
    if max_batches is not None:
        batches = batches[:max_batches]
    log.info("refresh %s: %d input files, %d already done, %d to do in %d batch(es)",
             version.id, len(inputs), len(inputs) - len(todo), len(todo), len(batches))

    def write_version(status: str, dedup_state: str):
        version.status = status
        commits = store.commits(version.id)
        doc = {**version.as_dict(), "config": cfg_dict, "code_version": cver, "dedup": dedup_state,
               "updated": _now(), "batches": [c["batch"] for c in commits],
               "files": sum(len(c["files"]) for c in commits),
               "kept": sum(c["totals"]["kept"] for c in commits),
               "records_read": sum(c["totals"]["records_read"] for c in commits),
               "corpus_documents": [store.p(vid, "batches", "*", "documents", "*.parquet")
                                    for vid in version.lineage]}
        write_json_atomic(store.p(version.id, "version.json"), doc)
        return doc

    dedup_state = "in recipe" if "dedup" in base_cfg.stages else "not in recipe"
    write_version("in_progress", dedup_state)
    prog = Progress(len(inputs), label=f"[{version.id}] ")
    prog.update(files_done=len(inputs) - len(todo))
    records_done = 0
    stream = progress_stream or sys.stderr

    for n, batch in enumerate(batches, 1):
        paths = [p for p, _ in batch]
        bid = batch_id(paths)
        tmp = store.p("_tmp", bid)
        index_inputs = store.dedup_indexes(version)
        cfg, dedup_index = _with_dedup_index(base_cfg, index_inputs, f"{tmp}/dedup_index")
        options, show_progress = options_from(run_args)  # fresh: a run sets options of its own
        google = options.view_as(GoogleCloudOptions)
        if google.job_name:  # Dataflow job names must be unique
            google.job_name = f"{google.job_name}-{bid[2:10]}"
        started = time.time()
        report = run_fn(cfg, paths, tmp, options, show_progress=show_progress)
        if not report.get("invariant_ok"):
            raise RuntimeError(f"batch {bid}: report invariant violated: {report.get('invariant_problems')}")
        kept = _parquet_counts(tmp, "documents")
        dropped = _parquet_counts(tmp, "rejects") if opts.rejects != "none" else {}
        errs = _parquet_counts(tmp, "errors")
        files = []
        for path, size in batch:
            k, d, e = kept.get(path, 0), dropped.get(path), errs.get(path, 0)
            files.append({"path": path, "size_bytes": size, "kept": k, "dropped": d, "errors": e,
                          "records_read": (k + d + e) if d is not None else None,
                          "status": "done" if not e else "done_with_errors"})
        outputs = sorted(f"{version.id}/batches/{bid}/{q[len(tmp) + 1:]}"
                         for q in files_under(tmp) if q.endswith(".parquet") or q.endswith(".json"))
        record = {
            "manifest_schema": MANIFEST_SCHEMA_VERSION, "batch": bid, "version": version.id,
            "snapshot": snapshot, "files": files, "outputs": outputs,
            "totals": {k: report[k] for k in ("records_read", "kept")} | {
                "dropped": sum(report["dropped"].values()), "errors": sum(report["errors"].values())},
            "code_version": cver, "config_hash": chash, "recipe": cfg_dict.get("name"),
            "dedup_index": dedup_index, "dedup_against": index_inputs if dedup_index else [],
            "started_at": _dt.datetime.fromtimestamp(started, _dt.timezone.utc).isoformat(timespec="seconds"),
            "committed_at": _now(), "wall_seconds": round(time.time() - started, 2),
        }
        commit_batch(store, version, bid, tmp, record)
        records_done += report["records_read"]
        prog.update(files_done=prog.files_done + len(batch), records_done=records_done)
        stream.write(prog.line() + f" | batch {n}/{len(batches)} committed\n")
        stream.flush()

    remaining = len([1 for p, _ in inputs if p not in store.done_files(version)])
    status = "complete" if remaining == 0 else "in_progress"
    doc = write_version(status, dedup_state)
    if status == "complete":
        write_bytes_atomic(store.p("CURRENT"), (version.id + "\n").encode())
    table = write_manifest_table(store)
    return {"version": version.id, "status": status, "files_total": len(inputs),
            "files_done_before": len(inputs) - len(todo), "batches_run": len(batches),
            "files_remaining": remaining, "manifest": table, "version_doc": doc,
            "progress": prog.as_dict(), "recovered": {"tmp": cleared, "orphans": orphans}}


def main(argv: list[str]) -> int:
    from pipeline.argv import BEAM_NOTE, EpilogFormatter, OneLineParser, UsageError, check_beam_args, run_option_lines

    parser = OneLineParser(
        prog="python -m pipeline refresh",
        description="Process only the input files not yet done, in batches (one Beam job each),\n"
                    "and record versions and lineage under ROOT (runbooks/refresh.md).",
        epilog="run options (passed to each batch's run):\n" + run_option_lines(exclude=("--input", "--output"))
               + "\n" + BEAM_NOTE,
        formatter_class=EpilogFormatter)
    parser.add_argument("--input", action="append", required=True, help="WARC glob(s); repeatable")
    parser.add_argument("--output", required=True, help="corpus root (any filesystem Beam knows: local, gs://, s3://)")
    parser.add_argument("--snapshot", default=None, help="e.g. CC-MAIN-2024-10 (default: from --input)")
    parser.add_argument("--batch_files", type=int, default=100, help="input files per batch (one Beam job)")
    parser.add_argument("--max_batches", type=int, default=None, help="stop after this many batches")
    args, rest = parser.parse_known_args(argv)
    if args.batch_files < 1 or (args.max_batches is not None and args.max_batches < 1):
        parser.error("--batch_files and --max_batches must be >= 1")
    try:
        check_beam_args(rest, also_known=tuple(s for a in parser._actions for s in a.option_strings))
        summary = refresh(args.input, args.output, rest, snapshot=args.snapshot, batch_files=args.batch_files,
                          max_batches=args.max_batches)
    except (UsageError, FileNotFoundError, ValueError) as e:  # ValueError: config, StateError
        print(f"{parser.prog}: error: {str(e).splitlines()[0]} (see {parser.prog} --help)", file=sys.stderr)
        return 2
    print(json.dumps({k: v for k, v in summary.items() if k != "version_doc"}, indent=1, default=str))
    return 0 if summary["status"] == "complete" or args.max_batches else 3
