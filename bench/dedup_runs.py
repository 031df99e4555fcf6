"""Workload 3 runners (executed as subprocesses by the harness; last stdout line is JSON).

  python -m bench.dedup_runs ours DOCS OUT --bands B --rows R --ngram N --workers W
      our Dedup composite (exact + MinHash-LSH + distributed connected components) on FnApiRunner
  python -m bench.dedup_runs datasketch DOCS --bands B --rows R --ngram N
      datasketch MinHashLSH in-process (K = B·R, same character n-grams), candidate pairs →
      connected components → keep the component's first node in our survivor order
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _load(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def ours(args):
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from transforms.dedup import Dedup, DedupConfig
    from transforms.stage import REJECTED

    opts = PipelineOptions(["--runner=FnApiRunner", f"--direct_num_workers={args.workers}",
                            "--direct_running_mode=multi_processing" if args.workers > 1 else "--direct_running_mode=in_memory",
                            "--default_sdk_harness_log_level=WARNING"])
    cfg = DedupConfig(ngram=args.ngram, bands=args.bands, rows=args.rows)
    os.makedirs(args.out, exist_ok=True)
    t = time.perf_counter()
    with beam.Pipeline(options=opts) as p:
        out = (p | beam.io.ReadFromText(args.docs) | "Parse" >> beam.Map(json.loads) | Dedup(cfg))
        (out[REJECTED] | "Ids" >> beam.Map(lambda r: json.dumps([r["id"], r.get("reason")]))
         | beam.io.WriteToText(os.path.join(args.out, "removed"), num_shards=1, shard_name_template=""))
    wall = time.perf_counter() - t
    removed = []
    with open(os.path.join(args.out, "removed")) as f:
        for line in f:
            removed.append(json.loads(line)[0])
    n = sum(1 for _ in open(args.docs))
    print(json.dumps({"seconds": wall, "docs": n, "removed": len(removed), "kept": n - len(removed),
                      "removed_ids": removed}))


def datasketch_run(args):
    from datasketch import MinHash, MinHashLSH

    from tests.dedup_reference import components_reference
    from transforms.components import node_key
    from transforms.minhash import shingles

    docs = _load(args.docs)
    t = time.perf_counter()
    k = args.bands * args.rows
    lsh = MinHashLSH(num_perm=k, params=(args.bands, args.rows))
    nodes = [node_key(str(d["id"]), d.get("crawl_date")) for d in docs]
    sigs = []
    for node, d in zip(nodes, docs):
        m = MinHash(num_perm=k, seed=1)
        sh = shingles(d["text"], args.ngram)
        m.update_batch([s.encode("utf-8") for s in sh])
        lsh.insert(node, m)
        sigs.append(m)
    # the smallest node key (our survivor order) is each component's root
    root = components_reference(nodes, [(node, other) for node, m in zip(nodes, sigs) for other in lsh.query(m)])
    removed = [d["id"] for node, d in zip(nodes, docs) if root[node] != node]
    wall = time.perf_counter() - t
    print(json.dumps({"seconds": wall, "docs": len(docs), "removed": len(removed),
                      "kept": len(docs) - len(removed), "removed_ids": removed}))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["ours", "datasketch"])
    ap.add_argument("docs")
    ap.add_argument("out", nargs="?")
    ap.add_argument("--bands", type=int, default=20)
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    (ours if args.mode == "ours" else datasketch_run)(args)


if __name__ == "__main__":
    sys.exit(main())
