"""The v1 recipe's per-record rules without Beam, one record at a time through every rule in the
DAG's order (read, prefilter, decode, extraction in the time-limited child as the DAG runs it,
LID, quality, NG words, PII, normalise, …; the aggregate stages — dedup, host filter — and the
Parquet writers are not run). ``python -m bench.chain [--procs N] FILE ...`` runs it over the
files in N concurrent processes (file i in process i mod N) and prints one JSON line.

It is the equal-work floor of ``bench/marginal.py``: the same rules through Beam cost the DAG's
marginal per record; and with ``--procs 2`` it shows what running two processes at once costs this
machine per record without any Beam (shared caches, memory bandwidth, hypervisor), so a two-worker
overhead is not blamed on Beam that the machine imposes. Its CPU is the whole process tree's,
measured from outside and fitted over two input sizes (``bench/marginal.py``), so interpreter
start-up, model loads and the extraction child's start-up cancel instead of counting per record."""
from __future__ import annotations

import json
import multiprocessing as mp
import resource
import sys
import time


def rules(recipe: str = "v1") -> list:
    """The recipe's per-record rules, set up, in the DAG's order."""
    from pipeline import dag, recipes

    cfg = recipes.load(recipe, None)
    out = []
    for name in cfg.stages:
        stage = dag.STAGES[name](cfg)
        rule = getattr(stage, "rule", None)
        if rule is None:  # an aggregate stage (dedup, host filter, top-k): not a per-record rule
            continue
        if hasattr(rule, "setup"):
            rule.setup()
        out.append(rule)
    return out


def run_files(files: list[str], recipe: str = "v1") -> dict:
    from transforms.read_warc import KEPT, SKIPPED, iter_warc
    from transforms.records import RecordError

    chain = rules(recipe)
    names = [getattr(r, "name", type(r).__name__) for r in chain]
    entered = [0] * len(chain)
    secs = [0.0] * len(chain)
    n = kept = 0
    clock = time.perf_counter  # wall: the extraction rule waits for its child process
    for path in files:
        for outcome, rec in iter_warc(path):
            if outcome == SKIPPED:
                continue
            n += 1
            if outcome != KEPT:
                continue
            for i, rule in enumerate(chain):
                entered[i] += 1
                t0 = clock()
                try:
                    rec, reason = rule(rec)
                except RecordError:
                    reason = "error"
                secs[i] += clock() - t0
                if reason is not None:
                    break
            else:
                kept += 1
    for rule in chain:  # stops the extraction child
        if hasattr(rule, "teardown"):
            rule.teardown()
    stages = [{"stage": nm, "entered": e, "seconds": round(x, 4), "us_per_entering": round(1e6 * x / e, 1) if e else None}
              for nm, e, x in zip(names, entered, secs)]
    return {"responses": n, "kept": kept, "stages": stages}


def _child(args):
    return run_files(*args)


def main(argv=None) -> dict:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m bench.chain", description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--recipe", default="v1")
    a = ap.parse_args(argv)
    groups = [a.files[i::a.procs] for i in range(a.procs)]
    t = time.perf_counter()
    ctx = mp.get_context("fork")
    with ctx.Pool(a.procs) as pool:
        parts = pool.map(_child, [(g, a.recipe) for g in groups])
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    stages = {}
    for p in parts:
        for st in p["stages"]:
            agg = stages.setdefault(st["stage"], {"stage": st["stage"], "entered": 0, "seconds": 0.0})
            agg["entered"] += st["entered"]
            agg["seconds"] += st["seconds"]
    for st in stages.values():
        st["us_per_entering"] = round(1e6 * st["seconds"] / st["entered"], 1) if st["entered"] else None
    res = {"procs": a.procs, "responses": sum(p["responses"] for p in parts), "kept": sum(p["kept"] for p in parts),
           "cpu_s_children": round(ru.ru_utime + ru.ru_stime, 3), "wall_s": round(time.perf_counter() - t, 3),
           "stages": list(stages.values())}
    print(json.dumps(res))
    return res


if __name__ == "__main__":
    main(sys.argv[1:])
