"""Scheduled, resumable corpus refresh: ``python -m pipeline refresh`` (``runbooks/refresh.md``).

    python -m pipeline refresh --input 'gs://commoncrawl/crawl-data/CC-MAIN-2024-10/segments/*/warc/*.warc.gz' \\
        --output gs://bucket/swallow --snapshot CC-MAIN-2024-10 --batch_files 1000 [run options] [Beam options]

Re-running the same command processes only the input files not yet done: a crash (or a failed
Dataflow job) loses at most the batch in flight, and nothing is written twice.

Layout under ``ROOT`` (``--output``; any fsspec path: local, ``gs://`` with gcsfs, ``s3://`` ...)::

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

import argparse
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

from pipeline.refresh_state import MANIFEST_KEYS, VERSION_KEYS, RootLock, StateError, read_checked

log = logging.getLogger("pipeline.refresh")

MANIFEST_SCHEMA_VERSION = 1


# ------------------------------------------------------------------------------ small helpers
def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _fs(root: str):
    import fsspec

    fs, path = fsspec.core.url_to_fs(root)
    return fs, path.rstrip("/")


def _url(fs, path: str) -> str:
    """A path of ``fs`` as a URL Beam understands (gs://b/x) or a plain local path."""
    proto = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
    if proto in ("file", "local"):
        return path
    return f"{proto}://{path}" if "://" not in path else path


def _write_json_atomic(fs, path: str, obj) -> None:
    tmp = f"{path}.tmp-{os.getpid()}-{time.time_ns()}"
    with fs.open(tmp, "w") as f:
        f.write(json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True, default=str))
    fs.mv(tmp, path)


def _read_json(fs, path: str):
    with fs.open(path, "r") as f:
        return json.loads(f.read())


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


def _parquet_counts(fs, directory: str, sub: str) -> dict[str, int]:
    """Rows per ``warc_file`` of ``directory/sub/*.parquet`` (reads that one column only)."""
    import pyarrow.parquet as pq

    counts: dict[str, int] = {}
    for path in sorted(fs.glob(f"{directory}/{sub}/*.parquet")):
        with fs.open(path, "rb") as f:
            col = pq.read_table(f, columns=["warc_file"]).column("warc_file").to_pylist()
        for w in col:
            counts[w] = counts.get(w, 0) + 1
    return counts


# ------------------------------------------------------------------------------------ state
@dataclasses.dataclass
class Version:
    id: str
    snapshot: str
    config_hash: str
    parent: str | None
    snapshots: list[str]
    lineage: list[str]  # version ids whose batches make up this corpus (oldest first), incl. self
    status: str = "in_progress"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class Store:
    """The refresh state under ROOT (see module docstring)."""

    def __init__(self, root: str):
        self.root_url = root.rstrip("/")
        self.fs, self.root = _fs(root)

    # paths
    def p(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def url(self, *parts: str) -> str:
        return _url(self.fs, self.p(*parts))

    def versions(self) -> list[dict]:
        out = []
        for path in sorted(self.fs.glob(self.p("*", "version.json"))):
            out.append(read_checked(self.fs, path, VERSION_KEYS))
        return sorted(out, key=lambda v: v["id"])

    def commits(self, version_id: str) -> list[dict]:
        return [read_checked(self.fs, path, MANIFEST_KEYS)
                for path in sorted(self.fs.glob(self.p(version_id, "manifest", "*.json")))]

    def clear_tmp(self) -> list[str]:
        gone = []
        if self.fs.exists(self.p("_tmp")):
            for path in self.fs.ls(self.p("_tmp"), detail=False):
                self.fs.rm(path, recursive=True)
                gone.append(path)
        return gone

    def remove_orphans(self, version_id: str) -> list[str]:
        """Batch directories with no commit record: a crash between move and manifest write."""
        committed = {c["batch"] for c in self.commits(version_id)}
        gone = []
        bdir = self.p(version_id, "batches")
        if self.fs.exists(bdir):
            for path in self.fs.ls(bdir, detail=False):
                if path.rstrip("/").rsplit("/", 1)[-1] not in committed:
                    self.fs.rm(path, recursive=True)
                    gone.append(path)
        # half-written manifest temp files
        for path in self.fs.glob(self.p(version_id, "manifest", "*.tmp-*")):
            self.fs.rm(path)
            gone.append(path)
        return gone

    def open_version(self, snapshot: str, chash: str) -> Version:
        versions = self.versions()
        for v in versions:
            if v["snapshot"] == snapshot and v["config_hash"] == chash:
                return Version(**{k: v[k] for k in Version.__dataclass_fields__})
        complete = [v for v in versions if v["status"] == "complete"]
        parent = complete[-1] if complete else None
        seq = 1 + max((int(v["id"].split("-", 1)[0][1:]) for v in versions), default=0)
        vid = f"v{seq:04d}-{snapshot}"
        return Version(id=vid, snapshot=snapshot, config_hash=chash,
                       parent=parent["id"] if parent else None,
                       snapshots=(parent["snapshots"] if parent else []) + [snapshot],
                       lineage=(parent["lineage"] if parent else []) + [vid])

    def done_files(self, version: Version) -> dict[str, str]:
        """path → version id, for every file committed in the lineage."""
        done = {}
        for vid in version.lineage:
            for c in self.commits(vid):
                for f in c["files"]:
                    done[f["path"]] = vid
        return done

    def dedup_indexes(self, version: Version) -> list[str]:
        out = []
        for vid in version.lineage:
            for c in self.commits(vid):
                # A batch that kept no document wrote no index file: nothing to read there.
                if c.get("dedup_index") and self.fs.glob(self.p(vid, "batches", c["batch"], "dedup_index",
                                                                 "band=*", "*.parquet")):
                    out.append(self.url(vid, "batches", c["batch"], "dedup_index"))
        return out


# --------------------------------------------------------------------------------- refresh
def _with_dedup_index(cfg, index_inputs: list[str], index_output: str):
    """Point the recipe's dedup stage at the stored indexes; no-op if the recipe has none."""
    if "dedup" not in getattr(cfg, "stages", ()) or not hasattr(cfg, "dedup"):
        return cfg, False
    d = dataclasses.replace(cfg.dedup, index_inputs=tuple(index_inputs), index_output=index_output)
    return dataclasses.replace(cfg, dedup=d), True


def commit_batch(store: Store, version: Version, bid: str, tmp: str, record: dict) -> None:
    """Move the finished batch into place, then write its commit record (the commit point)."""
    dest = store.p(version.id, "batches", bid)
    if store.fs.exists(dest):  # an uncommitted leftover under the same name
        store.fs.rm(dest, recursive=True)
    store.fs.makedirs(store.p(version.id, "batches"), exist_ok=True)
    store.fs.mv(tmp, dest, recursive=True)
    _after_move_hook(dest)
    store.fs.makedirs(store.p(version.id, "manifest"), exist_ok=True)
    _write_json_atomic(store.fs, store.p(version.id, "manifest", f"{bid}.json"), record)


def _after_move_hook(dest: str) -> None:
    """Test seam: a crash between the move and the commit record is simulated here."""


def write_manifest_table(store: Store) -> str | None:
    """All commit records of all versions as ``ROOT/manifest.parquet`` (one row per input file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for v in store.versions():
        for c in store.commits(v["id"]):
            for f in c["files"]:
                rows.append({
                    "path": f["path"], "size_bytes": f.get("size_bytes"), "status": f["status"],
                    "version": v["id"], "snapshot": c["snapshot"], "batch": c["batch"],
                    "records_read": f.get("records_read"), "kept": f.get("kept"),
                    "dropped": f.get("dropped"), "errors": f.get("errors"),
                    "outputs": c["outputs"], "code_version": c["code_version"],
                    "config_hash": c["config_hash"], "committed_at": c["committed_at"],
                })
    if not rows:
        return None
    table = pa.Table.from_pylist(rows)
    path = store.p("manifest.parquet")
    tmp = f"{path}.tmp-{os.getpid()}"
    with store.fs.open(tmp, "wb") as f:
        pq.write_table(table, f)
    store.fs.mv(tmp, path)
    return path


def refresh(patterns: list[str], root: str, run_args: list[str], snapshot: str | None = None,
            batch_files: int = 100, max_batches: int | None = None,
            run_fn: Callable | None = None, progress_stream=None) -> dict:
    """Process every input file not yet done, batch by batch; return a summary. The root is
    locked for the whole refresh (:class:`pipeline.refresh_state.RootLock`).

    ``run_args``: options for ``pipeline.cli.run`` other than --input/--output (recipe, config,
    rejects, Beam/runner options)."""
    store = Store(root)
    with RootLock(store.fs, store.root):
        return _refresh(store, patterns, run_args, snapshot, batch_files, max_batches, run_fn, progress_stream)


def _refresh(store, patterns, run_args, snapshot, batch_files, max_batches, run_fn, progress_stream) -> dict:
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline import cli, recipes
    from pipeline.options import SwallowOptions
    from pipeline.progress import Progress

    run_fn = run_fn or cli.run
    snapshot = snapshot or snapshot_of(patterns)
    opts = PipelineOptions(run_args).view_as(SwallowOptions)
    base_cfg = cli.config_from(opts)
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
               "corpus_documents": [store.url(vid, "batches", "*", "documents", "*.parquet")
                                    for vid in version.lineage]}
        store.fs.makedirs(store.p(version.id), exist_ok=True)
        _write_json_atomic(store.fs, store.p(version.id, "version.json"), doc)
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
        tmp_url = store.url("_tmp", bid)
        index_inputs = store.dedup_indexes(version)

        def configure(cfg, _ii=index_inputs, _out=f"{tmp_url}/dedup_index"):
            new, used = _with_dedup_index(cfg, _ii, _out)
            configure.used = used
            return new

        configure.used = False
        argv = [*sum((["--input", p] for p in paths), []), "--output", tmp_url, *run_args]
        if any(a.startswith("--job_name") for a in argv):  # Dataflow job names must be unique
            argv = [f"{a}-{bid[2:10]}" if a.startswith("--job_name=") else a for a in argv]
        started = time.time()
        report = run_fn(argv, configure=configure)
        if not report.get("invariant_ok"):
            raise RuntimeError(f"batch {bid}: report invariant violated: {report.get('invariant_problems')}")
        kept = _parquet_counts(store.fs, tmp, "documents")
        dropped = _parquet_counts(store.fs, tmp, "rejects") if opts.rejects != "none" else {}
        errs = _parquet_counts(store.fs, tmp, "errors")
        files = []
        for path, size in batch:
            k, d, e = kept.get(path, 0), dropped.get(path), errs.get(path, 0)
            files.append({"path": path, "size_bytes": size, "kept": k, "dropped": d, "errors": e,
                          "records_read": (k + d + e) if d is not None else None,
                          "status": "done" if not e else "done_with_errors"})
        outputs = sorted(f"{version.id}/batches/{bid}/{q[len(tmp) + 1:]}"
                         for q in store.fs.find(tmp) if q.endswith(".parquet") or q.endswith(".json"))
        record = {
            "manifest_schema": MANIFEST_SCHEMA_VERSION, "batch": bid, "version": version.id,
            "snapshot": snapshot, "files": files, "outputs": outputs,
            "totals": {k: report[k] for k in ("records_read", "kept")} | {
                "dropped": sum(report["dropped"].values()), "errors": sum(report["errors"].values())},
            "code_version": cver, "config_hash": chash, "recipe": cfg_dict.get("name"),
            "dedup_index": bool(configure.used), "dedup_against": index_inputs if configure.used else [],
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
        with store.fs.open(store.p("CURRENT.tmp"), "w") as f:
            f.write(version.id + "\n")
        store.fs.mv(store.p("CURRENT.tmp"), store.p("CURRENT"))
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
    parser.add_argument("--output", required=True, help="corpus root (any fsspec path)")
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
