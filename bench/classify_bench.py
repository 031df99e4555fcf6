"""Classifier predict throughput: the Beam ``Classify`` stage vs bare fastText predict, one core.

    python bench/classify_bench.py [--docs 3000] [--repeat 3] [--out bench/classify_bench.json]

Documents: real texts from tests/data/classifiers (labelled pages, Wikipedia, news), concatenated
to ~2,000 characters (the models read the first 1,200). Both sides score the same documents with
the same models (wiki + edu + medical, the medical recipe's; ``--models v2``: wiki + edu).
- bare: batches of 64, one ``features`` pass shared by the models + fastText predict per model,
  in-process (the same work as the stage);
- stage: FnApiRunner, one worker: ``Create → Classify → Count`` minus ``Create → Count`` on the
  same records (the runner's own start-up and element transport are not the stage's cost).
Times are CPU seconds of this process (``time.process_time``: FnApiRunner with one in-memory
worker runs the SDK harness in this process), so "per core" and robust to other load on the
machine; wall seconds are reported too. Overhead = stage CPU s / bare CPU s − 1 (goal ≤ 20%).
Best of ``--repeat`` runs each, the three measurements interleaved.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import apache_beam as beam  # noqa: E402

from classifiers.ft import Scorer, features  # noqa: E402
from transforms.classify import Classify, ClassifyConfig  # noqa: E402

DATA = ROOT / "tests" / "data" / "classifiers"


def docs(n: int) -> list[dict]:
    texts = []
    for name in ("edu_labels.jsonl", "wiki_pos.jsonl", "web_neg.jsonl"):
        texts += [json.loads(x)["text"] for x in open(DATA / name, encoding="utf-8")]
    out, i = [], 0
    while len(out) < n:
        t = ""
        while len(t) < 2000:
            t += texts[i % len(texts)] + "\n"
            i += 1
        out.append({"id": f"b{len(out)}", "text": t[:2000]})
    return out


def bare(records, cfg) -> tuple[float, float]:
    scorers = [Scorer(p, k, cfg.max_chars).load() for _, p, k in cfg.models]
    texts = [r["text"] for r in records]
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(0, len(texts), cfg.batch_size):
        lines = {}  # as the stage: one features pass per max_chars, shared by the models
        for s in scorers:
            if s.max_chars not in lines:
                lines[s.max_chars] = [features(t, s.max_chars) for t in texts[i:i + cfg.batch_size]]
            s.score_lines(lines[s.max_chars])
    return time.process_time() - c0, time.perf_counter() - t0


def pipeline(records, cfg, with_stage: bool) -> tuple[float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    with beam.Pipeline(argv=["--runner=FnApiRunner", "--direct_num_workers=1"]) as p:
        pc = p | beam.Create(records, reshuffle=False)
        if with_stage:
            pc = (pc | Classify(cfg))["kept"]
        pc | beam.combiners.Count.Globally()
    return time.process_time() - c0, time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--models", choices=("medical", "v2"), default="medical")
    ap.add_argument("--out", default=str(ROOT / "bench" / "classify_bench.json"))
    a = ap.parse_args(argv)
    from pipeline import recipes

    cfg = recipes.get(a.models).classify
    recs = docs(a.docs)
    pipeline(recs[:10], cfg, True)  # warm imports and model cache
    runs = {"bare": [], "base": [], "full": []}
    for _ in range(a.repeat):
        runs["bare"].append(bare(recs, cfg))
        runs["base"].append(pipeline(recs, cfg, False))
        runs["full"].append(pipeline(recs, cfg, True))
    best = {k: (min(c for c, _ in v), min(w for _, w in v)) for k, v in runs.items()}
    t_bare, t_base, t_full = best["bare"][0], best["base"][0], best["full"][0]
    t_stage = t_full - t_base
    res = {"docs": a.docs, "models": [m[0] for m in cfg.models], "batch_size": cfg.batch_size,
           "bare_cpu_s": round(t_bare, 3), "bare_docs_per_cpu_s": round(a.docs / t_bare, 1),
           "per_model_docs_per_cpu_s": round(len(cfg.models) * a.docs / t_stage, 1),
           "pipeline_without_stage_cpu_s": round(t_base, 3), "pipeline_with_stage_cpu_s": round(t_full, 3),
           "stage_cpu_s": round(t_stage, 3), "stage_docs_per_cpu_s": round(a.docs / t_stage, 1),
           "overhead": round(t_stage / t_bare - 1, 3),
           "wall_s": {k: round(v[1], 3) for k, v in best.items()},
           "runs_cpu_s": {k: [round(c, 3) for c, _ in v] for k, v in runs.items()}}
    print(json.dumps(res, indent=1))
    pathlib.Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    return res


if __name__ == "__main__":
    main()
